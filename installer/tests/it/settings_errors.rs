//! Consumer settings with a value that cannot be used: never replaced by a
//! default behind the user's back. Install stops with exit 3 naming the
//! setting and where it came from, before any request; `doctor` lists every
//! such setting and still reports the rest.

use crate::archives::flat_tar;
use crate::net_support::to_https;
use crate::support::*;

#[test]
fn each_unusable_value_is_exit_3_naming_the_variable_before_any_request() {
    for (name, value) in [
        ("POSTBIN_RETRIES", "abc"),
        ("POSTBIN_RETRIES", "-1"),
        ("POSTBIN_STALL_TIMEOUT", "0"),
        ("POSTBIN_STALL_TIMEOUT", "soon"),
        ("POSTBIN_CONNECT_TIMEOUT", "abc"),
        ("POSTBIN_CONNECT_TIMEOUT", "0"),
        ("POSTBIN_MAX_UNPACKED_SIZE", "1X"),
        ("POSTBIN_MAX_UNPACKED_SIZE", "0"),
        ("POSTBIN_MIRROR", "not-a-url"),
        ("HELLO_MIRROR", "ftp://mirror.corp"),
    ] {
        let (world, _) = published();
        let run = world.install_env(&[(name, value)]);
        run.assert_exit(exit::CONFIG)
            .assert_stderr_has(&[&format!("{name} is `{value}`")]);
        if name.ends_with("MIRROR") {
            assert_eq!(
                run.stderr.matches(value).count(),
                1,
                "{name}={value}: said once\n{}",
                run.stderr
            );
        }
        assert!(
            world.requests().is_empty(),
            "{name}: {:#?}",
            world.requests()
        );
        world.assert_nothing_installed();
    }
}

#[test]
fn a_bad_mirror_in_npmrc_names_the_key_and_the_file() {
    let (world, _) = published();
    let project = world.project_with_npmrc("postbin-mirror=not-a-url\n");
    let npmrc = path_str(&project.join(".npmrc"));
    world
        .install_env(&[("INIT_CWD", &path_str(&project))])
        .assert_exit(exit::CONFIG)
        .assert_stderr_has(&[&format!("`postbin-mirror` in {npmrc} is `not-a-url`")]);
    assert!(world.requests().is_empty());
}

#[test]
fn sizes_take_binary_units() {
    let world = World::new();
    let bytes = flat_tar().file("zeros", 0o644, &vec![0u8; 64 << 10]).gz();
    let sha = world.publish(&format!("hello-{TARGET}.tar.gz"), &bytes);
    world.package(world.section("tar.gz", &sha));
    // 16K is 16384 bytes: the 64 KiB file does not fit.
    world
        .install_env(&[("POSTBIN_MAX_UNPACKED_SIZE", "16K")])
        .assert_exit(exit::ARCHIVE)
        .assert_stderr_has(&["POSTBIN_MAX_UNPACKED_SIZE"]);
    world.assert_installs(&[("POSTBIN_MAX_UNPACKED_SIZE", "1GiB")]);
}

#[test]
fn doctor_flags_every_unusable_setting_and_reports_the_rest() {
    let (world, _) = published();
    let pkg = path_str(&world.pkg());
    let run = world.postbin_env(
        &["doctor", "--package", &pkg],
        &[
            ("POSTBIN_RETRIES", "abc"),
            ("POSTBIN_STALL_TIMEOUT", "0"),
            ("POSTBIN_MIRROR", "not-a-url"),
            // The package offers TARGET only; the installer under test may
            // run elsewhere (qemu), and "no build for this host" is not
            // what this test is about.
            ("POSTBIN_TARGET", TARGET),
        ],
    );
    run.assert_exit(exit::CONFIG);
    for needle in [
        "problem: POSTBIN_MIRROR is `not-a-url`",
        "problem: POSTBIN_RETRIES is `abc`",
        "problem: POSTBIN_STALL_TIMEOUT is `0`",
        "target: x86_64",
        "cache dir:",
    ] {
        assert!(run.stdout.contains(needle), "{needle}:\n{}", run.stdout);
    }
    let clean = world.postbin_env(
        &["doctor", "--package", &pkg],
        &[("POSTBIN_TARGET", TARGET)],
    );
    clean.assert_ok();
    clean.assert_stdout_lacks(&["problem:"]);
}

#[test]
fn a_ca_file_with_no_usable_certificate_is_exit_3() {
    let (mut world, sha) = published();
    to_https(&mut world, &sha);
    let not_pem = world.base().join("not-pem.pem");
    std::fs::write(&not_pem, "hello, I am no certificate\n").unwrap();
    world
        .install_env(&[("POSTBIN_CA_FILE", &path_str(&not_pem))])
        .assert_exit(exit::CONFIG)
        .assert_stderr_has(&["not-pem.pem", "POSTBIN_CA_FILE"]);

    let project = world.project_with_npmrc("ca=\"not a certificate\"\n");
    world
        .install_env(&[("INIT_CWD", &path_str(&project))])
        .assert_exit(exit::CONFIG)
        .assert_stderr_has(&["`ca`"]);
}

/// Needs the net/tls.rs change that keeps only PEM blocks that parse as a
/// certificate (`parse_certs`); until then this installs nothing but
/// exits 5 (TLS UnknownIssuer) instead of 3.
#[test]
fn a_ca_file_whose_pem_block_is_no_certificate_is_exit_3() {
    let (mut world, sha) = published();
    to_https(&mut world, &sha);
    // PEM armour around bytes that are no certificate.
    let bad_der = world.base().join("bad-der.pem");
    std::fs::write(
        &bad_der,
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    world.assert_install_fails(
        &[("POSTBIN_CA_FILE", &path_str(&bad_der))],
        exit::CONFIG,
        &["bad-der.pem", "POSTBIN_CA_FILE"],
    );
}

/// `file://` is for mirrors the user sets; a publisher's URL that names a
/// local file is refused, whichever field holds it.
#[test]
fn a_publisher_file_url_is_refused_naming_the_field() {
    let world = World::new();
    let sha = world.publish(&format!("hello-{TARGET}.tar.gz"), &flat_tar().gz());
    let local = format!(
        "file://{}/hello-{{target}}.{{format}}",
        path_str(&world.root().join(RELEASE_DIR))
    );
    world.package(serde_json::json!({
        "url": local,
        "targets": { TARGET: { "sha256": sha } }
    }));
    world.assert_install_fails(&[], exit::CONFIG, &["`postbin.url`", "file://"]);

    world.package(serde_json::json!({
        "url": world.url_template(),
        "targets": { TARGET: { "sha256": sha, "url": local } }
    }));
    world.assert_install_fails(
        &[],
        exit::CONFIG,
        &[&format!("`postbin.targets.{TARGET}.url`")],
    );

    // The same directory as a consumer's mirror is fine.
    world.package(world.section("tar.gz", &sha));
    let mirror = format!("file://{}", path_str(&world.root()));
    world
        .install_env(&[("POSTBIN_MIRROR", &mirror), ("POSTBIN_OFFLINE", "1")])
        .assert_ok();
}
