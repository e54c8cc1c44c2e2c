//! Picking the host's target, through the real binary with no `--target`:
//! a `-gnu` build whose declared minimum glibc is above this host's gives
//! way to the `-musl` one; with no `-musl` one the error names both
//! versions; a bad `glibc` value is a configuration error; a forced target
//! is taken as is; `doctor` shows what the choice was based on.
//!
//! Only on Linux x86_64 and aarch64, where the triples are known. Tests
//! that need a glibc host with the standard loader (not Alpine, not NixOS)
//! say so and return early elsewhere.

#![cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]

use crate::archives::nested_tar;
use crate::support::*;
use postbin::platform::{GlibcVersion, Host, Libc};
use serde_json::{Value, json};

fn gnu() -> String {
    format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
}

fn musl() -> String {
    format!("{}-unknown-linux-musl", std::env::consts::ARCH)
}

fn asset(target: &str) -> String {
    format!("hello-{target}.tar.gz")
}

/// These tests check what the installer detects on the machine the tests
/// run on; an installer run through an emulator (POSTBIN_TEST_RUNNER: the
/// aarch64 build under qemu) sees another host, so they do not apply there
/// (native_tool.rs covers detection under emulation).
fn detects_this_host() -> bool {
    let native = std::env::var_os("POSTBIN_TEST_RUNNER").is_none();
    if !native {
        skipped("the installer under test runs under an emulator");
    }
    native
}

/// Says on stderr that the running test is skipped, and why (the test
/// harness names each test's thread after the test).
fn skipped(why: &str) {
    let test = std::thread::current().name().unwrap_or("").to_string();
    eprintln!("{test}: skipped, {why}");
}

/// The host's glibc version, if the installer under test runs natively on
/// a glibc host whose `-gnu` builds can run (the library reads it as the
/// binary does); else `None`, and the caller skips.
fn glibc_host() -> Option<GlibcVersion> {
    if !detects_this_host() {
        return None;
    }
    let host = Host::detect();
    let usable = host.libc == Some(Libc::Gnu) && !host.gnu_loader_missing;
    match host.glibc {
        Some(version) if usable => Some(version),
        _ => {
            skipped(&format!(
                "this host is not glibc with the standard loader: {host:?}"
            ));
            None
        }
    }
}

/// On a glibc host (else `None`, skipped): its glibc version, and a world
/// offering only a `-gnu` build that needs glibc 99.0.
fn only_a_gnu_build_needing_glibc_99() -> Option<(GlibcVersion, World)> {
    let has = glibc_host()?;
    let world = World::new();
    offer(&world, &[(&gnu(), Some("99.0"))]);
    Some((has, world))
}

/// Publishes a nested archive for each `(target, glibc minimum)` and writes
/// the package offering them.
fn offer(world: &World, targets: &[(&str, Option<&str>)]) {
    let mut entries = serde_json::Map::new();
    for (target, glibc) in targets {
        let sha = world.publish(&asset(target), &nested_tar(target).gz());
        let mut entry = json!({ "sha256": sha });
        if let Some(minimum) = glibc {
            entry["glibc"] = Value::from(*minimum);
        }
        entries.insert(target.to_string(), entry);
    }
    world.package(json!({
        "url": world.url_template(),
        "bin": { "hello": "hello-{target}/hello" },
        "targets": entries,
    }));
}

/// `postbin install --package pkg`, the target left to detection.
fn install_detected(world: &World) -> Run {
    let pkg = path_str(&world.pkg());
    world.postbin(&["install", "--package", &pkg])
}

/// The target the receipt records.
/// A package offering a gnu build that needs glibc 99.0 (no host has it)
/// and a musl build.
fn gnu_needing_glibc_99_and_musl() -> World {
    let world = World::new();
    offer(&world, &[(&gnu(), Some("99.0")), (&musl(), None)]);
    world
}

