//! goreleaser's `dist/artifacts.json`: each archive (or binary) with its
//! `goos`/`goarch`, the binaries inside and its sha256; `metadata.json`
//! beside it names the version.

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
pub fn read(v: &Value, project: &Path, base: &str, version: Option<String>) -> Release {
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
        let root = extra["WrappedIn"]
            .as_str()
            .map(|w| format!("{w}/"))
            .unwrap_or_default();
        let mut asset = Asset {
            name: name.to_string(),
            url: super::join(base, name),
            local: Some(project.join(path)).filter(|p| p.is_file()),
            targets: super::names::targets(&os_arch).unwrap_or_default(),
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
    out
}
