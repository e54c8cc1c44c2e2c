//! `postbin pin` from every checksums format release tools publish, several
//! sources merged, checksums URLs fetched like assets (mirrors, exit codes),
//! and `--download` pinning only archives that hold the declared bins.

use crate::archives::{Zip, nested_tar};
use crate::net_servers::free_port;
use crate::support::*;
use serde_json::{Value, json};
use server_fixture::Fixture;

const LINUX_ASSET: &str = "hello-x86_64-unknown-linux-musl.tar.gz";
const WINDOWS_ASSET: &str = "hello-x86_64-pc-windows-msvc.zip";

/// A release with a Linux tar.gz and a Windows zip, and a package offering
/// both targets, neither pinned. Returns the world and the two hashes.
fn release() -> (World, String, String) {
    let world = World::new();
    let linux = world.publish(LINUX_ASSET, &nested_tar(TARGET).gz());
    let windows = world.publish(WINDOWS_ASSET, &windows_zip());
    world.package(json!({
        "url": world.url_template(),
        "bin": { "hello": "hello-{target}/hello{exe}" },
        "targets": { TARGET: {}, WINDOWS: { "format": "zip" } }
    }));
    (world, linux, windows)
}

fn windows_zip() -> Vec<u8> {
    Zip::new()
        .file(
            &format!("hello-{WINDOWS}/hello.exe"),
            0o755,
            b"MZ not really",
        )
        .finish()
}

/// A package offering only the Linux target, whose asset is `bytes`.
fn one_target(bytes: &[u8]) -> World {
    let world = World::new();
    world.publish(LINUX_ASSET, bytes);
    world.package(json!({
        "url": world.url_template(),
        "bin": { "hello": "hello-{target}/hello{exe}" },
        "targets": { TARGET: {} }
    }));
    world
}

fn pin(world: &World, args: &[&str]) -> Run {
    pin_env(world, args, &[])
}

fn pin_env(world: &World, args: &[&str], env: &[(&str, &str)]) -> Run {
    let pkg = path_str(&world.pkg());
    let mut all = vec!["pin", "--package", pkg.as_str()];
    all.extend_from_slice(args);
    world.postbin_env(&all, env)
}

/// Writes `text` as file `name` in the test's temp root; returns its path.
fn file(world: &World, name: &str, text: &str) -> String {
    let path = world.base().join(name);
    std::fs::write(&path, text).unwrap();
    path_str(&path)
}

/// Publishes `text` as release file `name`; returns its URL.
fn served(world: &World, name: &str, text: &str) -> String {
    world.publish(name, text.as_bytes());
    format!("{}/{RELEASE_DIR}/{name}", world.base_url())
}

fn pinned(world: &World, target: &str) -> Option<String> {
    world.package_json()["postbin"]["targets"][target]["sha256"]
        .as_str()
        .map(str::to_string)
}

/// `pin --checksums SUMS` pins both targets to the published hashes.
#[track_caller]
fn assert_pins_both(world: &World, sums: &str, linux: &str, windows: &str) {
    let run = pin(world, &["--checksums", sums]);
    assert_both_pinned(world, &run, linux, windows, sums);
}

/// Both targets pinned to the published hashes, each line naming `from`.
#[track_caller]
fn assert_both_pinned(world: &World, run: &Run, linux: &str, windows: &str, from: &str) {
    run.assert_ok();
    run.assert_stdout_line(&format!("pinned {TARGET} {linux} from {from}"));
    run.assert_stdout_line(&format!("pinned {WINDOWS} {windows} from {from}"));
    assert_eq!(pinned(world, TARGET).as_deref(), Some(linux));
    assert_eq!(pinned(world, WINDOWS).as_deref(), Some(windows));
}

// --- one test per format ---

#[test]
fn sha256sum_output_with_text_and_binary_marks_and_paths() {
    let (world, linux, windows) = release();
    let sums = file(
        &world,
        "SHA256SUMS",
        &format!("{linux}  ./dist/{LINUX_ASSET}\n{windows} *{WINDOWS_ASSET}\n"),
    );
    assert_pins_both(&world, &sums, &linux, &windows);
}

#[test]
fn bsd_style_lines() {
    let (world, linux, windows) = release();
    let sums = file(
        &world,
        "sums.bsd",
        &format!("SHA256 ({LINUX_ASSET}) = {linux}\nSHA256 ({WINDOWS_ASSET}) = {windows}\n"),
    );
    assert_pins_both(&world, &sums, &linux, &windows);
}

