//! What `init --from` writes for the real release shapes of the corpus
//! (tests/fixtures/real-releases), each defect once seen on them asserted
//! away: goreleaser's empty `WrappedIn`, cargo-dist npm packages' singular
//! `artifactDownloadUrl` and key order, workspace manifests, tags read not
//! guessed, true skip reasons, hashes not fetched twice, target names that
//! are paths; and `check` failing wherever an install would.

use crate::real_releases::{Case, Input, corpus_env, from, set_up, write_json};
use crate::support::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn case(dir: &'static str, input: Input) -> Case {
    Case {
        dir,
        input,
        expect: "",
        restamp: false,
    }
}

/// `set_up` of the case, asserting `init` succeeded; the world and its run.
fn set_up_ok(dir: &'static str, input: Input) -> (World, Run) {
    let (world, init) = set_up(&case(dir, input));
    init.assert_ok();
    (world, init)
}

/// Asserts the written package.json does (or does not) contain `needle`.
#[track_caller]
fn assert_package_has(world: &World, needle: &str, has: bool) {
    let text = world.package_text();
    assert_eq!(text.contains(needle), has, "{needle:?} in:\n{text}");
}

/// A world and its `dist/` directory, with a cargo-dist style archive of
/// `hello-{TARGET}/hello` (not written there): the archive's name and bytes.
fn dist_dir() -> (World, PathBuf, String, Vec<u8>) {
    let world = World::new();
    let dir = world.base().join("dist");
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("hello-{TARGET}.tar.gz");
    let bytes = crate::archives::Tar::new()
        .file(&format!("hello-{TARGET}/hello"), 0o755, SCRIPT)
        .gz();
    (world, dir, name, bytes)
}

/// Writes `manifest` as `dir/dist-manifest.json` and a package `hello` of
/// `version` (repository github:acme/hello), then runs `init --from` it.
fn init_from_manifest(world: &World, dir: &Path, manifest: &Value, version: &str) -> Run {
    write_json(&dir.join("dist-manifest.json"), manifest);
    write_json(
        &world.pkg().join("package.json"),
        &json!({"name": "hello", "version": version, "repository": "github:acme/hello"}),
    );
    let pkg = path_str(&world.pkg());
    let from = path_str(&dir.join("dist-manifest.json"));
    run(world, &["init", "--package", &pkg, "--from", &from])
}

fn run(world: &World, args: &[&str]) -> Run {
    let env = corpus_env(world);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    world.postbin_env(args, &env)
}

#[test]
fn goreleaser_archives_without_a_top_directory_get_relative_bins() {
    let (world, init) = set_up_ok(
        "goreleaser-marvai",
        from(
            "dist/artifacts.json",
            "marvai",
            "https://github.com/acme/tool",
        ),
    );
    assert_package_has(&world, "\"/marvai", false);
    // The names of goreleaser's default template (`marvai_Linux_x86_64`,
    // `marvai_Darwin_arm64`, ...) are one url for every target, `{Os}_{Arch}`,
    // under metadata.json's tag (this snapshot build's `v0.0.0`, not a
    // `v<version>` guessed).
    let v = world.package_json();
    let url = v["postbin"]["url"].as_str().unwrap_or_default();
    assert!(
        url.ends_with("/acme/tool/releases/download/v0.0.0/marvai_{Os}_{Arch}.{format}"),
        "{v:#}"
    );
    for (target, entry) in v["postbin"]["targets"].as_object().unwrap() {
        assert!(
            entry.get("url").is_none(),
            "{target} has a url of its own: {v:#}"
        );
    }
    // Every skip says why, truly.
    assert!(
        init.stdout.contains(
            "skipped marvai_Windows_armv6.zip: no postbin installer runs on 32-bit ARM Windows"
        ),
        "{}",
        init.stdout
    );
    init.assert_stdout_lacks(&["source tarball?"]);
    // `prepack` runs postbin from node_modules: before `npm install` it
    // is not there, and init says so.
    assert!(
        init.stdout
            .contains("next: run `npm install` before `npm pack`"),
        "{}",
        init.stdout
    );
    let pkg = path_str(&world.pkg());
    run(&world, &["check", "--package", &pkg]).assert_ok();
    let installed = world.pkg().join("node_modules/postbin");
    std::fs::create_dir_all(&installed).unwrap();
    std::fs::write(installed.join("package.json"), "{}").unwrap();
    // Without its prepack script, init writes package.json again.
    let mut v = world.package_json();
    v["scripts"].as_object_mut().unwrap().remove("prepack");
    write_json(&world.pkg().join("package.json"), &v);
    let again = run(&world, &["init", "--package", &pkg]);
    again.assert_ok();
    again.assert_stdout_has(&["prepack scripts"]);
    again.assert_stdout_lacks(&["next: run `npm install`"]);
}

