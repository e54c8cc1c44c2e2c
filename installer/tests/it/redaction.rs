//! A mirror's `user:password@` never reaches any output: every command
//! (install, pin, doctor, prefill) run against a mirror with credentials that
//! fails in each way the fixture can fail (404, a reset mid-body, a missing
//! checksums file). And the advice for a failure is given once, however many
//! mirrors and retries failed alike, naming the fix for a mirror rather than
//! a proxy.

use crate::net_servers::free_port;
use crate::net_support::*;
use crate::support::*;
use server_fixture::Fault;

const SECRET: &str = "s3cret";

/// `http://user:s3cret@127.0.0.1:PORT` + `path` for the world's fixture.
fn mirror_with_credentials(world: &World, path: &str) -> String {
    let base = world.fixture.base_url();
    let rest = base.strip_prefix("http://").expect("a plain-HTTP fixture");
    format!("http://user:{SECRET}@{rest}{path}")
}

/// Runs install, pin, doctor --check and prefill with `env`; asserts none
/// printed the secret, and returns the runs for further checks.
#[track_caller]
fn every_command(world: &World, env: &[(&str, &str)], pin_args: &[&str]) -> Vec<(String, Run)> {
    let pkg = path_str(&world.pkg());
    let mut env = env.to_vec();
    env.push(("POSTBIN_TARGET", TARGET));
    let mut pin = vec!["pin", "--package", pkg.as_str()];
    pin.extend_from_slice(pin_args);
    let runs = vec![
        ("install".to_string(), world.install_env(&env)),
        ("pin".to_string(), world.postbin_env(&pin, &env)),
        (
            "doctor".to_string(),
            world.postbin_env(&["doctor", "--package", &pkg, "--check"], &env),
        ),
        (
            "prefill".to_string(),
            world.postbin_env(&["prefill", &pkg, "--targets", TARGET], &env),
        ),
    ];
    for (name, run) in &runs {
        assert!(
            run.code != Some(0) || name == "doctor",
            "{name} should fail against a failing mirror:\n{}",
            run.stderr
        );
        assert!(
            !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
            "{name} printed the mirror's password:\n--- stdout:\n{}\n--- stderr:\n{}",
            run.stdout,
            run.stderr
        );
        // The mirror is still named, redacted.
        assert!(
            run.stdout.contains("***@127.0.0.1") || run.stderr.contains("***@127.0.0.1"),
            "{name} does not name the (redacted) mirror:\n--- stdout:\n{}\n--- stderr:\n{}",
            run.stdout,
            run.stderr
        );
    }
    runs
}

#[test]
fn a_mirror_answering_404_never_shows_its_password() {
    let (world, _) = published();
    let mirror = mirror_with_credentials(&world, "/no-such-mirror");
    let runs = every_command(
        &world,
        &[("POSTBIN_MIRROR", &mirror), ("POSTBIN_LOG", "debug")],
        &["--download"],
    );
    runs[0].1.assert_exit(5);
}

#[test]
fn a_mirror_resetting_mid_body_never_shows_its_password() {
    let (world, _) = published_with(&big_archive());
    world.fault_asset(
        Fault::ResetMidBody {
            after_bytes: 100_000,
        },
        None,
    );
    let mirror = mirror_with_credentials(&world, "");
    let runs = every_command(
        &world,
        &[
            ("POSTBIN_MIRROR", &mirror),
            ("POSTBIN_RETRIES", "1"),
            ("POSTBIN_LOG", "debug"),
        ],
        &["--download"],
    );
    runs[0].1.assert_exit(5);
}

#[test]
fn a_missing_checksums_file_at_a_mirror_never_shows_its_password() {
    let world = World::new();
    world.publish(ASSET, &flat_tar_gz());
    world.package(world.unpinned_section(true));
    let mirror = mirror_with_credentials(&world, "");
    let sums = format!("{mirror}/{RELEASE_DIR}/SHA256SUMS");
    let runs = every_command(
        &world,
        &[("POSTBIN_MIRROR", &mirror), ("POSTBIN_LOG", "debug")],
        &["--checksums", &sums],
    );
    let install = &runs[0].1;
    install.assert_exit(6);
    install.assert_stderr_has(&["cannot fetch the checksums file", "http://***@127.0.0.1"]);
}

fn flat_tar_gz() -> Vec<u8> {
    crate::archives::flat_tar().gz()
}

/// Asserts the install failed with exit 5 after three attempts and gave
/// the advice `hint` once.
#[track_caller]
fn assert_three_attempts_and_one(run: &Run, hint: &str) {
    run.assert_exit(5);
    assert!(
        run.stderr.contains("download failed after 3 attempts"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.matches(hint).count(), 1, "{}", run.stderr);
}

/// Two dead mirrors: the first is left at its refused connection (another
/// source remains), the last is retried: three failed attempts, one hint,
/// and the hint is about the mirror, not a proxy.
#[test]
fn the_advice_for_dead_mirrors_is_given_once_and_names_the_mirror() {
    let (world, _) = published();
    let a = format!("http://user:{SECRET}@127.0.0.1:{}", free_port());
    let b = format!("http://127.0.0.1:{}", free_port());
    let run = world.install_env(&[
        ("POSTBIN_MIRROR", &format!("{a},{b}")),
        ("POSTBIN_RETRIES", "1"),
    ]);
    assert_three_attempts_and_one(&run, "is up and reachable");
    run.assert_stderr_lacks(&["HTTPS_PROXY"]);
    assert_not_printed(&run, SECRET);
}

/// The origin unreachable and retried: the firewall hint, once.
#[test]
fn the_firewall_hint_is_given_once_for_a_retried_origin() {
    let (world, sha) = published();
    let mut section = world.section("tar.gz", &sha);
    section["url"] = format!(
        "http://127.0.0.1:{}/acme/hello/releases/download/v{{version}}/hello-{{target}}.{{format}}",
        free_port()
    )
    .into();
    world.package(section);
    let run = world.install_env(&[("POSTBIN_RETRIES", "2")]);
    assert_three_attempts_and_one(&run, "HTTPS_PROXY");
}
