//! Faults the fixture scripts, end to end through the binary: rate limits,
//! bodies cut by a reset, a stall or a clean close (resumed with `Range` when
//! the server allows, restarted when it does not), refused redirects, the
//! token's reach, wrong bytes, and the bound on attempts.

use crate::net_support::*;
use crate::support::*;
use server_fixture::{Fault, Host, RequestRecord};

/// Sets `fault` on ASSET for one request, installs with two retries (and
/// `env` on top) and asserts the executable runs.
fn install_through_once(world: &World, fault: Fault, env: &[(&str, &str)]) {
    world.fault_asset(fault, Some(1));
    let mut all = vec![("POSTBIN_RETRIES", "2")];
    all.extend_from_slice(env);
    world.assert_installs(&all);
}

/// The default package with a big archive whose every download meets
/// `fault`.
fn always(fault: Fault) -> World {
    let (world, _) = published_with(&big_archive());
    world.fault_asset(fault, None);
    world
}

#[test]
fn a_429_with_retry_after_is_waited_out_and_the_install_succeeds() {
    let (world, _) = published();
    install_through_once(
        &world,
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        &[],
    );
    assert_eq!(
        hits(&world.requests(), ASSET),
        [(Host::Main, 429), (Host::Main, 302), (Host::Objects, 200)]
    );
}

/// Resets the body after 300 000 bytes once, installs with two retries and
/// checks the executable runs; the two objects-host requests for ASSET.
fn install_through_one_reset(world: &World) -> Vec<RequestRecord> {
    install_through_once(
        world,
        Fault::ResetMidBody {
            after_bytes: 300_000,
        },
        &[],
    );
    let objects: Vec<_> = asset_requests(world)
        .into_iter()
        .filter(|r| r.host == Host::Objects)
        .collect();
    assert_eq!(objects.len(), 2, "{objects:#?}");
    objects
}

#[test]
fn a_reset_mid_body_is_resumed_with_range() {
    let (world, _) = published_with(&big_archive());
    let objects = install_through_one_reset(&world);
    assert_eq!(objects[0].range, None);
    let range = objects[1]
        .range
        .as_deref()
        .expect("the retry asks for a range");
    let from: u64 = range
        .strip_prefix("bytes=")
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a `bytes=N-` range: {range}"));
    assert!(from > 0 && from <= 300_000, "{range}");
    assert_eq!(objects[1].status, 206);
}

#[test]
fn a_reset_on_a_server_without_ranges_restarts_from_zero() {
    let world = always(Fault::NoRange);
    let objects = install_through_one_reset(&world);
    // It asked to resume, got the whole body with 200, and started over.
    assert!(objects[1].range.is_some(), "{objects:#?}");
    assert_eq!(objects[1].status, 200);
}

#[test]
fn a_stalled_body_is_retried() {
    let (world, _) = published_with(&big_archive());
    install_through_once(
        &world,
        Fault::Stall {
            after_bytes: 50_000,
            secs: 5,
        },
        &[("POSTBIN_STALL_TIMEOUT", "1")],
    );
    assert_eq!(count(&world, Host::Objects), 2);
}

#[test]
fn a_body_that_keeps_stalling_exits_5_saying_so() {
    let world = always(Fault::Stall {
        after_bytes: 1000,
        secs: 5,
    });

    world
        .install_env(&[("POSTBIN_RETRIES", "1"), ("POSTBIN_STALL_TIMEOUT", "1")])
        .assert_exit(exit::NETWORK)
        .assert_stderr_has(&["stalled", "POSTBIN_STALL_TIMEOUT", "2 attempt"]);
    assert_eq!(count(&world, Host::Objects), 2);
    world.assert_nothing_installed();
}

#[test]
fn a_truncated_body_is_retried() {
    let (world, _) = published_with(&big_archive());
    install_through_once(
        &world,
        Fault::Truncate {
            after_bytes: 200_000,
        },
        &[],
    );
    assert_eq!(count(&world, Host::Objects), 2);
}

#[test]
fn a_truncated_body_without_retries_is_a_network_error_not_a_hash_mismatch() {
    let world = always(Fault::Truncate {
        after_bytes: 200_000,
    });

    world.assert_install_fails(&[], exit::NETWORK, &["broke off"]);
}

