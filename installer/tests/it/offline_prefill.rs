//! Offline installs and `postbin prefill`: fill the cache or a mirror tree
//! on a "connected" run, then install with the network forbidden and check
//! that the fixture saw no request at all.

use crate::archives::{Tar, Zip, flat_tar};
use crate::cache_support::*;
use crate::support::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// package.json of a tool `name` whose assets are `<unscoped>-<target>.<format>`.
fn manifest(world: &World, name: &str, targets: Value) -> Value {
    json!({
        "name": name,
        "version": "1.0.0",
        "bin": { "hello": "bin/hello" },
        "postbin": {
            "url": format!("{}/acme/hello/releases/download/v{{version}}/{{name}}-{{target}}.{{format}}", world.fixture.base_url()),
            "targets": targets,
        }
    })
}

/// Publishes `<unscoped>-TARGET.tar.gz` and writes DIR/package.json for it.
fn tool_at(world: &World, dir: &Path, name: &str, seed: u64) -> String {
    let unscoped = name.rsplit('/').next().unwrap();
    let sha = world.publish(
        &format!("{unscoped}-{TARGET}.tar.gz"),
        &big_tar(4 << 10, seed),
    );
    std::fs::create_dir_all(dir).unwrap();
    let m = manifest(world, name, json!({ TARGET: { "sha256": sha } }));
    std::fs::write(dir.join("package.json"), m.to_string()).unwrap();
    sha
}

fn offline_install(world: &World, pkg: &Path, env: &[(&str, &str)]) -> Run {
    let p = path_str(pkg);
    let mut all = vec![("POSTBIN_OFFLINE", "1")];
    all.extend_from_slice(env);
    world.postbin_env(&["install", "--package", &p, "--target", TARGET], &all)
}

#[test]
fn prefill_fills_the_cache_for_the_host_target_and_offline_installs_need_no_network() {
    let (world, sha) = published();
    let pkg = path_str(&world.pkg());
    // "The host" is whatever POSTBIN_TARGET forces, as for install.
    let run = world.postbin_env(&["prefill", &pkg], &[("POSTBIN_TARGET", TARGET)]);
    run.assert_ok();
    run.assert_stdout_has(&["prefilled 1 archive (", "for 1 package; 0 already cached"]);
    let v1 = world.cache().join("v1");
    assert!(v1.join("archives").join(&sha).is_file());
    assert!(v1.join("trees").join(&sha).join("listing.json").is_file());
    assert_nothing_linked(&world.pkg());

    world.fixture.clear_requests();
    let again = world.postbin_env(&["prefill", &pkg], &[("POSTBIN_TARGET", TARGET)]);
    again.assert_ok();
    assert!(
        again
            .stdout
            .contains("prefilled 0 archives (0 B) for 1 package; 1 already cached"),
        "{}",
        again.stdout
    );
    world.assert_no_requests();

    for env in [("POSTBIN_OFFLINE", "1"), ("npm_config_offline", "true")] {
        let other = copy_package(&world, &format!("pkg-{}", env.0));
        install_in(&world, &other, &[env]).assert_ok();
        assert_runs(&placed(&other, "hello"));
    }
    world.assert_no_requests();
}

#[test]
fn prefill_reads_package_json_from_a_packed_tarball() {
    let (world, sha) = published();
    let text = std::fs::read(world.pkg().join("package.json")).unwrap();
    let tgz = Tar::new()
        .file("package/README.md", 0o644, b"# hello\n")
        .file("package/package.json", 0o644, &text)
        .file("package/bin/hello", 0o755, b"#!/usr/bin/env node\n")
        .gz();
    let path = world.base().join("hello-1.0.0.tgz");
    std::fs::write(&path, tgz).unwrap();

    let run = world.postbin(&["prefill", &path_str(&path), "--targets", TARGET]);
    run.assert_ok();
    run.assert_stdout_has(&["prefilled 1 archive"]);
    assert!(world.cache().join("v1/archives").join(&sha).is_file());

    // Not an npm tarball: a clear failure naming the file.
    let bogus = world.base().join("bogus.tgz");
    std::fs::write(
        &bogus,
        crate::archives::gzip(&Tar::new().file("x", 0o644, b"x").finish()),
    )
    .unwrap();
    world
        .postbin(&["prefill", &path_str(&bogus), "--targets", TARGET])
        .assert_exit(exit::CONFIG)
        .assert_stderr_has(&["bogus.tgz", "package.json"]);
}

