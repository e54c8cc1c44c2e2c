//! Every fault kind, observed from a raw HTTP client.

mod common;

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use common::*;
use server_fixture::{Fault, Fixture, Host};

fn fixture() -> (tempfile::TempDir, Fixture) {
    let (tree, fx) = serving();
    (tree, fx)
}

#[test]
fn status_fault_on_main_and_directly_on_objects() {
    let (_tree, fx) = fixture();
    fx.set_fault(ASSET, Fault::Status(500), None);
    let r = get(&fx.base_url(), ASSET);
    assert_eq!(r.status, 500);
    assert!(r.text().contains("500"));
    assert_eq!(get(&fx.base_url(), ASSET).status, 500, "forever");
    assert_eq!(
        get(&fx.objects_url(), ASSET).status,
        500,
        "objects host too"
    );
    // Other paths are unaffected; a query on the request does not matter.
    assert_eq!(get(&fx.base_url(), "/checksums.txt").status, 200);
    assert_eq!(
        get(&fx.objects_url(), &format!("{ASSET}?sig=x")).status,
        500
    );
    fx.clear_faults();
    assert_eq!(get(&fx.base_url(), ASSET).status, 302);
}

#[test]
fn faults_with_times_expire_in_order() {
    let (_tree, fx) = fixture();
    fx.set_fault(ASSET, Fault::Status(503), Some(1));
    fx.set_fault(
        ASSET,
        Fault::TooManyRequests {
            retry_after_secs: 2,
        },
        Some(1),
    );
    assert_eq!(get(&fx.base_url(), ASSET).status, 503);
    assert_eq!(get(&fx.base_url(), ASSET).status, 429);
    assert_eq!(get(&fx.base_url(), ASSET).status, 302);
}

#[test]
fn too_many_requests_sends_retry_after() {
    let (_tree, fx) = fixture();
    fx.set_fault(
        ASSET,
        Fault::TooManyRequests {
            retry_after_secs: 7,
        },
        Some(1),
    );
    let r = get(&fx.base_url(), ASSET);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
}

#[test]
fn truncate_sends_fewer_bytes_than_content_length_then_closes() {
    let (_tree, fx) = fixture();
    fx.set_fault(ASSET, Fault::Truncate { after_bytes: 1234 }, Some(1));
    let r = get(&fx.objects_url(), ASSET);
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), ASSET_LEN);
    assert_eq!(r.body, &asset_bytes()[..1234]);
    assert_eq!(r.error, None, "a clean close");
    let rec = fx.requests().pop().unwrap();
    assert_eq!((rec.status, rec.body_bytes_sent), (200, 1234));
    // times=1: the next download is whole.
    assert_eq!(get(&fx.objects_url(), ASSET).body.len(), ASSET_LEN);
}

#[test]
fn body_faults_apply_to_files_served_by_the_main_host() {
    let (_tree, fx) = fixture();
    fx.set_fault(
        "/checksums.txt",
        Fault::Truncate { after_bytes: 3 },
        Some(1),
    );
    let r = get(&fx.base_url(), "/checksums.txt");
    assert_eq!(
        (r.content_length(), r.body.as_slice()),
        (CHECKSUMS.len(), &CHECKSUMS[..3])
    );
}

#[test]
fn reset_mid_body_gives_a_connection_reset() {
    let (_tree, fx) = fixture();
    fx.set_fault(ASSET, Fault::ResetMidBody { after_bytes: 1000 }, None);
    let r = get(&fx.objects_url(), ASSET);
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), ASSET_LEN);
    assert_eq!(r.body.len(), 1000);
    assert_eq!(r.body, &asset_bytes()[..r.body.len()]);
    assert_eq!(r.error, Some(io::ErrorKind::ConnectionReset));
}

