//! HTTPS against the fixture's throwaway CA, the way a TLS-inspecting
//! corporate proxy looks to postbin: refused until the CA is given, then
//! accepted from each place a CA can be named (`POSTBIN_CA_FILE`,
//! `NODE_EXTRA_CA_CERTS`, `npm_config_cafile`, `cafile=` in the project's
//! `.npmrc`); `strict-ssl=false` works with a loud warning and still
//! enforces the pinned hash.

use crate::net_support::*;
use crate::support::*;
use server_fixture::{Fault, Host};

#[test]
fn an_unknown_ca_fails_with_exit_5_and_says_which_setting_to_use() {
    let (mut world, sha) = published();
    to_https(&mut world, &sha);

    world
        .install_env(&[("POSTBIN_RETRIES", "2")])
        .assert_exit(exit::NETWORK)
        .assert_stderr_has(&["TLS", "POSTBIN_CA_FILE", "NODE_EXTRA_CA_CERTS"]);
    // A certificate problem is not retried: it would fail the same way.
    world.assert_untouched();
}

#[test]
fn the_ca_is_accepted_from_every_place_it_can_be_named() {
    let (mut world, sha) = published();
    let ca = to_https(&mut world, &sha);
    let ca = path_str(&ca);
    let project = world.project_with_npmrc(&format!("cafile={ca}\n"));
    let project = path_str(&project);

    let ways: [&[(&str, &str)]; 5] = [
        &[("POSTBIN_CA_FILE", &ca)],
        &[("NODE_EXTRA_CA_CERTS", &ca)],
        &[("SSL_CERT_FILE", &ca)],
        &[("npm_config_cafile", &ca)],
        &[("INIT_CWD", &project)],
    ];
    for env in ways {
        let _ = std::fs::remove_dir_all(world.cache());
        let _ = std::fs::remove_dir_all(world.pkg().join(".postbin"));
        world.fixture.clear_requests();
        let run = world.install_env(env);
        assert_eq!(run.code, Some(0), "{env:?}: {}", run.stderr);
        assert_runs(&world.placed("hello"));
        assert_eq!(
            hits(&world.requests(), ASSET),
            [(Host::Main, 302), (Host::Objects, 200)],
            "{env:?}"
        );
    }
}

#[test]
fn an_inline_ca_in_npmrc_is_accepted() {
    let (mut world, sha) = published();
    to_https(&mut world, &sha);
    let project = world.base().join("project");
    std::fs::create_dir_all(&project).unwrap();
    // npm writes a multi-line `ca` with `\n` escapes.
    let pem = world.fixture.ca_pem().unwrap().trim().replace('\n', "\\n");
    std::fs::write(project.join(".npmrc"), format!("ca=\"{pem}\"\n")).unwrap();

    world.assert_installs(&[("INIT_CWD", &path_str(&project))]);
}

#[test]
fn a_ca_file_that_is_not_there_exits_3_and_is_named_in_the_error() {
    let (mut world, sha) = published();
    to_https(&mut world, &sha);
    let missing = world.base().join("no-such-ca.pem");

    world
        .install_env(&[("NODE_EXTRA_CA_CERTS", &path_str(&missing))])
        .assert_exit(exit::CONFIG)
        .assert_stderr_has(&["no-such-ca.pem", "NODE_EXTRA_CA_CERTS"]);
}

/// With several mirrors every source fails the same way; the exit code
/// still says "configuration", not "network".
#[test]
fn a_ca_file_that_is_not_there_exits_3_with_several_mirrors_too() {
    let (mut world, sha) = published();
    to_https(&mut world, &sha);
    let missing = world.base().join("no-such-ca.pem");
    let base = world.fixture.base_url();
    let mirrors = format!("{base},{base}");

    world
        .install_env(&[
            ("NODE_EXTRA_CA_CERTS", &path_str(&missing)),
            ("POSTBIN_MIRROR", &mirrors),
        ])
        .assert_exit(exit::CONFIG)
        .assert_stderr_has(&["no-such-ca.pem"]);
}

#[test]
fn strict_ssl_false_works_with_a_warning_and_still_checks_the_hash() {
    let (mut world, sha) = published();
    to_https(&mut world, &sha);
    let project = world.project_with_npmrc("strict-ssl=false\n");
    let env = [("INIT_CWD", path_str(&project))];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    world.install_env(&env).assert_ok().assert_stderr_has(&[
        "warning",
        "verification is OFF",
        "strict-ssl=false",
    ]);
    assert_runs(&world.placed("hello"));

    // Unverified TLS, but the pinned hash still decides.
    let _ = std::fs::remove_dir_all(world.cache());
    let _ = std::fs::remove_dir_all(world.pkg().join(".postbin"));
    world.fault_asset(Fault::WrongBytes, None);
    world
        .install_env(&env)
        .assert_exit(exit::INTEGRITY)
        .assert_stderr_has(&["SHA-256 mismatch", "verification is OFF"]);
    world.assert_nothing_installed();
}
