//! Shared by every test: a `World` (temp dirs, a running fixture, a package
//! dir), the `postbin` binary run as a subprocess with a controlled
//! environment, package.json writers, release publishing and assertions on
//! what the cache and the package hold.

use crate::archives::flat_tar;
use serde_json::{Value, json};
use server_fixture::{Fault, Fixture, Host, RequestRecord};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use postbin::error::exit;

/// The target forced in most tests, so they do not depend on the host.
pub const TARGET: &str = "x86_64-unknown-linux-musl";
pub const WINDOWS: &str = "x86_64-pc-windows-msvc";
/// The release directory inside the fixture root (tag v1.0.0).
pub const RELEASE_DIR: &str = "acme/hello/releases/download/v1.0.0";
/// The executable inside the archives: runs anywhere with a /bin/sh.
pub const SCRIPT: &[u8] = b"#!/bin/sh\necho hello from postbin\n";
pub const SCRIPT_OUTPUT: &str = "hello from postbin";
/// The asset of the default package: its archive for TARGET.
pub const ASSET: &str = "hello-x86_64-unknown-linux-musl.tar.gz";

/// Everything one test needs, all under one temp dir that is removed on drop:
/// `releases/` (the fixture root), `cache/`, `home/`, `pkg/`, inside its
/// `node_modules/` as in a consumer's install (postbin places nothing in a
/// package outside a node_modules tree: installer/tests/it/publisher.rs).
pub struct World {
    pub dir: tempfile::TempDir,
    base: PathBuf,
    pub fixture: Fixture,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::Builder::new()
            .prefix("postbin-it-")
            .tempdir()
            .unwrap();
        let base = dir.path().join("node_modules");
        for sub in ["releases", "cache", "home", "pkg"] {
            std::fs::create_dir_all(base.join(sub)).unwrap();
        }
        std::fs::create_dir_all(base.join("releases").join(RELEASE_DIR)).unwrap();
        let fixture = Fixture::start(base.join("releases")).unwrap();
        World { dir, base, fixture }
    }

    /// The test's temp root (parent of cache, pkg, ...): `<temp>/node_modules`.
    pub fn base(&self) -> &Path {
        &self.base
    }

    pub fn root(&self) -> PathBuf {
        self.base().join("releases")
    }

    /// A copy of what the release host serves, in the directory `name`: a
    /// mirror tree as `postbin prefill --out` lays one out.
    pub fn mirror_copy(&self, name: &str) -> PathBuf {
        let mirror = self.base().join(name);
        copy_tree(&self.root(), &mirror);
        mirror
    }

    pub fn cache(&self) -> PathBuf {
        self.base().join("cache")
    }

    pub fn home(&self) -> PathBuf {
        self.base().join("home")
    }

    pub fn pkg(&self) -> PathBuf {
        self.base().join("pkg")
    }

    /// Publishes `bytes` as release asset `name`; returns its SHA-256 (hex).
    pub fn publish(&self, name: &str, bytes: &[u8]) -> String {
        Release::new(&self.root()).asset(name, bytes)
    }

    /// The fixture's main host, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.fixture.base_url()
    }

    /// The publisher's URL template, pointing at the fixture's main host.
    pub fn url_template(&self) -> String {
        format!(
            "{}/acme/hello/releases/download/v{{version}}/hello-{{target}}.{{format}}",
            self.fixture.base_url()
        )
    }

    /// URL path of asset `name`, as the fixture logs it (without the query).
    pub fn asset_path(name: &str) -> String {
        format!("/{RELEASE_DIR}/{name}")
    }

    /// A postbin section for one target with a pinned hash.
    pub fn section(&self, format: &str, sha: &str) -> Value {
        json!({
            "url": self.url_template(),
            "format": format,
            "targets": { TARGET: { "sha256": sha } }
        })
    }

    /// A postbin section for one target with no pinned hash, or with its
    /// hash to come from the release's SHA256SUMS (`checksums`).
    pub fn unpinned_section(&self, checksums: bool) -> Value {
        let mut section = json!({
            "url": self.url_template(),
            "targets": { TARGET: {} }
        });
        if checksums {
            section["checksums"] = format!("{}/{RELEASE_DIR}/SHA256SUMS", self.base_url()).into();
        }
        section
    }

    /// Writes the default package (`pkg/`) with this postbin section.
    pub fn package(&self, section: Value) {
        package(&self.pkg(), section);
    }

    /// `postbin ARGS` with the test's controlled environment.
    pub fn postbin(&self, args: &[&str]) -> Run {
        self.postbin_env(args, &[])
    }

    /// `postbin ARGS` with extra environment variables on top.
    pub fn postbin_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all: Vec<(String, String)> = vec![
            ("HOME".into(), path_str(&self.home())),
            (
                "XDG_CACHE_HOME".into(),
                path_str(&self.home().join(".cache")),
            ),
            (
                "XDG_CONFIG_HOME".into(),
                path_str(&self.home().join(".config")),
            ),
            ("POSTBIN_CACHE_DIR".into(), path_str(&self.cache())),
            ("POSTBIN_RETRIES".into(), "0".into()),
        ];
        for (k, v) in env {
            all.retain(|(name, _)| name != k);
            all.push((k.to_string(), v.to_string()));
        }
        run_postbin(args, &all, self.base())
    }

    /// `postbin install --package pkg --target TARGET`.
    pub fn install(&self) -> Run {
        self.install_env(&[])
    }

    pub fn install_env(&self, env: &[(&str, &str)]) -> Run {
        let pkg = path_str(&self.pkg());
        self.postbin_env(&["install", "--package", &pkg, "--target", TARGET], env)
    }

    /// `postbin install --package pkg --target TARGET EXTRA...`.
    pub fn install_with(&self, extra: &[&str]) -> Run {
        let pkg = path_str(&self.pkg());
        let args = [&["install", "--package", &pkg, "--target", TARGET], extra].concat();
        self.postbin(&args)
    }

    /// `postbin prefill pkg --targets TARGET EXTRA...` with `env` on top.
    pub fn prefill(&self, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let pkg = path_str(&self.pkg());
        let args = [&["prefill", &pkg, "--targets", TARGET], extra].concat();
        self.postbin_env(&args, env)
    }

    /// `postbin install` for another package dir, same cache.
    pub fn install_pkg(&self, pkg: &Path) -> Run {
        install_in(self, pkg, &[])
    }

    /// Sets `fault` on the default asset (ASSET), for `times` requests or all.
    pub fn fault_asset(&self, fault: Fault, times: Option<u32>) {
        self.fixture
            .set_fault(&World::asset_path(ASSET), fault, times);
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.fixture.requests()
    }

    /// Asserts the fixture has logged no request (since the last clear).
    #[track_caller]
    pub fn assert_no_requests(&self) {
        self.assert_no_requests_since(0);
    }

    /// Asserts no request reached a server after the first `before`.
    #[track_caller]
    pub fn assert_no_requests_since(&self, before: usize) {
        let requests = self.requests();
        assert!(
            requests.len() <= before,
            "asked after the first {before}: {:#?}",
            &requests[before..]
        );
    }

    /// A project directory `<base>/project` whose `.npmrc` is `npmrc`.
    pub fn project_with_npmrc(&self, npmrc: &str) -> PathBuf {
        let project = self.base().join("project");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(project.join(".npmrc"), npmrc).unwrap();
        project
    }

    /// The default package's package.json, as text.
    pub fn package_text(&self) -> String {
        std::fs::read_to_string(self.pkg().join("package.json")).unwrap()
    }

    /// The default package's package.json, parsed.
    pub fn package_json(&self) -> Value {
        serde_json::from_str(&self.package_text()).unwrap()
    }

    /// `rel` inside the cached tree of the archive `sha`.
    pub fn tree_path(&self, sha: &str, rel: &str) -> PathBuf {
        self.cache().join("v1/trees").join(sha).join(rel)
    }

    /// Where the default package's executable `file_name` is placed.
    pub fn placed(&self, file_name: &str) -> PathBuf {
        placed(&self.pkg(), file_name)
    }

    /// Asserts `install` (with `env` on top) exits `code` saying every one
    /// of `needles` on stderr, and installs nothing.
    #[track_caller]
    pub fn assert_install_fails(&self, env: &[(&str, &str)], code: i32, needles: &[&str]) {
        self.install_env(env)
            .assert_exit(code)
            .assert_stderr_has(needles);
        self.assert_nothing_installed();
    }

    /// Asserts `install` (with `env` on top) succeeds and the placed `hello`
    /// runs.
    #[track_caller]
    pub fn assert_installs(&self, env: &[(&str, &str)]) {
        self.install_env(env).assert_ok();
        assert_runs(&self.placed("hello"));
        assert_no_temp_files(&self.pkg());
    }

    /// Asserts the install left no archive, no tree, no executable and no
    /// receipt behind.
    pub fn assert_nothing_installed(&self) {
        assert_nothing_cached(&self.cache());
        assert_nothing_linked(&self.pkg());
    }

    /// Asserts the fixture logged no request and nothing was installed.
    #[track_caller]
    pub fn assert_untouched(&self) {
        self.assert_no_requests();
        self.assert_nothing_installed();
    }

    /// Asserts no file or link named `name` exists anywhere under the test's
    /// temp root, nor at `/tmp/<name>` (what an archive tried to escape to).
    pub fn assert_no_escape(&self, name: &str) {
        let found = find_named(self.dir.path(), name);
        assert!(found.is_empty(), "escaped entries were written: {found:?}");
        assert!(
            std::fs::symlink_metadata(Path::new("/tmp").join(name)).is_err(),
            "/tmp/{name} was created"
        );
    }
}

