//! `postbin which` (overrides must be usable, commands must be declared),
//! `postbin cache import` (only regular files the prefill index pins, no
//! symlink followed) and `prefill --out` trees where two targets share one
//! archive under two names.

use crate::archives::flat_tar;
use crate::support::*;
use serde_json::{Value, json};
use std::path::Path;

fn which(world: &World, args: &[&str], env: &[(&str, &str)]) -> Run {
    let pkg = path_str(&world.pkg());
    let mut all = vec!["which", "--package", &pkg];
    all.extend_from_slice(args);
    world.postbin_env(&all, env)
}

#[test]
fn which_refuses_a_relative_or_missing_override_with_exit_3() {
    let (world, _) = published();
    let missing = path_str(&world.base().join("no-such-hello"));
    for bad in ["hello", "./bin/hello", missing.as_str()] {
        which(&world, &[], &[("HELLO_BINARY_PATH", bad)])
            .assert_exit(exit::CONFIG)
            .assert_stderr_has(&["HELLO_BINARY_PATH", bad]);
    }
    // Install applies the same rule.
    world.assert_install_fails(
        &[("HELLO_BINARY_PATH", "relative/hello")],
        exit::CONFIG,
        &["HELLO_BINARY_PATH", "absolute"],
    );

    let own = world.base().join("my-hello");
    std::fs::write(&own, SCRIPT).unwrap();
    let own = path_str(&own);
    let run = which(&world, &[], &[("HELLO_BINARY_PATH", &own)]);
    run.assert_ok();
    assert_eq!(run.stdout.trim(), own);
}

#[test]
fn which_of_an_undeclared_command_is_a_usage_error_listing_the_declared_ones() {
    let (world, _) = published();
    which(&world, &["nope"], &[])
        .assert_exit(exit::USAGE)
        .assert_stderr_has(&["declares no command `nope`", "hello"]);
    // A declared command that is not installed yet is exit 1, as before.
    which(&world, &["hello"], &[])
        .assert_exit(exit::FAILURE)
        .assert_stderr_has(&["not installed"]);
    world.install().assert_ok();
    let run = which(&world, &["hello"], &[]);
    run.assert_ok();
    assert_eq!(
        Path::new(run.stdout.trim()),
        world.placed("hello").as_path()
    );
}

/// `prefill --out DIR` for the world's package, all targets.
fn prefill_out(world: &World, out: &Path) {
    world
        .postbin(&[
            "prefill",
            &path_str(&world.pkg()),
            "--targets",
            "all",
            "--out",
            &path_str(out),
        ])
        .assert_ok();
}

fn archives_in(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = list(&cache.join("v1").join("archives"))
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .filter(|n| n.len() == 64)
        .collect();
    names.sort();
    names
}

#[cfg(unix)]
#[test]
fn cache_import_takes_only_pinned_regular_files_and_follows_no_symlink() {
    use std::os::unix::fs::symlink;
    let (world, _) = published();
    let out = world.base().join("tree");
    prefill_out(&world, &out);
    let published = world
        .root()
        .join(RELEASE_DIR)
        .join(format!("hello-{TARGET}.tar.gz"));
    let pinned = sha256(&std::fs::read(published).unwrap());

    // Beside the tree: archives the importer must never read.
    let outside = world.base().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let secret = b"outside the tree".to_vec();
    std::fs::write(outside.join("secret.tar.gz"), &secret).unwrap();
    let secret_sha = sha256(&secret);
    let stray = b"a stray file".to_vec();
    let release = out.join(RELEASE_DIR);
    std::fs::write(release.join("stray.tar.gz"), &stray).unwrap();
    symlink(outside.join("secret.tar.gz"), release.join("link.tar.gz")).unwrap();
    symlink(&outside, out.join("dirlink")).unwrap();

    // A hostile index pins the outside file through each way out.
    let index_path = out.join("postbin-prefill.json");
    let mut index: Value =
        serde_json::from_str(&std::fs::read_to_string(&index_path).unwrap()).unwrap();
    let archives = index["archives"].as_array_mut().unwrap();
    for path in [
        format!("{RELEASE_DIR}/link.tar.gz"),
        "dirlink/secret.tar.gz".to_string(),
        "../outside/secret.tar.gz".to_string(),
        path_str(&outside.join("secret.tar.gz")),
    ] {
        archives.push(json!({ "sha256": secret_sha, "path": path }));
    }
    // Listed, but its bytes are not what the index pins.
    archives.push(json!({ "sha256": pinned, "path": format!("{RELEASE_DIR}/stray.tar.gz") }));
    std::fs::write(&index_path, index.to_string()).unwrap();

    let run = world.postbin(&["cache", "import", &path_str(&out)]);
    run.assert_ok();
    run.assert_stdout_has(&["imported 1 archive "]);
    run.assert_stderr_has(&["link.tar.gz", "symlink", "dirlink", "do not match"]);
    assert_eq!(archives_in(&world.cache()), std::slice::from_ref(&pinned));
    assert_ne!(secret_sha, sha256(&stray));

    // A tree without an index is not imported at all.
    let bare = world.base().join("bare");
    std::fs::create_dir_all(bare.join("x")).unwrap();
    std::fs::write(bare.join("x").join("a.tar.gz"), &stray).unwrap();
    world
        .postbin(&["cache", "import", &path_str(&bare)])
        .assert_exit(exit::USAGE)
        .assert_stderr_has(&["postbin-prefill.json"]);
    assert_eq!(archives_in(&world.cache()), [pinned]);
}

#[test]
fn prefill_out_writes_every_target_path_when_targets_share_one_archive() {
    const ARM: &str = "aarch64-unknown-linux-musl";
    let world = World::new();
    // One archive published under two names (a universal build).
    let bytes = flat_tar().gz();
    let sha = world.publish(&format!("hello-{TARGET}.tar.gz"), &bytes);
    world.publish(&format!("hello-{ARM}.tar.gz"), &bytes);
    world.package(json!({
        "url": world.url_template(),
        "format": "tar.gz",
        "targets": { TARGET: { "sha256": sha }, ARM: { "sha256": sha } }
    }));
    let out = world.base().join("tree");
    prefill_out(&world, &out);
    for t in [TARGET, ARM] {
        let file = out.join(RELEASE_DIR).join(format!("hello-{t}.tar.gz"));
        assert_eq!(std::fs::read(&file).unwrap(), bytes, "{t}");
    }
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("postbin-prefill.json")).unwrap())
            .unwrap();
    let targets = strings_at(&index["archives"], "target");
    assert_eq!(targets.len(), 2, "{index:#}");

    // Each target installs from the tree alone: empty cache, no network.
    let mirror = format!("file://{}", path_str(&out));
    world.fixture.clear_requests();
    for t in [TARGET, ARM] {
        let pkg = world.base().join(format!("pkg-{t}"));
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::copy(world.pkg().join("package.json"), pkg.join("package.json")).unwrap();
        let cache = path_str(&world.base().join(format!("cache-{t}")));
        world
            .postbin_env(
                &["install", "--package", &path_str(&pkg), "--target", t],
                &[
                    ("POSTBIN_MIRROR", &mirror),
                    ("POSTBIN_OFFLINE", "1"),
                    ("POSTBIN_CACHE_DIR", &cache),
                ],
            )
            .assert_ok();
        assert_runs(&placed(&pkg, "hello"));
    }
    world.assert_no_requests();
}