#[test]
fn goreleaser_checksums_txt_by_url() {
    let world = World::new();
    let linux = world.publish("hello_1.0.0_linux_amd64.tar.gz", &nested_tar(TARGET).gz());
    let windows = world.publish("hello_1.0.0_windows_amd64.zip", &windows_zip());
    world.package(json!({
        "url": format!("{}/{RELEASE_DIR}/hello_{{version}}_{{os}}_{{arch}}.{{format}}", world.base_url()),
        "bin": { "hello": "hello-{target}/hello{exe}" },
        "targets": { TARGET: {}, WINDOWS: { "format": "zip" } }
    }));
    let url = served(
        &world,
        "hello_1.0.0_checksums.txt",
        &format!(
            "{windows}  hello_1.0.0_windows_amd64.zip\n{linux}  hello_1.0.0_linux_amd64.tar.gz\n"
        ),
    );
    assert_pins_both(&world, &url, &linux, &windows);
}

/// cargo-dist's `<asset>.sha256` beside each asset, through a template over
/// the asset's URL: the current `<hex> *<name>` and the older bare hash.
#[test]
fn per_asset_sha256_files_through_a_url_template() {
    let (world, linux, windows) = release();
    let linux_url = served(
        &world,
        &format!("{LINUX_ASSET}.sha256"),
        &format!("{linux} *{LINUX_ASSET}\n"),
    );
    let windows_url = served(&world, &format!("{WINDOWS_ASSET}.sha256"), &windows);
    let run = pin(&world, &["--checksums", "{url}.sha256"]);
    run.assert_ok();
    run.assert_stdout_line(&format!("pinned {TARGET} {linux} from {linux_url}"));
    run.assert_stdout_line(&format!("pinned {WINDOWS} {windows} from {windows_url}"));
    assert_eq!(pinned(&world, WINDOWS), Some(windows));
}

/// A bare hash in a local file applies to the asset the file is named after.
#[test]
fn a_local_per_asset_file_by_its_name() {
    let world = one_target(&nested_tar(TARGET).gz());
    let sha = sha256(&nested_tar(TARGET).gz());
    let sums = file(
        &world,
        &format!("{LINUX_ASSET}.sha256"),
        &format!("{sha}\n"),
    );
    pin(&world, &["--checksums", &sums]).assert_ok();
    assert_eq!(pinned(&world, TARGET), Some(sha));
}

#[test]
fn cargo_dist_sha256_sum() {
    let (world, linux, windows) = release();
    let url = served(
        &world,
        "sha256.sum",
        &format!("{linux} *{LINUX_ASSET}\n{windows} *{WINDOWS_ASSET}\n\n"),
    );
    assert_pins_both(&world, &url, &linux, &windows);
}

#[test]
fn cargo_dist_manifest() {
    let (world, linux, windows) = release();
    let artifact = |name: &str, target: &str, sha: &str| {
        json!({
            "name": name,
            "kind": "executable-zip",
            "target_triples": [target],
            "assets": [{ "name": "hello", "path": "hello", "kind": "executable" }],
            "checksum": format!("{name}.sha256"),
            "checksums": { "sha256": sha }
        })
    };
    let manifest = json!({
        "dist_version": "0.28.0",
        "announcement_tag": "v1.0.0",
        "releases": [{ "app_name": "hello", "app_version": "1.0.0",
                       "artifacts": [LINUX_ASSET, WINDOWS_ASSET] }],
        "artifacts": {
            LINUX_ASSET: artifact(LINUX_ASSET, TARGET, &linux),
            WINDOWS_ASSET: artifact(WINDOWS_ASSET, WINDOWS, &windows),
            format!("{LINUX_ASSET}.sha256"): { "name": format!("{LINUX_ASSET}.sha256"), "kind": "checksum" }
        }
    });
    let path = file(
        &world,
        "dist-manifest.json",
        &serde_json::to_string_pretty(&manifest).unwrap(),
    );
    assert_pins_both(&world, &path, &linux, &windows);
}