/// `postbin install` of `pkg` with the test's environment plus `env`.
pub fn install_in(world: &World, pkg: &Path, env: &[(&str, &str)]) -> Run {
    let pkg = path_str(pkg);
    world.postbin_env(&["install", "--package", &pkg, "--target", TARGET], env)
}

pub fn path_str(p: &Path) -> String {
    p.to_str().expect("temp paths are UTF-8").to_string()
}

/// What one run of `postbin` did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn assert_exit(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        self.assert_exit(exit::OK)
    }

    /// Asserts stderr has `line` as one whole line: where the message is
    /// the product, a substring would let a wrong one through.
    #[track_caller]
    pub fn assert_stderr_line(&self, line: &str) -> &Self {
        assert!(
            self.stderr.lines().any(|l| l == line),
            "stderr lacks the line {line:?}:\n{}",
            self.stderr
        );
        self
    }

    /// Asserts stdout has `line` as one whole line.
    #[track_caller]
    pub fn assert_stdout_line(&self, line: &str) -> &Self {
        assert!(
            self.stdout.lines().any(|l| l == line),
            "stdout lacks the line {line:?}:\n{}\n--- stderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts stdout contains every one of `needles`.
    #[track_caller]
    pub fn assert_stdout_has(&self, needles: &[&str]) -> &Self {
        assert_contains_all("stdout", &self.stdout, needles);
        self
    }

    /// Asserts stdout contains none of `needles`.
    #[track_caller]
    pub fn assert_stdout_lacks(&self, needles: &[&str]) -> &Self {
        assert_contains_none("stdout", &self.stdout, needles);
        self
    }

    /// Asserts stderr contains none of `needles`.
    #[track_caller]
    pub fn assert_stderr_lacks(&self, needles: &[&str]) -> &Self {
        assert_contains_none("stderr", &self.stderr, needles);
        self
    }

    /// Asserts stderr contains every one of `needles`.
    #[track_caller]
    pub fn assert_stderr_has(&self, needles: &[&str]) -> &Self {
        assert_contains_all("stderr", &self.stderr, needles);
        self
    }
}

/// Asserts `text` (the `what` of a run) contains every one of `needles`.
#[track_caller]
fn assert_contains_all(what: &str, text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{what} lacks {needle:?}:\n{text}");
    }
}

