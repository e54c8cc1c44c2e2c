//! `postbin init --from SOURCE` against the fixture's GitHub-like API: the
//! section written for cargo-dist, goreleaser and a cargo-dist npm package
//! (then installed and run), each bad input with its own message, `--dry-run`,
//! paging of the asset list, and the token sent to the API only when set.

use crate::archives::{Tar, Zip, xz};
use crate::support::*;
use serde_json::{Value, json};
use server_fixture::{Fixture, Options};

const MUSL: &str = TARGET;
const MAC: &str = "aarch64-apple-darwin";

/// `hello-<target>/hello` plus a README, as cargo-dist packs a tarball.
fn cargo_dist_tar(target: &str) -> Vec<u8> {
    Tar::new()
        .file(&format!("hello-{target}/hello"), 0o755, SCRIPT)
        .file(&format!("hello-{target}/README.md"), 0o644, b"readme")
        .finish()
}

/// Writes pkg/package.json (4-space indented, like some publishers').
fn write_package(world: &World, value: Value) {
    let text = serde_json::to_string_pretty(&value)
        .unwrap()
        .lines()
        .map(|l| {
            let body = l.trim_start();
            format!("{}{body}\n", "    ".repeat((l.len() - body.len()) / 2))
        })
        .collect::<String>();
    std::fs::write(world.pkg().join("package.json"), text).unwrap();
}

fn hello_package(world: &World) {
    write_package(
        world,
        json!({"name": "hello", "version": "1.0.0", "bin": {"hello": "bin/hello"}}),
    );
}

/// `postbin init --package pkg ARGS` with the fixture as the GitHub API.
fn init(world: &World, args: &[&str], env: &[(&str, &str)]) -> Run {
    let pkg = path_str(&world.pkg());
    let api = world.base_url();
    let mut all: Vec<&str> = vec!["init", "--package", &pkg];
    all.extend(args);
    let mut env = env.to_vec();
    env.push(("POSTBIN_GITHUB_API", &api));
    world.postbin_env(&all, &env)
}

fn from_release(world: &World) -> Run {
    init(world, &["--from", "acme/hello@v1.0.0"], &[])
}

fn download_url(world: &World) -> String {
    format!("{}/{RELEASE_DIR}", world.base_url())
}

/// Installs the package, as a consumer's dependency (inside node_modules),
/// for TARGET, and runs the placed executable.
fn installs_and_runs(world: &World) {
    let dep = copy_package(world, "consumer/node_modules/hello");
    world.install_pkg(&dep).assert_ok();
    assert_runs(&placed(&dep, "hello"));
}

