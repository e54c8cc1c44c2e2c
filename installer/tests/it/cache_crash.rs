//! Crash safety: installs killed with SIGKILL during the download, during
//! extraction and at a spread of moments. After every kill the cache holds
//! no published entry that is incomplete, the package holds no partial
//! executable, and the next install (whose lock the dead process held)
//! completes with the right bytes.

use crate::archives::Tar;
use crate::cache_support::*;
use crate::support::*;
use server_fixture::Fault;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// Where an install was when it was killed, from what it left on disk.
fn phase(cache: &Path, pkg: &Path) -> &'static str {
    let v1 = cache.join("v1");
    let tmp_has = |prefix: &str| {
        list(&v1.join("tmp")).iter().any(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
    };
    let tmp_has_partial = || {
        list(&v1.join("tmp")).iter().any(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".partial"))
        })
    };
    if pkg.join(".postbin/receipt.json").exists() {
        "placed"
    } else if pkg.join(".postbin/bin").exists() {
        "placing"
    } else if !list(&v1.join("trees")).is_empty() {
        "tree published"
    } else if !list(&v1.join("archives")).is_empty() {
        "archive published"
    } else if tmp_has("tree-") {
        "unpacking"
    } else if tmp_has("download-") || tmp_has_partial() {
        "downloading"
    } else {
        "starting"
    }
}

/// Bytes in the largest in-progress download temp file.
fn downloaded_so_far(cache: &Path) -> Option<u64> {
    list(&cache.join("v1/tmp"))
        .iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("download-") || n.ends_with(".partial"))
        })
        .filter_map(|p| std::fs::metadata(p).ok().map(|m| m.len()))
        .max()
}

fn kill(child: &mut Child) {
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
}

/// What every kill must leave: a consistent cache, and in the package no
/// executable at all or the complete one.
#[track_caller]
fn assert_nothing_partial(cache: &Path, pkg: &Path) {
    assert_cache_consistent(cache);
    let exe = placed(pkg, "hello");
    if exe.exists() {
        assert_eq!(std::fs::read(&exe).unwrap(), SCRIPT, "partial executable");
    }
    for f in list(&pkg.join(".postbin/bin")) {
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        assert!(
            name == "hello" || name.starts_with(".postbin-"),
            "unexpected file {name} in the package"
        );
    }
}

/// The install after a kill: must finish (the dead holder's lock is gone)
/// and place the right bytes.
#[track_caller]
fn follow_up(world: &World, cache: &Path, pkg: &Path) {
    let c = path_str(cache);
    let mut child = spawn_install(world, pkg, &[("POSTBIN_CACHE_DIR", &c)]);
    wait_bounded(&mut child, Duration::from_secs(60)).assert_ok();
    assert_eq!(std::fs::read(placed(pkg, "hello")).unwrap(), SCRIPT);
    assert_runs(&placed(pkg, "hello"));
    let (archives, trees) = assert_cache_consistent(cache);
    assert_eq!((archives, trees), (1, 1));
}

#[test]
fn sigkill_at_byte_offsets_of_the_download_never_leaves_a_partial_entry() {
    let world = World::new();
    let archive = big_tar(4 << 20, 31);
    let size = archive.len() as u64;
    publish_default(&world, &archive);
    let offsets = [0, 256 << 10, 1 << 20, 2 << 20, size * 9 / 10];
    let mut report = Vec::new();
    for (round, &offset) in offsets.iter().enumerate() {
        let cache = world.base().join(format!("cache-dl-{round}"));
        let pkg = copy_package(&world, &format!("pkg-dl-{round}"));
        world.fault_asset(
            Fault::Slow {
                bytes_per_sec: 2 << 20,
            },
            Some(1),
        );
        let c = path_str(&cache);
        let mut child = spawn_install(&world, &pkg, &[("POSTBIN_CACHE_DIR", &c)]);
        let deadline = Instant::now() + Duration::from_secs(60);
        let seen = loop {
            if let Some(n) = downloaded_so_far(&cache)
                && n >= offset
            {
                break n;
            }
            assert!(
                Instant::now() < deadline,
                "the download never reached {offset}"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "the install ended before byte {offset}"
            );
            std::thread::sleep(Duration::from_millis(2));
        };
        kill(&mut child);
        report.push(format!("{seen}/{size} bytes ({})", phase(&cache, &pkg)));
        assert_nothing_partial(&cache, &pkg);
        follow_up(&world, &cache, &pkg);
    }
    eprintln!("crash: killed during the download at {}", report.join(", "));
}

