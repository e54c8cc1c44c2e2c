//! Every archive format a release may use, installed and run.

use crate::archives::{Zip, flat_tar, xz, zstd};
use crate::support::*;

const WRITTEN_WHILE_UNPACKING: &str = "the copy written while unpacking";

/// Publishes `bytes` as `hello-<target>.<format>`, installs, runs the result.
/// The install that unpacks writes the package's copy as it goes; one that
/// finds the tree in the cache copies it out (and re-hashes it).
fn install_format(format: &str, bytes: &[u8]) {
    let world = World::new();
    let sha = world.publish(&format!("hello-{TARGET}.{format}"), bytes);
    world.package(world.section(format, &sha));
    let debug = [("POSTBIN_LOG", "debug")];
    let placed = world.placed("hello");
    world
        .install_env(&debug)
        .assert_ok()
        .assert_stderr_has(&[WRITTEN_WHILE_UNPACKING]);
    assert_runs(&placed);
    assert_no_temp_files(&world.pkg());

    std::fs::remove_dir_all(world.pkg().join(".postbin")).unwrap();
    let before = world.requests().len();
    world
        .install_env(&debug)
        .assert_ok()
        .assert_stderr_lacks(&[WRITTEN_WHILE_UNPACKING]);
    world.assert_no_requests_since(before);
    assert_runs(&placed);
    assert_no_temp_files(&world.pkg());
}

#[test]
fn tar_gz_installs_and_runs() {
    install_format("tar.gz", &flat_tar().gz());
}

#[test]
fn zip_installs_and_runs() {
    let zip = Zip::new()
        .file("hello", 0o755, SCRIPT)
        .file("README.md", 0o644, b"# hello\n")
        .finish();
    install_format("zip", &zip);
}

#[test]
fn tar_xz_installs_and_runs() {
    install_format("tar.xz", &xz(&flat_tar().finish()));
}

#[test]
fn tar_zst_installs_and_runs() {
    install_format("tar.zst", &zstd(&flat_tar().finish()));
}

#[test]
fn raw_asset_is_the_executable() {
    install_format("raw", SCRIPT);
}
