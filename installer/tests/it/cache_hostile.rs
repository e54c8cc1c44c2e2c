//! Hostile environments for the cache: a cache dir that cannot be written
//! (through a regular file, or a read-only mount), a full disk, and cached
//! entries damaged behind postbin's back.

use crate::cache_support::*;
use crate::support::*;
use serde_json::json;
use std::fs::File;
use std::path::{Path, PathBuf};

/// A cache path that can never be created, even by root: its parent is a
/// regular file.
fn blocked_cache(world: &World) -> PathBuf {
    let blocker = world.base().join("blocker");
    std::fs::write(&blocker, b"not a directory").unwrap();
    blocker.join("cache")
}

/// Our own TMPDIR, so the test can see what the fallback leaves there.
fn private_tmp(world: &World) -> PathBuf {
    let tmp = world.base().join("tmpdir");
    std::fs::create_dir_all(&tmp).unwrap();
    tmp
}

fn warnings(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.contains("warning"))
        .collect()
}

#[test]
fn an_unwritable_cache_dir_falls_back_to_a_temp_cache_with_one_warning() {
    let (world, _) = published_with(&big_tar(8 << 10, 1));
    let cache = path_str(&blocked_cache(&world));
    let tmp = private_tmp(&world);
    let t = path_str(&tmp);

    let run = world.install_env(&[("POSTBIN_CACHE_DIR", &cache), ("TMPDIR", &t)]);
    run.assert_ok();
    assert_runs(&world.placed("hello"));
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert_eq!(warnings(&run).len(), 1, "{}", run.stderr);
    run.assert_stderr_has(&["cannot write to the cache", &cache, "POSTBIN_CACHE_DIR"]);
    assert!(
        list(&tmp).is_empty(),
        "the temp cache was left behind: {:?}",
        list(&tmp)
    );
}

#[test]
fn cache_only_with_an_unwritable_cache_prints_paths_that_outlive_the_run() {
    let (world, _) = published_with(&big_tar(8 << 10, 2));
    let cache = path_str(&blocked_cache(&world));
    let t = path_str(&private_tmp(&world));
    let pkg = path_str(&world.pkg());

    let run = world.postbin_env(
        &[
            "install",
            "--package",
            &pkg,
            "--target",
            TARGET,
            "--cache-only",
        ],
        &[("POSTBIN_CACHE_DIR", &cache), ("TMPDIR", &t)],
    );
    run.assert_ok();
    assert_eq!(warnings(&run).len(), 1, "{}", run.stderr);
    let path = PathBuf::from(run.stdout.trim());
    assert!(path.starts_with(&t), "{path:?}");
    assert_runs(&path);
    assert_nothing_linked(&world.pkg());
}

#[test]
fn a_read_only_cache_serves_its_entries_and_misses_go_to_a_temp_cache() {
    let (world, sha) = published_with(&big_tar(8 << 10, 3));
    world.install().assert_ok();
    let mount = match Mount::read_only(&world.cache()) {
        Ok(m) => m,
        Err(why) => return skip("a_read_only_cache_serves_its_entries", &why),
    };
    let tmp = private_tmp(&world);
    let t = path_str(&tmp);
    world.fixture.clear_requests();

    // A hit: served from the read-only cache, no request.
    let hit = copy_package(&world, "pkg-hit");
    let run = install_in(&world, &hit, &[("TMPDIR", &t)]);
    run.assert_ok();
    assert_runs(&placed(&hit, "hello"));
    world.assert_no_requests();
    // Nothing went through a temp cache, so there is nothing to warn about.
    assert!(run.stderr.is_empty(), "{}", run.stderr);

    // A miss: another archive, downloaded into the temp cache.
    let other = world.publish(&format!("other-{TARGET}.tar.gz"), &big_tar(8 << 10, 4));
    let miss = world.base().join("pkg-miss");
    package(
        &miss,
        json!({
            "url": format!("{}/{RELEASE_DIR}/other-{{target}}.{{format}}", world.fixture.base_url()),
            "targets": { TARGET: { "sha256": other } }
        }),
    );
    let run = install_in(&world, &miss, &[("TMPDIR", &t)]);
    run.assert_ok();
    assert_runs(&placed(&miss, "hello"));
    assert_eq!(warnings(&run).len(), 1, "{}", run.stderr);
    run.assert_stderr_has(&["still used"]);
    assert!(list(&tmp).is_empty(), "temp caches left: {:?}", list(&tmp));
    drop(mount);
    assert!(!world.cache().join("v1/archives").join(&other).exists());
    assert!(world.cache().join("v1/archives").join(&sha).exists());
}

