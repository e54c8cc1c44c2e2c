//! Real servers from the distribution, started by the tests themselves:
//! tinyproxy (an HTTP CONNECT proxy, optionally with Basic auth) and nginx
//! (a static mirror, or a pull-through cache in front of the fixture). Each
//! runs in the foreground on 127.0.0.1 with a generated config, its logs and
//! temp files in its own temp dir, and is killed on drop.
//!
//! When the program is not installed the test is skipped with a reason
//! (`scripts/test` installs them: apt packages `tinyproxy-bin` and `nginx`),
//! unless `POSTBIN_TEST_REQUIRE_SERVERS=1` makes that a failure.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to start listening before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for an expected log line to be written.
const LOG_TIMEOUT: Duration = Duration::from_secs(5);

/// The program's path, or None (after printing why the test is skipped).
pub fn program(name: &str, package: &str) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let system = [
        "/usr/sbin",
        "/usr/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
        "/sbin",
    ];
    let found = path_dirs
        .into_iter()
        .chain(system.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        let why = format!("{name} is not installed (apt-get install {package})");
        if std::env::var_os("POSTBIN_TEST_REQUIRE_SERVERS").is_some() {
            panic!("{why}, and POSTBIN_TEST_REQUIRE_SERVERS is set");
        }
        eprintln!("skipping: {why}");
    }
    found
}

