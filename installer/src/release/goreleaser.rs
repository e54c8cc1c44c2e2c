//! goreleaser's `dist/artifacts.json`: each archive (or binary) with its
//! `goos`/`goarch`, the binaries inside and its sha256; `metadata.json`
//! beside it names the version.

use super::Error;
use super::{Asset, Release};
use crate::hash::Sha256Hash;
use serde_json::Value;
use std::path::Path;

/// Is this JSON goreleaser's artifacts list?
pub fn is_artifacts(v: &Value) -> bool {
    v.as_array().is_some_and(|a| {
        a.iter()
            .any(|e| e["goos"].is_string() || e["type"] == "Archive")
    })
}

/// The archives (and uploadable binaries) listed; `project` is the
/// directory goreleaser ran in (`path`s are relative to it), `base` where
/// they are published.
pub fn read(
    v: &Value,
    project: &Path,
    base: &str,
    version: Option<String>,
) -> Result<Release, Error> {
    let mut out = Release {
        origin: "goreleaser artifacts.json".into(),
        version,
        ..Release::default()
    };
    for e in v.as_array().into_iter().flatten() {
        let (Some(name), Some(path)) = (e["name"].as_str(), e["path"].as_str()) else {
            continue;
        };
        if !matches!(e["type"].as_str(), Some("Archive" | "Uploadable Binary")) {
            continue;
        }
        let extra = &e["extra"];
        let goarch = match (e["goarch"].as_str(), e["goarm"].as_str()) {
            (Some("arm"), Some(v)) => format!("armv{v}"),
            (a, _) => a.unwrap_or_default().to_string(),
        };
        let os_arch = format!("{}_{goarch}", e["goos"].as_str().unwrap_or_default());
        let Some(targets) = super::names::targets(&os_arch) else {
            let why = super::names::why_no_target(&os_arch);
            out.skipped.push((name.to_string(), why.to_string()));
            continue;
        };
        let targets = super::names::checked_targets(targets, &format!("artifacts.json {name}"))?;
        // goreleaser writes `"WrappedIn": ""` for archives without a top
        // directory: no root then, never `/`.
        let root = extra["WrappedIn"]
            .as_str()
            .filter(|w| !w.is_empty())
            .map(|w| format!("{}/", w.trim_end_matches('/')))
            .unwrap_or_default();
        let mut asset = Asset {
            name: name.to_string(),
            url: super::join(base, name),
            local: Some(project.join(path)).filter(|p| p.is_file()),
            targets,
            ..Asset::default()
        };
        if e["type"] == "Archive" {
            for bin in super::dist_manifest::strings(&extra["Binaries"]) {
                asset
                    .bins
                    .insert(bin.trim_end_matches(".exe").into(), format!("{root}{bin}"));
            }
        }
        let sha = extra["Checksum"]
            .as_str()
            .and_then(|c| c.strip_prefix("sha256:"));
        if let Some(sha) = sha.and_then(Sha256Hash::parse) {
            asset.hashes.push((sha, "artifacts.json".into()));
        }
        out.assets.push(asset);
    }
    Ok(out)
}
