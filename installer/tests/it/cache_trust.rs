//! What a cache can make postbin place: only bytes a pinned hash vouches
//! for. Unpacked trees are sealed with a per-user key kept outside the
//! cache; a tree tampered with, copied from another cache or carried from
//! another home is rebuilt from its (re-hashed) archive or is a miss. Also:
//! temp files of killed installs go at once, and a re-install that places
//! nothing still sweeps executables set aside.

use crate::cache_support::*;
use crate::support::*;
use server_fixture::Fault;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const EVIL: &[u8] = b"#!/bin/sh\necho tampered\n";

/// A second user: own HOME and config dir (so own key), `cache` as cache.
fn other_home(world: &World, name: &str, cache: &Path) -> Vec<(String, String)> {
    let home = world.base().join(name);
    std::fs::create_dir_all(&home).unwrap();
    vec![
        ("HOME".into(), path_str(&home)),
        ("XDG_CONFIG_HOME".into(), path_str(&home.join(".config"))),
        ("XDG_CACHE_HOME".into(), path_str(&home.join(".cache"))),
        ("POSTBIN_CACHE_DIR".into(), path_str(cache)),
    ]
}

fn borrow(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn tree_dir(cache: &Path, sha: &str) -> PathBuf {
    cache.join("v1/trees").join(sha)
}

fn key_file(home: &Path) -> PathBuf {
    home.join(".config/postbin/cache-key")
}

/// Replaces the tree's `hello` with `bytes` and rewrites listing.json to
/// vouch for them: what a writer of the cache can do. Returns the listing.
fn tamper(cache: &Path, sha: &str, bytes: &[u8]) -> String {
    let tree = tree_dir(cache, sha);
    std::fs::write(tree.join("files/hello"), bytes).unwrap();
    let path = tree.join("listing.json");
    let mut listing: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    listing["files"]["hello"]["size"] = bytes.len().into();
    listing["files"]["hello"]["sha256"] = sha256(bytes).into();
    let text = listing.to_string();
    std::fs::write(&path, &text).unwrap();
    text
}

/// The seal the key in `key_file` gives a listing (docs/design-notes.md,
/// "Threat model"): what someone holding that key can forge.
fn forge_seal(key_file: &Path, sha: &str, listing: &str) -> String {
    let key = postbin::hash::Sha256Hash::parse(&std::fs::read_to_string(key_file).unwrap())
        .expect("a key is 64 hex digits");
    let raw: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&key.hex()[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mac = postbin::cache::seal::hmac_sha256(
        &raw,
        &[
            b"postbin tree seal v1\n",
            sha.as_bytes(),
            b"\n",
            listing.as_bytes(),
        ],
    );
    mac.iter().map(|b| format!("{b:02x}")).collect()
}

#[track_caller]
fn assert_placed(pkg: &Path, bytes: &[u8]) {
    assert_eq!(std::fs::read(placed(pkg, "hello")).unwrap(), bytes);
}

#[test]
fn cache_trust_a_tampered_tree_is_rebuilt_from_its_archive_or_is_a_miss() {
    let (world, sha) = published_with(&big_tar(1 << 10, 1));
    world.install().assert_ok();
    let cache = world.cache();
    let offline = [("POSTBIN_OFFLINE", "1")];

    // With the archive: rebuilt from it, and the right bytes placed.
    tamper(&cache, &sha, EVIL);
    let pkg = copy_package(&world, "pkg-archive");
    install_in(&world, &pkg, &offline).assert_ok();
    assert_placed(&pkg, SCRIPT);
    assert_eq!(
        std::fs::read(tree_dir(&cache, &sha).join("files/hello")).unwrap(),
        SCRIPT,
        "the tree was rebuilt"
    );
    assert_cache_consistent(&cache);

    // Without it: a miss (offline: exit 9, saying how to fill the cache).
    tamper(&cache, &sha, EVIL);
    std::fs::remove_file(cache.join("v1/archives").join(&sha)).unwrap();
    let pkg = copy_package(&world, "pkg-no-archive");
    install_in(&world, &pkg, &offline)
        .assert_exit(exit::OFFLINE_MISS)
        .assert_stderr_has(&["prefill"]);
    assert_nothing_linked(&pkg);

    // Online, it is downloaded again.
    install_in(&world, &pkg, &[]).assert_ok();
    assert_placed(&pkg, SCRIPT);
    assert_eq!(downloads(&world, ASSET), 2);
}

#[test]
fn cache_trust_verify_reports_a_tampered_tree() {
    let (world, sha) = published_with(&big_tar(1 << 10, 2));
    world.install().assert_ok();
    let intact = world.postbin(&["cache", "verify"]);
    intact.assert_ok();
    intact.assert_stdout_has(&["all intact"]);

    tamper(&world.cache(), &sha, EVIL);
    let run = world.postbin(&["cache", "verify"]);
    run.assert_exit(exit::FAILURE)
        .assert_stderr_has(&["removed corrupt files", "not unpacked by postbin"]);
    run.assert_stdout_lacks(&["all intact"]);
    assert!(!tree_dir(&world.cache(), &sha).exists());

    // The archive was fine and stays: the next install unpacks it offline.
    install_in(
        &world,
        &copy_package(&world, "pkg2"),
        &[("POSTBIN_OFFLINE", "1")],
    )
    .assert_ok();
    let run = world.postbin(&["cache", "verify"]);
    run.assert_ok();
    run.assert_stdout_has(&["all intact"]);
}

/// Someone else's cache, `<base>/their-cache`, filled by an install of the
/// default package (`big_tar(1 KiB, seed)`) under their own home, so its
/// trees are sealed with their key; then its tree's `hello` is tampered
/// with. The archive's sha, their cache, their environment and the
/// tampered listing.
fn their_tampered_cache(
    world: &World,
    seed: u64,
) -> (String, PathBuf, Vec<(String, String)>, String) {
    let sha = publish_default(world, &big_tar(1 << 10, seed));
    let theirs = world.base().join("their-cache");
    let them = other_home(world, "their-home", &theirs);
    install_in(world, &world.pkg(), &borrow(&them)).assert_ok();
    let listing = tamper(&theirs, &sha, EVIL);
    (sha, theirs, them, listing)
}

#[test]
fn cache_trust_a_tree_sealed_by_another_key_is_rebuilt() {
    let world = World::new();
    let (sha, theirs, them, listing) = their_tampered_cache(&world, 3);
    let their_key = key_file(&world.base().join("their-home"));
    std::fs::write(
        tree_dir(&theirs, &sha).join("seal"),
        forge_seal(&their_key, &sha, &listing),
    )
    .unwrap();
    // Whoever holds the key is trusted (out of scope: the same user)...
    let pkg = copy_package(&world, "pkg-theirs");
    install_in(&world, &pkg, &borrow(&them)).assert_ok();
    assert_placed(&pkg, EVIL);

    // ...but their tree copied into our cache is not.
    let ours = world.cache();
    std::fs::create_dir_all(ours.join("v1/trees")).unwrap();
    copy_tree(&tree_dir(&theirs, &sha), &tree_dir(&ours, &sha));
    let offline = [("POSTBIN_OFFLINE", "1")];
    let pkg = copy_package(&world, "pkg-ours");
    install_in(&world, &pkg, &offline).assert_exit(exit::OFFLINE_MISS);
    assert_nothing_linked(&pkg);
    // With the archive copied too, the tree is rebuilt from it.
    std::fs::create_dir_all(ours.join("v1/archives")).unwrap();
    std::fs::copy(
        theirs.join("v1/archives").join(&sha),
        ours.join("v1/archives").join(&sha),
    )
    .unwrap();
    copy_tree(&tree_dir(&theirs, &sha), &tree_dir(&ours, &sha));
    install_in(&world, &pkg, &offline).assert_ok();
    assert_placed(&pkg, SCRIPT);
    assert_cache_consistent(&ours);
}

#[test]
fn cache_trust_a_cache_carried_to_another_home_installs_offline_from_its_archives() {
    let (world, sha) = published_with(&big_tar(1 << 10, 4));
    world.install().assert_ok();
    let seal = std::fs::read_to_string(tree_dir(&world.cache(), &sha).join("seal")).unwrap();

    let carried = world.base().join("carried");
    copy_tree(&world.cache(), &carried);
    let elsewhere = other_home(&world, "home-elsewhere", &carried);
    let mut env = borrow(&elsewhere);
    env.push(("POSTBIN_OFFLINE", "1"));
    let pkg = copy_package(&world, "pkg-elsewhere");
    install_in(&world, &pkg, &env).assert_ok();
    assert_placed(&pkg, SCRIPT);
    assert_runs(&placed(&pkg, "hello"));
    let resealed = std::fs::read_to_string(tree_dir(&carried, &sha).join("seal")).unwrap();
    assert_ne!(
        seal, resealed,
        "the tree was unpacked again under the new key"
    );
    assert_eq!(downloads(&world, ASSET), 1);
}

#[test]
fn cache_trust_concurrent_first_runs_agree_on_one_key() {
    let world = World::new();
    let n = 8;
    let mut children = Vec::new();
    for i in 0..n {
        let asset = format!("hello{i}-{TARGET}.tar.gz");
        let archive = crate::archives::Tar::new()
            .file("hello", 0o755, SCRIPT)
            .file("n", 0o644, i.to_string().as_bytes())
            .gz();
        let sha = world.publish(&asset, &archive);
        let mut section = world.section("tar.gz", &sha);
        let url = section["url"]
            .as_str()
            .unwrap()
            .replace("hello-{target}", &format!("hello{i}-{{target}}"));
        section["url"] = url.into();
        let pkg = world.base().join(format!("pkg{i}"));
        package(&pkg, section);
        children.push((pkg.clone(), spawn_install(&world, &pkg, &[])));
    }
    for (pkg, child) in &mut children {
        wait_bounded(child, Duration::from_secs(60)).assert_ok();
        assert_placed(pkg, SCRIPT);
    }
    let dir = key_file(&world.home()).parent().unwrap().to_path_buf();
    let left = list(&dir);
    assert_eq!(
        left,
        vec![key_file(&world.home())],
        "one key, no temp files"
    );
    // Every tree, each sealed by a different process, verifies with it.
    let run = world.postbin(&["cache", "verify"]);
    run.assert_ok();
    assert!(
        run.stdout.contains(&format!("{n} trees")) && run.stdout.contains("all intact"),
        "{}",
        run.stdout
    );
}

#[test]
fn cache_trust_without_a_key_trees_are_never_trusted() {
    let (world, sha) = published_with(&big_tar(1 << 10, 5));
    // Under a file: the key can be neither read nor created.
    let blocker = world.base().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let key = path_str(&blocker.join("cache-key"));
    let env = [("POSTBIN_CACHE_KEY_FILE", key.as_str())];
    install_in(&world, &world.pkg(), &env).assert_ok();
    tamper(&world.cache(), &sha, EVIL);
    let pkg = copy_package(&world, "pkg2");
    install_in(
        &world,
        &pkg,
        &[env[0], ("POSTBIN_OFFLINE", "1"), ("POSTBIN_LOG", "info")],
    )
    .assert_ok()
    .assert_stderr_has(&["cache key", "not trusted"]);
    assert_placed(&pkg, SCRIPT);
    assert_eq!(downloads(&world, ASSET), 1);
}

/// Temp entries in the cache's tmp/ that belong to archive `sha`.
fn temps_of(cache: &Path, sha: &str) -> Vec<PathBuf> {
    list(&cache.join("v1/tmp"))
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(sha))
        .collect()
}

/// Waits until some temp file of `sha` holds downloaded bytes.
#[track_caller]
fn wait_for_download(cache: &Path, sha: &str, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !temps_of(cache, sha)
        .iter()
        .any(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() > 0))
    {
        assert!(Instant::now() < deadline, "the download never started");
        assert!(child.try_wait().unwrap().is_none(), "the install ended");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn cache_clean_removes_temp_files_of_a_killed_install_at_once() {
    let (world, dead_sha) = published_with(&big_tar(4 << 20, 6));
    let live_asset = format!("hello2-{TARGET}.tar.gz");
    let live_sha = world.publish(&live_asset, &big_tar(4 << 20, 7));
    let mut section = world.section("tar.gz", &live_sha);
    let url = section["url"]
        .as_str()
        .unwrap()
        .replace("hello-{target}", "hello2-{target}");
    section["url"] = url.into();
    let live_pkg = world.base().join("pkg-live");
    package(&live_pkg, section);
    for asset in [ASSET, live_asset.as_str()] {
        world.fixture.set_fault(
            &World::asset_path(asset),
            Fault::Slow {
                bytes_per_sec: 1 << 20,
            },
            Some(1),
        );
    }
    let cache = world.cache();

    // The running one first: an install's own start sweeps dead temps too.
    let mut live = spawn_install(&world, &live_pkg, &[]);
    wait_for_download(&cache, &live_sha, &mut live);
    let mut dead = spawn_install(&world, &world.pkg(), &[]);
    wait_for_download(&cache, &dead_sha, &mut dead);
    dead.kill().unwrap();
    dead.wait().unwrap();

    let left_by_dead: Vec<PathBuf> = temps_of(&cache, &dead_sha)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("download-") || name.starts_with("tree-")
        })
        .collect();
    assert!(!left_by_dead.is_empty(), "the killed install left no temp");
    let live_temps = temps_of(&cache, &live_sha);
    let run = world.postbin(&["cache", "clean"]);
    run.assert_ok();
    for p in &left_by_dead {
        assert!(!p.exists(), "{} of a dead install was kept", p.display());
    }
    for p in &live_temps {
        assert!(
            p.exists(),
            "{} of a running install was removed",
            p.display()
        );
    }
    run.assert_stdout_has(&["of running installs kept"]);
    wait_bounded(&mut live, Duration::from_secs(60)).assert_ok();
    assert_placed(&live_pkg, SCRIPT);
    assert_cache_consistent(&cache);
}

#[test]
fn cache_trust_a_current_package_still_sweeps_set_aside_executables() {
    let (world, _) = published_with(&big_tar(1 << 10, 8));
    world.install().assert_ok();
    let set_aside = world.pkg().join(".postbin/bin/.postbin-old-12345");
    std::fs::write(&set_aside, b"old executable").unwrap();
    world.install().assert_ok();
    assert!(!set_aside.exists(), "set-aside executable kept");
    assert_placed(&world.pkg(), SCRIPT);
}

#[test]
fn cache_trust_import_of_a_whole_cache_takes_archives_never_trees() {
    let world = World::new();
    let (_, theirs, _, _) = their_tampered_cache(&world, 9);

    let run = world.postbin(&["cache", "import", &path_str(&theirs)]);
    run.assert_ok();
    run.assert_stdout_has(&["imported 1 archive"]);
    assert!(list(&world.cache().join("v1/trees")).is_empty());
    let pkg = copy_package(&world, "pkg-imported");
    install_in(&world, &pkg, &[("POSTBIN_OFFLINE", "1")]).assert_ok();
    assert_placed(&pkg, SCRIPT);
}
