//! cargo-dist's `dist-manifest.json`: each `executable-zip` artifact with
//! its target triples, the executables inside, and its sha256 (inline
//! `checksums`, or the `checksum` artifact beside it).

use super::{Asset, Release};
use crate::hash::Sha256Hash;
use serde_json::Value;
use std::path::Path;

/// Is this JSON a dist-manifest?
pub fn is_manifest(v: &Value) -> bool {
    v["artifacts"].is_object() && (v.get("dist_version").is_some() || v["releases"].is_array())
}

/// The release a manifest describes: assets at `base` (its hosting, else
/// the given base), copies in `local_dir` where they exist.
pub fn read(v: &Value, base: Option<&str>, local_dir: Option<&Path>) -> Release {
    let release = &v["releases"][0];
    let hosting = &release["hosting"]["github"];
    let hosted = match (
        hosting["artifact_base_url"].as_str(),
        hosting["artifact_download_path"].as_str(),
    ) {
        (Some(b), Some(p)) => Some(format!("{}{p}", b.trim_end_matches('/'))),
        _ => None,
    };
    let base = hosted.as_deref().or(base).unwrap_or_default();
    let mut out = Release {
        origin: "dist-manifest.json".into(),
        version: release["app_version"]
            .as_str()
            .map(str::to_string)
            .or_else(|| v["announcement_tag"].as_str().map(super::version_of_tag)),
        ..Release::default()
    };
    for (name, artifact) in v["artifacts"].as_object().into_iter().flatten() {
        let kind = artifact["kind"].as_str().unwrap_or_default();
        if !matches!(kind, "executable-zip" | "checksum") {
            continue;
        }
        let local = local_dir.map(|d| d.join(name)).filter(|p| p.is_file());
        out.assets.push(Asset {
            name: name.clone(),
            url: super::join(base, name),
            local,
            ..Asset::default()
        });
    }
    merge(&mut out, v);
    out
}

/// Adds what the manifest says (targets, executables, hashes) to the
/// release's assets of the same name.
pub fn merge(release: &mut Release, v: &Value) {
    for (name, artifact) in v["artifacts"].as_object().into_iter().flatten() {
        if artifact["kind"] != "executable-zip" {
            continue;
        }
        let Some(asset) = release.asset_mut(name) else {
            continue;
        };
        asset.targets = strings(&artifact["target_triples"]);
        // Tarballs hold one top directory named after the archive; zips none.
        let root = if name.ends_with(".zip") {
            String::new()
        } else {
            format!("{}/", stem(name))
        };
        for exe in artifact["assets"].as_array().into_iter().flatten() {
            if let (Some("executable"), Some(exe_name), Some(path)) = (
                exe["kind"].as_str(),
                exe["name"].as_str(),
                exe["path"].as_str(),
            ) {
                let command = exe_name.trim_end_matches(".exe").to_string();
                asset.bins.insert(command, format!("{root}{path}"));
            }
        }
        if let Some(sha) = artifact["checksums"]["sha256"]
            .as_str()
            .and_then(Sha256Hash::parse)
        {
            asset.hashes.push((sha, "dist-manifest.json".into()));
        }
    }
}

/// `hello-x86_64-unknown-linux-gnu.tar.xz` → `hello-x86_64-unknown-linux-gnu`.
pub fn stem(name: &str) -> &str {
    for ext in [".tar.gz", ".tar.xz", ".tar.zst", ".tgz", ".txz", ".zip"] {
        if let Some(s) = name.strip_suffix(ext) {
            return s;
        }
    }
    name
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}
