//! Bad input of every kind: each fails with its own exit code, says what
//! failed and what to do, and leaves nothing cached and nothing linked.

use crate::archives::{Tar, flat_tar};
use crate::support::*;
use serde_json::json;
use server_fixture::Fault;

#[test]
fn hash_mismatch_exits_6_and_installs_nothing() {
    let world = World::new();
    world.publish(ASSET, &flat_tar().gz());
    world.package(world.section("tar.gz", &sha256(b"some other release")));

    world.assert_install_fails(
        &[],
        exit::INTEGRITY,
        &["SHA-256 mismatch", ASSET, "nothing was installed"],
    );
}

#[test]
fn wrong_bytes_from_the_server_exit_6_and_install_nothing() {
    let (world, sha) = published();
    world.fault_asset(Fault::WrongBytes, None);

    world.assert_install_fails(&[], exit::INTEGRITY, &["SHA-256 mismatch", &sha]);
}

#[test]
fn missing_pinned_hash_exits_3_and_names_postbin_pin() {
    let world = World::new();
    world.publish(ASSET, &flat_tar().gz());
    world.package(world.unpinned_section(false));

    world
        .install()
        .assert_exit(exit::CONFIG)
        .assert_stderr_line(&format!(
            "postbin: error: hello pins no sha256 for {TARGET} (`postbin.targets.{TARGET}.sha256` \
             is missing), so its download cannot be verified. Publisher: run `postbin pin` and \
             republish. User: ask the publisher, or set HELLO_BINARY_PATH to an executable you trust."
        ));
    world.assert_untouched();
}

#[test]
#[cfg_attr(
    all(target_os = "macos", target_arch = "aarch64"),
    ignore = "this host can run the only target offered"
)]
fn unsupported_platform_exits_4_listing_targets_and_the_binary_path_variable() {
    let world = World::new();
    world.package(json!({
        "url": world.url_template(),
        "targets": { "aarch64-apple-darwin": { "sha256": sha256(b"x") } }
    }));
    let pkg = path_str(&world.pkg());

    world
        .postbin(&["install", "--package", &pkg])
        .assert_exit(exit::UNSUPPORTED_PLATFORM)
        .assert_stderr_has(&[
            "no prebuilt binary for this platform",
            "aarch64-apple-darwin",
            "HELLO_BINARY_PATH",
        ]);
    world.assert_nothing_installed();
    assert!(world.requests().is_empty());
}

#[test]
fn forced_target_not_offered_exits_4_listing_targets() {
    let world = World::new();
    world.package(world.section("tar.gz", &sha256(b"x")));
    let pkg = path_str(&world.pkg());

    world
        .postbin(&[
            "install",
            "--package",
            &pkg,
            "--target",
            "riscv64gc-unknown-linux-gnu",
        ])
        .assert_exit(exit::UNSUPPORTED_PLATFORM)
        .assert_stderr_line(&format!(
            "postbin: error: hello offers no binary for the forced target \
             riscv64gc-unknown-linux-gnu (POSTBIN_TARGET or --target); it offers: {TARGET}. Unset \
             POSTBIN_TARGET to detect the host, or force one of these."
        ));
    world.assert_nothing_installed();
}

#[test]
fn invalid_json_package_exits_3() {
    let world = World::new();
    std::fs::write(world.pkg().join("package.json"), "{ \"name\": \"hello\", ").unwrap();

    world.assert_install_fails(&[], exit::CONFIG, &["package.json", "not valid JSON"]);
}

/// Installs with this postbin section; asserts exit 3 naming `field`.
fn assert_config_error(section: serde_json::Value, field: &str) {
    let world = World::new();
    world.publish(ASSET, &flat_tar().gz());
    world.package(section);
    world
        .install()
        .assert_exit(exit::CONFIG)
        .assert_stderr_has(&[&format!("`{field}`")]);
    world.assert_untouched();
}

#[test]
fn targets_as_an_array_exits_3_naming_postbin_targets() {
    assert_config_error(
        json!({ "url": "http://127.0.0.1:1/x/{target}.{format}", "targets": [] }),
        "postbin.targets",
    );
}

#[test]
fn numeric_sha256_exits_3_naming_the_field() {
    assert_config_error(
        json!({
            "url": "http://127.0.0.1:1/x/{target}.{format}",
            "targets": { TARGET: { "sha256": 5 } }
        }),
        "postbin.targets.x86_64-unknown-linux-musl.sha256",
    );
}

#[test]
fn sha256_that_is_not_hex_exits_3_naming_the_field() {
    assert_config_error(
        json!({
            "url": "http://127.0.0.1:1/x/{target}.{format}",
            "targets": { TARGET: { "sha256": "not-a-hash" } }
        }),
        "postbin.targets.x86_64-unknown-linux-musl.sha256",
    );
}

#[test]
fn unknown_format_exits_3_naming_postbin_format() {
    let world = World::new();
    world.package(json!({
        "url": world.url_template(),
        "format": "rar",
        "targets": { TARGET: { "sha256": sha256(b"x") } }
    }));
    world
        .install()
        .assert_exit(exit::CONFIG)
        .assert_stderr_line(
            "postbin: error: package.json: `postbin.format` is `rar`; use one of tar.gz, tar.xz, \
             tar.zst, zip, raw (also tgz, txz, tar.zstd, tzst, tzstd, binary)",
        );
    world.assert_nothing_installed();
}

