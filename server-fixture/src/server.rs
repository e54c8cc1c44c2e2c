//! The serving side: accept loops (one thread per listener), one thread per
//! connection, routing a request to the control endpoint, a fault, the
//! release redirect or a file, and streaming file bodies with Range support
//! and body faults applied. The state these threads share is in `state.rs`.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::conn::Conn;
use crate::faults::{BodyPlan, Cut, Fault};
use crate::http::{self, RangeRequest, ReadError, Request};
use crate::log::{Host, RequestRecord};
use crate::state::Shared;

/// A client that goes quiet this long mid-request is dropped, so no
/// connection thread can hang forever.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Likewise for a client that stops reading our response.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// File bodies are streamed through a buffer this big: large enough for
/// benchmark throughput, small enough that 100+ MiB assets never sit in
/// memory.
const CHUNK: usize = 64 * 1024;
/// What the main host appends to its redirects, like GitHub's signed URLs.
const OBJECTS_QUERY: &str = "sig=fixture";

/// Starts the accept loop for one listener on its own thread.
pub(crate) fn spawn_acceptor(
    listener: TcpListener,
    host: Host,
    shared: Arc<Shared>,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("fixture-{}-accept", host.as_str()))
        .spawn(move || accept_loop(listener, host, shared))
}

fn accept_loop(listener: TcpListener, host: Host, shared: Arc<Shared>) {
    loop {
        // Blocking accept: `Fixture::drop` sets the flag and then connects
        // to us once, which wakes this call so the loop can see the flag.
        let accepted = listener.accept();
        if shared.is_shutting_down() {
            return;
        }
        match accepted {
            Ok((tcp, _peer)) => {
                let shared = Arc::clone(&shared);
                // If no thread can be had the connection is just dropped.
                let _ = thread::Builder::new()
                    .name(format!("fixture-{}-conn", host.as_str()))
                    .spawn(move || handle_connection(tcp, host, &shared));
            }
            // E.g. out of file descriptors under a benchmark: back off
            // rather than spin.
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn handle_connection(tcp: TcpStream, host: Host, shared: &Shared) {
    let _ = tcp.set_read_timeout(Some(READ_TIMEOUT));
    let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = tcp.set_nodelay(true);
    let Some(id) = shared.register(&tcp) else {
        return;
    };
    if let Ok(mut conn) = Conn::new(tcp, shared.tls.as_ref()) {
        match http::read_request(&mut conn) {
            Ok(req) => respond(conn, &req, host, shared),
            Err(ReadError::TooLarge) => {
                let _ = http::write_simple(
                    &mut conn,
                    431,
                    &[],
                    "text/plain",
                    b"request head too large\n",
                    false,
                );
                conn.finish();
            }
            Err(ReadError::Malformed(why)) => {
                let body = format!("bad request: {why}\n");
                let _ =
                    http::write_simple(&mut conn, 400, &[], "text/plain", body.as_bytes(), false);
                conn.finish();
            }
            // Nothing to answer: the client left, timed out or failed the
            // TLS handshake.
            Err(ReadError::Closed | ReadError::Io) => {}
        }
    }
    shared.unregister(id);
}

/// One request on one host: everything a response needs to know and log.
struct Exchange<'a> {
    req: &'a Request,
    host: Host,
    shared: &'a Shared,
}

impl Exchange<'_> {
    fn record(&self, status: u16, body_bytes: u64) -> u64 {
        self.shared.log.push(RequestRecord {
            seq: 0,
            host: self.host,
            method: self.req.method.clone(),
            path: self.req.target.clone(),
            range: self.req.header("range").map(str::to_string),
            authorization: self.req.header("authorization").map(str::to_string),
            user_agent: self.req.header("user-agent").map(str::to_string),
            status,
            body_bytes_sent: body_bytes,
        })
    }

    /// A complete short text response, logged before it is written.
    fn reply(&self, mut conn: Conn, status: u16, headers: &[(&str, String)], body: &str) {
        let head_only = self.req.is_head();
        self.record(status, if head_only { 0 } else { body.len() as u64 });
        let ctype = "text/plain; charset=utf-8";
        if http::write_simple(
            &mut conn,
            status,
            headers,
            ctype,
            body.as_bytes(),
            head_only,
        )
        .is_ok()
        {
            conn.finish();
        }
    }

    fn redirect(&self, conn: Conn, location: String) {
        let body = format!("redirecting to {location}\n");
        self.reply(conn, 302, &[("Location", location)], &body);
    }
}

fn respond(conn: Conn, req: &Request, host: Host, shared: &Shared) {
    if let Some(action) = req.raw_path.strip_prefix("/__fixture/") {
        return crate::control::handle(conn, req, action, shared);
    }
    let ex = Exchange { req, host, shared };
    if req.method != "GET" && req.method != "HEAD" {
        let allow = [("Allow", "GET, HEAD".to_string())];
        return ex.reply(conn, 405, &allow, "only GET and HEAD are served\n");
    }
    let segments = match http::sanitize_path(&req.raw_path) {
        Ok(segments) => segments,
        Err(why) => return ex.reply(conn, 400, &[], &format!("bad path: {why}\n")),
    };
    let key = format!("/{}", segments.join("/"));

    // Head faults act wherever the request lands first. Once one has made
    // the main host answer in its place, the client never gets to the objects
    // host, so checking both hosts is consistent.
    if let Some(ms) = shared.faults.take_latency(&key, true) {
        shared.sleep(Duration::from_millis(ms));
    }
    if let Some(fault) = shared.faults.take_head(&key) {
        return head_fault(&ex, conn, fault);
    }

    if host == Host::Main
        && segments.first().is_some_and(|s| s == "repos")
        && let Some((status, headers, body)) =
            crate::api::handle(shared, &segments[1..], req.query.as_deref())
    {
        let head_only = req.is_head();
        ex.record(status, if head_only { 0 } else { body.len() as u64 });
        let mut conn = conn;
        let ctype = "application/json; charset=utf-8";
        if http::write_simple(
            &mut conn,
            status,
            &headers,
            ctype,
            body.as_bytes(),
            head_only,
        )
        .is_ok()
        {
            conn.finish();
        }
        return;
    }
    let file = resolve(&shared.root, &segments);
    if host == Host::Main && is_release_download(&segments) {
        return match file {
            Some(_) => {
                let location = format!("{}{}?{OBJECTS_QUERY}", shared.objects_url, req.raw_path);
                ex.redirect(conn, location)
            }
            None => ex.reply(conn, 404, &[], "no such release asset\n"),
        };
    }
    match file {
        Some((path, len)) => serve_file(&ex, conn, &key, &path, len),
        None => ex.reply(conn, 404, &[], "not found\n"),
    }
}

/// `/{owner}/{repo}/releases/download/{tag}/{asset}`
fn is_release_download(segments: &[String]) -> bool {
    segments.len() == 6 && segments[2] == "releases" && segments[3] == "download"
}

/// Maps sanitised segments to a regular file inside the root. Canonicalising
/// also catches symlinks that lead out of the tree.
fn resolve(root: &Path, segments: &[String]) -> Option<(PathBuf, u64)> {
    let mut path = root.to_path_buf();
    path.extend(segments);
    let meta = fs::metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let canonical = fs::canonicalize(&path).ok()?;
    canonical
        .starts_with(root)
        .then_some((canonical, meta.len()))
}

fn head_fault(ex: &Exchange, conn: Conn, fault: Fault) {
    match fault {
        Fault::Status(status) => {
            ex.reply(
                conn,
                status,
                &[],
                &format!("fixture fault: status {status}\n"),
            );
        }
        Fault::TooManyRequests { retry_after_secs } => {
            let headers = [("Retry-After", retry_after_secs.to_string())];
            ex.reply(conn, 429, &headers, "fixture fault: too many requests\n");
        }
        Fault::RedirectLoop => {
            let location = format!(
                "{}{}?{}",
                ex.shared.url(ex.host),
                ex.req.raw_path,
                next_loop_query(ex.req.query.as_deref())
            );
            ex.redirect(conn, location);
        }
        Fault::RedirectTo(location) => ex.redirect(conn, location),
        Fault::Endless => endless(ex, conn),
        // FaultTable::take_head only hands out head faults.
        _ => ex.reply(
            conn,
            500,
            &[],
            "fixture bug: body fault taken as head fault\n",
        ),
    }
}

/// The query for the next hop of a redirect loop: the old one with
/// `loop=N` replaced by `loop=N+1`, so every hop is a distinct URL (clients
/// that detect a loop by seeing the same URL twice must not be the only
/// ones caught).
fn next_loop_query(query: Option<&str>) -> String {
    let mut hop = 0u64;
    let mut kept = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.strip_prefix("loop=") {
            Some(n) => hop = n.parse().unwrap_or(0),
            None if pair == "loop" => {}
            None => kept.push(pair),
        }
    }
    let next = format!("loop={}", hop + 1);
    kept.push(&next);
    kept.join("&")
}

