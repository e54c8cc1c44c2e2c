//! Packages whose node_modules came from elsewhere: copied from another
//! platform (Docker `COPY` from a Mac, a tarball of node_modules), with the
//! `.postbin` executables and even the speed path's `.bin` entry built for a
//! host this one cannot run; and executables placed while other processes
//! already try to run them.

use crate::archives::flat_tar;
use crate::support::*;
use serde_json::json;
use std::fs;
use std::path::{Path, PathBuf};

const FOREIGN: &str = "aarch64-apple-darwin";
/// A Mach-O header and some bytes: "exec format error" on Linux.
const FOREIGN_BYTES: &[u8] = b"\xcf\xfa\xed\xfe\x0c\x00\x00\x01not for this host\n";
/// What npm sets while it runs a dependency's postinstall (`npm rebuild` too).
const SPEED_PATH: &[(&str, &str)] = &[
    ("npm_lifecycle_event", "postinstall"),
    (
        "npm_config_user_agent",
        "npm/11.1.0 node/v22.12.0 linux x64",
    ),
];

/// A world whose package offers the script for both Linux musl targets (so
/// the host picks one, on x86_64 or aarch64 alike), with a JS launcher at
/// `bin/hello` as `postbin init` writes it.
fn published_for_both_musl_targets() -> World {
    let world = World::new();
    let archive = flat_tar().gz();
    let mut targets = serde_json::Map::new();
    for target in ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"] {
        let sha = world.publish(&format!("hello-{target}.tar.gz"), &archive);
        targets.insert(target.into(), json!({ "sha256": sha }));
    }
    world.package(json!({
        "url": world.url_template(),
        "format": "tar.gz",
        "targets": targets,
    }));
    world
        .postbin(&["init", "--package", &path_str(&world.pkg())])
        .assert_ok();
    assert!(launcher(&world).exists());
    world
}

fn launcher(world: &World) -> PathBuf {
    world.pkg().join("bin").join("hello")
}

/// What a Mac left in the package: `.postbin/bin/hello` built for
/// aarch64-apple-darwin and the receipt saying so.
fn move_in_from_a_mac(world: &World) {
    let placed = world.placed("hello");
    fs::create_dir_all(placed.parent().unwrap()).unwrap();
    fs::write(&placed, FOREIGN_BYTES).unwrap();
    make_executable(&placed);
    let receipt = json!({
        "target": FOREIGN,
        "archive": "ab".repeat(32),
        "bins": [{
            "name": "hello",
            "path": ".postbin/bin/hello",
            "size": FOREIGN_BYTES.len(),
            "sha256": sha256(FOREIGN_BYTES),
        }],
    });
    fs::write(
        world.pkg().join(".postbin").join("receipt.json"),
        receipt.to_string(),
    )
    .unwrap();
}