#[test]
fn missing_asset_404_exits_5() {
    let world = World::new();
    world.package(world.section("tar.gz", &sha256(b"never published")));

    world
        .install()
        .assert_exit(exit::NETWORK)
        .assert_stderr_line(&format!(
            "postbin: error: {}{} answered 404 Not Found; the release asset does not exist (a \
             wrong `url` template?)",
            world.base_url(),
            World::asset_path(ASSET)
        ));
    world.assert_nothing_installed();
}

#[test]
fn archive_without_the_declared_bin_exits_7_listing_executables() {
    let world = World::new();
    let tar = Tar::new()
        .file("other-tool", 0o755, SCRIPT)
        .file("README.md", 0o644, b"# hello\n")
        .gz();
    let sha = world.publish(ASSET, &tar);
    world.package(world.section("tar.gz", &sha));

    world
        .install()
        .assert_exit(exit::ARCHIVE)
        .assert_stderr_line(&format!(
            "postbin: error: the {TARGET} archive of hello has no `hello`, which `postbin.bin` \
             declares; nothing was installed. Executables in the archive: other-tool. Publisher: \
             fix `postbin.bin`."
        ));
    world.assert_nothing_installed();
}

#[test]
fn missing_package_json_exits_3_and_names_the_package_flag() {
    let world = World::new();
    world.assert_install_fails(&[], exit::CONFIG, &["package.json", "--package"]);
}

#[test]
fn unknown_option_exits_2_and_points_at_help() {
    let world = World::new();
    world
        .postbin(&["install", "--frobnicate"])
        .assert_exit(exit::USAGE)
        .assert_stderr_has(&["--frobnicate", "postbin --help"]);
}

/// Each command takes only its own options: one it does not take is
/// refused (exit 2), not silently ignored.
#[test]
fn an_option_the_command_does_not_take_exits_2() {
    let world = World::new();
    for args in [
        &["cache", "list", "--package", "x"][..],
        &["prefill", "--target", "x"],
        &["doctor", "--offline"],
    ] {
        world
            .postbin(args)
            .assert_exit(exit::USAGE)
            .assert_stderr_line("Run `postbin --help` for usage.");
    }
}

/// `prefill --out` into a place that cannot be written names `--out`, not
/// the cache (whose variable would not help), and exits 8.
#[test]
fn prefill_out_that_cannot_be_written_exits_8_naming_out() {
    let (world, _) = published();
    let file = world.base().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out = file.join("mirror");

    let run = world.postbin(&["prefill", &path_str(&world.pkg()), "--out", &path_str(&out)]);
    run.assert_exit(exit::FILESYSTEM).assert_stderr_line(&format!(
        "postbin: error: cannot create {} in the --out tree; choose an --out directory you can write to",
        out.display()
    ));
    run.assert_stderr_lacks(&["POSTBIN_CACHE_DIR"]);
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

/// An unwritable cache must not block the install: the installer falls back
/// to a private temporary cache, says so, and names the variable to fix it.
#[test]
fn cache_dir_that_is_a_file_falls_back_and_names_postbin_cache_dir() {
    let (world, _) = published();
    let file = world.base().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();

    world
        .install_env(&[("POSTBIN_CACHE_DIR", &path_str(&file))])
        .assert_ok()
        .assert_stderr_has(&["cannot write to the cache", "POSTBIN_CACHE_DIR"]);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"x",
        "the blocking file is untouched"
    );
    assert_runs(&world.placed("hello"));
}

/// The design: every failure names "the one thing to try (the env var to
/// set...)". The package's prefix is known, so the variable can be named.
#[test]
fn missing_pinned_hash_names_the_package_binary_path_variable() {
    let world = World::new();
    world.package(world.unpinned_section(false));

    world
        .install()
        .assert_exit(exit::CONFIG)
        .assert_stderr_has(&["HELLO_BINARY_PATH"]);
}

/// A target name that is a path (from a damaged or hostile release
/// manifest, or written by hand) is refused wherever the package is read:
/// `check`, `plan`, `pin --download` and `install` all stop with exit 3,
/// and nothing is written where the name points.
#[test]
fn a_target_name_that_is_a_path_is_refused_everywhere() {
    let world = World::new();
    let sha = world.publish(ASSET, &flat_tar().gz());
    let climbing = "../../../OUTSIDE-THE-PACKAGE";
    world.package(json!({
        "url": world.url_template(),
        "targets": { TARGET: { "sha256": sha }, climbing: { "sha256": sha } }
    }));
    let pkg = path_str(&world.pkg());
    let line = format!(
        "names the target `{climbing}`, which is no target name (letters, digits, `-`, `_` and \
         `.` only): it would become part of a path; fix or remove it"
    );
    for args in [
        vec!["check", "--package", &pkg],
        vec!["plan", "--package", &pkg],
        vec!["pin", "--package", &pkg, "--download"],
        vec!["install", "--package", &pkg, "--target", TARGET],
    ] {
        world
            .postbin(&args)
            .assert_exit(exit::CONFIG)
            .assert_stderr_has(&["postbin.targets", &line]);
    }
    world.assert_no_escape("OUTSIDE-THE-PACKAGE");
    world.assert_nothing_installed();
}
