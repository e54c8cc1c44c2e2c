//! The state every server thread shares with the `Fixture` handle: the
//! served root and URLs, the request log and fault table, the live
//! connections shutdown must cut off, and the release ids the API hands out.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rustls::ServerConfig;

use crate::faults::FaultTable;
use crate::log::{Host, RequestLog};

/// State shared by the `Fixture` handle and every server thread.
pub(crate) struct Shared {
    /// Canonical root: served files must canonicalise to a path below it.
    pub root: PathBuf,
    pub main_url: String,
    pub objects_url: String,
    pub log: RequestLog,
    pub faults: FaultTable,
    pub tls: Option<Arc<ServerConfig>>,
    shutting_down: AtomicBool,
    /// Clones of open connections, so shutdown can cut them off.
    live: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
    /// Releases the API has named, by id - 1 (`owner/repo/tag`).
    releases: Mutex<Vec<String>>,
    /// The most assets the API puts on one page.
    api_page_size: AtomicUsize,
}

impl Shared {
    pub fn new(
        root: PathBuf,
        main_url: String,
        objects_url: String,
        tls: Option<Arc<ServerConfig>>,
    ) -> Shared {
        Shared {
            root,
            main_url,
            objects_url,
            log: RequestLog::default(),
            faults: FaultTable::default(),
            tls,
            shutting_down: AtomicBool::new(false),
            live: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
            releases: Mutex::new(Vec::new()),
            api_page_size: AtomicUsize::new(100),
        }
    }

    pub fn api_page_size(&self) -> usize {
        self.api_page_size.load(Ordering::SeqCst)
    }

    pub fn set_api_page_size(&self, size: usize) {
        self.api_page_size.store(size.max(1), Ordering::SeqCst);
    }

    /// The API id of release `key` (`owner/repo/tag`), assigned on first use.
    pub fn release_id(&self, key: &str) -> usize {
        let mut releases = self.releases.lock().unwrap();
        match releases.iter().position(|k| k == key) {
            Some(i) => i + 1,
            None => {
                releases.push(key.to_string());
                releases.len()
            }
        }
    }

    pub fn release_by_id(&self, id: usize) -> Option<String> {
        self.releases
            .lock()
            .unwrap()
            .get(id.checked_sub(1)?)
            .cloned()
    }

    pub(crate) fn url(&self, host: Host) -> &str {
        match host {
            Host::Main => &self.main_url,
            Host::Objects => &self.objects_url,
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Marks the server as stopping and shuts down every open connection, so
    /// their threads (even one mid-stall or mid-slow-body) end promptly.
    pub fn begin_shutdown(&self) {
        let live = self.live.lock().unwrap();
        self.shutting_down.store(true, Ordering::SeqCst);
        for tcp in live.values() {
            let _ = tcp.shutdown(Shutdown::Both);
        }
    }

    /// Records an open connection. Checked under the same lock as
    /// `begin_shutdown`, so no connection slips in unnoticed during it.
    pub(crate) fn register(&self, tcp: &TcpStream) -> Option<u64> {
        let mut live = self.live.lock().unwrap();
        if self.is_shutting_down() {
            return None;
        }
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        live.insert(id, tcp.try_clone().ok()?);
        Some(id)
    }

    pub(crate) fn unregister(&self, id: u64) {
        self.live.lock().unwrap().remove(&id);
    }

    /// Sleeps, waking early if the server is stopping.
    pub(crate) fn sleep(&self, total: Duration) {
        let deadline = Instant::now() + total;
        while !self.is_shutting_down() {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            thread::sleep((deadline - now).min(Duration::from_millis(50)));
        }
    }
}
