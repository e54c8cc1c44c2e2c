//! `postbin pin`: fills each target's `sha256` in package.json from a
//! checksums file (path or URL) and/or by downloading each asset and hashing
//! it. It never writes a hash it did not read or compute; targets it could
//! not pin are reported and make the command fail.

use crate::checksums;
use crate::error::Error;
use crate::fetch::{self, Expect};
use crate::hash::Sha256Hash;
use crate::manifest::Manifest;
use crate::net::{Client, url::file_url_to_path};
use crate::plan;
use crate::settings::Settings;
use serde_json::Value;
use std::io::Read;
use std::path::Path;

pub struct Options<'a> {
    pub package_dir: &'a Path,
    pub checksums: Option<String>,
    pub download: bool,
}

#[derive(Debug, Default)]
pub struct Report {
    /// (target, hash, where it came from)
    pub pinned: Vec<(String, Sha256Hash, String)>,
    /// (target, old hash) whose pinned value changed: a re-uploaded asset.
    pub changed: Vec<(String, String)>,
    /// (target, why)
    pub unpinned: Vec<(String, String)>,
}

pub fn run(options: &Options<'_>) -> Result<Report, Error> {
    if options.checksums.is_none() && !options.download {
        return Err(Error::Usage(
            "pin needs --checksums FILE|URL, --download, or both".into(),
        ));
    }
    let manifest = Manifest::load(options.package_dir)?;
    let settings = Settings::load(Some(&plan::env_prefix(&manifest)));
    let client = Client::new(&settings);
    let sums = match &options.checksums {
        Some(location) => Some(read_checksums(&client, location)?),
        None => None,
    };
    let mut report = Report::default();
    for target in manifest.postbin.targets.keys() {
        let asset = plan::asset(&manifest, &settings, target)?;
        let from_file = sums
            .as_deref()
            .and_then(|text| checksums::find(text, &asset.asset_name));
        let found = match from_file {
            Some(sha) => Some((sha, format!("checksums file ({})", asset.asset_name))),
            None if options.download => match download_hash(&client, &asset) {
                Ok(sha) => Some((sha, format!("downloaded {}", asset.origin_url))),
                Err(e) => {
                    report.unpinned.push((target.clone(), e.to_string()));
                    None
                }
            },
            None => {
                report.unpinned.push((
                    target.clone(),
                    format!("{} is not in the checksums file", asset.asset_name),
                ));
                None
            }
        };
        if let Some((sha, how)) = found {
            let old = manifest.postbin.targets[target].sha256.clone();
            if let Some(old) = old.filter(|o| Sha256Hash::parse(o).is_some_and(|o| o != sha)) {
                report.changed.push((target.clone(), old));
            }
            report.pinned.push((target.clone(), sha, how));
        }
    }
    write_hashes(options.package_dir, &report.pinned)?;
    Ok(report)
}

fn read_checksums(client: &Client<'_>, location: &str) -> Result<String, Error> {
    let fail = |detail: String| Error::Checksums {
        detail: format!("cannot read the checksums file {location}: {detail}"),
    };
    if !location.contains("://") {
        return std::fs::read_to_string(location).map_err(|e| fail(e.to_string()));
    }
    if let Some(path) = file_url_to_path(location) {
        return std::fs::read_to_string(path).map_err(|e| fail(e.to_string()));
    }
    let response = client
        .request(location, true, None, false)
        .map_err(|e| fail(e.to_string()))?;
    let mut text = String::new();
    response
        .body
        .into_reader()
        .take(4 << 20)
        .read_to_string(&mut text)
        .map_err(|e| fail(e.to_string()))?;
    Ok(text)
}

fn download_hash(client: &Client<'_>, asset: &plan::Asset) -> Result<Sha256Hash, fetch::Error> {
    let mut temp = tempfile::tempfile().map_err(|source| fetch::Error::Write { source })?;
    let done = fetch::download(
        client,
        &asset.sources,
        Expect::Anything,
        &mut temp,
        &asset.asset_name,
    )?;
    Ok(done.sha256)
}

/// Rewrites only `postbin.targets.<t>.sha256`, keeping everything else.
fn write_hashes(package_dir: &Path, pinned: &[(String, Sha256Hash, String)]) -> Result<(), Error> {
    let path = package_dir.join("package.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
    let mut root: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    for (target, sha, _) in pinned {
        if let Some(entry) = root
            .pointer_mut(&format!(
                "/postbin/targets/{}",
                target.replace('~', "~0").replace('/', "~1")
            ))
            .and_then(Value::as_object_mut)
        {
            entry.insert("sha256".into(), Value::String(sha.hex()));
        }
    }
    let mut out = serde_json::to_string_pretty(&root).expect("a Value always serializes");
    out.push('\n');
    if out != text {
        std::fs::write(&path, out)
            .map_err(|e| Error::Usage(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