#[test]
fn stall_goes_silent_then_closes() {
    let (_tree, fx) = fixture();
    fx.set_fault(
        ASSET,
        Fault::Stall {
            after_bytes: 10,
            secs: 1,
        },
        Some(1),
    );
    let mut tcp = connect(&fx.objects_url());
    let started = Instant::now();
    write!(tcp, "GET {ASSET} HTTP/1.1\r\n\r\n").unwrap();

    // While stalled, a short read timeout fires with only 10 body bytes in.
    tcp.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let (bytes, error) = read_all(&mut tcp);
    assert!(
        matches!(
            error,
            Some(io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
        ),
        "{error:?}"
    );
    let r = parse_response(&bytes, error);
    assert_eq!((r.status, r.content_length()), (200, ASSET_LEN));
    assert_eq!(r.body, &asset_bytes()[..10]);

    // After `secs` the server closes without sending more.
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    tcp.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
}

#[test]
fn wrong_bytes_keeps_the_length_but_changes_every_byte() {
    let (_tree, fx) = fixture();
    fx.set_fault(ASSET, Fault::WrongBytes, Some(1));
    let r = get(&fx.objects_url(), ASSET);
    let good = asset_bytes();
    assert_eq!(r.body.len(), good.len());
    assert!(r.body.iter().zip(&good).all(|(a, b)| a != b));
    assert_eq!(r.body.iter().map(|b| b ^ 0xFF).collect::<Vec<_>>(), good);
    assert_eq!(get(&fx.objects_url(), ASSET).body, good, "times=1");
}

#[test]
fn redirect_loop_keeps_redirecting() {
    let (_tree, fx) = fixture();
    fx.set_fault(ASSET, Fault::RedirectLoop, None);
    let mut path = ASSET.to_string();
    for hop in 1..=5 {
        let r = get(&fx.base_url(), &path);
        assert_eq!(r.status, 302);
        let location = r.header("location").unwrap();
        assert_eq!(location, format!("{}{ASSET}?loop={hop}", fx.base_url()));
        path = path_of(location);
    }
    assert_eq!(fx.requests().len(), 5, "each hop is a request");
}

#[test]
fn redirect_to_points_anywhere() {
    let (_tree, fx) = fixture();
    let target = format!("{}/checksums.txt", fx.objects_url());
    fx.set_fault(ASSET, Fault::RedirectTo(target.clone()), Some(1));
    let r = get(&fx.base_url(), ASSET);
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some(target.as_str()))
    );
    assert_eq!(get(&fx.base_url(), ASSET).status, 302);
    assert_eq!(
        get(&fx.base_url(), ASSET).header("location").unwrap(),
        format!("{}{ASSET}?sig=fixture", fx.objects_url())
    );
}

#[test]
fn no_range_ignores_range_headers() {
    let (_tree, fx) = fixture();
    fx.set_fault(ASSET, Fault::NoRange, None);
    let r = request(&fx.objects_url(), "GET", ASSET, &[("Range", "bytes=100-")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-range"), None);
    assert_eq!(r.header("accept-ranges"), Some("none"));
    assert_eq!(r.body, asset_bytes());
    let rec = fx.requests().pop().unwrap();
    assert_eq!(
        (rec.host, rec.range.as_deref()),
        (Host::Objects, Some("bytes=100-"))
    );
}

#[test]
fn slow_throttles_the_body() {
    let (_tree, fx) = fixture();
    fx.set_fault(
        ASSET,
        Fault::Slow {
            bytes_per_sec: 20_000,
        },
        None,
    );
    let started = Instant::now();
    // 6000 bytes at 20 kB/s in 2000-byte pieces: pieces at 0, 0.1 and 0.2 s.
    let r = request(
        &fx.objects_url(),
        "GET",
        ASSET,
        &[("Range", "bytes=0-5999")],
    );
    let elapsed = started.elapsed();
    assert_eq!(r.body, &asset_bytes()[..6000]);
    assert!(elapsed >= Duration::from_millis(190), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[test]
fn head_requests_do_not_use_up_body_faults() {
    let (_tree, fx) = fixture();
    fx.set_fault(ASSET, Fault::Truncate { after_bytes: 5 }, Some(1));
    let r = request(&fx.objects_url(), "HEAD", ASSET, &[]);
    assert_eq!(
        (r.status, r.content_length(), r.body.len()),
        (200, ASSET_LEN, 0)
    );
    assert_eq!(get(&fx.objects_url(), ASSET).body.len(), 5);
    assert_eq!(get(&fx.objects_url(), ASSET).body.len(), ASSET_LEN);
}

#[test]
fn fault_paths_are_matched_without_query_or_encoding() {
    let (_tree, fx) = fixture();
    fx.set_fault(&format!("{ASSET}?ignored=1"), Fault::Status(418), Some(2));
    assert_eq!(get(&fx.base_url(), &format!("{ASSET}?x=1")).status, 418);
    let encoded = ASSET.replace("hello.tar.gz", "hello%2Etar.gz");
    assert_eq!(get(&fx.base_url(), &encoded).status, 418);
    assert_eq!(get(&fx.base_url(), ASSET).status, 302);
}