/// A port that was free a moment ago on 127.0.0.1 (servers that cannot
/// bind port 0 and report it need one chosen for them).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running child process, killed and reaped on drop.
struct Running {
    child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` (writing its output under `dir`) and waits until `port`
/// accepts connections. None if the process exited first (e.g. the port was
/// taken in the meantime), so the caller can retry with another port.
fn spawn_listening(mut cmd: Command, dir: &Path, port: u16) -> Option<Running> {
    let out = std::fs::File::create(dir.join("stdout.txt")).unwrap();
    let err = std::fs::File::create(dir.join("stderr.txt")).unwrap();
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let mut running = Running {
        child: cmd.spawn().expect("spawn server"),
    };
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = running.child.try_wait() {
            return None;
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(running);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let stderr = std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default();
    panic!("server did not listen on {port} within {START_TIMEOUT:?}; stderr:\n{stderr}");
}

/// Reads `path` until it contains `needle` or `LOG_TIMEOUT` passes (servers
/// may write their log lines just after answering); returns the text.
pub fn wait_for_log(path: &Path, needle: &str) -> String {
    let deadline = Instant::now() + LOG_TIMEOUT;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) || Instant::now() >= deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts server `name` from a fresh temp dir `postbin-<name>-*`: on up to
/// five free ports in turn, writes `conf(dir, port)` to `dir/<name>.conf`
/// and runs `command(dir, conf_path)` until it listens. Panics if it never
/// does.
fn start_server(
    name: &str,
    conf: impl Fn(&Path, u16) -> String,
    command: impl Fn(&Path, &Path) -> Command,
) -> (tempfile::TempDir, u16, Running) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("postbin-{name}-"))
        .tempdir()
        .unwrap();
    for _ in 0..5 {
        let port = free_port();
        let conf_path = dir.path().join(format!("{name}.conf"));
        std::fs::write(&conf_path, conf(dir.path(), port)).unwrap();
        if let Some(running) = spawn_listening(command(dir.path(), &conf_path), dir.path(), port) {
            return (dir, port, running);
        }
    }
    panic!("{name} would not start; see {}", dir.path().display());
}

/// tinyproxy on 127.0.0.1, CONNECT allowed to any port (no `ConnectPort`
/// line), all clients allowed (no `Allow` line), logging every request.
pub struct Tinyproxy {
    pub dir: tempfile::TempDir,
    pub port: u16,
    _running: Running,
}

impl Tinyproxy {
    /// Starts it, with Basic auth if `auth` is given; None if not installed.
    pub fn start(auth: Option<(&str, &str)>) -> Option<Tinyproxy> {
        let bin = program("tinyproxy", "tinyproxy-bin")?;
        let (dir, port, running) = start_server(
            "tinyproxy",
            |dir, port| {
                let mut conf = format!(
                    "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\n\
                     LogLevel Info\nLogFile \"{}\"\nPidFile \"{}\"\n",
                    dir.join("tinyproxy.log").display(),
                    dir.join("tinyproxy.pid").display(),
                );
                if let Some((user, password)) = auth {
                    conf.push_str(&format!("BasicAuth {user} {password}\n"));
                }
                conf
            },
            |_, conf_path| {
                let mut cmd = Command::new(&bin);
                cmd.arg("-d").arg("-c").arg(conf_path);
                cmd
            },
        );
        Some(Tinyproxy {
            dir,
            port,
            _running: running,
        })
    }

    /// `http://127.0.0.1:PORT`, or with `user:password@` in it.
    pub fn url(&self, credentials: Option<&str>) -> String {
        match credentials {
            Some(c) => format!("http://{c}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("tinyproxy.log")
    }

    /// The log once it mentions `needle` (or as it is after a short wait).
    pub fn log_with(&self, needle: &str) -> String {
        wait_for_log(&self.log_path(), needle)
    }
}

/// nginx on 127.0.0.1 with one `server` block, no daemon, no master
/// process, every path (pid, logs, temp files, cache) in its temp dir.
pub struct Nginx {
    pub dir: tempfile::TempDir,
    pub port: u16,
    _running: Running,
}

impl Nginx {
    /// Serves `root` as static files (a mirror tree).
    pub fn static_mirror(root: &Path) -> Option<Nginx> {
        Nginx::start(&format!("location / {{ root {}; }}", root.display()))
    }

    /// A pull-through cache in front of a GitHub-like host: requests go to
    /// `upstream` (the fixture's main host); its redirect to the objects host
    /// is followed by nginx itself, and the 200 is cached under the original
    /// request URI for an hour, so later requests never reach the upstream.
    pub fn pull_through_cache(upstream: &str) -> Option<Nginx> {
        let cache = "proxy_cache pb; proxy_cache_key $request_uri; proxy_cache_valid 200 1h; \
                     proxy_http_version 1.1;";
        Nginx::start(&format!(
            "location / {{ proxy_pass {upstream}; {cache} \
                 proxy_intercept_errors on; error_page 301 302 303 307 308 = @follow; }}\n\
             location @follow {{ set $next $upstream_http_location; proxy_pass $next; {cache} }}"
        ))
    }

    fn start(locations: &str) -> Option<Nginx> {
        let bin = program("nginx", "nginx")?;
        let (dir, port, running) = start_server(
            "nginx",
            |dir, port| {
                let d = dir.display();
                format!(
                    "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
                     events {{ worker_connections 64; }}\n\
                     http {{\n\
                       log_format pb '$request_method $request_uri $status cache=$upstream_cache_status';\n\
                       access_log {d}/access.log pb;\n\
                       client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
                       fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
                       proxy_cache_path {d}/cache levels=1:2 keys_zone=pb:1m inactive=1h;\n\
                       server {{ listen 127.0.0.1:{port}; {locations} }}\n\
                     }}\n"
                )
            },
            |dir, conf_path| {
                let mut cmd = Command::new(&bin);
                cmd.arg("-p")
                    .arg(dir)
                    .arg("-c")
                    .arg(conf_path)
                    .arg("-e")
                    .arg(dir.join("error.log"));
                cmd
            },
        );
        Some(Nginx {
            dir,
            port,
            _running: running,
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The access log (`METHOD URI STATUS cache=HIT|MISS|-`) once it
    /// mentions `needle`.
    pub fn access_log_with(&self, needle: &str) -> String {
        wait_for_log(&self.dir.path().join("access.log"), needle)
    }
}