#[test]
fn cargo_dist_release_with_sha256_files_and_a_manifest() {
    let world = World::new();
    let release = Release::new(&world.root());
    let mut manifest = json!({"dist_version": "0.30.0", "announcement_tag": "v1.0.0",
        "releases": [{"app_name": "hello", "app_version": "1.0.0"}], "artifacts": {}});
    for (target, name, bytes) in [
        (
            MUSL,
            format!("hello-{MUSL}.tar.xz"),
            xz(&cargo_dist_tar(MUSL)),
        ),
        (MAC, format!("hello-{MAC}.tar.xz"), xz(&cargo_dist_tar(MAC))),
        (
            WINDOWS,
            format!("hello-{WINDOWS}.zip"),
            Zip::new().file("hello.exe", 0o755, SCRIPT).finish(),
        ),
    ] {
        let sha = release.asset(&name, &bytes);
        release.asset(
            &format!("{name}.sha256"),
            format!("{sha} *{name}\n").as_bytes(),
        );
        let exe = if target == WINDOWS {
            "hello.exe"
        } else {
            "hello"
        };
        manifest["artifacts"][&name] = json!({"name": name, "kind": "executable-zip",
            "target_triples": [target], "checksum": format!("{name}.sha256"),
            "assets": [{"name": "hello", "path": exe, "kind": "executable"}],
            "checksums": {"sha256": sha}});
    }
    release.asset("dist-manifest.json", manifest.to_string().as_bytes());
    release.asset("hello-installer.sh", b"#!/bin/sh\n");
    release.asset("source.tar.gz", b"src");
    hello_package(&world);

    let run = from_release(&world);
    run.assert_ok();
    println!("{}", run.stdout);
    assert!(
        run.stdout
            .contains("skipped hello-installer.sh: installer script"),
        "{}",
        run.stdout
    );
    run.assert_stdout_has(&["skipped source.tar.gz: source tarball"]);
    run.assert_stdout_has(&["GitHub API digest, dist-manifest.json"]);
    // Nothing was downloaded: the manifest names the executables and hashes.
    assert!(
        world
            .requests()
            .iter()
            .all(|r| !r.path.ends_with(".tar.xz"))
    );
    let v = world.package_json();
    let section = &v["postbin"];
    assert_eq!(
        section["url"],
        format!(
            "{}/hello-{{target}}.{{format}}",
            download_url(&world).replace("v1.0.0", "v{version}")
        )
    );
    assert_eq!(section["format"], "tar.xz");
    assert_eq!(section["bin"], json!({"hello": "hello-{target}/hello"}));
    let windows = &section["targets"][WINDOWS];
    assert_eq!(windows["format"], "zip");
    assert_eq!(windows["bin"], json!({"hello": "hello{exe}"}));
    assert!(windows.get("url").is_none());
    assert_eq!(section["targets"].as_object().unwrap().len(), 3);
    // The package.json keeps its 4-space indentation.
    let text = world.package_text();
    assert!(text.starts_with("{\n    \"name\""), "{text}");
    installs_and_runs(&world);

    // The release workflow runs it again on every release: a section that
    // already matches the release is left as it is.
    from_release(&world).assert_ok();
    assert_eq!(world.package_text(), text);
}

fn goreleaser_release(world: &World) {
    let release = Release::new(&world.root());
    let mut sums = String::new();
    for (name, bytes) in [
        (
            "hello_1.0.0_linux_amd64.tar.gz",
            Tar::new()
                .file("hello", 0o755, SCRIPT)
                .file("README.md", 0o644, b"r")
                .gz(),
        ),
        (
            "hello_1.0.0_darwin_all.tar.gz",
            Tar::new().file("hello", 0o755, SCRIPT).gz(),
        ),
        (
            "hello_1.0.0_windows_amd64.zip",
            Zip::new().file("hello.exe", 0o755, SCRIPT).finish(),
        ),
    ] {
        let sha = release.asset(name, &bytes);
        sums += &format!("{sha}  {name}\n");
    }
    release.asset("checksums.txt", sums.as_bytes());
    release.asset("hello_1.0.0_amd64.deb", b"deb");
}