fn make_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn receipt_target(world: &World) -> String {
    let text = fs::read_to_string(world.pkg().join(".postbin").join("receipt.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["target"].as_str().unwrap().to_string()
}

fn install(world: &World, env: &[(&str, &str)]) -> Run {
    let pkg = path_str(&world.pkg());
    world.postbin_env(&["install", "--package", &pkg], env)
}

/// The speed path and running the script need a Unix host, and the host
/// must pick a Linux musl target (not a Windows installer under wine).
fn skip() -> bool {
    !cfg!(target_os = "linux") || foreign_windows()
}

#[test]
fn a_package_moved_from_another_platform_is_installed_again_for_this_host() {
    if skip() {
        return;
    }
    let world = published_for_both_musl_targets();
    move_in_from_a_mac(&world);
    let js_launcher = fs::read(launcher(&world)).unwrap();
    install(&world, &[]).assert_ok();
    let target = receipt_target(&world);
    assert!(target.ends_with("-unknown-linux-musl"), "{target}");
    assert_runs(&world.placed("hello"));
    assert_eq!(
        fs::read(launcher(&world)).unwrap(),
        js_launcher,
        "without the speed path the JS launcher stays"
    );
}

/// `npm rebuild hello` after node_modules came from a Mac: the `.bin` entry
/// is the Mac executable itself (the speed path replaced the launcher
/// there), as a copy (Docker `COPY`, `cp -r`) or still a hard link (tar).
#[test]
fn a_foreign_executable_left_by_the_speed_path_is_replaced_by_this_hosts() {
    if skip() {
        return;
    }
    for linked in [false, true] {
        let world = published_for_both_musl_targets();
        move_in_from_a_mac(&world);
        fs::remove_file(launcher(&world)).unwrap();
        if linked {
            fs::hard_link(world.placed("hello"), launcher(&world)).unwrap();
        } else {
            fs::copy(world.placed("hello"), launcher(&world)).unwrap();
        }
        install(&world, SPEED_PATH).assert_ok();
        assert!(receipt_target(&world).ends_with("-unknown-linux-musl"));
        assert_runs(&world.placed("hello"));
        assert_runs(&launcher(&world));
        assert_eq!(
            fs::read(launcher(&world)).unwrap(),
            SCRIPT,
            "linked: {linked}"
        );
    }
}

/// A speed-path `.bin` entry whose executable no longer matches the receipt
/// (damaged on disk, or edited): the reinstall repairs both.
#[test]
fn a_damaged_executable_behind_the_speed_path_is_repaired() {
    if skip() {
        return;
    }
    let world = published_for_both_musl_targets();
    install(&world, SPEED_PATH).assert_ok();
    assert_eq!(fs::read(launcher(&world)).unwrap(), SCRIPT, "speed path");
    // Damaged through the launcher, which shares the placed file's inode.
    fs::write(launcher(&world), FOREIGN_BYTES).unwrap();
    install(&world, SPEED_PATH).assert_ok();
    assert_runs(&world.placed("hello"));
    assert_runs(&launcher(&world));
    // A second run finds everything current and replaces nothing.
    let before = fs::metadata(launcher(&world)).unwrap();
    install(&world, SPEED_PATH).assert_ok();
    let after = fs::metadata(launcher(&world)).unwrap();
    assert_eq!(before.modified().unwrap(), after.modified().unwrap());
}

/// Only what postbin wrote or placed is replaced: a publisher's own file at
/// the `bin` path that is neither the launcher nor the recorded executable
/// is kept, whatever the receipt says.
#[test]
fn a_file_postbin_did_not_write_is_never_replaced() {
    if skip() {
        return;
    }
    let world = published_for_both_musl_targets();
    move_in_from_a_mac(&world);
    let own = b"#!/bin/sh\necho the publisher's own\n";
    fs::write(launcher(&world), own).unwrap();
    install(&world, SPEED_PATH).assert_ok();
    assert_runs(&world.placed("hello"));
    assert_eq!(fs::read(launcher(&world)).unwrap(), own);
}

/// Eight tools installed at once on a cold cache while, for each, another
/// thread execs the placed file the moment it appears (what eight lazy first
/// runs do). Exec must never fail with ETXTBSY ("text file busy"): nothing
/// may hold the file open for writing once it is at its path. A race, so a
/// regression shows only sometimes here; `link::tests::nothing_holds_the_
/// file_open_for_writing_when_it_appears` checks the cause deterministically.
#[cfg(target_os = "linux")]
#[test]
fn executables_run_the_moment_they_appear_during_concurrent_installs() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const ETXTBSY: i32 = 26;
    if skip() {
        return;
    }
    let world = World::new();
    let sha = world.publish("hello-x86_64-unknown-linux-musl.tar.gz", &flat_tar().gz());
    let world = &world;
    for round in 0..3 {
        let cache = world.base().join(format!("cache-{round}"));
        let pkgs: Vec<PathBuf> = (0..8)
            .map(|i| world.base().join(format!("round-{round}-pkg-{i}")))
            .collect();
        for pkg in &pkgs {
            package(pkg, world.section("tar.gz", &sha));
        }
        let busy: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = pkgs
                .iter()
                .map(|pkg| {
                    let cache = &cache;
                    scope.spawn(move || {
                        let done = AtomicBool::new(false);
                        let placed = placed(pkg, "hello");
                        std::thread::scope(|inner| {
                            let watcher = inner.spawn(|| {
                                let mut busy = Vec::new();
                                let mut ran = false;
                                while !ran {
                                    let finished = done.load(Ordering::Acquire);
                                    match std::process::Command::new(&placed).output() {
                                        Ok(_) => ran = true,
                                        Err(e) if e.raw_os_error() == Some(ETXTBSY) => {
                                            busy.push(format!("{}: {e}", placed.display()))
                                        }
                                        Err(e) if finished => {
                                            panic!("{} does not run: {e}", placed.display())
                                        }
                                        Err(_) => std::thread::yield_now(),
                                    }
                                }
                                busy
                            });
                            let run =
                                install_in(world, pkg, &[("POSTBIN_CACHE_DIR", &path_str(cache))]);
                            done.store(true, Ordering::Release);
                            run.assert_ok();
                            watcher.join().unwrap()
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        assert!(busy.is_empty(), "round {round}: {busy:#?}");
    }
}