#[test]
fn a_full_disk_is_a_clear_error_and_publishes_nothing() {
    let world = World::new();
    let small = world.base().join("small");
    let mount = match Mount::tmpfs(&small, "2M") {
        Ok(m) => m,
        Err(why) => return skip("a_full_disk_is_a_clear_error", &why),
    };
    let s = path_str(&small);
    let cases = [
        // The download itself does not fit.
        ("download", 3 << 20, 51),
        // The download fits; unpacking it next to it does not.
        ("unpack", 1200 << 10, 52),
    ];
    for (what, len, seed) in cases {
        publish_default(&world, &big_tar(len, seed));
        let run = world.install_env(&[("POSTBIN_CACHE_DIR", &s)]);
        run.assert_exit(exit::FILESYSTEM);
        assert!(
            run.stderr.contains("disk") || run.stderr.contains("No space left"),
            "{what}: {}",
            run.stderr
        );
        run.assert_stderr_has(&["disk is full", "POSTBIN_CACHE_DIR"]);
        eprintln!("disk full during the {what}: {}", run.stderr.trim());
        assert_nothing_cached(&small);
        assert_nothing_linked(&world.pkg());
        // The failed run cleaned up after itself: the disk has room again.
        let tmp = list(&small.join("v1/tmp"));
        assert!(tmp.is_empty(), "{what}: temp files left: {tmp:?}");
    }
    drop(mount);
}

/// Cuts a file to half its length, in place.
fn truncate_half(path: &Path) {
    let len = std::fs::metadata(path).unwrap().len();
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
}

#[test]
fn a_truncated_cached_archive_is_detected_on_the_next_hit_and_replaced() {
    let (world, sha) = published_with(&big_tar(64 << 10, 5));
    world.install().assert_ok();
    let v1 = world.cache().join("v1");
    truncate_half(&v1.join("archives").join(&sha));
    // Without its tree, the next install must use (and so check) the archive.
    std::fs::remove_dir_all(v1.join("trees").join(&sha)).unwrap();
    let pkg = copy_package(&world, "pkg-2");
    world.fixture.clear_requests();

    world.install_pkg(&pkg).assert_ok();
    assert_runs(&placed(&pkg, "hello"));
    assert_eq!(downloads(&world, ASSET), 1, "{:#?}", world.requests());
    assert_cache_consistent(&world.cache());

    // Offline, the same damage is a miss (exit 9), not a broken install.
    truncate_half(&v1.join("archives").join(&sha));
    std::fs::remove_dir_all(v1.join("trees").join(&sha)).unwrap();
    let pkg = copy_package(&world, "pkg-3");
    install_in(&world, &pkg, &[("POSTBIN_OFFLINE", "1")]).assert_exit(exit::OFFLINE_MISS);
    assert_nothing_linked(&pkg);
}

#[test]
fn a_truncated_tree_file_is_detected_on_the_next_hit_and_replaced() {
    let (world, sha) = published_with(&big_tar(8 << 10, 6));
    world.install().assert_ok();
    let cached = world.tree_path(&sha, "files/hello");
    truncate_half(&cached);
    let pkg = copy_package(&world, "pkg-2");
    world.fixture.clear_requests();

    world.install_pkg(&pkg).assert_ok();
    assert_runs(&placed(&pkg, "hello"));
    assert_eq!(std::fs::read(&cached).unwrap(), SCRIPT);
    world.assert_no_requests();
}
