//! `--from SOURCE`: what it names, read into a `Release`. A GitHub release
//! (`owner/repo@tag` or its page URL), a dist-manifest.json (file or URL),
//! goreleaser's `dist/artifacts.json` (or its `dist/`), or a directory of
//! assets. Local sources are published where package.json's `repository`
//! says, under the tag the metadata names (else `v<version>`).

use super::Error;
use super::{Release, binstall, dist_manifest, github, goreleaser};
use crate::net::Client;
use serde_json::Value;
use std::path::Path;

const WHAT: &str = "give owner/repo@tag, a release page URL, a dist-manifest.json (file or URL), \
                    goreleaser's dist/ or dist/artifacts.json, a GitHub API release saved as JSON, \
                    a Cargo.toml with cargo-binstall metadata, or a directory of assets";

/// `app`: `--app NAME`, the app of a cargo-dist workspace to publish.
pub fn read(
    client: &Client<'_>,
    source: &str,
    package: &Value,
    app: Option<&str>,
) -> Result<Release, Error> {
    let path = Path::new(source);
    if path.exists() {
        return local(client, path, package, app);
    }
    if let Some((repo_url, tag)) = source.split_once("/releases/tag/") {
        let mut parts = repo_url.rsplit('/');
        if let (Some(repo), Some(owner)) = (parts.next(), parts.next()) {
            return from_github(client, owner, repo, tag.trim_end_matches('/'), package, app);
        }
    }
    if source.contains("://") {
        let text = super::read_text(client, source, None)?;
        let v = json(&text, source)?;
        if dist_manifest::is_manifest(&v) {
            let base = source.rsplit_once('/').map(|(b, _)| b);
            return dist_manifest::read(&v, package, app, base, None);
        }
        return Err(Error::Usage(format!(
            "{source} is no dist-manifest.json; {WHAT}"
        )));
    }
    if let Some((repo, tag)) = source.split_once('@')
        && let Some((owner, repo)) = repo.split_once('/')
        && !owner.is_empty()
        && !repo.contains('/')
    {
        return from_github(client, owner, repo, tag, package, app);
    }
    Err(Error::Usage(format!(
        "cannot read --from {source}: no such file or directory, and no release; {WHAT}"
    )))
}

fn from_github(
    client: &Client<'_>,
    owner: &str,
    repo: &str,
    tag: &str,
    package: &Value,
    app: Option<&str>,
) -> Result<Release, Error> {
    let mut release = github::read(client, owner, repo, tag)?;
    // cargo-dist's manifest, when published with the release, says more.
    if let Some(manifest) = release
        .assets
        .iter()
        .find(|a| a.name == "dist-manifest.json")
    {
        let text = super::read_text(client, &manifest.url, None)?;
        let v = json(&text, &manifest.url)?;
        // Of a workspace's manifest, only the package's app's archives.
        let app = dist_manifest::read(&v, package, app, None, None)?;
        release.assets.retain(|a| {
            app.assets.iter().any(|m| m.name == a.name)
                || v["artifacts"][&a.name]["kind"] != "executable-zip"
        });
        dist_manifest::merge(&mut release, &v)?;
        release.glibc = app.glibc;
    }
    Ok(release)
}

fn local(
    client: &Client<'_>,
    path: &Path,
    package: &Value,
    app: Option<&str>,
) -> Result<Release, Error> {
    if path.is_dir() {
        for name in ["dist-manifest.json", "artifacts.json"] {
            if path.join(name).is_file() {
                return local(client, &path.join(name), package, app);
            }
        }
        let mut release = Release {
            origin: format!("directory {}", path.display()),
            ..Release::default()
        };
        let base = published_base(package, None, None)?;
        let entries = std::fs::read_dir(path)
            .map_err(|e| Error::Release(format!("cannot read {}: {e}", path.display())))?;
        for entry in entries.flatten() {
            let (Ok(name), true) = (entry.file_name().into_string(), entry.path().is_file()) else {
                continue;
            };
            release.assets.push(super::Asset {
                url: super::join(&base, &name),
                local: Some(entry.path()),
                name,
                ..super::Asset::default()
            });
        }
        release.assets.sort_by(|a, b| a.name.cmp(&b.name));
        return Ok(release);
    }
    if binstall::is_cargo_toml(path) {
        return binstall::read(client, path, package);
    }
    let text = super::read_text(client, "", Some(path))?;
    let v = json(&text, &path.display().to_string())?;
    let dir = path.parent().unwrap_or(Path::new("."));
    if dist_manifest::is_manifest(&v) {
        let mut release = dist_manifest::read(&v, package, app, None, Some(dir))?;
        if release.assets.iter().any(|a| a.url.starts_with('/')) {
            let base = published_base(package, release.tag.as_deref(), release.version.as_deref())?;
            for asset in &mut release.assets {
                asset.url = super::join(&base, &asset.name);
            }
        }
        return Ok(release);
    }
    if github::is_release(&v) {
        return Ok(github::from_json(&v, &path.display().to_string()));
    }
    if goreleaser::is_artifacts(&v) {
        let metadata = std::fs::read_to_string(dir.join("metadata.json")).unwrap_or_default();
        let metadata = serde_json::from_str::<Value>(&metadata).unwrap_or_default();
        let text = |key: &str| metadata[key].as_str().map(str::to_string);
        let (tag, version) = (text("tag"), text("version"));
        let base = published_base(package, tag.as_deref(), version.as_deref())?;
        let project = dir.parent().unwrap_or(Path::new("."));
        let mut release = goreleaser::read(&v, project, &base, version)?;
        release.tag = tag;
        // Its checksums file, when goreleaser wrote one beside the list.
        let sums = dir.join("checksums.txt");
        if sums.is_file() && release.asset_mut("checksums.txt").is_none() {
            release.assets.push(super::Asset {
                name: "checksums.txt".into(),
                url: super::join(&base, "checksums.txt"),
                local: Some(sums),
                ..super::Asset::default()
            });
        }
        return Ok(release);
    }
    Err(Error::Usage(format!(
        "{} is neither a dist-manifest.json nor goreleaser's artifacts.json; {WHAT}",
        path.display()
    )))
}

/// `https://github.com/OWNER/REPO/releases/download/<tag>`, from package.json's
/// `repository`: the tag the metadata names, else `v<version>`.
fn published_base(
    package: &Value,
    tag: Option<&str>,
    version: Option<&str>,
) -> Result<String, Error> {
    let repository = &package["repository"];
    let url = repository
        .as_str()
        .or(repository["url"].as_str())
        .unwrap_or_default();
    let path = url
        .trim_start_matches("git+")
        .trim_start_matches("github:")
        .trim_end_matches('/')
        .trim_end_matches(".git");
    let path = path.split_once("github.com").map_or(path, |(_, p)| p);
    let path = path.trim_start_matches([':', '/']);
    let version = version.or(package["version"].as_str()).unwrap_or_default();
    let tag = tag.map_or_else(|| format!("v{version}"), str::to_string);
    match path.split_once('/') {
        Some((owner, repo)) if !owner.is_empty() && !repo.is_empty() && !repo.contains('/') => Ok(
            format!("https://github.com/{owner}/{repo}/releases/download/{tag}"),
        ),
        _ => Err(Error::Release(
            "local assets need to know where they are published: set package.json `repository` to the GitHub repository, \
             or use --from owner/repo@tag once the release is up"
                .into(),
        )),
    }
}

fn json(text: &str, what: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::Release(format!("{what} is not valid JSON: {e}")))
}