#[test]
fn prefill_scans_node_modules_with_scopes_nesting_pnpm_and_symlink_loops() {
    let world = World::new();
    let nm = world.base().join("project/node_modules");
    let a = tool_at(&world, &nm.join("tool-a"), "tool-a", 1);
    let b = tool_at(&world, &nm.join("@acme/tool-b"), "@acme/tool-b", 2);
    let c = tool_at(&world, &nm.join("tool-a/node_modules/tool-c"), "tool-c", 3);
    let d = tool_at(
        &world,
        &nm.join(".pnpm/tool-d@1.0.0/node_modules/tool-d"),
        "tool-d",
        4,
    );
    // A duplicate install of tool-a (a second copy, same version): one prefill.
    tool_at(&world, &nm.join("tool-x/node_modules/tool-a"), "tool-a", 1);
    // Packages without a postbin section, .bin, and symlink loops.
    std::fs::create_dir_all(nm.join("plain")).unwrap();
    std::fs::write(
        nm.join("plain/package.json"),
        r#"{"name":"plain","version":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::create_dir_all(nm.join(".bin")).unwrap();
    // Creating symlinks on Windows needs a privilege (or developer mode).
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&nm, nm.join("loop")).unwrap();
        std::os::unix::fs::symlink(&nm, nm.join("tool-a/node_modules/back")).unwrap();
        std::os::unix::fs::symlink("../../..", nm.join("@acme/up")).unwrap();
    }

    let run = world.postbin(&[
        "prefill",
        "--node-modules",
        &path_str(&nm),
        "--targets",
        TARGET,
    ]);
    run.assert_ok();
    run.assert_stdout_has(&["prefilled 4 archives", "for 4 packages"]);
    for sha in [&a, &b, &c, &d] {
        assert!(world.cache().join("v1/archives").join(sha).is_file());
    }
    // The project directory itself works as a root too.
    let again = world.postbin(&[
        "prefill",
        "--node-modules",
        &path_str(&world.base().join("project")),
        "--targets",
        TARGET,
    ]);
    again.assert_ok();
    again.assert_stdout_has(&["4 already cached"]);
}

#[test]
fn prefill_targets_all_and_lists() {
    let world = World::new();
    let linux = world.publish(&format!("hello-{TARGET}.tar.gz"), &flat_tar().gz());
    let zip = Zip::new().file("hello.exe", 0o755, SCRIPT).finish();
    let windows = world.publish(&format!("hello-{WINDOWS}.zip"), &zip);
    let m = manifest(
        &world,
        "hello",
        json!({
            TARGET: { "sha256": linux },
            WINDOWS: { "sha256": windows, "format": "zip" },
        }),
    );
    std::fs::write(world.pkg().join("package.json"), m.to_string()).unwrap();
    let pkg = path_str(&world.pkg());

    let run = world.postbin(&["prefill", &pkg, "--targets", "all"]);
    run.assert_ok();
    run.assert_stdout_has(&["prefilled 2 archives"]);
    for sha in [&linux, &windows] {
        assert!(world.cache().join("v1/trees").join(sha).is_dir());
    }

    let list = format!("{WINDOWS},aarch64-apple-darwin");
    let run = world.postbin(&["prefill", &pkg, "--targets", &list]);
    run.assert_ok()
        .assert_stderr_has(&["aarch64-apple-darwin", "offers no binary"]);
    assert!(
        run.stdout
            .contains("1 already cached; 1 not offered by the package"),
        "{}",
        run.stdout
    );
}

