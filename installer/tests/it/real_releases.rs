//! The corpus of real release metadata (tests/fixtures/real-releases, each
//! file's origin in its SOURCES): for every input, `postbin init --from` as a
//! publisher runs it, then `postbin check`, `postbin plan --json --targets
//! all` and an install of the host's target from a local server. Nothing
//! reaches the internet: the metadata's github.com URLs are served by the
//! fixture through `POSTBIN_MIRROR`, and the archives are stand-ins made here
//! with the real names and the layouts the metadata describes.
//!
//! Each input's outcome is asserted; `check` and `plan` must agree on every
//! one (a package `check` passes is one every target of which resolves), and
//! the table of outcomes is printed (`--nocapture`).

use crate::archives::{Tar, Zip, xz, zstd};
use crate::support::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

pub const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/real-releases"
);

/// How an input is given to `init`.
pub enum Input {
    /// `init --from <dir>/<file>`, into a package with this name, version
    /// and repository (as the publisher's package.json would say).
    From {
        file: &'static str,
        name: &'static str,
        repository: &'static str,
    },
    /// The fixture is a cargo-dist npm package: plain `init` migrates it,
    /// or `init --from` this corpus file (for packages that do not say
    /// their platforms).
    NpmPackage(Option<&'static str>),
}

pub struct Case {
    pub dir: &'static str,
    pub input: Input,
    /// What must come of it: `ok`, or a part of the refusal's message.
    pub expect: &'static str,
    /// The hashes the metadata states of each archive are replaced, in the
    /// test's copy, by the stand-in's (so the package installs and runs);
    /// else they stay the real archives' and installs must refuse the
    /// stand-ins.
    pub restamp: bool,
}

pub const fn from(file: &'static str, name: &'static str, repository: &'static str) -> Input {
    Input::From {
        file,
        name,
        repository,
    }
}

const AXOLOTLSAY: &str = "https://github.com/axodotdev/axolotlsay";

fn cases() -> Vec<Case> {
    let manifest = |dir, name, repo, expect| Case {
        dir,
        input: from("dist-manifest.json", name, repo),
        expect,
        restamp: false,
    };
    let npm = |dir, expect| Case {
        dir,
        input: Input::NpmPackage(None),
        expect,
        restamp: false,
    };
    const LEGACY: &str = "older than 0.14";
    let goreleaser = |dir, name, restamp| Case {
        dir,
        input: from("dist/artifacts.json", name, "https://github.com/acme/tool"),
        expect: "ok",
        restamp,
    };
    vec![
        manifest(
            "cargo-dist-0.0.4-movebeam",
            "movebeam",
            "https://github.com/rijkvp/movebeam",
            "ok",
        ),
        manifest(
            "cargo-dist-0.1.0-axolotlsay",
            "axolotlsay",
            AXOLOTLSAY,
            "ok",
        ),
        manifest(
            "cargo-dist-0.4.0-axolotlsay",
            "axolotlsay",
            AXOLOTLSAY,
            "ok",
        ),
        manifest(
            "cargo-dist-0.8.0-axolotlsay",
            "axolotlsay",
            AXOLOTLSAY,
            "ok",
        ),
        manifest(
            "cargo-dist-0.12.0-axolotlsay",
            "axolotlsay",
            AXOLOTLSAY,
            "ok",
        ),
        manifest(
            "cargo-dist-0.12.2-fedimint-clientd",
            "fedimint-clientd",
            "https://github.com/fedimint/fedimint-clientd",
            "ok",
        ),
        manifest(
            "cargo-dist-0.17.0-axolotlsay",
            "axolotlsay",
            AXOLOTLSAY,
            "ok",
        ),
        manifest(
            "cargo-dist-0.22.0-axolotlsay",
            "axolotlsay",
            AXOLOTLSAY,
            "ok",
        ),
        manifest(
            "cargo-dist-0.28.0-axolotlsay",
            "axolotlsay",
            AXOLOTLSAY,
            "ok",
        ),
        manifest(
            "cargo-dist-0.28.0-beancount-language-server",
            "beancount-language-server",
            "https://github.com/polarmutex/beancount-language-server",
            "ok",
        ),
        manifest(
            "cargo-dist-0.28.0-duckfetch",
            "duckfetch",
            "https://github.com/pmassicotte/duckfetch",
            "ok",
        ),
        manifest("cargo-dist-0.30.0-blake2b", "axolotlsay", AXOLOTLSAY, "ok"),
        manifest("cargo-dist-0.30.0-sha3-256", "axolotlsay", AXOLOTLSAY, "ok"),
        manifest("cargo-dist-0.30.0-musl", "axolotlsay", AXOLOTLSAY, "ok"),
        manifest(
            "cargo-dist-0.30.0-two-bin-aliases",
            "akaikatana-repack",
            "https://github.com/mistydemeo/akaikatana-repack",
            "ok",
        ),
        manifest(
            "cargo-dist-0.30.0-workspace",
            "axolotlsay",
            AXOLOTLSAY,
            "ok",
        ),
        manifest(
            "cargo-dist-0.31.0-axolotlsay",
            "axolotlsay",
            AXOLOTLSAY,
            "ok",
        ),
        npm("cargo-dist-npm-0.2.0", LEGACY),
        npm("cargo-dist-npm-0.12.0", LEGACY),
        Case {
            dir: "cargo-dist-npm-0.12.0",
            input: Input::NpmPackage(Some("cargo-dist-0.12.0-axolotlsay/dist-manifest.json")),
            expect: "ok",
            restamp: false,
        },
        npm("cargo-dist-npm-0.30.0-musl", "ok"),
        npm("cargo-dist-npm-0.31.0", "ok"),
        npm("npm-aiken-lang-aiken-1.1.21", "ok"),
        npm("npm-axodotdev-oranda-0.6.5", "ok"),
        goreleaser("goreleaser-armv", "armv", false),
        goreleaser("goreleaser-armv", "armv", true),
        goreleaser("goreleaser-kissmux", "kissmux", true),
        goreleaser("goreleaser-marvai", "marvai", true),
        // The API's digests are of the real archives: the stand-ins,
        // downloaded to list them, must be refused.
        Case {
            dir: "github-api-poof-0.5.0",
            input: from("release.json", "poof", "https://github.com/pirafrank/poof"),
            expect: "GitHub API digest says",
            restamp: false,
        },
        Case {
            dir: "github-api-poof-0.5.0",
            input: from("release.json", "poof", "https://github.com/pirafrank/poof"),
            expect: "ok",
            restamp: true,
        },
        // cargo-binstall's metadata: exact-target overrides, `{ archive-format }`.
        Case {
            dir: "binstall-cargo-binstall",
            input: from(
                "Cargo.toml",
                "cargo-binstall",
                "https://github.com/cargo-bins/cargo-binstall",
            ),
            expect: "ok",
            restamp: false,
        },
        // A literal `.tar.gz` in pkg-url, `version.workspace` elsewhere in the file.
        Case {
            dir: "binstall-cargo-llvm-cov",
            input: from(
                "Cargo.toml",
                "cargo-llvm-cov",
                "https://github.com/taiki-e/cargo-llvm-cov",
            ),
            expect: "ok",
            restamp: false,
        },
    ]
}

/// The release a crate's cargo-binstall metadata points at, as the test
/// knows it independently of postbin's reading of the metadata: where it
/// is published and its archives (executables at the top, as `bin-dir =
/// "{ bin }{ binary-ext }"` says). Other targets are not published.
fn binstall_release(dir: &str) -> (&'static str, Vec<String>) {
    let names = |tool: &str, files: &[(&str, &str)]| -> Vec<String> {
        files
            .iter()
            .map(|(target, ext)| format!("{tool}-{target}{ext}"))
            .collect()
    };
    match dir {
        "binstall-cargo-binstall" => (
            "cargo-bins/cargo-binstall/releases/download/v1.22.0",
            names(
                "cargo-binstall",
                &[
                    ("x86_64-unknown-linux-musl", ".tgz"),
                    ("aarch64-unknown-linux-gnu", ".tgz"),
                    ("aarch64-apple-darwin", ".tgz"),
                    ("x86_64-apple-darwin", ".zip"),
                    ("x86_64-pc-windows-msvc", ".zip"),
                ],
            ),
        ),
        "binstall-cargo-llvm-cov" => (
            "taiki-e/cargo-llvm-cov/releases/download/v0.9.0",
            names(
                "cargo-llvm-cov",
                &[
                    ("x86_64-unknown-linux-gnu", ".tar.gz"),
                    ("x86_64-unknown-linux-musl", ".tar.gz"),
                    ("aarch64-apple-darwin", ".tar.gz"),
                    ("x86_64-pc-windows-msvc", ".tar.gz"),
                ],
            ),
        ),
        other => panic!("no binstall release for {other}"),
    }
}

/// Stand-ins for a crate's binstall release, served on the fixture.
fn binstall_stand_ins(world: &World, dir: &str, tool: &str) {
    let (base, files) = binstall_release(dir);
    let keep = stand_in_dir(world);
    std::fs::create_dir_all(&keep).unwrap();
    for file in files {
        let exe = if file.contains("-windows-") {
            format!("{tool}.exe")
        } else {
            tool.to_string()
        };
        let bytes = archive(&file, "", &[exe]);
        let served = world.root().join(base).join(&file);
        std::fs::create_dir_all(served.parent().unwrap()).unwrap();
        std::fs::write(&served, &bytes).unwrap();
        std::fs::write(keep.join(&file), &bytes).unwrap();
    }
}

/// One input's outcome, for the table.
struct Outcome {
    dir: &'static str,
    init: String,
    check: String,
    plan: String,
    install: String,
}

#[test]
fn every_real_input_is_set_up_or_refused_with_a_reason_and_check_agrees_with_plan() {
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    let export = std::env::var_os(CORPUS_EXPORT_DIR).map(PathBuf::from);
    for (n, case) in cases().into_iter().enumerate() {
        let out = export
            .as_ref()
            .map(|d| d.join(format!("{n:02}-{}", case.dir)));
        let outcome = run_case(&case, out.as_deref());
        let got = if outcome.init == "ok" {
            "ok"
        } else {
            &outcome.init
        };
        if !(got == case.expect || (case.expect != "ok" && got.contains(case.expect))) {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                case.dir, case.expect, outcome.init
            ));
        }
        let installed = outcome.install.ends_with("installed and ran")
            || outcome.install.ends_with("(stand-in refused)");
        if outcome.init == "ok" && !installed {
            failures.push(format!("{}: install: {}", case.dir, outcome.install));
        }
        if outcome.check == "ok" && outcome.plan != "ok" {
            failures.push(format!(
                "{}: check passed a package plan refuses: {}",
                case.dir, outcome.plan
            ));
        }
        outcomes.push(outcome);
    }
    println!("| input | init --from | check | plan --json (all targets) | install host target |");
    println!("|---|---|---|---|---|");
    for o in &outcomes {
        println!(
            "| {} | {} | {} | {} | {} |",
            o.dir, o.init, o.check, o.plan, o.install
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Where (if set) each input's package and release tree are copied after
/// its run, with what a consumer's install of it must do (`expect`):
/// tests/e2e/real-releases.test.js packs each with npm and installs it.
const CORPUS_EXPORT_DIR: &str = "CORPUS_EXPORT_DIR";

fn run_case(case: &Case, export: Option<&Path>) -> Outcome {
    let (world, init) = set_up(case);
    let env = corpus_env(&world);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let pkg = path_str(&world.pkg());
    let mut outcome = Outcome {
        dir: case.dir,
        init: summary(&init),
        check: "-".into(),
        plan: "-".into(),
        install: "-".into(),
    };
    if init.code != Some(0) {
        return outcome;
    }
    println!("{}: {}", case.dir, init.stdout);
    let check = world.postbin_env(&["check", "--package", &pkg], &env);
    outcome.check = summary(&check);
    let plan = world.postbin_env(
        &["plan", "--package", &pkg, "--json", "--targets", "all"],
        &env,
    );
    outcome.plan = summary(&plan);
    if plan.code == Some(0) {
        outcome.install = install_host_target(&world, &plan.stdout, &env);
    }
    if let Some(dir) = export {
        // The whole release on the server, as a consumer on any host would
        // find it: each target's stand-in where the plan fetches it.
        if plan.code == Some(0) {
            serve_every_target(&world, &plan.stdout);
        }
        let expect = if outcome.install.ends_with("installed and ran") {
            "runs"
        } else if outcome.install.ends_with("(stand-in refused)") {
            "refused"
        } else {
            "nothing"
        };
        copy_tree(&world.pkg(), &dir.join("package"));
        copy_tree(&world.root(), &dir.join("releases"));
        std::fs::write(dir.join("expect"), expect).unwrap();
    }
    outcome
}

/// Puts each target's stand-in at the path its plan fetches it from.
fn serve_every_target(world: &World, plan_json: &str) {
    let plan: Value = serde_json::from_str(plan_json).unwrap();
    for entry in plan["targets"].as_array().cloned().unwrap_or_default() {
        let (Some(url), Some(asset)) = (entry["urls"][0].as_str(), entry["asset"].as_str()) else {
            continue;
        };
        let Some(bytes) = stand_in_bytes(world, asset) else {
            continue;
        };
        let path = url.split_once("://").unwrap().1.split_once('/').unwrap().1;
        let served = world.root().join(path);
        std::fs::create_dir_all(served.parent().unwrap()).unwrap();
        std::fs::write(&served, &bytes).unwrap();
    }
}

/// The fixture as the GitHub API and, through the mirror, as github.com.
pub fn corpus_env(world: &World) -> [(&'static str, String); 2] {
    [
        ("POSTBIN_MIRROR", world.base_url()),
        ("POSTBIN_GITHUB_API", world.base_url()),
    ]
}

/// A world with the case's input and stand-ins in place, and what `init`
/// made of it.
pub fn set_up(case: &Case) -> (World, Run) {
    let world = World::new();
    let input_dir = world.base().join("input");
    copy_corpus_entry(case.dir, &input_dir);
    let env = corpus_env(&world);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let pkg = path_str(&world.pkg());
    let init = match &case.input {
        Input::From {
            file,
            name,
            repository,
        } => {
            let version = "0.0.0-placeholder";
            write_json(
                &world.pkg().join("package.json"),
                &json!({"name": name, "version": version, "repository": repository}),
            );
            let source = input_dir.join(file);
            if file.ends_with("Cargo.toml") {
                binstall_stand_ins(&world, case.dir, name);
            } else {
                stand_ins(&world, &source, name, case.restamp);
            }
            let source = path_str(&source);
            world.postbin_env(&["init", "--package", &pkg, "--from", &source], &env)
        }
        Input::NpmPackage(None) => {
            copy_corpus_dir(&input_dir, &world.pkg());
            stand_ins(&world, &world.pkg().join("package.json"), "", false);
            world.postbin_env(&["init", "--package", &pkg], &env)
        }
        Input::NpmPackage(Some(file)) => {
            copy_corpus_dir(&input_dir, &world.pkg());
            let (dir, file) = file.split_once('/').unwrap();
            let release = world.base().join("release");
            copy_corpus_dir(&Path::new(CORPUS).join(dir), &release);
            stand_ins(&world, &release.join(file), "", false);
            let source = path_str(&release.join(file));
            world.postbin_env(&["init", "--package", &pkg, "--from", &source], &env)
        }
    };
    (world, init)
}

/// `ok`, or the first line of what went wrong, with the exit code.
pub fn summary(run: &Run) -> String {
    if run.code == Some(0) {
        return "ok".into();
    }
    let line = run
        .stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    format!("exit {}: {line}", run.code.unwrap_or(-1))
}

/// Installs the Linux x64 target (musl, else gnu) from the fixture, where
/// the stand-in is copied to the path the plan names; a stand-in whose hash
/// differs from the real archive's (pinned from the real metadata) must be
/// refused.
fn install_host_target(world: &World, plan_json: &str, env: &[(&str, &str)]) -> String {
    let plan: Value = serde_json::from_str(plan_json).unwrap();
    let targets = plan["targets"].as_array().cloned().unwrap_or_default();
    let Some(entry) = ["x86_64-unknown-linux-musl", "x86_64-unknown-linux-gnu"]
        .iter()
        .find_map(|t| targets.iter().find(|e| e["target"] == *t))
    else {
        return "no Linux x64 target".into();
    };
    let target = entry["target"].as_str().unwrap();
    let url = entry["urls"][0].as_str().unwrap();
    let path = url.split_once("://").unwrap().1.split_once('/').unwrap().1;
    let Some(bytes) = stand_in_bytes(world, entry["asset"].as_str().unwrap()) else {
        return format!("no stand-in for {}", entry["asset"]);
    };
    let served = world.root().join(path);
    std::fs::create_dir_all(served.parent().unwrap()).unwrap();
    std::fs::write(&served, &bytes).unwrap();
    let dep = copy_package(world, "consumer/node_modules/tool");
    let dep = path_str(&dep);
    let run = world.postbin_env(&["install", "--package", &dep, "--target", target], env);
    let pinned_real = entry["sha256"].as_str() != Some(sha256(&bytes).as_str());
    match (run.code, pinned_real) {
        (Some(0), false) => format!("{target}: installed and ran"),
        (Some(0), true) => format!("{target}: INSTALLED BYTES THAT DO NOT MATCH THE PIN"),
        (_, true) => format!("{target}: pin of the real archive enforced (stand-in refused)"),
        (_, false) => format!("{target}: {}", summary(&run)),
    }
}

pub fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap() + "\n").unwrap();
}

/// Copies a corpus directory, restoring the comma cargo-dist's snapshot
/// censoring removed after `"CENSORED"` where another member follows.
/// A corpus entry into `to`: a directory of metadata files, or an npm
/// package kept as the tarball the registry serves (`<entry>.tgz`), of
/// which the `package/` folder is unpacked as npm would.
pub fn copy_corpus_entry(entry: &str, to: &Path) {
    let tarball = Path::new(CORPUS).join(format!("{entry}.tgz"));
    if !tarball.exists() {
        return copy_corpus_dir(&Path::new(CORPUS).join(entry), to);
    }
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(&tarball).unwrap());
    for file in tar::Archive::new(gz).entries().unwrap() {
        let mut file = file.unwrap();
        let name = file.path().unwrap().into_owned();
        let inside = name
            .strip_prefix("package")
            .expect("npm tarballs hold package/");
        let target = to.join(inside);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        file.unpack(&target).unwrap();
    }
}

