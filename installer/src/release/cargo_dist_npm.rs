//! A cargo-dist generated npm package: its package.json names the release
//! (`artifactDownloadUrl`, or `artifactDownloadUrls` in the versions that
//! list several hosts), each platform's archive and executables
//! (`supportedPlatforms`) and the oldest glibc of its `-gnu` builds
//! (`glibcMinimum`). Migrating it removes only what postbin replaces.

use super::{Asset, Release};
use serde_json::{Map, Value};
use std::path::Path;

/// What cargo-dist's installer needs and postbin replaces (`tar` unpacks
/// its archives since cargo-dist 0.19; `binary-install` did before 0.14).
const DEPENDENCIES: [&str; 7] = [
    "axios",
    "binary-install",
    "axios-proxy-builder",
    "rimraf",
    "detect-libc",
    "console.table",
    "tar",
];
/// Where the release is: one URL (`artifactDownloadUrl`, what most
/// published packages carry) or a list tried in order.
const URL_KEYS: [&str; 2] = ["artifactDownloadUrl", "artifactDownloadUrls"];
const KEYS: [&str; 4] = [
    "artifactDownloadUrl",
    "artifactDownloadUrls",
    "supportedPlatforms",
    "glibcMinimum",
];

pub fn detect(package: &Value) -> bool {
    package["supportedPlatforms"].is_object() && URL_KEYS.iter().any(|k| package.get(k).is_some())
}

/// An npm package of a cargo-dist from before `supportedPlatforms` (0.13
/// and older): its platforms are code in `binary.js`, not data, so the
/// release must be named with `--from`.
pub fn detect_legacy(package: &Value) -> bool {
    !detect(package)
        && package["dependencies"]["binary-install"].is_string()
        && package["scripts"]["postinstall"]
            .as_str()
            .is_some_and(|s| s.contains("install.js"))
}

/// The first URL the package names for its release.
fn release_base(package: &Value) -> &str {
    URL_KEYS
        .iter()
        .map(|k| &package[k])
        .find_map(|v| v[0].as_str().or(v.as_str()))
        .unwrap_or_default()
}

pub fn read(package: &Value) -> Result<Release, super::Error> {
    let base = release_base(package);
    let glibc = &package["glibcMinimum"];
    let mut out = Release {
        origin: "cargo-dist npm package".into(),
        version: package["version"].as_str().map(str::to_string),
        glibc: match (glibc["major"].as_u64(), glibc["series"].as_u64()) {
            (Some(major), Some(minor)) => Some(format!("{major}.{minor}")),
            _ => None,
        },
        ..Release::default()
    };
    for (key, platform) in package["supportedPlatforms"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let Some(name) = platform["artifactName"].as_str() else {
            continue;
        };
        // cargo-dist's keys for one musl build, static or dynamically linked.
        let target = key.trim_end_matches("-static").trim_end_matches("-dynamic");
        let target = super::names::checked_targets(
            vec![target.to_string()],
            "package.json `supportedPlatforms`",
        )?
        .remove(0);
        let target = target.as_str();
        if out.asset_mut(name).is_none() {
            out.assets.push(Asset {
                name: name.to_string(),
                url: super::join(base, name),
                ..Asset::default()
            });
        }
        let asset = out.asset_mut(name).expect("pushed above");
        if !asset.targets.iter().any(|t| t == target) {
            asset.targets.push(target.to_string());
        }
        // Tarballs hold one top directory named after the archive; zips none.
        let root = match platform["zipExt"].as_str() {
            Some(".zip") => String::new(),
            _ => format!("{}/", super::dist_manifest::stem(name)),
        };
        for (command, file) in platform["bins"].as_object().into_iter().flatten() {
            if let Some(file) = file.as_str() {
                asset.bins.insert(command.clone(), format!("{root}{file}"));
            }
        }
    }
    // An alias (`"hello-link": "run-hello.js"`) runs the command whose launcher it shares.
    let bin = package["bin"].as_object();
    for (alias, launcher) in bin.into_iter().flatten() {
        let target = bin.into_iter().flatten().find(|(c, l)| {
            *l == launcher && *c != alias && launcher.as_str() == Some(&format!("run-{c}.js"))
        });
        if let Some((command, _)) = target {
            for asset in &mut out.assets {
                if let Some(path) = asset.bins.get(command).cloned() {
                    asset.bins.entry(alias.clone()).or_insert(path);
                }
            }
        }
    }
    Ok(out)
}

/// Takes cargo-dist's installer out of the package: its keys, its
/// dependencies, its `postinstall`, its launchers (`bin` entries then point
/// at `bin/<command>`, where `init` writes postbin's) and the files it
/// wrote (`install.js`, `binary*.js`, `run-*.js`; removed unless `dry_run`).
/// Returns what was removed.
pub fn migrate(dir: &Path, root: &mut Map<String, Value>, dry_run: bool) -> Vec<String> {
    let mut removed = Vec::new();
    // `shift_remove`: the keys after a removed one keep their order.
    for key in KEYS {
        if root.shift_remove(key).is_some() {
            removed.push(format!("package.json `{key}`"));
        }
    }
    if let Some(Value::Object(deps)) = root.get_mut("dependencies") {
        for dep in DEPENDENCIES {
            if deps.shift_remove(dep).is_some() {
                removed.push(format!("dependency {dep}"));
            }
        }
    }
    if let Some(Value::Object(scripts)) = root.get_mut("scripts")
        && scripts["postinstall"]
            .as_str()
            .is_some_and(|s| s.contains("install.js"))
    {
        scripts.shift_remove("postinstall");
        removed.push("script postinstall (node ./install.js)".into());
    }
    if let Some(Value::Object(bin)) = root.get_mut("bin") {
        for (command, path) in bin.iter_mut() {
            if path
                .as_str()
                .is_some_and(|p| is_ours(p.trim_start_matches("./")))
            {
                *path = Value::String(format!("bin/{command}"));
            }
        }
    }
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_ours(n))
        .collect();
    files.sort();
    for file in files {
        let path = dir.join(&file);
        // Only files cargo-dist wrote: they load its `binary.js` or are it.
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if !(text.contains("require(\"./binary")
            || text.contains("artifactDownloadUrl")
            || text.contains("class Package"))
        {
            continue;
        }
        if dry_run || std::fs::remove_file(&path).is_ok() {
            removed.push(file);
        }
    }
    removed
}

/// `install.js`, `binary.js`, `binary-install.js`, `run-<bin>.js`, and
/// `run.js` (before 0.14).
fn is_ours(name: &str) -> bool {
    name == "install.js"
        || name == "run.js"
        || (name.ends_with(".js") && (name.starts_with("binary") || name.starts_with("run-")))
}
