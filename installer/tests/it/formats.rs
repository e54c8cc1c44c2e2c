//! Every archive format a release may use, installed and run.

use crate::archives::{Zip, flat_tar, xz, zstd};
use crate::support::*;

/// Publishes `bytes` as `hello-<target>.<format>`, installs, runs the result.
fn install_format(format: &str, bytes: &[u8]) {
    let world = World::new();
    let sha = world.publish(&format!("hello-{TARGET}.{format}"), bytes);
    world.package(world.section(format, &sha));
    world.assert_installs(&[]);
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
