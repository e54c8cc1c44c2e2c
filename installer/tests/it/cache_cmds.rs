//! `postbin cache dir|list|verify|prune|clean`: what they print, what they
//! remove, and that an entry an install holds (its lock) is never touched.

use crate::cache_support::*;
use crate::support::*;
use serde_json::json;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A package `name` whose asset is `<name>-<target>.tar.gz` holding the
/// script and `len` bytes of noise; returns (package dir, sha).
fn tool(world: &World, name: &str, len: usize, seed: u64) -> (PathBuf, String) {
    let asset = format!("{name}-{TARGET}.tar.gz");
    let sha = world.publish(&asset, &big_tar(len, seed));
    let dir = world.base().join(format!("pkg-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = json!({
        "name": name,
        "version": "1.0.0",
        "bin": { "hello": "bin/hello" },
        "postbin": {
            "url": format!("{}/acme/hello/releases/download/v{{version}}/{{name}}-{{target}}.{{format}}", world.fixture.base_url()),
            "targets": { TARGET: { "sha256": sha } }
        }
    });
    std::fs::write(dir.join("package.json"), manifest.to_string()).unwrap();
    (dir, sha)
}

/// `tool`, installed.
fn installed_tool(world: &World, name: &str, len: usize, seed: u64) -> (PathBuf, String) {
    let (dir, sha) = tool(world, name, len, seed);
    world.install_pkg(&dir).assert_ok();
    (dir, sha)
}

fn v1(world: &World) -> PathBuf {
    world.cache().join("v1")
}

/// Sets the entry's last use (listing.json's mtime) to `days` ago.
fn used_days_ago(world: &World, sha: &str, days: u64) {
    let listing = v1(world).join("trees").join(sha).join("listing.json");
    File::options()
        .append(true)
        .open(listing)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(days * 86_400))
        .unwrap();
}

/// Holds the lock of entry `sha` the way an install does.
fn hold_lock(world: &World, sha: &str) -> File {
    let path = v1(world).join("locks").join(format!("{sha}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .unwrap();
    file.lock().unwrap();
    file
}

fn cache_cmd(world: &World, args: &[&str]) -> Run {
    let mut all = vec!["cache"];
    all.extend_from_slice(args);
    world.postbin(&all)
}

fn entry_exists(world: &World, sha: &str) -> bool {
    v1(world).join("archives").join(sha).exists() || v1(world).join("trees").join(sha).exists()
}

#[test]
fn cache_dir_prints_the_configured_directory() {
    let world = World::new();
    let run = cache_cmd(&world, &["dir"]);
    run.assert_ok();
    assert_eq!(run.stdout.trim(), path_str(&world.cache()));
}

#[test]
fn list_shows_package_version_target_size_and_last_use() {
    let world = World::new();
    let (_, sha) = installed_tool(&world, "alpha", 64 << 10, 1);

    let run = cache_cmd(&world, &["list"]);
    run.assert_ok();
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains(&sha[..12]))
        .unwrap_or_else(|| panic!("no line for the entry:\n{}", run.stdout));
    for needle in ["alpha", "1.0.0", TARGET, "KiB", "just now", "archive+files"] {
        assert!(line.contains(needle), "{needle:?} missing in {line:?}");
    }
    assert!(run.stdout.lines().next().unwrap().starts_with("PACKAGE"));
    run.assert_stdout_has(&["1 entry"]);
}

#[test]
fn an_entry_without_metadata_lists_as_unknown() {
    let world = World::new();
    let (_, sha) = installed_tool(&world, "alpha", 1 << 10, 1);
    // As written by postbin before entries carried metadata.
    std::fs::remove_dir_all(v1(&world).join("meta")).unwrap();

    let run = cache_cmd(&world, &["list"]);
    run.assert_ok();
    let line = run.stdout.lines().find(|l| l.contains(&sha[..12])).unwrap();
    assert!(line.starts_with("unknown"), "{line}");
}

#[test]
fn list_and_verify_of_a_cache_never_used_say_it_is_empty() {
    let world = World::new();
    let missing = world.base().join("never");
    let env = [("POSTBIN_CACHE_DIR", path_str(&missing))];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for action in ["list", "verify", "clean"] {
        let run = world.postbin_env(&["cache", action], &env);
        run.assert_ok();
        assert!(run.stdout.contains("empty"), "{action}: {}", run.stdout);
    }
    assert!(!missing.exists(), "a read-only command created the cache");
}

#[test]
fn verify_of_an_intact_cache_exits_0() {
    let world = World::new();
    installed_tool(&world, "alpha", 32 << 10, 1);
    let run = cache_cmd(&world, &["verify"]);
    run.assert_ok();
    run.assert_stdout_has(&["verified 1 archive and 1 tree", "all intact"]);
}

#[test]
fn verify_removes_a_flipped_tree_byte_and_a_truncated_archive_then_installs_repair() {
    let world = World::new();
    let (a, sha_a) = tool(&world, "alpha", 32 << 10, 1);
    let (b, sha_b) = tool(&world, "beta", 32 << 10, 2);
    world.install_pkg(&a).assert_ok();
    world.install_pkg(&b).assert_ok();
    // alpha: one byte of a tree file flipped; beta: the archive cut in half.
    let payload = v1(&world)
        .join("trees")
        .join(&sha_a)
        .join("files/payload.bin");
    let mut bytes = std::fs::read(&payload).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&payload, bytes).unwrap();
    let archive_b = v1(&world).join("archives").join(&sha_b);
    let len = std::fs::metadata(&archive_b).unwrap().len();
    File::options()
        .write(true)
        .open(&archive_b)
        .unwrap()
        .set_len(len / 2)
        .unwrap();

    let run = cache_cmd(&world, &["verify"]);
    run.assert_exit(exit::FAILURE);
    run.assert_stdout_has(&[
        "verified 2 archives and 2 trees",
        "2 corrupt entries removed",
    ]);
    run.assert_stderr_has(&[
        "removed corrupt files of alpha",
        "removed corrupt archive of beta",
    ]);
    assert!(!v1(&world).join("trees").join(&sha_a).exists());
    assert!(
        v1(&world).join("archives").join(&sha_a).exists(),
        "the good archive was kept"
    );
    assert!(!archive_b.exists());
    assert!(
        v1(&world).join("trees").join(&sha_b).exists(),
        "the good tree was kept"
    );
    assert_cache_consistent(&world.cache());

    cache_cmd(&world, &["verify"]).assert_ok();
    // Both install again, alpha from its cached archive, beta from its tree.
    world.fixture.clear_requests();
    for pkg in [&a, &b] {
        std::fs::remove_dir_all(pkg.join(".postbin")).unwrap();
        world.install_pkg(pkg).assert_ok();
        assert_runs(&placed(pkg, "hello"));
    }
    world.assert_no_requests();
}