pub fn copy_corpus_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_corpus_dir(&entry.path(), &target);
            continue;
        }
        let text = std::fs::read(entry.path()).unwrap();
        let Ok(text) = String::from_utf8(text.clone()) else {
            std::fs::write(&target, text).unwrap();
            continue;
        };
        let lines: Vec<&str> = text.split('\n').collect();
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let next = lines.get(i + 1).map_or("", |l| l.trim_start());
            if line.ends_with("\"CENSORED\"") && next.starts_with('"') {
                out.push(format!("{line},"));
            } else {
                out.push(line.to_string());
            }
        }
        std::fs::write(&target, out.join("\n")).unwrap();
    }
}

/// Where the stand-ins of a world are kept, by asset name.
fn stand_in_dir(world: &World) -> PathBuf {
    world.base().join("stand-ins")
}

pub fn stand_in_bytes(world: &World, asset: &str) -> Option<Vec<u8>> {
    std::fs::read(stand_in_dir(world).join(asset)).ok()
}

/// Makes a stand-in for every archive the input names, with the
/// executables where its metadata puts them; keeps each in the world's
/// stand-in dir and where `init` looks for it (beside a local manifest, in
/// goreleaser's dist/, at its URL on the fixture for a GitHub release or an
/// npm package).
pub fn stand_ins(world: &World, source: &Path, tool: &str, restamp: bool) {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(source).unwrap()).unwrap();
    let dir = source.parent().unwrap();
    let mut made: Vec<(String, Vec<u8>, Option<String>)> = Vec::new();
    // (the real archive's sha256 as the metadata states it, the stand-in's)
    let mut hashes: Vec<(String, String)> = Vec::new();
    if v["artifacts"].is_object() {
        // cargo-dist: tarballs hold `<stem>/`, zips the files at the top.
        let base = v["releases"][0]["hosting"]["github"]["artifact_download_url"]
            .as_str()
            .map(str::to_string);
        for (name, a) in v["artifacts"].as_object().unwrap() {
            if a["kind"] != "executable-zip" {
                continue;
            }
            let exes: Vec<String> = a["assets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|x| x["kind"] == "executable")
                .filter_map(|x| x["path"].as_str().map(str::to_string))
                .collect();
            let root = if name.ends_with(".zip") {
                String::new()
            } else {
                format!("{}/", stem(name))
            };
            let url = base.as_ref().map(|b| format!("{b}/{name}"));
            made.push((name.clone(), archive(name, &root, &exes), url));
        }
    } else if let Some(list) = v.as_array() {
        // goreleaser: each Archive with its Binaries under WrappedIn.
        for a in list.iter().filter(|a| a["type"] == "Archive") {
            let name = a["name"].as_str().unwrap();
            let wrapped = a["extra"]["WrappedIn"].as_str().unwrap_or_default();
            let root = if wrapped.is_empty() {
                String::new()
            } else {
                format!("{wrapped}/")
            };
            let exes: Vec<String> = a["extra"]["Binaries"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|b| b.as_str().map(str::to_string))
                .collect();
            let bytes = archive(name, &root, &exes);
            if let Some(real) = a["extra"]["Checksum"].as_str() {
                let real = real.trim_start_matches("sha256:").to_string();
                hashes.push((real, sha256(&bytes)));
            }
            let path = dir.parent().unwrap().join(a["path"].as_str().unwrap());
            std::fs::write(path, &bytes).unwrap();
            made.push((name.to_string(), bytes, None));
        }
    } else if let Some(assets) = v["assets"].as_array() {
        // A GitHub release: the command at the top of each archive.
        for a in assets {
            let name = a["name"].as_str().unwrap();
            if stem(name) == name || name.contains(".sha") {
                continue;
            }
            let exe = if name.contains("windows") {
                format!("{tool}.exe")
            } else {
                tool.to_string()
            };
            let url = a["browser_download_url"].as_str().map(str::to_string);
            let bytes = archive(name, "", &[exe]);
            if let Some(real) = a["digest"].as_str() {
                hashes.push((
                    real.trim_start_matches("sha256:").to_string(),
                    sha256(&bytes),
                ));
            }
            made.push((name.to_string(), bytes, url));
        }
    } else if let Some(platforms) = v["supportedPlatforms"].as_object() {
        // A cargo-dist npm package: `bins` under `<stem>/` unless a zip.
        let base = v["artifactDownloadUrls"][0]
            .as_str()
            .or(v["artifactDownloadUrl"].as_str())
            .unwrap_or_default()
            .to_string();
        for p in platforms.values() {
            let name = p["artifactName"].as_str().unwrap();
            let exes: Vec<String> = p["bins"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(_, f)| f.as_str().map(str::to_string))
                .collect();
            let root = if name.ends_with(".zip") {
                String::new()
            } else {
                format!("{}/", stem(name))
            };
            let url = Some(format!("{base}/{name}"));
            made.push((name.to_string(), archive(name, &root, &exes), url));
        }
    }
    if restamp {
        for file in [source.to_path_buf(), dir.join("checksums.txt")] {
            let Ok(mut text) = std::fs::read_to_string(&file) else {
                continue;
            };
            for (real, stand_in) in &hashes {
                text = text.replace(real.as_str(), stand_in);
            }
            std::fs::write(&file, text).unwrap();
        }
    }
    std::fs::create_dir_all(stand_in_dir(world)).unwrap();
    for (name, bytes, url) in made {
        std::fs::write(stand_in_dir(world).join(&name), &bytes).unwrap();
        if v["artifacts"].is_object() {
            // Beside the manifest, as `dist build` leaves it, with the
            // `.sha256` the manifest lists for it.
            std::fs::write(dir.join(&name), &bytes).unwrap();
            let sums = format!("{name}.sha256");
            if v["artifacts"][&sums]["kind"] == "checksum" {
                let line = format!("{} *{name}\n", sha256(&bytes));
                std::fs::write(dir.join(&sums), line).unwrap();
            }
        }
        if let Some(url) = url {
            let path = url.split_once("://").unwrap().1.split_once('/').unwrap().1;
            let served = world.root().join(path);
            std::fs::create_dir_all(served.parent().unwrap()).unwrap();
            std::fs::write(served, &bytes).unwrap();
        }
    }
}

/// The archive `name` (its format from the extension) holding each
/// executable under `root`, plus a README as real archives have.
fn archive(name: &str, root: &str, exes: &[String]) -> Vec<u8> {
    if name.ends_with(".zip") {
        let mut zip = Zip::new().file(&format!("{root}README.md"), 0o644, b"readme");
        for exe in exes {
            zip = zip.file(&format!("{root}{exe}"), 0o755, SCRIPT);
        }
        return zip.finish();
    }
    let mut tar = Tar::new().file(&format!("{root}README.md"), 0o644, b"readme");
    for exe in exes {
        tar = tar.file(&format!("{root}{exe}"), 0o755, SCRIPT);
    }
    let tar = tar.finish();
    if name.ends_with(".tar.xz") {
        xz(&tar)
    } else if name.ends_with(".tar.zst") {
        zstd(&tar)
    } else {
        crate::archives::gzip(&tar)
    }
}

fn stem(name: &str) -> &str {
    for ext in [".tar.gz", ".tar.xz", ".tar.zst", ".zip"] {
        if let Some(s) = name.strip_suffix(ext) {
            return s;
        }
    }
    name
}