#[test]
fn github_release_api_json_saved_as_a_file() {
    let (world, linux, windows) = release();
    let asset = |name: &str, digest: Value| {
        json!({
            "url": "https://api.github.com/repos/acme/hello/releases/assets/1",
            "browser_download_url": format!("https://github.com/{RELEASE_DIR}/{name}"),
            "name": name,
            "size": 1234,
            "digest": digest
        })
    };
    let release = json!({
        "tag_name": "v1.0.0",
        "name": "v1.0.0",
        "assets": [
            asset(LINUX_ASSET, json!(format!("sha256:{linux}"))),
            asset(WINDOWS_ASSET, json!(format!("sha256:{windows}"))),
            asset("hello-source.tar.gz", Value::Null)
        ]
    });
    let path = file(&world, "release.json", &release.to_string());
    assert_pins_both(&world, &path, &linux, &windows);
}

// --- several sources ---

#[test]
fn several_sources_merge() {
    let (world, linux, windows) = release();
    let a = file(&world, "a.sums", &format!("{linux}  {LINUX_ASSET}\n"));
    let b = file(
        &world,
        "b.sums",
        &format!("SHA256 ({WINDOWS_ASSET}) = {windows}\nSHA256 ({LINUX_ASSET}) = {linux}\n"),
    );
    let run = pin(&world, &["--checksums", &a, "--checksums", &b]);
    run.assert_ok();
    run.assert_stdout_line(&format!("pinned {TARGET} {linux} from {a}, {b}"));
    run.assert_stdout_line(&format!("pinned {WINDOWS} {windows} from {b}"));
}

#[test]
fn sources_that_disagree_fail_naming_both_and_write_nothing() {
    let (world, linux, windows) = release();
    let other = "0".repeat(64);
    let a = file(
        &world,
        "a.sums",
        &format!("{linux}  {LINUX_ASSET}\n{windows}  {WINDOWS_ASSET}\n"),
    );
    let b = file(&world, "b.sums", &format!("{other}  {LINUX_ASSET}\n"));
    let before = world.package_text();
    pin(&world, &["--checksums", &a, "--checksums", &b])
        .assert_exit(exit::INTEGRITY)
        .assert_stderr_line(&format!(
            "postbin: error: the sources disagree on the sha256 of {LINUX_ASSET} ({TARGET}):"
        ))
        .assert_stderr_line(&format!("  {linux} in {a}"))
        .assert_stderr_line(&format!("  {other} in {b}"));
    assert_eq!(world.package_text(), before);
}

#[test]
fn a_target_in_no_source_is_not_pinned() {
    let (world, linux, _) = release();
    let a = file(&world, "a.sums", &format!("{linux}  {LINUX_ASSET}\n"));
    let run = pin(&world, &["--checksums", &a]);
    run.assert_exit(exit::FAILURE).assert_stderr_line(&format!(
        "postbin: not pinned: {WINDOWS}: {WINDOWS_ASSET} is in none of the checksums sources ({a})"
    ));
    assert_eq!(pinned(&world, TARGET), Some(linux));
    assert_eq!(pinned(&world, WINDOWS), None);
}

// --- fetching checksums URLs ---

/// The checksums URL goes to the mirror, like the assets: the origin is
/// never contacted.
#[test]
fn a_checksums_url_goes_through_the_mirror() {
    let (world, linux, windows) = release();
    let origin_url = served(
        &world,
        "SHA256SUMS",
        &format!("{linux}  {LINUX_ASSET}\n{windows}  {WINDOWS_ASSET}\n"),
    );
    let mirror_root = world.mirror_copy("mirror");
    let mirror = Fixture::start(&mirror_root).unwrap();
    let mirrored = format!("{}/{RELEASE_DIR}/SHA256SUMS", mirror.base_url());

    let run = pin_env(
        &world,
        &["--checksums", &origin_url],
        &[("POSTBIN_MIRROR", &mirror.base_url())],
    );
    assert_both_pinned(&world, &run, &linux, &windows, &origin_url);
    world.assert_no_requests();
    let paths: Vec<String> = mirror.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.contains(&format!("/{RELEASE_DIR}/SHA256SUMS")),
        "{paths:?} ({mirrored})"
    );
}

#[test]
fn an_unreachable_checksums_url_is_a_network_error() {
    let (world, _, _) = release();
    let url = format!("http://127.0.0.1:{}/{RELEASE_DIR}/SHA256SUMS", free_port());
    let before = world.package_text();
    pin(&world, &["--checksums", &url])
        .assert_exit(exit::NETWORK)
        .assert_stderr_has(&[&url]);
    assert_eq!(world.package_text(), before);
}

