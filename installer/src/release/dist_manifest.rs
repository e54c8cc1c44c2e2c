//! cargo-dist's `dist-manifest.json`: each `executable-zip` artifact with
//! its target triples, the executables inside, and its sha256 (inline
//! `checksums`, or the `checksum` artifact beside it). A workspace that
//! releases several apps in one manifest is narrowed to the package's app.

use super::Error;
use super::{Asset, Release};
use crate::hash::Sha256Hash;
use crate::manifest::unscoped;
use serde_json::Value;
use std::path::Path;

/// Is this JSON a dist-manifest?
pub fn is_manifest(v: &Value) -> bool {
    v["artifacts"].is_object() && (v.get("dist_version").is_some() || v["releases"].is_array())
}

/// The release a manifest describes, for the package's app: assets at the
/// manifest's hosting (else `base`; else left for the caller to place, with
/// `Release::tag` read from the manifest), copies in `local_dir` where they
/// exist.
pub fn read(
    v: &Value,
    package: &Value,
    app: Option<&str>,
    base: Option<&str>,
    local_dir: Option<&Path>,
) -> Result<Release, Error> {
    let release = app_release(v, package, app)?;
    let hosted = hosted_base(release);
    let base = hosted.as_deref().or(base).unwrap_or_default();
    let tag = v["announcement_tag"].as_str().map(str::to_string);
    let mut out = Release {
        origin: "dist-manifest.json".into(),
        version: release["app_version"]
            .as_str()
            .map(str::to_string)
            .or_else(|| tag.as_deref().map(super::version_of_tag)),
        tag,
        glibc: build_glibc(v),
        ..Release::default()
    };
    let listed = strings(&release["artifacts"]);
    for (name, artifact) in v["artifacts"].as_object().into_iter().flatten() {
        if !listed.is_empty() && !listed.contains(name) {
            continue;
        }
        let kind = artifact["kind"].as_str().unwrap_or_default();
        // Checksum artifacts other than sha256 (`.blake2b`, `.sha3-256`) say
        // nothing postbin can check; a `unified-checksum` is `sha256.sum`
        // only when named so.
        let sha256_file = name.ends_with(".sha256") || name == "sha256.sum";
        let wanted = match kind {
            "executable-zip" => true,
            "checksum" | "unified-checksum" => sha256_file,
            _ => false,
        };
        if !wanted {
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
    merge(&mut out, v)?;
    Ok(out)
}

/// `releases[i]` of the package's app: the one `--app` names; the only one;
/// else the one named as the package (unscoped); else the one whose
/// executables are the commands package.json declares.
fn app_release<'v>(v: &'v Value, package: &Value, app: Option<&str>) -> Result<&'v Value, Error> {
    let releases = v["releases"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let apps: Vec<&str> = releases
        .iter()
        .filter_map(|r| r["app_name"].as_str())
        .collect();
    if let Some(app) = app {
        return releases
            .iter()
            .find(|r| r["app_name"] == app)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--app {app}: dist-manifest.json releases no such app; it releases: {}",
                    apps.join(", ")
                ))
            });
    }
    if releases.len() <= 1 {
        return Ok(&v["releases"][0]);
    }
    let name = unscoped(package["name"].as_str().unwrap_or_default());
    if let Some(r) = releases.iter().find(|r| r["app_name"] == name) {
        return Ok(r);
    }
    let declared: Vec<&String> = package["bin"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(c, _)| c)
        .collect();
    if !declared.is_empty() {
        let provides = |r: &Value| {
            let commands = app_commands(v, r);
            declared.iter().all(|c| commands.contains(c))
        };
        if let [only] = releases.iter().filter(|r| provides(r)).collect::<Vec<_>>()[..] {
            return Ok(only);
        }
    }
    Err(Error::Release(format!(
        "dist-manifest.json releases {} apps ({}) and none is this package's: give `--app NAME`, \
         set package.json `name` to the app to publish, or declare its commands in `bin`",
        apps.len(),
        apps.join(", ")
    )))
}

/// The glibc the `-gnu` builds were made against (`systems.*.build_environment`,
/// 0.2x on): their minimum, as cargo-dist's own npm installer takes it.
fn build_glibc(v: &Value) -> Option<String> {
    v["systems"].as_object()?.values().find_map(|system| {
        let glibc = &system["build_environment"]["linux"]["glibc_version"];
        Some(format!(
            "{}.{}",
            glibc["major"].as_u64()?,
            glibc["series"].as_u64()?
        ))
    })
}

/// The commands an app's archives hold.
fn app_commands(v: &Value, release: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for name in strings(&release["artifacts"]) {
        for exe in v["artifacts"][&name]["assets"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let (Some("executable"), Some(n)) = (exe["kind"].as_str(), exe["name"].as_str()) {
                out.push(n.trim_end_matches(".exe").to_string());
            }
        }
    }
    out
}

/// Where the app's archives are published, as the manifest says:
/// `artifact_base_url` + `artifact_download_path` (0.14 on), or
/// `artifact_download_url` (0.8 to 0.13).
fn hosted_base(release: &Value) -> Option<String> {
    let github = &release["hosting"]["github"];
    match (
        github["artifact_base_url"].as_str(),
        github["artifact_download_path"].as_str(),
        github["artifact_download_url"].as_str(),
    ) {
        (Some(b), Some(p), _) => Some(format!("{}{p}", b.trim_end_matches('/'))),
        (_, _, Some(url)) => Some(url.trim_end_matches('/').to_string()),
        _ => None,
    }
}

/// Adds what the manifest says (targets, executables, hashes) to the
/// release's assets of the same name.
pub fn merge(release: &mut Release, v: &Value) -> Result<(), Error> {
    for (name, artifact) in v["artifacts"].as_object().into_iter().flatten() {
        if artifact["kind"] != "executable-zip" {
            continue;
        }
        let Some(asset) = release.asset_mut(name) else {
            continue;
        };
        asset.targets = super::names::checked_targets(
            strings(&artifact["target_triples"]),
            &format!("dist-manifest.json artifact {name}"),
        )?;
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
    Ok(())
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