#[test]
fn check_fails_where_an_install_would() {
    let world = World::new();
    let sha = sha256(b"archive");
    world.package(json!({
        "url": world.url_template(),
        "bin": {"hello": "/hello{exe}"},
        "targets": {TARGET: {"sha256": sha}},
    }));
    let pkg = path_str(&world.pkg());
    world.postbin(&["init", "--package", &pkg]).assert_ok();
    let plan = world.postbin(&["plan", "--package", &pkg, "--targets", "all"]);
    assert_ne!(plan.code, Some(0));
    world
        .postbin(&["check", "--package", &pkg])
        .assert_exit(1)
        .assert_stderr_has(&[
            &format!("postbin.targets.{TARGET}: an install would fail"),
            "must be a relative path inside the archive",
        ]);
}

#[test]
fn a_registry_cargo_dist_package_is_migrated_in_key_order() {
    let (world, init) = set_up_ok("npm-axodotdev-oranda-0.6.5", Input::NpmPackage(None));
    let v = world.package_json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let original: Value = serde_json::from_str(
        &std::fs::read_to_string(world.base().join("input/package.json")).unwrap(),
    )
    .unwrap();
    // The keys that stay keep their order (`volta` stays after `version`).
    let kept: Vec<&str> = original
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| keys.contains(k))
        .collect();
    let in_output: Vec<&str> = keys.iter().copied().filter(|k| kept.contains(k)).collect();
    assert_eq!(in_output, kept);
    for gone in ["artifactDownloadUrl", "supportedPlatforms"] {
        assert!(v.get(gone).is_none(), "{gone} left behind");
    }
    let deps = v["dependencies"].as_object().unwrap();
    for gone in ["tar", "axios", "detect-libc"] {
        assert!(!deps.contains_key(gone), "dependency {gone} left behind");
    }
    init.assert_stdout_has(&["npm-shrinkwrap.json still pins"]);
    // `-musl-dynamic` and `-musl-static` are one musl target.
    let targets = v["postbin"]["targets"].as_object().unwrap();
    assert!(targets.contains_key("x86_64-unknown-linux-musl"));
    assert!(targets.keys().all(|t| !t.ends_with("-static")));
}

#[test]
fn glibc_minimum_of_a_cargo_dist_package_is_kept() {
    let (world, _) = set_up_ok("npm-aiken-lang-aiken-1.1.21", Input::NpmPackage(None));
    let v = world.package_json();
    assert_eq!(
        v["postbin"]["targets"]["x86_64-unknown-linux-gnu"]["glibc"],
        "2.31"
    );
}

#[test]
fn a_workspace_manifest_is_narrowed_to_the_packages_app() {
    let (world, _) = set_up_ok(
        "cargo-dist-0.30.0-workspace",
        from(
            "dist-manifest.json",
            "axolotlsay",
            "https://github.com/axodotdev/axolotlsay",
        ),
    );
    assert_package_has(&world, "axolotlsay-js", false);

    let (world, other) = set_up(&case(
        "cargo-dist-0.30.0-workspace",
        from(
            "dist-manifest.json",
            "not-an-app",
            "https://github.com/axodotdev/axolotlsay",
        ),
    ));
    other.assert_exit(3).assert_stderr_has(&[
        "releases 2 apps (axolotlsay, axolotlsay-js)",
        "give `--app NAME`",
    ]);
    // `--app` names it whatever the package is called.
    let pkg = path_str(&world.pkg());
    let from = path_str(&world.base().join("input/dist-manifest.json"));
    let args = ["init", "--package", &pkg, "--from", &from, "--app"];
    run(&world, &[&args[..], &["axolotlsay-js"]].concat()).assert_ok();
    assert_package_has(&world, "axolotlsay-js-", true);
    run(&world, &[&args[..], &["nope"]].concat())
        .assert_exit(2)
        .assert_stderr_has(&["--app nope: dist-manifest.json releases no such app"]);
}