/// An archive that takes a while to unpack: many small files and a big one.
fn many_files() -> Vec<u8> {
    let mut tar = Tar::new().file("hello", 0o755, SCRIPT);
    for i in 0..400u64 {
        tar = tar.file(&format!("data/f{i:03}.bin"), 0o644, &noise(4 << 10, i));
    }
    tar.file("payload.bin", 0o644, &noise(2 << 20, 999)).gz()
}

#[test]
fn sigkill_during_extraction_and_at_a_spread_of_moments_never_leaves_a_partial_entry() {
    let (world, _) = published_with(&many_files());
    let mut report = Vec::new();
    let mut run = |label: String, wait: &dyn Fn(&Path, &mut Child) -> bool| {
        let n = report.len();
        let cache = world.base().join(format!("cache-x-{n}"));
        let pkg = copy_package(&world, &format!("pkg-x-{n}"));
        let c = path_str(&cache);
        let mut child = spawn_install(&world, &pkg, &[("POSTBIN_CACHE_DIR", &c)]);
        let alive = wait(&cache, &mut child);
        let at = phase(&cache, &pkg);
        kill(&mut child);
        report.push(format!(
            "{label}: {}",
            if alive { at } else { "already done" }
        ));
        assert_nothing_partial(&cache, &pkg);
        follow_up(&world, &cache, &pkg);
    };

    // As soon as each phase shows on disk (polled as fast as possible; the
    // short ones, between two renames, are caught when the timing allows).
    const ORDER: [&str; 7] = [
        "starting",
        "downloading",
        "unpacking",
        "archive published",
        "tree published",
        "placing",
        "placed",
    ];
    for wanted in [
        "downloading",
        "unpacking",
        "archive published",
        "tree published",
        "placing",
    ] {
        let rank = |p: &str| ORDER.iter().position(|o| *o == p).unwrap();
        run(format!("phase {wanted:?} seen"), &|cache, child| {
            let pkg = PathBuf::from(path_str(cache).replace("cache-x-", "pkg-x-"));
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if rank(phase(cache, &pkg)) >= rank(wanted) {
                    return true;
                }
                if child.try_wait().unwrap().is_some() {
                    return false;
                }
                assert!(Instant::now() < deadline, "{wanted} never seen");
                std::thread::yield_now();
            }
        });
    }
    // A spread of moments after spawn: start-up, download, unpack, publish, place.
    for ms in [
        0u64, 1, 2, 4, 7, 10, 15, 20, 30, 45, 60, 80, 110, 150, 200, 300,
    ] {
        run(format!("{ms} ms"), &|_, child| {
            std::thread::sleep(Duration::from_millis(ms));
            child.try_wait().unwrap().is_none()
        });
    }
    eprintln!("crash: killed at {}", report.join("; "));
}

#[test]
fn a_lock_held_by_a_killed_install_never_blocks_the_next_one() {
    let (world, sha) = published_with(&big_tar(1 << 20, 41));
    world.fault_asset(
        Fault::Slow {
            bytes_per_sec: 64 << 10,
        },
        Some(1),
    );
    let mut child = spawn_install(&world, &world.pkg(), &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    // Bytes arriving, not just a temp file: opening the cache probes that
    // tmp/ is writable with a short-lived temp file before any lock is taken.
    while downloaded_so_far(&world.cache()).unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "the download never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let lock_path: PathBuf = world.cache().join("v1/locks").join(format!("{sha}.lock"));
    let probe = std::fs::File::options()
        .write(true)
        .open(&lock_path)
        .unwrap();
    assert!(
        matches!(probe.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        "the downloading install does not hold the lock"
    );

    kill(&mut child);
    // The kernel released the dead process's lock; the file is still there.
    assert!(lock_path.exists());
    probe
        .try_lock()
        .expect("the dead holder's lock was released");
    drop(probe);
    let mut next = spawn_install(&world, &world.pkg(), &[]);
    wait_bounded(&mut next, Duration::from_secs(60)).assert_ok();
    assert_runs(&world.placed("hello"));
    assert_cache_consistent(&world.cache());
}