#[test]
fn prefill_lists_what_failed_keeps_the_rest_and_exits_nonzero() {
    let world = World::new();
    let good = world.base().join("good");
    let good_sha = tool_at(&world, &good, "good", 1);
    let bad = world.base().join("bad");
    tool_at(&world, &bad, "bad", 2);
    // The publisher pinned another file's hash.
    let m = manifest(
        &world,
        "bad",
        json!({ TARGET: { "sha256": sha256(b"not the asset") } }),
    );
    std::fs::write(bad.join("package.json"), m.to_string()).unwrap();

    let run = world.postbin(&[
        "prefill",
        &path_str(&good),
        &path_str(&bad),
        "--targets",
        TARGET,
    ]);
    run.assert_exit(exit::INTEGRITY)
        .assert_stderr_has(&["failed: bad 1.0.0", "SHA-256 mismatch"]);
    run.assert_stdout_has(&["prefilled 1 archive"]);
    assert!(world.cache().join("v1/archives").join(&good_sha).is_file());
    assert_cache_consistent(&world.cache());
}

/// `prefill --out DIR` on the connected side.
fn prefill_out(world: &World) -> (PathBuf, String) {
    let sha = publish_default(world, &big_tar(64 << 10, 7));
    let out = world.base().join("carry");
    let run = world.prefill(&["--out", &path_str(&out)], &[]);
    run.assert_ok();
    run.assert_stdout_has(&["prefilled 1 archive", "0 already there"]);
    (out, sha)
}

#[test]
fn prefill_out_writes_the_mirror_layout_which_an_offline_install_uses() {
    let world = World::new();
    let (out, sha) = prefill_out(&world);
    let file = out.join(RELEASE_DIR).join(ASSET);
    assert_eq!(sha256(&std::fs::read(&file).unwrap()), sha);
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("postbin-prefill.json")).unwrap())
            .unwrap();
    assert_eq!(index["archives"][0]["sha256"], sha.as_str());
    assert_eq!(index["archives"][0]["package"], "hello");
    // Nothing else: no temp files left, the cache untouched.
    let names: Vec<_> = list(&out.join(RELEASE_DIR));
    assert_eq!(names.len(), 1, "{names:?}");
    assert_nothing_cached(&world.cache());

    // Again: nothing downloaded.
    world.fixture.clear_requests();
    let again = world.prefill(&["--out", &path_str(&out)], &[]);
    again.assert_ok();
    again.assert_stdout_has(&["1 already there"]);
    world.assert_no_requests();

    // The air-gapped side: an empty cache, the network forbidden, the mirror.
    let mirror = format!("file://{}", path_str(&out));
    offline_install(&world, &world.pkg(), &[("POSTBIN_MIRROR", &mirror)]).assert_ok();
    assert_runs(&world.placed("hello"));
    world.assert_no_requests();
}

#[test]
fn prefill_out_copies_from_a_warm_cache_without_downloading() {
    let (world, sha) = published_with(&big_tar(16 << 10, 3));
    world.install().assert_ok();
    world.fixture.clear_requests();
    let out = world.base().join("carry");
    world
        .prefill(&["--out", &path_str(&out)], &[("POSTBIN_OFFLINE", "1")])
        .assert_ok();
    assert_eq!(
        sha256(&std::fs::read(out.join(RELEASE_DIR).join(ASSET)).unwrap()),
        sha
    );
    world.assert_no_requests();
}

