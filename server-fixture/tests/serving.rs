//! Plain serving over raw HTTP: the release redirect, file bodies, ranges,
//! HEAD, 404/400, the request log, the control endpoint, shutdown and the
//! command-line binary.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use server_fixture::{Fault, Fixture, Host};

#[test]
fn main_host_redirects_release_downloads_to_objects_host() {
    let (tree, fx) = serving();
    assert!(fx.base_url().starts_with("http://127.0.0.1:"));
    assert!(fx.objects_url().starts_with("http://127.0.0.1:"));
    assert_ne!(fx.base_url(), fx.objects_url());
    assert_eq!(fx.root(), tree.path());
    assert_eq!(fx.ca_pem(), None);

    let r = get(&fx.base_url(), ASSET);
    assert_eq!(r.status, 302);
    let location = r.header("location").unwrap();
    assert_eq!(location, format!("{}{ASSET}?sig=fixture", fx.objects_url()));

    let r = get(&fx.objects_url(), &path_of(location));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, asset_bytes());
    assert_eq!(r.content_length(), ASSET_LEN);
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.error, None);
}

#[test]
fn missing_assets_and_files_are_404() {
    let (_tree, fx) = serving();
    let missing = "/acme/hello/releases/download/v1.0.0/nope.zip";
    assert_eq!(get(&fx.base_url(), missing).status, 404);
    assert_eq!(get(&fx.objects_url(), missing).status, 404);
    assert_eq!(get(&fx.base_url(), "/nope.txt").status, 404);
    // Directories are not files.
    assert_eq!(get(&fx.base_url(), "/acme").status, 404);
    assert_eq!(get(&fx.base_url(), "/").status, 404);
}

#[test]
fn main_host_serves_other_files_directly() {
    let (_tree, fx) = serving();
    let r = get(&fx.base_url(), "/checksums.txt");
    assert_eq!((r.status, r.body.as_slice()), (200, CHECKSUMS));
    let r = get(&fx.base_url(), "/x/y/SHA256SUMS");
    assert_eq!((r.status, r.text().as_str()), (200, "sums\n"));
    // Percent-encoded names are decoded.
    let r = get(&fx.base_url(), "/x/%79/SHA256SUMS");
    assert_eq!(r.status, 200);
}

/// GETs ASSET with `Range: range`; asserts the status and Content-Range.
#[track_caller]
fn get_range(objects: &str, range: &str, status: u16, content_range: &str) -> Response {
    let r = request(objects, "GET", ASSET, &[("Range", range)]);
    assert_eq!(r.status, status);
    assert_eq!(r.header("content-range").unwrap(), content_range);
    r
}

#[test]
fn ranges_give_206_and_unsatisfiable_ones_416() {
    let (_tree, fx) = serving();
    let all = asset_bytes();
    let objects = fx.objects_url();

    let range = format!("bytes 1000-{}/{ASSET_LEN}", ASSET_LEN - 1);
    let r = get_range(&objects, "bytes=1000-", 206, &range);
    assert_eq!(r.body, &all[1000..]);

    let r = get_range(
        &objects,
        "bytes=10-19",
        206,
        &format!("bytes 10-19/{ASSET_LEN}"),
    );
    assert_eq!(r.content_length(), 10);
    assert_eq!(r.body, &all[10..20]);

    get_range(
        &objects,
        "bytes=999999999-",
        416,
        &format!("bytes */{ASSET_LEN}"),
    );
}

#[test]
fn head_sends_headers_only() {
    let (_tree, fx) = serving();
    let r = request(&fx.objects_url(), "HEAD", ASSET, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), ASSET_LEN);
    assert!(r.body.is_empty());
    let r = request(&fx.base_url(), "HEAD", ASSET, &[]);
    assert_eq!(r.status, 302);
    assert!(r.body.is_empty());
    assert_eq!(fx.requests()[0].body_bytes_sent, 0);
}

#[test]
fn path_traversal_is_rejected() {
    let tree = release_tree();
    // A file next to the root that traversal would reach.
    let secret = tree.path().join("acme").join("secret");
    std::fs::write(&secret, b"secret").unwrap();
    let fx = Fixture::start(tree.path().join("acme").join("hello")).unwrap();
    for host in [fx.base_url(), fx.objects_url()] {
        for path in [
            "/../secret",
            "/releases/../../secret",
            "/%2e%2e/secret",
            "/%2E%2E%2Fsecret",
            "/releases/..%2f..%2fsecret",
        ] {
            let r = get(&host, path);
            assert_eq!(r.status, 400, "{host}{path}");
            assert!(!r.text().contains("secret\n"));
        }
    }
    // Not a traversal: the root itself.
    assert_eq!(
        get(&fx.objects_url(), "/releases/download/v1.0.0/hello.tar.gz").status,
        200
    );
}

#[test]
fn other_methods_and_malformed_requests_are_refused() {
    let (_tree, fx) = serving();
    let r = request(&fx.objects_url(), "DELETE", ASSET, &[]);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    let r = exchange(connect(&fx.base_url()), b"NONSENSE\r\n\r\n");
    assert_eq!(r.status, 400);
    let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    let r = exchange(connect(&fx.base_url()), huge.as_bytes());
    assert_eq!(r.status, 431);
}