#[test]
fn an_https_download_redirected_to_plain_http_is_refused() {
    let (mut world, sha) = published();
    let ca = to_https(&mut world, &sha);
    let plain = format!(
        "http://127.0.0.1:{}/{RELEASE_DIR}/{ASSET}",
        crate::net_servers::free_port()
    );
    world.fault_asset(Fault::RedirectTo(plain), None);

    world
        .install_env(&[
            ("POSTBIN_CA_FILE", &path_str(&ca)),
            ("POSTBIN_RETRIES", "2"),
        ])
        .assert_exit(exit::NETWORK)
        .assert_stderr_has(&["redirected to plain HTTP"]);
    // Refused at once: not retried, and nothing went to the HTTP URL.
    assert_eq!(hits(&world.requests(), ASSET), [(Host::Main, 302)]);
    world.assert_nothing_installed();
}

#[test]
fn the_token_goes_to_the_github_host_only_and_never_across_the_redirect() {
    let (mut world, sha) = published();
    let ca = to_https(&mut world, &sha);
    use_localhost(&world, &sha);

    for log in ["warn", "debug"] {
        world.fixture.clear_requests();
        let _ = std::fs::remove_dir_all(world.pkg().join(".postbin"));
        let _ = std::fs::remove_dir_all(world.cache());
        let run = world.install_env(&[
            ("POSTBIN_CA_FILE", &path_str(&ca)),
            ("GITHUB_TOKEN", "s3cr3t-t0ken"),
            ("POSTBIN_TEST_GITHUB_HOSTS", "localhost"),
            ("POSTBIN_LOG", log),
        ]);
        run.assert_ok();
        assert_not_printed(&run, "s3cr3t-t0ken");
        let requests = asset_requests(&world);
        assert_eq!(requests.len(), 2, "{requests:#?}");
        assert_eq!(requests[0].host, Host::Main);
        assert_eq!(
            requests[0].authorization.as_deref(),
            Some("Bearer s3cr3t-t0ken")
        );
        assert_eq!(requests[1].host, Host::Objects);
        assert_eq!(requests[1].authorization, None, "the token crossed hosts");
    }
}

/// Asserts the install asked for ASSET twice (redirect, download) and sent
/// no token either time.
#[track_caller]
fn assert_no_token_sent(world: &World) {
    let requests = asset_requests(world);
    assert_eq!(requests.len(), 2, "{requests:#?}");
    for r in requests {
        assert_eq!(r.authorization, None, "{r:#?}");
    }
}

#[test]
fn a_mirror_never_gets_the_token_even_on_a_github_host() {
    let (mut world, sha) = published();
    let ca = to_https(&mut world, &sha);
    let mirror = world
        .fixture
        .base_url()
        .replacen("127.0.0.1", "localhost", 1);

    world
        .install_env(&[
            ("POSTBIN_CA_FILE", &path_str(&ca)),
            ("POSTBIN_MIRROR", &mirror),
            ("GITHUB_TOKEN", "s3cr3t-t0ken"),
            ("POSTBIN_TEST_GITHUB_HOSTS", "localhost,127.0.0.1"),
        ])
        .assert_ok();
    assert_no_token_sent(&world);
}

#[test]
fn plain_http_never_carries_the_token() {
    let (world, sha) = published();
    use_localhost(&world, &sha);

    world
        .install_env(&[
            ("GITHUB_TOKEN", "s3cr3t-t0ken"),
            ("POSTBIN_TEST_GITHUB_HOSTS", "localhost"),
        ])
        .assert_ok();
    assert_no_token_sent(&world);
}

#[test]
fn wrong_bytes_exit_6_and_nothing_is_cached() {
    let (world, _) = published();
    world.fault_asset(Fault::WrongBytes, None);

    world
        .install_env(&[("POSTBIN_RETRIES", "2")])
        .assert_exit(exit::INTEGRITY)
        .assert_stderr_has(&["SHA-256 mismatch"]);
    // A mismatch is not retried: the same server would send the same bytes.
    assert_eq!(count(&world, Host::Objects), 1);
    world.assert_nothing_installed();
}

#[test]
fn postbin_retries_bounds_the_attempts_and_the_error_lists_them() {
    let (world, _) = published();
    world.fault_asset(Fault::Status(503), None);

    let run = world.install_env(&[("POSTBIN_RETRIES", "2")]);
    run.assert_exit(exit::NETWORK)
        .assert_stderr_has(&["3 attempt", "503"]);
    assert_eq!(count(&world, Host::Main), 3);
    for n in 1..=3 {
        assert!(
            run.stderr.contains(&format!("{n}. http://")),
            "{}",
            run.stderr
        );
    }
}
