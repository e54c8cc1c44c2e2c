//! A real executable of the installer's own platform, installed and run:
//! with no `--target`, the installer must detect its host and pick that
//! platform's archive out of several. These tests run as they are for the
//! host installer, and scripts/test runs them again for the aarch64 Linux
//! installer under qemu-user and the Windows x64 installer under wine
//! (`POSTBIN_TEST_INSTALLER`, `POSTBIN_TEST_RUNNER`; see support.rs).
//!
//! The tool is the installer under test itself (`postbin --version`): the
//! one executable every run is sure to have for its platform.

use crate::archives::{Tar, Zip};
use crate::cache_support::*;
use crate::support::*;
use serde_json::{Value, json};
use server_fixture::Fault;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The archives offered, one per platform; only the host's holds the tool.
const TARGETS: [&str; 3] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-pc-windows-msvc",
];

/// The target the installer under test must pick for its own host.
fn host_target() -> &'static str {
    if foreign_windows() {
        "x86_64-pc-windows-msvc"
    } else if std::env::var("POSTBIN_TEST_RUNNER").is_ok_and(|r| r.contains("aarch64")) {
        "aarch64-unknown-linux-musl"
    } else {
        "x86_64-unknown-linux-musl"
    }
}

fn exe(target: &str) -> &'static str {
    if target.contains("-windows") {
        ".exe"
    } else {
        ""
    }
}

/// The installer under test, as bytes: the tool the archives carry.
fn tool_bytes() -> Vec<u8> {
    let path: PathBuf = std::env::var_os("POSTBIN_TEST_INSTALLER")
        .map(PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_postbin").into());
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Publishes one archive per target in `format` (the host's holds the real
/// tool, the others a decoy that must never be chosen) and writes the
/// package. Returns the host archive's asset name and SHA-256.
fn publish_all(world: &World, format: &str) -> (String, String) {
    let tool = tool_bytes();
    let mut targets = serde_json::Map::new();
    let mut host = None;
    for target in TARGETS {
        let name = format!("tool{}", exe(target));
        let bytes: &[u8] = if target == host_target() {
            &tool
        } else {
            b"decoy: the wrong platform's archive was chosen\n"
        };
        let archive = match format {
            "zip" => Zip::new().file(&name, 0o755, bytes).finish(),
            _ => Tar::new().file(&name, 0o755, bytes).gz(),
        };
        let asset = format!("hello-{target}.{format}");
        let sha = world.publish(&asset, &archive);
        targets.insert(target.into(), json!({ "sha256": sha }));
        if target == host_target() {
            host = Some((asset, sha));
        }
    }
    world.package(json!({
        "url": world.url_template(),
        "format": format,
        "bin": { "hello": "tool{exe}" },
        "targets": Value::Object(targets),
    }));
    host.expect("the host target is offered")
}

/// `postbin install --package PKG`, host detection included.
fn install(world: &World, pkg: &Path) -> Run {
    world.postbin(&["install", "--package", &path_str(pkg)])
}

/// Runs the placed tool (through the runner) and checks it is the installer.
#[track_caller]
fn assert_tool_runs(pkg: &Path) {
    let file = placed(pkg, &format!("hello{}", exe(host_target())));
    assert!(file.is_file(), "{} was not placed", file.display());
    assert_eq!(std::fs::read(&file).unwrap(), tool_bytes(), "placed bytes");
    let out = runnable(&file)
        .arg("--version")
        .envs(runner_env())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", file.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("postbin "),
        "{} --version: {:?}\n{stdout}\n{}",
        file.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn downloads_of(world: &World, asset: &str) -> usize {
    downloads(world, asset)
}

#[test]
fn the_host_archive_is_picked_installed_and_runs_tar_gz() {
    let world = World::new();
    let (asset, _) = publish_all(&world, "tar.gz");
    install(&world, &world.pkg()).assert_ok();
    assert_tool_runs(&world.pkg());
    assert_eq!(downloads_of(&world, &asset), 1);
    for target in TARGETS.iter().filter(|t| **t != host_target()) {
        assert_eq!(downloads_of(&world, &format!("hello-{target}.tar.gz")), 0);
    }
}

#[test]
fn the_host_archive_is_picked_installed_and_runs_zip() {
    let world = World::new();
    publish_all(&world, "zip");
    install(&world, &world.pkg()).assert_ok();
    assert_tool_runs(&world.pkg());
}

#[test]
fn a_second_package_is_served_from_the_cache() {
    let world = World::new();
    let (asset, _) = publish_all(&world, "tar.gz");
    install(&world, &world.pkg()).assert_ok();
    let second = copy_package(&world, "second");
    install(&world, &second).assert_ok();
    assert_tool_runs(&second);
    assert_eq!(downloads_of(&world, &asset), 1, "the cache hit downloaded");
}

#[test]
fn a_wrong_hash_installs_nothing() {
    let world = World::new();
    let (asset, _) = publish_all(&world, "tar.gz");
    // Serve other bytes than the pinned ones.
    world.publish(&asset, &Tar::new().file("tool", 0o755, b"tampered").gz());
    install(&world, &world.pkg())
        .assert_exit(exit::INTEGRITY)
        .assert_stderr_has(&["SHA-256"]);
    world.assert_nothing_installed();
}

#[test]
fn four_concurrent_installs_download_once() {
    let world = World::new();
    let (asset, _) = publish_all(&world, "tar.gz");
    // Slow enough (about two seconds) that all four are running while the
    // bytes arrive, whatever the tool's size.
    world.fixture.set_fault(
        &World::asset_path(&asset),
        Fault::Slow {
            bytes_per_sec: (tool_bytes().len() as u64 / 2).max(64 << 10),
        },
        None,
    );
    let pkgs: Vec<_> = (0..4)
        .map(|i| copy_package(&world, &format!("pkg-{i}")))
        .collect();
    let mut children: Vec<_> = pkgs
        .iter()
        .map(|p| spawn_postbin(&world, &["install", "--package", &path_str(p)], &[]))
        .collect();
    for child in &mut children {
        wait_bounded(child, Duration::from_secs(180)).assert_ok();
    }
    for p in &pkgs {
        assert_tool_runs(p);
    }
    assert_eq!(downloads_of(&world, &asset), 1, "{:#?}", world.requests());
}

#[test]
fn prefill_then_import_then_install_offline() {
    let world = World::new();
    let (asset, sha) = publish_all(&world, "tar.gz");
    let out = world.base().join("prefilled");
    world
        .postbin(&["prefill", &path_str(&world.pkg()), "--out", &path_str(&out)])
        .assert_ok();
    assert_eq!(downloads_of(&world, &asset), 1);

    // Another machine: an empty cache, no network, the prefilled dir imported.
    let cache = world.base().join("carried-cache");
    let cache_env = [
        ("POSTBIN_CACHE_DIR", path_str(&cache)),
        ("POSTBIN_OFFLINE", "1".to_string()),
    ];
    let env: Vec<(&str, &str)> = cache_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    world
        .postbin_env(&["cache", "import", &path_str(&out)], &env)
        .assert_ok();
    let pkg = copy_package(&world, "offline");
    world
        .postbin_env(&["install", "--package", &path_str(&pkg)], &env)
        .assert_ok();
    assert_tool_runs(&pkg);
    assert_eq!(
        downloads_of(&world, &asset),
        1,
        "the offline install downloaded"
    );
    assert!(cache.join("v1/archives").join(&sha).is_file());
}