#[test]
fn verify_removes_stray_files_and_a_tree_without_listing() {
    let world = World::new();
    let (_, sha) = installed_tool(&world, "alpha", 1 << 10, 1);
    std::fs::write(v1(&world).join("archives").join("notes.txt"), b"x").unwrap();
    std::fs::remove_file(v1(&world).join("trees").join(&sha).join("listing.json")).unwrap();

    let run = cache_cmd(&world, &["verify"]);
    run.assert_exit(exit::FAILURE);
    run.assert_stdout_has(&["1 stray file removed"]);
    assert!(!v1(&world).join("archives").join("notes.txt").exists());
    assert!(!v1(&world).join("trees").join(&sha).exists());
    cache_cmd(&world, &["verify"]).assert_ok();
}

#[test]
fn prune_older_than_removes_only_entries_unused_for_that_long() {
    let world = World::new();
    let (a, old) = tool(&world, "alpha", 8 << 10, 1);
    let (b, fresh) = tool(&world, "beta", 8 << 10, 2);
    world.install_pkg(&a).assert_ok();
    world.install_pkg(&b).assert_ok();
    used_days_ago(&world, &old, 40);
    used_days_ago(&world, &fresh, 10);

    let run = cache_cmd(&world, &["prune", "--older-than", "30"]);
    run.assert_ok();
    run.assert_stdout_has(&["pruned 1 entry"]);
    assert!(!entry_exists(&world, &old));
    assert!(entry_exists(&world, &fresh));
    assert!(!v1(&world).join("meta").join(format!("{old}.json")).exists());
    assert_cache_consistent(&world.cache());
}

#[test]
fn an_install_marks_its_entry_used() {
    let world = World::new();
    let (a, sha) = installed_tool(&world, "alpha", 8 << 10, 1);
    used_days_ago(&world, &sha, 40);
    // A fresh package using the same archive: a cache hit, which touches it.
    let other = world.base().join("pkg-alpha-2");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(a.join("package.json"), other.join("package.json")).unwrap();
    world.install_pkg(&other).assert_ok();

    cache_cmd(&world, &["prune", "--older-than", "30"]).assert_ok();
    assert!(entry_exists(&world, &sha));
}