/// Asserts `text` (the `what` of a run) contains none of `needles`.
#[track_caller]
fn assert_contains_none(what: &str, text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(!text.contains(needle), "{what} has {needle:?}:\n{text}");
    }
}

/// Runs the real binary with a controlled environment: everything of the
/// caller's environment that postbin reads is removed, then `env` is set.
pub fn run_postbin(args: &[&str], env: &[(String, String)], cwd: &Path) -> Run {
    let mut cmd = postbin_command();
    cmd.args(args).current_dir(cwd);
    for (name, _) in std::env::vars_os() {
        if should_scrub(&name) {
            cmd.env_remove(&name);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run postbin");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The installer under test: this build's `postbin` by default, or a
/// cross-built one named by `POSTBIN_TEST_INSTALLER`, started through
/// `POSTBIN_TEST_RUNNER` when set (`qemu-aarch64`, wine's `wine64`), so the
/// same tests check the aarch64 and Windows installers (scripts/test).
pub fn postbin_command() -> Command {
    let installer = std::env::var_os("POSTBIN_TEST_INSTALLER")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_postbin").into());
    runnable(Path::new(&installer))
}

/// A command that runs `program`, an executable of the installer's
/// platform, through `POSTBIN_TEST_RUNNER` when one is set.
pub fn runnable(program: &Path) -> Command {
    match std::env::var_os("POSTBIN_TEST_RUNNER") {
        Some(runner) => {
            let mut cmd = Command::new(runner);
            cmd.arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// The runner's own settings (wine's prefix, qemu's options), for runs that
/// start from an empty environment.
pub fn runner_env() -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    std::env::vars_os()
        .filter(|(name, _)| {
            name.to_str()
                .is_some_and(|n| n.starts_with("WINE") || n.starts_with("QEMU_"))
        })
        .collect()
}

/// True when the installer under test is a Windows executable (run under
/// wine): the tests of Windows-only behaviour run then, and only then.
pub fn foreign_windows() -> bool {
    std::env::var("POSTBIN_TEST_INSTALLER").is_ok_and(|p| p.ends_with(".exe"))
}

fn should_scrub(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    lower.starts_with("npm_config_")
        || name.starts_with("POSTBIN_")
        || lower.ends_with("_proxy")
        || name.ends_with("_MIRROR")
        || name.ends_with("_BINARY_PATH")
        || matches!(
            name,
            "INIT_CWD"
                | "GITHUB_TOKEN"
                | "GH_TOKEN"
                | "NODE_EXTRA_CA_CERTS"
                | "SSL_CERT_FILE"
                | "SSL_CERT_DIR"
                | "XDG_CACHE_HOME"
                | "XDG_CONFIG_HOME"
        )
}

/// Writes release assets into `<root>/acme/hello/releases/download/v1.0.0/`.
pub struct Release {
    dir: PathBuf,
}

impl Release {
    pub fn new(root: &Path) -> Release {
        let dir = root.join(RELEASE_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        Release { dir }
    }

    /// Writes one asset; returns its SHA-256 (hex).
    pub fn asset(&self, name: &str, bytes: &[u8]) -> String {
        std::fs::write(self.dir.join(name), bytes).unwrap();
        sha256(bytes)
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    postbin::hash::hash_bytes(bytes).hex()
}

/// Publishes `archive` as ASSET and writes the default package for it.
pub fn publish_default(world: &World, archive: &[u8]) -> String {
    let sha = world.publish(ASSET, archive);
    world.package(world.section("tar.gz", &sha));
    sha
}

/// A world with `bytes` published as ASSET and the package pinned to them.
pub fn published_with(bytes: &[u8]) -> (World, String) {
    let world = World::new();
    let sha = publish_default(&world, bytes);
    (world, sha)
}

/// The small flat archive, published and pinned.
pub fn published() -> (World, String) {
    published_with(&flat_tar().gz())
}

/// A fresh package dir `<base>/<name>` with the default package's package.json.
pub fn copy_package(world: &World, name: &str) -> PathBuf {
    let dir = world.base().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(world.pkg().join("package.json"), dir.join("package.json")).unwrap();
    dir
}

/// The default package installed once (so the cache holds its archive),
/// the requests cleared, and a fresh copy of the package at `<base>/pkg2`.
pub fn warm_cache_and_a_fresh_package() -> (World, PathBuf) {
    let (world, _) = published();
    world.install().assert_ok();
    world.fixture.clear_requests();
    let other = copy_package(&world, "pkg2");
    (world, other)
}

/// Writes `dir/package.json` with `name` "hello", version "1.0.0", `bin`
/// `{"hello": "bin/hello"}` and this `postbin` section.
pub fn package(dir: &Path, section: Value) {
    std::fs::create_dir_all(dir).unwrap();
    let manifest = json!({
        "name": "hello",
        "version": "1.0.0",
        "bin": { "hello": "bin/hello" },
        "postbin": section,
    });
    std::fs::write(
        dir.join("package.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

pub fn placed(pkg: &Path, file_name: &str) -> PathBuf {
    pkg.join(".postbin").join("bin").join(file_name)
}

/// No verified archive and no unpacked tree in the cache.
#[track_caller]
pub fn assert_nothing_cached(cache: &Path) {
    let archives = list(&cache.join("v1").join("archives"));
    assert!(archives.is_empty(), "archives were cached: {archives:?}");
    let trees = list(&cache.join("v1").join("trees"));
    assert!(trees.is_empty(), "trees were cached: {trees:?}");
}

/// No placed executable and no receipt in the package.
#[track_caller]
pub fn assert_nothing_linked(pkg: &Path) {
    let bins = list(&pkg.join(".postbin").join("bin"));
    assert!(
        bins.is_empty(),
        "executables or temp files were placed: {bins:?}"
    );
    let receipt = pkg.join(".postbin").join("receipt.json");
    assert!(!receipt.exists(), "a receipt was written");
}

/// The string `key` of each object in the JSON array `array`.
pub fn strings_at<'a>(array: &'a Value, key: &str) -> Vec<&'a str> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].as_str().unwrap())
        .collect()
}

/// Entries of a directory (empty if it does not exist).
/// No temp file of a placement (`.postbin-*`) is left in the package.
#[track_caller]
pub fn assert_no_temp_files(pkg: &Path) {
    let dir = pkg.join(".postbin");
    let temps: Vec<PathBuf> = (list(&dir).into_iter())
        .chain(list(&dir.join("bin")))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".postbin-")
        })
        .collect();
    assert!(temps.is_empty(), "temp files were left: {temps:?}");
}

pub fn list(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Copies the directory tree `from` into `to` (created): its directories
/// and regular files; links and anything else are left out.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Every path under `dir` (links not followed) whose file name is `name`.
pub fn find_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name() == name {
                found.push(path.clone());
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
        }
    }
    found
}

/// Asserts `path` is an executable file that runs and prints the script's line.
/// Elsewhere than on Unix only that it is a file: there are no mode bits, and
/// the script (`SCRIPT`) needs a /bin/sh.
#[track_caller]
pub fn assert_runs(path: &Path) {
    let meta =
        std::fs::metadata(path).unwrap_or_else(|e| panic!("{} is not there: {e}", path.display()));
    assert!(meta.is_file(), "{} is not a file", path.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_ne!(
            meta.permissions().mode() & 0o111,
            0,
            "{} is not executable",
            path.display()
        );
        let out = Command::new(path)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
        assert!(out.status.success(), "{} failed", path.display());
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), SCRIPT_OUTPUT);
    }
}

/// The requests the fixture logged for asset `name`, as (host, status).
pub fn hits(requests: &[RequestRecord], name: &str) -> Vec<(Host, u16)> {
    let path = World::asset_path(name);
    requests
        .iter()
        .filter(|r| r.path.split('?').next() == Some(path.as_str()))
        .map(|r| (r.host, r.status))
        .collect()
}
