//! Quick network behaviours: a retried 503, a redirect loop, offline mode.
//! The deep suites: `net_faults` (retries, resume, stalls, redirects, the
//! token), `net_real` (tinyproxy, nginx), `net_tls`, `net_mirrors`, `net_doctor`.

use crate::support::*;
use server_fixture::{Fault, Host};

#[test]
fn a_503_is_retried_and_the_install_succeeds() {
    let (world, _) = published();
    world.fault_asset(Fault::Status(503), Some(1));

    world.assert_installs(&[("POSTBIN_RETRIES", "2")]);
    let hits = hits(&world.requests(), ASSET);
    assert_eq!(
        hits,
        [(Host::Main, 503), (Host::Main, 302), (Host::Objects, 200)]
    );
    let attempts = hits.iter().filter(|(h, _)| *h == Host::Main).count();
    assert_eq!(attempts, 2);
}

#[test]
fn a_503_without_retries_exits_5_after_one_attempt() {
    let (world, _) = published();
    world.fault_asset(Fault::Status(503), None);

    world
        .install()
        .assert_exit(exit::NETWORK)
        .assert_stderr_has(&["503"]);
    assert_eq!(hits(&world.requests(), ASSET), [(Host::Main, 503)]);
    world.assert_nothing_installed();
}

#[test]
fn a_redirect_loop_exits_5_after_a_bounded_number_of_hops() {
    let (world, _) = published();
    world.fault_asset(Fault::RedirectLoop, None);

    world
        .install()
        .assert_exit(exit::NETWORK)
        .assert_stderr_has(&["redirect"]);
    let hops = hits(&world.requests(), ASSET).len();
    assert_eq!(hops as u32, postbin::net::MAX_REDIRECTS + 1);
    world.assert_nothing_installed();
}

#[test]
fn offline_with_an_empty_cache_exits_9_without_a_request() {
    // `--offline`, then npm's own `offline=true` in the user's .npmrc.
    for npmrc in [false, true] {
        let (world, _) = published();
        let run = if npmrc {
            std::fs::write(world.home().join(".npmrc"), "offline=true\n").unwrap();
            world.install()
        } else {
            world.install_with(&["--offline"])
        };
        run.assert_exit(exit::OFFLINE_MISS).assert_stderr_has(&[
            "offline",
            "postbin prefill",
            "POSTBIN_MIRROR",
            "cache import",
        ]);
        world.assert_untouched();
    }
}

#[test]
fn offline_with_a_warm_cache_installs_a_fresh_package() {
    let (world, other) = warm_cache_and_a_fresh_package();
    install_in(&world, &other, &[("POSTBIN_OFFLINE", "1")]).assert_ok();
    assert_runs(&placed(&other, "hello"));
    world.assert_no_requests();
}

#[test]
fn npm_config_offline_is_honoured() {
    let (world, _) = published();
    world
        .install_env(&[("npm_config_offline", "true")])
        .assert_exit(exit::OFFLINE_MISS);
    world.assert_untouched();
}