#[test]
fn prune_max_size_evicts_the_least_recently_used_first() {
    let world = World::new();
    let mut shas = Vec::new();
    for (i, name) in ["alpha", "beta", "gamma"].iter().enumerate() {
        let (_, sha) = installed_tool(&world, name, 100 << 10, i as u64 + 1);
        shas.push(sha);
    }
    // beta used longest ago, then gamma, then alpha most recently.
    used_days_ago(&world, &shas[1], 3);
    used_days_ago(&world, &shas[2], 2);
    used_days_ago(&world, &shas[0], 1);

    // Each entry is ~200 KiB (archive + files): 450K keeps two.
    let run = cache_cmd(&world, &["prune", "--max-size", "450K"]);
    run.assert_ok();
    run.assert_stdout_has(&["pruned 1 entry"]);
    assert!(!entry_exists(&world, &shas[1]));
    assert!(entry_exists(&world, &shas[0]) && entry_exists(&world, &shas[2]));

    let run = cache_cmd(&world, &["prune", "--max-size", "250k"]);
    run.assert_ok();
    assert!(!entry_exists(&world, &shas[2]));
    assert!(
        entry_exists(&world, &shas[0]),
        "the most recently used stays"
    );
}

#[test]
fn prune_and_clean_skip_an_entry_whose_lock_is_held() {
    let world = World::new();
    let (a, busy) = tool(&world, "alpha", 8 << 10, 1);
    let (b, free) = tool(&world, "beta", 8 << 10, 2);
    world.install_pkg(&a).assert_ok();
    world.install_pkg(&b).assert_ok();
    let held = hold_lock(&world, &busy);

    let run = cache_cmd(&world, &["prune", "--older-than", "0"]);
    run.assert_ok()
        .assert_stderr_has(&["kept alpha 1.0.0", "an install is using it"]);
    assert!(entry_exists(&world, &busy));
    assert!(!entry_exists(&world, &free));

    std::fs::remove_dir_all(b.join(".postbin")).unwrap();
    world.install_pkg(&b).assert_ok(); // back in the cache
    let run = cache_cmd(&world, &["clean"]);
    run.assert_ok().assert_stderr_has(&["kept alpha 1.0.0"]);
    run.assert_stdout_has(&["removed 1 entry"]);
    assert!(entry_exists(&world, &busy));
    assert!(!entry_exists(&world, &free));
    let locks = v1(&world).join("locks");
    assert!(
        locks.join(format!("{busy}.lock")).exists(),
        "a held lock file was deleted"
    );
    assert!(!locks.join(format!("{free}.lock")).exists());

    drop(held);
    cache_cmd(&world, &["clean"]).assert_ok();
    assert!(!entry_exists(&world, &busy));
    assert!(list(&locks).is_empty(), "{:?}", list(&locks));
}

/// An install copying an executable out of the cache holds the entry's
/// lock shared (`Cache::read_hold`); prune and clean must skip the entry
/// then, not delete the file under the copy.
#[test]
fn prune_and_clean_skip_an_entry_being_copied_out() {
    let world = World::new();
    let (_, busy) = installed_tool(&world, "alpha", 8 << 10, 1);
    let path = v1(&world).join("locks").join(format!("{busy}.lock"));
    let reader = File::open(&path).expect("an install leaves the entry's lock file");
    reader.lock_shared().unwrap();

    cache_cmd(&world, &["prune", "--older-than", "0"])
        .assert_ok()
        .assert_stderr_has(&["kept alpha 1.0.0", "an install is using it"]);
    cache_cmd(&world, &["clean"])
        .assert_ok()
        .assert_stderr_has(&["kept alpha 1.0.0"]);
    assert!(entry_exists(&world, &busy));

    // A second reader is not blocked by the first: installs share.
    let other = File::open(&path).unwrap();
    assert!(other.try_lock_shared().is_ok());

    drop((reader, other));
    cache_cmd(&world, &["clean"]).assert_ok();
    assert!(!entry_exists(&world, &busy));
}