#[test]
fn a_missing_checksums_url_is_a_network_error() {
    let (world, _, _) = release();
    let url = format!("{}/{RELEASE_DIR}/SHA256SUMS", world.base_url());
    pin(&world, &["--checksums", &url])
        .assert_exit(exit::NETWORK)
        .assert_stderr_has(&[&url, "404"]);
}

#[test]
fn a_missing_local_file_is_a_configuration_error() {
    let (world, _, _) = release();
    let path = path_str(&world.base().join("no-such-SHA256SUMS"));
    let before = world.package_text();
    let run = pin(&world, &["--checksums", &path]);
    run.assert_exit(exit::CONFIG);
    let prefix = format!("postbin: error: --checksums is `{path}`: cannot read it (");
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with(&prefix) && l.ends_with("); fix it or unset it")),
        "{}",
        run.stderr
    );
    assert_eq!(world.package_text(), before);
}

#[test]
fn a_file_in_no_known_format_is_a_configuration_error_naming_it() {
    let (world, _, _) = release();
    let url = served(
        &world,
        "index.html",
        "<!DOCTYPE html><html>Not Found</html>\n",
    );
    let before = world.package_text();
    pin(&world, &["--checksums", &url])
        .assert_exit(exit::CONFIG)
        .assert_stderr_line(&format!(
            "postbin: error: --checksums is `{url}`: it holds no SHA-256 in a known format \
             (`<hex>  <name>` or `SHA256 (<name>) = <hex>` lines, a bare hash, a cargo-dist \
             dist-manifest.json, a GitHub release or goreleaser artifacts.json); fix it or unset it"
        ));
    assert_eq!(world.package_text(), before);
}

// --- --download checks what it pins ---

#[test]
fn download_of_a_web_page_is_not_pinned() {
    let world = one_target(b"<!DOCTYPE html>\n<html><body>Sign in</body></html>\n");
    let before = world.package_text();
    let url = format!("{}/{RELEASE_DIR}/{LINUX_ASSET}", world.base_url());
    let run = pin(&world, &["--download"]);
    run.assert_exit(exit::FAILURE);
    let prefix = format!(
        "postbin: not pinned: {TARGET}: {LINUX_ASSET} from {url} is not a tar.gz archive \
         postbin can unpack (it is a web page: is the URL right?): "
    );
    assert!(
        run.stderr.lines().any(|l| l.starts_with(&prefix)),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(world.package_text(), before);
}

#[test]
fn download_of_an_archive_without_the_declared_bin_is_not_pinned() {
    let archive = crate::archives::Tar::new()
        .file("other/tool", 0o755, SCRIPT)
        .file("README.md", 0o644, b"# hello\n")
        .gz();
    let world = one_target(&archive);
    let before = world.package_text();
    let url = format!("{}/{RELEASE_DIR}/{LINUX_ASSET}", world.base_url());
    pin(&world, &["--download"])
        .assert_exit(exit::FAILURE)
        .assert_stderr_line(&format!(
            "postbin: not pinned: {TARGET}: {LINUX_ASSET} from {url} has no \
             `hello-{TARGET}/hello`, which `postbin.bin` declares; executables in it: other/tool"
        ));
    assert_eq!(world.package_text(), before);
}

#[test]
fn download_checks_the_checksums_sources_too() {
    let archive = nested_tar(TARGET).gz();
    let sha = sha256(&archive);
    let world = one_target(&archive);
    let url = format!("{}/{RELEASE_DIR}/{LINUX_ASSET}", world.base_url());

    let good = file(&world, "good.sums", &format!("{sha}  {LINUX_ASSET}\n"));
    let run = pin(&world, &["--checksums", &good, "--download"]);
    run.assert_ok();
    run.assert_stdout_line(&format!(
        "pinned {TARGET} {sha} from downloaded {url}, matching {good}"
    ));
    let size = archive.len().to_string();
    assert!(world.package_text().contains(&format!("\"size\": {size}")));

    let other = "0".repeat(64);
    let stale = file(&world, "stale.sums", &format!("{other}  {LINUX_ASSET}\n"));
    let before = world.package_text();
    pin(&world, &["--checksums", &stale, "--download"])
        .assert_exit(exit::INTEGRITY)
        .assert_stderr_line(&format!("  {other} in {stale}"))
        .assert_stderr_line(&format!("  {sha} downloaded from {url}"));
    assert_eq!(world.package_text(), before);
}