fn serve_file(ex: &Exchange, mut conn: Conn, key: &str, path: &Path, len: u64) {
    let head_only = ex.req.is_head();
    // A HEAD sends no body, so it must not use up a body fault.
    let plan = ex.shared.faults.take_body(key, !head_only);
    let range = if plan.no_range {
        None
    } else {
        ex.req.header("range")
    };
    let (status, start, body_len) = match http::parse_range(range, len) {
        RangeRequest::Full => (200, 0, len),
        RangeRequest::Partial { start, end } => (206, start, end - start + 1),
        RangeRequest::Unsatisfiable => {
            let headers = [("Content-Range", format!("bytes */{len}"))];
            return ex.reply(conn, 416, &headers, "range not satisfiable\n");
        }
    };

    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) => return ex.reply(conn, 500, &[], &format!("cannot open file: {e}\n")),
    };
    if let Err(e) = file.seek(SeekFrom::Start(start)) {
        return ex.reply(conn, 500, &[], &format!("cannot seek file: {e}\n"));
    }

    let mut headers = vec![
        ("Content-Type", "application/octet-stream".to_string()),
        ("Content-Length", body_len.to_string()),
        (
            "Accept-Ranges",
            if plan.no_range { "none" } else { "bytes" }.to_string(),
        ),
    ];
    if status == 206 {
        let end = start + body_len - 1;
        headers.push(("Content-Range", format!("bytes {start}-{end}/{len}")));
    }
    let planned = match (head_only, plan.cut) {
        (true, _) => 0,
        (false, Some(cut)) => cut.after_bytes().min(body_len),
        (false, None) => body_len,
    };
    let seq = ex.record(status, planned);

    if conn
        .write_all(&http::response_head(status, &headers))
        .is_err()
    {
        ex.shared.log.set_body_bytes(seq, 0);
        return;
    }
    if head_only {
        return conn.finish();
    }
    let mut sent = 0;
    let result = send_body(&mut conn, &mut file, planned, &plan, ex.shared, &mut sent);
    if sent != planned {
        ex.shared.log.set_body_bytes(seq, sent);
    }
    if result.is_err() {
        // The client is gone (or timed out): nothing more to say to it.
        return;
    }
    match plan.cut {
        Some(Cut::Stall { secs, .. }) => {
            ex.shared.sleep(Duration::from_secs(secs.into()));
            conn.finish();
        }
        Some(Cut::Reset { .. }) => conn.reset(),
        Some(Cut::Truncate { .. }) | None => conn.finish(),
    }
}