#[test]
fn goreleaser_names_with_checksums_txt_and_paging() {
    let world = World::new();
    goreleaser_release(&world);
    world.fixture.set_api_page_size(2);
    // No `bin` yet: the executables found become the commands.
    write_package(&world, json!({"name": "hello", "version": "1.0.0"}));

    let run = from_release(&world);
    run.assert_ok();
    println!("{}", run.stdout);
    assert!(
        run.stdout
            .contains("GitHub API digest, checksums.txt, download"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("skipped hello_1.0.0_amd64.deb: system package or installer")
    );
    let pages: Vec<String> = world
        .requests()
        .iter()
        .filter(|r| r.path.contains("/assets?"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(pages.len(), 3, "5 assets at 2 a page: {pages:?}");
    assert!(pages[2].ends_with("page=3"), "{pages:?}");
    let v = world.package_json();
    assert_eq!(v["bin"], json!({"hello": "bin/hello"}));
    let section = &v["postbin"];
    assert_eq!(
        section["url"],
        format!(
            "{}/hello_{{version}}_{{os}}_{{arch}}.{{format}}",
            download_url(&world).replace("v1.0.0", "v{version}")
        )
    );
    assert!(
        section.get("format").is_none() && section.get("bin").is_none(),
        "{section}"
    );
    let targets = section["targets"].as_object().unwrap();
    let keys: Vec<&String> = targets.keys().collect();
    assert_eq!(keys, ["universal2-apple-darwin", WINDOWS, MUSL]);
    assert_eq!(targets[WINDOWS]["format"], "zip");
    assert!(targets[MUSL]["size"].as_u64().unwrap() > 0);
    installs_and_runs(&world);
}

const INSTALL_JS: &str =
    "#!/usr/bin/env node\n\nconst { install } = require(\"./binary\");\ninstall(false);\n";

#[test]
fn a_cargo_dist_npm_package_is_migrated_in_place() {
    let world = World::new();
    let release = Release::new(&world.root());
    let gnu = "x86_64-unknown-linux-gnu";
    for target in [MUSL, gnu] {
        release.asset(
            &format!("hello-{target}.tar.gz"),
            &crate::archives::gzip(&cargo_dist_tar(target)),
        );
    }
    release.asset(
        &format!("hello-{WINDOWS}.zip"),
        &Zip::new().file("hello.exe", 0o755, SCRIPT).finish(),
    );
    let platform = |target: &str, ext: &str, exe: &str| json!({"artifactName": format!("hello-{target}{ext}"), "bins": {"hello": exe}, "zipExt": ext});
    write_package(
        &world,
        json!({
            "artifactDownloadUrls": [download_url(&world)],
            "bin": {"hello": "run-hello.js", "hello-link": "run-hello.js"},
            "dependencies": {"axios": "^1.13.5", "axios-proxy-builder": "^0.1.2",
                "console.table": "^0.10.0", "detect-libc": "^2.1.2", "rimraf": "^6.1.3", "left-pad": "1"},
            "devDependencies": {"prettier": "^3.8.1"},
            "glibcMinimum": {"major": 2, "series": 31},
            "name": "@acme/hello",
            "scripts": {"fmt": "prettier --write **/*.js", "postinstall": "node ./install.js"},
            "supportedPlatforms": {
                "aarch64-pc-windows-msvc": platform(WINDOWS, ".zip", "hello.exe"),
                gnu: platform(gnu, ".tar.gz", "hello"),
                "x86_64-unknown-linux-musl-static": platform(MUSL, ".tar.gz", "hello"),
                WINDOWS: platform(WINDOWS, ".zip", "hello.exe"),
            },
            "version": "1.0.0"
        }),
    );
    let pkg = world.pkg();
    std::fs::write(pkg.join("install.js"), INSTALL_JS).unwrap();
    std::fs::write(
        pkg.join("run-hello.js"),
        "const { run } = require(\"./binary\");\nrun(\"hello\");\n",
    )
    .unwrap();
    std::fs::write(
        pkg.join("binary.js"),
        "const { artifactDownloadUrls } = require(\"./package.json\");\n",
    )
    .unwrap();
    std::fs::write(pkg.join("binary-install.js"), "class Package {}\n").unwrap();
    std::fs::write(pkg.join("README.md"), "keep me").unwrap();

    // No --from: the package itself says where its release is.
    let run = init(&world, &[], &[]);
    run.assert_ok();
    println!("{}", run.stdout);
    for removed in [
        "install.js",
        "run-hello.js",
        "binary.js",
        "binary-install.js",
    ] {
        assert!(!pkg.join(removed).exists(), "{removed} is still there");
        assert!(
            run.stdout.contains(&format!("removed {removed}")),
            "{}",
            run.stdout
        );
    }
    assert!(pkg.join("README.md").exists());
    let v = world.package_json();
    assert_eq!(
        v["dependencies"],
        json!({"left-pad": "1", "postbin": format!("^{}", env!("CARGO_PKG_VERSION"))})
    );
    assert_eq!(v["devDependencies"], json!({"prettier": "^3.8.1"}));
    assert_eq!(v["scripts"]["postinstall"], "postbin install");
    assert_eq!(v["scripts"]["fmt"], "prettier --write **/*.js");
    assert_eq!(
        v["bin"],
        json!({"hello": "bin/hello", "hello-link": "bin/hello-link"})
    );
    for key in ["artifactDownloadUrls", "supportedPlatforms", "glibcMinimum"] {
        assert!(v.get(key).is_none(), "{key} is still there");
    }
    let targets = &v["postbin"]["targets"];
    // Windows on Arm keeps its x64 build.
    let arm = &targets["aarch64-pc-windows-msvc"];
    assert!(
        arm["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("hello-{WINDOWS}.{{format}}")),
        "{arm}"
    );
    assert_eq!(arm["sha256"], targets[WINDOWS]["sha256"]);
    assert_eq!(targets[gnu]["glibc"], "2.31");
    assert!(targets[MUSL].get("glibc").is_none());
    let bin = targets[MUSL].get("bin").unwrap_or(&v["postbin"]["bin"]);
    assert_eq!(bin["hello-link"], "hello-{target}/hello");
    installs_and_runs(&world);
    // A second run finds nothing left to migrate and changes nothing.
    let text = std::fs::read_to_string(pkg.join("package.json")).unwrap();
    init(&world, &[], &[]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(pkg.join("package.json")).unwrap(),
        text
    );
}

#[test]
fn dry_run_prints_the_table_and_writes_nothing() {
    let world = World::new();
    goreleaser_release(&world);
    hello_package(&world);
    let before = world.package_text();
    let run = init(&world, &["--from", "acme/hello@v1.0.0", "--dry-run"], &[]);
    run.assert_ok();
    run.assert_stdout_has(&["dry run: nothing written"]);
    run.assert_stdout_has(&["hello_1.0.0_linux_amd64.tar.gz"]);
    assert_eq!(world.package_text(), before);
    assert!(!world.pkg().join("bin").exists());
}

#[test]
fn from_a_release_page_url_and_a_directory() {
    let world = World::new();
    goreleaser_release(&world);
    hello_package(&world);
    let page = "https://github.com/acme/hello/releases/tag/v1.0.0";
    init(&world, &["--from", page, "--dry-run"], &[]).assert_ok();
    // A local directory: published where `repository` says.
    write_package(
        &world,
        json!({"name": "hello", "version": "1.0.0", "bin": {"hello": "bin/hello"},
            "repository": {"type": "git", "url": "git+https://github.com/acme/hello.git"}}),
    );
    let dir = path_str(&world.root().join(RELEASE_DIR));
    let run = init(&world, &["--from", &dir, "--dry-run"], &[]);
    run.assert_ok();
    run.assert_stdout_has(&["download"]);
}

fn assert_not_written(world: &World, before: &str) {
    assert_eq!(world.package_text(), before);
}

fn bad(world: &World) -> (Run, String) {
    hello_package(world);
    let before = world.package_text();
    (from_release(world), before)
}

#[test]
fn a_release_with_no_recognisable_asset_is_refused() {
    let world = World::new();
    let release = Release::new(&world.root());
    release.asset("notes.txt", b"notes");
    release.asset("source.tar.gz", b"src");
    let (run, before) = bad(&world);
    run.assert_exit(exit::CONFIG).assert_stderr_has(&[
        "GitHub release acme/hello@v1.0.0 has no asset postbin can install",
        "notes.txt: not an archive",
        "source.tar.gz: source tarball",
    ]);
    assert_not_written(&world, &before);
}

#[test]
fn two_assets_for_one_target_are_named() {
    let world = World::new();
    let release = Release::new(&world.root());
    release.asset(
        &format!("hello-{MUSL}.tar.gz"),
        &Tar::new().file("hello", 0o755, SCRIPT).gz(),
    );
    release.asset(
        &format!("hello-static-{MUSL}.tar.gz"),
        &Tar::new().file("hello", 0o755, SCRIPT).gz(),
    );
    let (run, before) = bad(&world);
    run.assert_exit(exit::CONFIG).assert_stderr_has(&[
        &format!("are for {MUSL}: hello-static-{MUSL}.tar.gz and hello-{MUSL}.tar.gz"),
        "Put the assets to publish in a directory",
    ]);
    assert_not_written(&world, &before);
}

/// goreleaser v2's `formats: [tar.gz, zip]` publishes each archive twice:
/// one is taken per target by the documented preference (zip on Windows,
/// the tarball elsewhere), the other reported.
#[test]
fn one_archive_in_two_formats_takes_the_preferred_one() {
    let world = World::new();
    let release = Release::new(&world.root());
    for (os, exe) in [("linux", "hello"), ("windows", "hello.exe")] {
        release.asset(
            &format!("hello_1.0.0_{os}_amd64.tar.gz"),
            &Tar::new().file(exe, 0o755, SCRIPT).gz(),
        );
        release.asset(
            &format!("hello_1.0.0_{os}_amd64.zip"),
            &Zip::new().file(exe, 0o755, SCRIPT).finish(),
        );
    }
    hello_package(&world);
    let run = from_release(&world);
    run.assert_ok();
    for (skipped, kept) in [
        (
            "hello_1.0.0_linux_amd64.zip",
            "hello_1.0.0_linux_amd64.tar.gz",
        ),
        (
            "hello_1.0.0_windows_amd64.tar.gz",
            "hello_1.0.0_windows_amd64.zip",
        ),
    ] {
        assert!(
            run.stdout
                .contains(&format!("skipped {skipped}: the same archive as {kept}")),
            "{}",
            run.stdout
        );
    }
    let v = world.package_json();
    let format = |target: &str| {
        let own = &v["postbin"]["targets"][target]["format"];
        own.as_str()
            .or(v["postbin"]["format"].as_str())
            .unwrap_or("tar.gz")
            .to_string()
    };
    assert_eq!(format(WINDOWS), "zip");
    assert_eq!(format(MUSL), "tar.gz");
    installs_and_runs(&world);
}

#[test]
fn a_checksums_file_that_disagrees_with_the_api_digest_is_refused() {
    let world = World::new();
    let release = Release::new(&world.root());
    let name = format!("hello-{MUSL}.tar.gz");
    let sha = release.asset(&name, &Tar::new().file("hello", 0o755, SCRIPT).gz());
    let wrong = sha256(b"something else");
    release.asset("checksums.txt", format!("{wrong}  {name}\n").as_bytes());
    let (run, before) = bad(&world);
    run.assert_exit(exit::INTEGRITY).assert_stderr_has(&[
        &format!("GitHub API digest says {sha}"),
        &format!("checksums.txt says {wrong}"),
    ]);
    assert_not_written(&world, &before);
}

#[test]
fn an_asset_without_the_declared_bin_is_refused() {
    let world = World::new();
    Release::new(&world.root()).asset(
        &format!("hello-{MUSL}.tar.gz"),
        &Tar::new().file("other", 0o755, SCRIPT).gz(),
    );
    let (run, before) = bad(&world);
    run.assert_exit(exit::CONFIG).assert_stderr_has(&[
        &format!("hello-{MUSL}.tar.gz ({MUSL}) has no `hello`, which package.json `bin` declares; it holds: other"),
    ]);
    assert_not_written(&world, &before);
}

/// The token goes to the API (over HTTPS, to a GitHub host) only when set.
#[test]
fn the_token_is_sent_to_the_api_only_when_set() {
    let mut world = World::new();
    goreleaser_release(&world);
    world.fixture = Fixture::start_with(Options {
        root: world.root(),
        https: true,
    })
    .unwrap();
    let ca = world.base().join("ca.pem");
    world.fixture.write_ca_pem(&ca).unwrap();
    let ca = path_str(&ca);
    let api_auth = |world: &World| -> Vec<Option<String>> {
        world
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/repos/"))
            .map(|r| r.authorization.clone())
            .collect()
    };
    let env = [
        ("POSTBIN_CA_FILE", ca.as_str()),
        ("POSTBIN_TEST_GITHUB_HOSTS", "127.0.0.1"),
    ];
    hello_package(&world);
    init(&world, &["--from", "acme/hello@v1.0.0", "--dry-run"], &env).assert_ok();
    let without = api_auth(&world);
    assert!(
        !without.is_empty() && without.iter().all(Option::is_none),
        "{without:?}"
    );
    world.fixture.clear_requests();
    let mut with_token = env.to_vec();
    with_token.push(("GITHUB_TOKEN", "s3cret-token"));
    let run = init(
        &world,
        &["--from", "acme/hello@v1.0.0", "--dry-run"],
        &with_token,
    );
    run.assert_ok();
    let with = api_auth(&world);
    assert!(
        !with.is_empty()
            && with
                .iter()
                .all(|a| a.as_deref() == Some("Bearer s3cret-token")),
        "{with:?}"
    );
    assert!(!run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"));
}