#[test]
fn clean_removes_everything_including_stale_temp_debris() {
    let world = World::new();
    let (a, _) = installed_tool(&world, "alpha", 8 << 10, 1);
    let tmp = v1(&world).join("tmp");
    let stale = tmp.join("download-crashed");
    std::fs::write(&stale, b"half a download").unwrap();
    File::options()
        .append(true)
        .open(&stale)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let fresh = tmp.join("download-running");
    std::fs::write(&fresh, b"being written").unwrap();

    let run = cache_cmd(&world, &["clean"]);
    run.assert_ok();
    run.assert_stdout_has(&["removed 1 entry", "1 temp entry of running installs kept"]);
    for sub in ["archives", "trees", "meta", "locks"] {
        assert!(list(&v1(&world).join(sub)).is_empty(), "{sub} not empty");
    }
    assert!(!stale.exists());
    assert!(fresh.exists(), "a running install's temp file was deleted");

    // The next install works from scratch.
    std::fs::remove_dir_all(a.join(".postbin")).unwrap();
    world.install_pkg(&a).assert_ok();
    assert_runs(&placed(&a, "hello"));
}

#[test]
fn cache_usage_errors_exit_2() {
    let world = World::new();
    for args in [
        &["prune"][..],
        &["prune", "--max-size", "lots"],
        &["import"],
        &["frobnicate"],
        &["list", "--older-than", "3"],
        &["verify", "somedir"],
    ] {
        let run = cache_cmd(&world, args);
        run.assert_exit(exit::USAGE);
        assert!(
            run.stderr.contains("postbin --help"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let missing = path_str(&world.base().join("nope"));
    cache_cmd(&world, &["import", &missing]).assert_exit(exit::USAGE);
}

/// Copies the release tree as a mirror tree with a bare index (each file's
/// path and hash, no labels), which is all `cache import` takes.
fn mirror_copy(world: &World, to: &Path) {
    let from = world.root().join(RELEASE_DIR);
    let dest = to.join(RELEASE_DIR);
    std::fs::create_dir_all(&dest).unwrap();
    let mut archives = Vec::new();
    for f in list(&from) {
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        let bytes = std::fs::read(&f).unwrap();
        std::fs::write(dest.join(&name), &bytes).unwrap();
        archives.push(serde_json::json!({
            "sha256": sha256(&bytes),
            "path": format!("{RELEASE_DIR}/{name}"),
        }));
    }
    let index = serde_json::json!({ "archives": archives });
    std::fs::write(to.join("postbin-prefill.json"), index.to_string()).unwrap();
}

#[test]
fn import_of_an_indexed_mirror_tree_stores_every_file_by_its_hash() {
    let world = World::new();
    let (pkg, sha) = tool(&world, "alpha", 16 << 10, 1);
    let (_, sha_b) = tool(&world, "beta", 16 << 10, 2);
    let mirror = world.base().join("mirror");
    mirror_copy(&world, &mirror);

    let dir = path_str(&mirror);
    let run = cache_cmd(&world, &["import", &dir]);
    run.assert_ok();
    run.assert_stdout_has(&["imported 2 archives"]);
    for s in [&sha, &sha_b] {
        assert!(v1(&world).join("archives").join(s).is_file());
    }
    let listed = cache_cmd(&world, &["list"]);
    listed.assert_stdout_has(&["unknown"]);

    let again = cache_cmd(&world, &["import", &dir]);
    again.assert_ok();
    again.assert_stdout_has(&["imported 0 archives", "2 already cached"]);

    // Offline, the install finds the imported archive and unpacks it.
    world.fixture.clear_requests();
    install_in(&world, &pkg, &[("POSTBIN_OFFLINE", "1")]).assert_ok();
    assert_runs(&placed(&pkg, "hello"));
    world.assert_no_requests();
    // Unpacking recorded what the archive is.
    let listed = cache_cmd(&world, &["list"]);
    let line = listed
        .stdout
        .lines()
        .find(|l| l.contains(&sha[..12]))
        .unwrap();
    assert!(line.starts_with("alpha"), "{line}");
}

#[test]
fn a_corrupt_cached_archive_is_replaced_by_import() {
    let world = World::new();
    let (_, sha) = installed_tool(&world, "alpha", 16 << 10, 1);
    let archive = v1(&world).join("archives").join(&sha);
    File::options()
        .write(true)
        .open(&archive)
        .unwrap()
        .set_len(100)
        .unwrap();
    let mirror = world.base().join("mirror");
    mirror_copy(&world, &mirror);

    let run = cache_cmd(&world, &["import", &path_str(&mirror)]);
    run.assert_ok();
    run.assert_stdout_has(&["imported 1 archive "]);
    assert_cache_consistent(&world.cache());
}