#[test]
fn tags_and_hosts_are_read_from_the_manifest() {
    // 0.12's `hosting.github.artifact_download_url`, with no `repository`.
    let (world, _) = set_up_ok(
        "cargo-dist-0.12.0-axolotlsay",
        from("dist-manifest.json", "axolotlsay", ""),
    );
    let url = world.package_json()["postbin"]["url"].clone();
    assert_eq!(
        url,
        "https://github.com/axodotdev/axolotlsay/releases/download/v{version}/axolotlsay-{target}.{format}"
    );

    // `announcement_tag` without `v`.
    let (world, dir, name, bytes) = dist_dir();
    std::fs::write(dir.join(&name), &bytes).unwrap();
    let manifest = json!({"dist_version": "0.30.0", "announcement_tag": "1.2.3",
        "releases": [{"app_name": "hello", "app_version": "1.2.3", "artifacts": [name]}],
        "artifacts": {&name: {"kind": "executable-zip", "target_triples": [TARGET],
            "assets": [{"kind": "executable", "name": "hello", "path": "hello"}],
            "checksums": {"sha256": sha256(&bytes)}}}});
    init_from_manifest(&world, &dir, &manifest, "1.2.3").assert_ok();
    let url = world.package_json()["postbin"]["url"].clone();
    assert_eq!(
        url,
        "https://github.com/acme/hello/releases/download/{version}/hello-{target}.{format}"
    );
}

#[test]
fn a_hash_the_manifest_states_is_not_fetched_again() {
    let (world, dir, name, bytes) = dist_dir();
    // The manifest names a `.sha256` the release has, but nothing is served:
    // the embedded hash is enough.
    let manifest = json!({"dist_version": "0.30.0", "announcement_tag": "v1.0.0",
        "releases": [{"app_name": "hello", "app_version": "1.0.0",
            "artifacts": [name, format!("{name}.sha256")]}],
        "artifacts": {&name: {"kind": "executable-zip", "target_triples": [TARGET],
            "checksum": format!("{name}.sha256"),
            "assets": [{"kind": "executable", "name": "hello", "path": "hello"}],
            "checksums": {"sha256": sha256(&bytes)}},
            format!("{name}.sha256"): {"kind": "checksum"}}});
    let init = init_from_manifest(&world, &dir, &manifest, "1.0.0");
    init.assert_ok();
    init.assert_stdout_has(&["dist-manifest.json"]);
    init.assert_stdout_lacks(&["trust on first use"]);
    assert_eq!(
        world.package_json()["postbin"]["targets"][TARGET]["sha256"],
        sha256(&bytes)
    );
}

#[test]
fn a_hash_only_the_bytes_vouch_for_is_called_trust_on_first_use() {
    let world = World::new();
    let dir = world.base().join("assets");
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("hello-{TARGET}.tar.gz");
    std::fs::write(
        dir.join(&name),
        crate::archives::Tar::new()
            .file("hello", 0o755, SCRIPT)
            .gz(),
    )
    .unwrap();
    write_json(
        &world.pkg().join("package.json"),
        &json!({"name": "hello", "version": "1.0.0", "repository": "github:acme/hello"}),
    );
    let pkg = path_str(&world.pkg());
    let init = run(
        &world,
        &["init", "--package", &pkg, "--from", &path_str(&dir)],
    );
    init.assert_ok();
    assert!(
        init.stdout.contains(&format!(
            "trust on first use: nothing but the bytes themselves vouches for the sha256 of {name}"
        )),
        "{}",
        init.stdout
    );
}