#[test]
fn cache_import_of_a_prefill_tree_serves_offline_installs() {
    let world = World::new();
    let (out, sha) = prefill_out(&world);
    let target_cache = world.base().join("airgapped-cache");
    let tc = path_str(&target_cache);
    let env = [("POSTBIN_CACHE_DIR", tc.as_str())];

    let run = world.postbin_env(&["cache", "import", &path_str(&out)], &env);
    run.assert_ok();
    run.assert_stdout_has(&["imported 1 archive", "0 already cached"]);
    assert!(target_cache.join("v1/archives").join(&sha).is_file());
    // The index labels the entry even before an install unpacks it.
    let listed = world.postbin_env(&["cache", "list"], &env);
    let line = listed
        .stdout
        .lines()
        .find(|l| l.contains(&sha[..12]))
        .unwrap();
    assert!(
        line.starts_with("hello") && line.contains(TARGET) && line.contains("archive "),
        "{line}"
    );

    world.fixture.clear_requests();
    let pkg = copy_package(&world, "airgapped-pkg");
    offline_install(&world, &pkg, &env).assert_ok();
    assert_runs(&placed(&pkg, "hello"));
    world.assert_no_requests();
    assert_cache_consistent(&target_cache);
}

#[test]
fn offline_prefill_from_a_file_mirror_fills_the_cache() {
    let world = World::new();
    let (out, sha) = prefill_out(&world);
    world.fixture.clear_requests();
    let mirror = format!("file://{}", path_str(&out));
    let run = world.prefill(&["--offline"], &[("POSTBIN_MIRROR", &mirror)]);
    run.assert_ok();
    assert!(world.cache().join("v1/trees").join(&sha).is_dir());
    world.assert_no_requests();
}

#[test]
fn offline_prefill_without_a_mirror_fails_with_exit_9_and_no_request() {
    let (world, _) = published();
    world
        .prefill(&["--offline"], &[])
        .assert_exit(exit::OFFLINE_MISS)
        .assert_stderr_has(&["failed: hello 1.0.0"]);
    world.assert_no_requests();
    assert_nothing_cached(&world.cache());
}

#[test]
fn offline_with_a_file_mirror_lacking_the_asset_exits_9_and_opens_no_socket() {
    let (world, _) = published();
    let empty = world.base().join("empty-mirror");
    std::fs::create_dir_all(&empty).unwrap();
    let mirror = format!("file://{}", path_str(&empty));
    let run = offline_install(&world, &world.pkg(), &[("POSTBIN_MIRROR", &mirror)]);
    // An offline miss, whether the cache or the local mirror lacks it.
    run.assert_exit(exit::OFFLINE_MISS)
        .assert_stderr_has(&[&path_str(&empty), "prefill"]);
    world.assert_untouched();
}

#[test]
fn prefill_with_no_package_found_says_so() {
    let world = World::new();
    let empty = world.base().join("node_modules");
    std::fs::create_dir_all(&empty).unwrap();
    world
        .postbin(&["prefill", "--node-modules", &path_str(&empty)])
        .assert_exit(exit::FAILURE)
        .assert_stderr_has(&["nothing to prefill"]);
}

#[test]
fn prefill_out_carries_the_checksums_file_of_an_unpinned_target() {
    let world = World::new();
    let sha = world.publish(ASSET, &flat_tar().gz());
    world.publish("SHA256SUMS", format!("{sha}  {ASSET}\n").as_bytes());
    world.package(world.unpinned_section(true));
    let out = world.base().join("carry");
    world.prefill(&["--out", &path_str(&out)], &[]).assert_ok();
    assert!(out.join(RELEASE_DIR).join("SHA256SUMS").is_file());
    assert_eq!(
        sha256(&std::fs::read(out.join(RELEASE_DIR).join(ASSET)).unwrap()),
        sha
    );

    world.fixture.clear_requests();
    let mirror = format!("file://{}", path_str(&out));
    offline_install(&world, &world.pkg(), &[("POSTBIN_MIRROR", &mirror)])
        .assert_ok()
        .assert_stderr_has(&["pins no sha256"]);
    assert_runs(&world.placed("hello"));
    world.assert_no_requests();
}
