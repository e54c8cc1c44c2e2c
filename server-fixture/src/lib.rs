//! A GitHub-Releases-like HTTP(S) server for postbin's tests, demo and
//! benchmarks. It serves a directory tree (the "release tree") from two
//! listeners on 127.0.0.1 with random ports: the **main** host, which
//! answers `/{owner}/{repo}/releases/download/{tag}/{asset}` with a 302 to
//! the **objects** host, which serves the bytes (with Range support). Any
//! other existing file is served directly by either host, so the main host
//! doubles as a plain mirror.
//!
//! The main host also answers a GitHub-REST-API-like view of the tree
//! (`/repos/{owner}/{repo}/releases/tags/{tag}` and the release's paged
//! assets, with digests), see the `api` module.
//!
//! Tests script [`Fault`]s per asset path (errors, redirects, cut-off or
//! corrupted bodies, throttling) and read back a log of every request. Both
//! are also reachable over HTTP under `/__fixture/` for tests written in JS
//! or shell (see the `control` module).
//!
//! This module owns the public API; the work is done in `server` (accept
//! loops, routing, file streaming), `http` (wire format), `faults`, `log`,
//! `control`, `conn` (plain/TLS connections) and `tls` (certificates).
//!
//! ```no_run
//! let fixture = server_fixture::Fixture::start("/srv/releases")?;
//! let url = format!("{}/acme/hello/releases/download/v1.0.0/hello.tar.gz", fixture.base_url());
//! # let _ = url;
//! # Ok::<(), std::io::Error>(())
//! ```

mod api;
mod conn;
mod control;
mod faults;
mod http;
mod log;
mod server;
mod state;
mod tls;

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use faults::Fault;
pub use http::header_in;
pub use log::{Host, RequestRecord};

use state::Shared;

/// How to start a [`Fixture`].
#[derive(Clone, Debug)]
pub struct Options {
    /// The release tree to serve.
    pub root: PathBuf,
    /// Speak TLS on both listeners, with a freshly generated CA.
    pub https: bool,
}

/// A running server. Dropping it stops both listeners and cuts off open
/// connections.
pub struct Fixture {
    shared: Arc<Shared>,
    root: PathBuf,
    ca_pem: Option<String>,
    addrs: [SocketAddr; 2],
    acceptors: Vec<JoinHandle<()>>,
}

impl Fixture {
    /// Starts a plain-HTTP fixture serving `root`.
    pub fn start(root: impl Into<PathBuf>) -> io::Result<Fixture> {
        Fixture::start_with(Options {
            root: root.into(),
            https: false,
        })
    }

    /// Starts a fixture with both hosts on random ports.
    pub fn start_with(options: Options) -> io::Result<Fixture> {
        Fixture::start_on_port(options, 0)
    }

    /// Like [`Fixture::start_with`], with the main host on `main_port`
    /// (0 = random). The objects host always gets a random port.
    pub fn start_on_port(options: Options, main_port: u16) -> io::Result<Fixture> {
        let canonical_root = std::fs::canonicalize(&options.root).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("release tree {}: {e}", options.root.display()),
            )
        })?;
        if !canonical_root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("release tree {} is not a directory", options.root.display()),
            ));
        }
        let tls = if options.https {
            Some(tls::generate()?)
        } else {
            None
        };

        // Loopback only, always: the fixture must never be reachable from,
        // or talk to, anything but this machine.
        let main = TcpListener::bind((Ipv4Addr::LOCALHOST, main_port))?;
        let objects = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addrs = [main.local_addr()?, objects.local_addr()?];
        let scheme = if options.https { "https" } else { "http" };
        let shared = Arc::new(Shared::new(
            canonical_root,
            format!("{scheme}://{}", addrs[0]),
            format!("{scheme}://{}", addrs[1]),
            tls.as_ref().map(|t| Arc::clone(&t.config)),
        ));

        let mut fixture = Fixture {
            shared: Arc::clone(&shared),
            root: options.root,
            ca_pem: tls.map(|t| t.ca_pem),
            addrs,
            acceptors: Vec::new(),
        };
        // If the second spawn fails, dropping `fixture` stops the first.
        for (listener, host) in [(main, Host::Main), (objects, Host::Objects)] {
            let handle = server::spawn_acceptor(listener, host, Arc::clone(&shared))?;
            fixture.acceptors.push(handle);
        }
        Ok(fixture)
    }

    /// The main host, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.shared.main_url.clone()
    }

    /// The objects host that release downloads redirect to.
    pub fn objects_url(&self) -> String {
        self.shared.objects_url.clone()
    }

    /// The fixture CA certificate (PEM) in HTTPS mode, None otherwise.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// Writes the CA certificate (PEM) to `path`; an error in plain-HTTP mode.
    pub fn write_ca_pem(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let pem = self.ca_pem.as_deref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the fixture has no CA: it was not started in HTTPS mode",
            )
        })?;
        std::fs::write(path, pem)
    }

    /// Every request answered so far (control requests excepted), in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log.snapshot()
    }

    /// Forgets the logged requests (sequence numbers keep counting).
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// Makes requests for `asset_path` (URL path without query, e.g.
    /// `/acme/hello/releases/download/v1.0.0/hello.tar.gz`) misbehave, for
    /// the next `times` of them, or forever with None. Faults set for one
    /// path are applied in the order they were set.
    pub fn set_fault(&self, asset_path: &str, fault: Fault, times: Option<u32>) {
        self.shared
            .faults
            .set(http::fault_key(asset_path), fault, times);
    }

    /// The most assets the GitHub-like API (`/repos/...`, see `api`) puts
    /// on one page (100 by default, as GitHub): set it low to test paging.
    pub fn set_api_page_size(&self, size: usize) {
        self.shared.set_api_page_size(size);
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// The release tree, as given to `start`.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.shared.begin_shutdown();
        // Wake each blocking accept() with a connection of our own; only
        // join a thread we managed to wake, so drop can never hang.
        for (addr, handle) in self.addrs.iter().zip(self.acceptors.drain(..)) {
            if TcpStream::connect_timeout(addr, Duration::from_secs(1)).is_ok() {
                let _ = handle.join();
            }
        }
    }
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("base_url", &self.shared.main_url)
            .field("objects_url", &self.shared.objects_url)
            .field("root", &self.root)
            .field("https", &self.ca_pem.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    /// Tests share a fixture across threads (e.g. in a static or a scoped
    /// thread), so it must stay Send + Sync.
    #[test]
    fn fixture_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Fixture>();
    }
}