#[test]
fn request_log_records_both_hosts_in_order() {
    let (_tree, fx) = serving();
    let headers = [
        ("Authorization", "token s3cret"),
        ("User-Agent", "postbin-test/1"),
    ];
    let r = request(&fx.base_url(), "GET", ASSET, &headers);
    let objects_path = path_of(r.header("location").unwrap());
    let r = request(
        &fx.objects_url(),
        "GET",
        &objects_path,
        &[("Range", "bytes=100-"), ("User-Agent", "postbin-test/1")],
    );
    assert_eq!(r.status, 206);
    // Control requests are not logged.
    get(&fx.base_url(), "/__fixture/requests");

    let log = fx.requests();
    assert_eq!(log.len(), 2, "{log:?}");
    let (a, b) = (&log[0], &log[1]);
    assert!(a.seq < b.seq);
    assert_eq!(
        (a.host, a.method.as_str(), a.path.as_str()),
        (Host::Main, "GET", ASSET)
    );
    assert_eq!(a.authorization.as_deref(), Some("token s3cret"));
    assert_eq!(a.user_agent.as_deref(), Some("postbin-test/1"));
    assert_eq!((a.status, a.range.as_deref()), (302, None));
    assert_eq!(b.host, Host::Objects);
    assert_eq!(b.path, format!("{ASSET}?sig=fixture"));
    assert_eq!(b.range.as_deref(), Some("bytes=100-"));
    assert_eq!(b.authorization, None);
    assert_eq!(
        (b.status, b.body_bytes_sent),
        (206, (ASSET_LEN - 100) as u64)
    );

    fx.clear_requests();
    assert!(fx.requests().is_empty());
    get(&fx.base_url(), "/checksums.txt");
    let log = fx.requests();
    assert_eq!(log.len(), 1);
    assert!(log[0].seq > b.seq, "sequence numbers keep counting");
}

#[test]
fn control_endpoint_sets_faults_and_serves_the_log_as_json() {
    let (_tree, fx) = serving();
    let base = fx.base_url();
    let encoded = ASSET.replace('/', "%2F");

    let r = request(
        &base,
        "POST",
        &format!("/__fixture/fault?path={encoded}&kind=status&status=503&times=1"),
        &[("Content-Length", "0")],
    );
    assert_eq!((r.status, r.text().as_str()), (200, "ok\n"));
    assert_eq!(get(&base, ASSET).status, 503);
    assert_eq!(get(&base, ASSET).status, 302, "times=1 then normal");

    // The objects host has the same control endpoint.
    let r = request(
        &fx.objects_url(),
        "POST",
        &format!("/__fixture/fault?path={encoded}&kind=429&retry_after=3"),
        &[],
    );
    assert_eq!(r.status, 200);
    let r = get(&base, ASSET);
    assert_eq!((r.status, r.header("retry-after")), (429, Some("3")));

    let r = get(&base, "/__fixture/requests");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let json = r.text();
    assert!(
        json.starts_with('[') && json.trim_end().ends_with(']'),
        "{json}"
    );
    assert_eq!(json.matches("\"seq\":").count(), 3, "{json}");
    assert!(json.contains("\"host\":\"main\""));
    assert!(json.contains(&format!("\"path\":\"{ASSET}\"")));
    assert!(json.contains("\"status\":503"));
    assert!(json.contains("\"status\":429"));
    assert!(json.contains("\"authorization\":null"));

    let r = request(&base, "POST", "/__fixture/reset", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(get(&base, "/__fixture/requests").text(), "[]\n");
    assert_eq!(get(&base, ASSET).status, 302, "faults cleared too");

    // Bad parameters say what is wrong.
    let r = request(&base, "POST", "/__fixture/fault?path=%2Fa&kind=bogus", &[]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("unknown fault kind"), "{}", r.text());
    let r = request(
        &base,
        "POST",
        "/__fixture/fault?path=%2Fa&kind=stall&secs=1",
        &[],
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("after_bytes"), "{}", r.text());
    assert_eq!(get(&base, "/__fixture/fault").status, 405);
    assert_eq!(get(&base, "/__fixture/nope").status, 404);
}

#[test]
fn control_endpoint_accepts_a_request_body() {
    let (_tree, fx) = serving();
    let raw = "POST /__fixture/reset HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    let r = exchange(connect(&fx.base_url()), raw.as_bytes());
    assert_eq!((r.status, r.error), (200, None));
}

#[test]
fn dropping_the_fixture_stops_it_promptly() {
    let (_tree, fx) = serving();
    let (main, objects) = (addr_of(&fx.base_url()), addr_of(&fx.objects_url()));
    fx.set_fault(
        ASSET,
        Fault::Stall {
            after_bytes: 10,
            secs: 30,
        },
        None,
    );
    let mut stalled = connect(&fx.objects_url());
    write!(stalled, "GET {ASSET} HTTP/1.1\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stalled.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"));
    // Wait until the stall has begun, then drop.
    let deadline = Instant::now() + Duration::from_secs(5);
    while fx.requests().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }

    let started = Instant::now();
    drop(fx);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The stalled client is cut off rather than left hanging for 30 s.
    let (_, _) = read_all(&mut reader);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(TcpStream::connect(main).is_err());
    assert!(TcpStream::connect(objects).is_err());
}

#[test]
fn binary_prints_urls_and_serves() {
    let tree = release_tree();
    let mut child = Command::new(env!("CARGO_BIN_EXE_server-fixture"))
        .args(["--root", tree.path().to_str().unwrap(), "--lifetime", "30"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines.next().unwrap().unwrap();
    let objects = lines.next().unwrap().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let objects = objects.strip_prefix("objects: ").unwrap().to_string();
    let r = get(&base, "/checksums.txt");
    assert_eq!(r.body, CHECKSUMS);
    let r = get(&objects, ASSET);
    assert_eq!(r.body.len(), ASSET_LEN);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn binary_lifetime_and_usage_errors() {
    let tree = release_tree();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_server-fixture"))
        .args(["--root", tree.path().to_str().unwrap(), "--lifetime", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);

    let out = Command::new(env!("CARGO_BIN_EXE_server-fixture"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_server-fixture"))
        .args(["--root", "/definitely/not/here"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/definitely/not/here"));
}