#[test]
fn a_target_name_that_is_a_path_is_refused_where_it_is_read() {
    for bad in ["../../x", "/", "a\\b", "", ".", ".."] {
        let world = World::new();
        let dir = world.base().join("dist");
        std::fs::create_dir_all(&dir).unwrap();
        let manifest = json!({"dist_version": "0.30.0", "announcement_tag": "v1.0.0",
            "releases": [{"app_name": "hello", "app_version": "1.0.0"}],
            "artifacts": {"hello.tar.gz": {"kind": "executable-zip", "target_triples": [bad],
                "assets": [{"kind": "executable", "name": "hello", "path": "hello"}]}}});
        write_json(&dir.join("dist-manifest.json"), &manifest);
        write_json(
            &world.pkg().join("package.json"),
            &json!({"name": "hello", "version": "1.0.0", "repository": "github:acme/hello"}),
        );
        let pkg = path_str(&world.pkg());
        let from = path_str(&dir.join("dist-manifest.json"));
        run(&world, &["init", "--package", &pkg, "--from", &from])
            .assert_exit(3)
            .assert_stderr_has(&[&format!(
                "names the target `{bad}`, which is no target name"
            )]);
    }
}

#[test]
fn a_missing_release_file_is_named_with_the_release() {
    let (world, _) = set_up(&case(
        "github-api-poof-0.5.0",
        from("release.json", "poof", "https://github.com/pirafrank/poof"),
    ));
    // Without the archives, the one needed file is missing: its URL is named.
    let served = world.root().join("pirafrank");
    std::fs::remove_dir_all(served).unwrap();
    let pkg = path_str(&world.pkg());
    let from = path_str(&world.base().join("input/release.json"));
    run(&world, &["init", "--package", &pkg, "--from", &from]).assert_stderr_has(&[
        "the release has no https://github.com/pirafrank/poof/releases/download/v0.5.0/",
    ]);
}

#[test]
fn a_dry_run_says_nothing_was_written() {
    let (world, _) = set_up_ok(
        "cargo-dist-0.28.0-duckfetch",
        from(
            "dist-manifest.json",
            "duckfetch",
            "https://github.com/pmassicotte/duckfetch",
        ),
    );
    let pkg = path_str(&world.pkg());
    let from = path_str(&world.base().join("input/dist-manifest.json"));
    let dry = run(
        &world,
        &["init", "--package", &pkg, "--from", &from, "--dry-run"],
    );
    dry.assert_ok();
    dry.assert_stdout_has(&["dry run: nothing written"]);
    dry.assert_stdout_lacks(&["already set up"]);
}

/// A crate without cargo-binstall's `pkg-url` is refused with the way out
/// (the release itself), not guessed; a Cargo.toml that is no TOML says
/// its line.
#[test]
fn a_cargo_toml_without_binstall_urls_names_the_release_as_the_way() {
    let world = World::new();
    write_json(
        &world.pkg().join("package.json"),
        &json!({"name": "tool", "version": "1.0.0", "repository": "github:acme/tool"}),
    );
    let pkg = path_str(&world.pkg());
    let toml = world.base().join("Cargo.toml");
    std::fs::write(&toml, "[package]\nname = \"tool\"\nversion = \"1.0.0\"\n").unwrap();
    let run = world.postbin(&["init", "--package", &pkg, "--from", &path_str(&toml)]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    run.assert_stderr_has(&[
        "no [package.metadata.binstall] pkg-url",
        "--from owner/repo@tag",
    ]);
    std::fs::write(&toml, "[package]\nname = \"tool\nversion = \"1.0.0\"\n").unwrap();
    let run = world.postbin(&["init", "--package", &pkg, "--from", &path_str(&toml)]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    run.assert_stderr_has(&["line 2: unterminated string"]);
}

/// `check` says why a template is bad: the unknown variable and the known ones.
#[test]
fn check_names_the_unknown_template_variable() {
    let world = World::new();
    world.package(json!({
        "url": "https://example.com/{nope}/hello-{target}.tar.gz",
        "bin": {"hello": "hello{exe}"},
        "targets": {TARGET: {"sha256": sha256(b"archive")}},
    }));
    let pkg = path_str(&world.pkg());
    world.postbin(&["init", "--package", &pkg]).assert_ok();
    let check = world.postbin(&["check", "--package", &pkg]);
    assert_ne!(check.code, Some(0));
    check.assert_stderr_has(&["unknown template variable `{nope}`", "{Os}"]);
}