/// 200 with a close-delimited body that never ends: bytes until the client
/// hangs up or the fixture shuts down. The log records what was sent.
fn endless(ex: &Exchange, mut conn: Conn) {
    let headers = [("Content-Type", "application/octet-stream".to_string())];
    let seq = ex.record(200, 0);
    if conn.write_all(&http::response_head(200, &headers)).is_err() || ex.req.is_head() {
        return;
    }
    let buf = vec![0x5au8; CHUNK];
    let mut sent = 0u64;
    while !ex.shared.is_shutting_down() && conn.write_all(&buf).is_ok() {
        sent += buf.len() as u64;
        ex.shared.log.set_body_bytes(seq, sent);
    }
}

/// Copies up to `limit` bytes from `file` to `conn`, applying the wrong-bytes
/// and slow faults, counting what was written into `sent`.
fn send_body(
    conn: &mut Conn,
    file: &mut File,
    limit: u64,
    plan: &BodyPlan,
    shared: &Shared,
    sent: &mut u64,
) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    // Throttled bodies go out in about ten pieces a second, so the rate is
    // smooth enough for a test to kill the client partway.
    let piece = match plan.slow {
        Some(bps) => (bps / 10).clamp(1, CHUNK as u64) as usize,
        None => CHUNK,
    };
    let started = Instant::now();
    while *sent < limit {
        if shared.is_shutting_down() {
            return Err(io::Error::other("fixture shutting down"));
        }
        let want = piece.min((limit - *sent) as usize);
        let at = file.stream_position()?;
        let n = match file.read(&mut buf[..want]) {
            Ok(0) => break, // The file shrank under us; the client sees a short body.
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if plan.wrong_bytes {
            buf[..n].iter_mut().for_each(|b| *b ^= 0xFF);
        }
        if let Some(flip) = plan.flip_at.filter(|&f| f >= at && f < at + n as u64) {
            buf[(flip - at) as usize] ^= 0xFF;
        }
        if let Some(bps) = plan.slow {
            let due = started + Duration::from_secs_f64(*sent as f64 / bps as f64);
            shared.sleep(due.saturating_duration_since(Instant::now()));
        }
        conn.write_all(&buf[..n])?;
        *sent += n as u64;
    }
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_release_downloads() {
        let segs = |p: &str| http::sanitize_path(p).unwrap();
        assert!(is_release_download(&segs(
            "/acme/hello/releases/download/v1.0.0/hello.tar.gz"
        )));
        assert!(!is_release_download(&segs(
            "/acme/hello/releases/download/v1.0.0"
        )));
        assert!(!is_release_download(&segs(
            "/acme/hello/releases/latest/hello.tar.gz/x"
        )));
        assert!(!is_release_download(&segs("/checksums.txt")));
    }

    #[test]
    fn loop_queries_count_up() {
        assert_eq!(next_loop_query(None), "loop=1");
        assert_eq!(next_loop_query(Some("loop=4")), "loop=5");
        assert_eq!(
            next_loop_query(Some("sig=fixture&loop=1")),
            "sig=fixture&loop=2"
        );
    }

    #[test]
    fn resolve_stays_inside_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir(root.join("d")).unwrap();
        fs::write(root.join("d/f"), b"abc").unwrap();
        let segs = |p: &str| http::sanitize_path(p).unwrap();
        assert_eq!(resolve(&root, &segs("/d/f")).unwrap().1, 3);
        assert!(
            resolve(&root, &segs("/d")).is_none(),
            "directories are not served"
        );
        assert!(resolve(&root, &segs("/nope")).is_none());
    }

    // Creating a symlink on Windows needs a privilege (or developer mode).
    #[cfg(unix)]
    #[test]
    fn resolve_refuses_symlinks_out_of_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let segs = |p: &str| http::sanitize_path(p).unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("link")).unwrap();
        assert!(
            resolve(&root, &segs("/link")).is_none(),
            "symlink out of root"
        );
    }
}