fn installed_target(world: &World) -> String {
    postbin::link::read_receipt(&world.pkg())
        .expect("a receipt")
        .target
}

#[test]
fn a_gnu_build_needing_a_newer_glibc_gives_way_to_the_musl_build() {
    if !detects_this_host() {
        return;
    }
    let world = gnu_needing_glibc_99_and_musl();

    install_detected(&world).assert_ok();
    assert_eq!(installed_target(&world), musl());
    assert_runs(&world.placed("hello"));
    let requests = world.requests();
    assert!(
        !hits(&requests, &asset(&musl())).is_empty(),
        "{requests:#?}"
    );
    assert!(hits(&requests, &asset(&gnu())).is_empty(), "{requests:#?}");
}

#[test]
fn a_gnu_build_whose_minimum_this_host_meets_is_taken() {
    let Some(_) = glibc_host() else {
        return;
    };
    let world = World::new();
    // 2.17 is older than any glibc a Rust toolchain still supports.
    offer(&world, &[(&gnu(), Some("2.17")), (&musl(), None)]);

    install_detected(&world).assert_ok();
    assert_eq!(installed_target(&world), gnu());
    assert!(hits(&world.requests(), &asset(&musl())).is_empty());
}

#[test]
fn only_a_gnu_build_needing_a_newer_glibc_exits_4_naming_both_versions() {
    let Some((has, world)) = only_a_gnu_build_needing_glibc_99() else {
        return;
    };

    install_detected(&world)
        .assert_exit(exit::UNSUPPORTED_PLATFORM)
        .assert_stderr_has(&[
            "no prebuilt binary for this platform",
            &format!("{} needs glibc 99.0, this host has {has}", gnu()),
            "the publisher offers no -musl build",
            "HELLO_BINARY_PATH",
        ]);
    world.assert_untouched();
}

#[test]
fn a_bad_glibc_value_exits_3_naming_the_field() {
    if !detects_this_host() {
        return;
    }
    let cases = [
        (gnu(), json!("2.28.1"), "MAJOR.MINOR"),
        (gnu(), json!(2.28), "quote it"),
        (musl(), json!("2.28"), "only to -gnu Linux targets"),
    ];
    for (target, value, hint) in cases {
        let world = World::new();
        let sha = sha256(b"x");
        world.package(json!({
            "url": world.url_template(),
            "targets": { &target: { "sha256": sha, "glibc": value } }
        }));

        install_detected(&world)
            .assert_exit(exit::CONFIG)
            .assert_stderr_has(&[&format!("`postbin.targets.{target}.glibc`"), hint]);
        world.assert_untouched();
    }
}

#[test]
fn a_forced_gnu_target_is_installed_whatever_its_declared_minimum() {
    if !detects_this_host() {
        return;
    }
    let world = gnu_needing_glibc_99_and_musl();

    world
        .postbin_env(
            &["install", "--package", &path_str(&world.pkg())],
            &[("POSTBIN_TARGET", &gnu())],
        )
        .assert_ok();
    assert_eq!(installed_target(&world), gnu());
    assert_runs(&world.placed("hello"));
}

#[test]
fn doctor_prints_the_glibc_version_and_why_the_gnu_build_was_passed_over() {
    let Some((has, world)) = only_a_gnu_build_needing_glibc_99() else {
        return;
    };

    let pkg = path_str(&world.pkg());
    let run = world.postbin(&["doctor", "--package", &pkg]);
    run.assert_exit(exit::UNSUPPORTED_PLATFORM);
    let libc_line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("libc: "))
        .unwrap_or_else(|| panic!("no libc line:\n{}", run.stdout));
    assert!(
        libc_line.starts_with(&format!("libc: glibc {has} (read from ")),
        "{libc_line}"
    );
    assert!(libc_line.ends_with(": present"), "{libc_line}");
    assert!(
        run.stdout
            .contains(&format!("{} needs glibc 99.0, this host has {has}", gnu())),
        "{}",
        run.stdout
    );
}
