//! `postbin pin`: fills each target's `sha256` in package.json from a
//! checksums file (path or URL) and/or by downloading each asset and hashing
//! it. It never writes a hash it did not read or compute; targets it could
//! not pin are reported and make the command fail. With the bytes in hand
//! (`--download`) it pins their size (`size`) too; a hash it changes without
//! the bytes loses the old, now stale, size.

use crate::checksums;
use crate::error::{Error, exit};
use crate::fetch::{self, Expect};
use crate::hash::Sha256Hash;
use crate::manifest::Manifest;
use crate::net::{
    Client, Request,
    url::{Url, redact},
};
use crate::pipeline::{self, Flags};
use crate::plan;
use serde_json::Value;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// `--package DIR`.
    pub package: Option<PathBuf>,
    /// `--checksums FILE|URL`, each given; they are merged.
    pub checksums: Vec<String>,
    /// `--download`: hash the assets themselves.
    pub download: bool,
}

#[derive(Debug, Default)]
pub struct Report {
    /// (target, hash, where it came from)
    pub pinned: Vec<(String, Sha256Hash, String)>,
    /// (target, size in bytes) for each target whose bytes were downloaded.
    pub sizes: Vec<(String, u64)>,
    /// (target, old hash) whose pinned value changed: a re-uploaded asset.
    pub changed: Vec<(String, String)>,
    /// (target, why)
    pub unpinned: Vec<(String, String)>,
}

/// One line per pinned target (stdout); one per target left unpinned
/// (stderr), which makes the command fail.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (target, sha, how) in &self.pinned {
            writeln!(f, "pinned {target} {sha} from {how}")?;
        }
        Ok(())
    }
}

impl super::Report for Report {
    fn problems(&self) -> Vec<String> {
        self.unpinned
            .iter()
            .map(|(target, why)| format!("postbin: not pinned: {target}: {why}"))
            .collect()
    }

    fn exit_code(&self) -> i32 {
        if self.unpinned.is_empty() {
            exit::OK
        } else {
            exit::FAILURE
        }
    }
}

pub fn run(options: &Options) -> Result<Report, Error> {
    let package_dir = super::package_dir(options.package.as_deref());
    let manifest = Manifest::load(&package_dir)?;
    let settings = pipeline::settings_for(&manifest, Flags::default())?;
    let client = Client::new(&settings);
    // Interim: the first file only, until several merge.
    let sums = match options.checksums.first() {
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
            // Downloaded and hashed here: the size of those bytes is pinned too.
            None if options.download => match download_hash(&client, &asset) {
                Ok((sha, size)) => {
                    report.sizes.push((target.clone(), size));
                    Some((sha, format!("downloaded {}", redact(&asset.origin_url))))
                }
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
    write_hashes(&package_dir, &report.pinned, &report.sizes)?;
    for (target, old) in &report.changed {
        crate::warn!(
            "{target}: the pinned sha256 changed (was {old}); was the release asset re-uploaded?"
        );
    }
    Ok(report)
}

fn read_checksums(client: &Client<'_>, location: &str) -> Result<String, Error> {
    if !location.contains("://") {
        return std::fs::read_to_string(location).map_err(|e| Error::Checksums {
            detail: format!("cannot read the checksums file {location}: {e}"),
        });
    }
    let url = Url::parse(location).map_err(|e| Error::Checksums {
        detail: format!("cannot read the checksums file: {e}"),
    })?;
    // From here on only `url` (printed without credentials) is named.
    let fail = |detail: String| Error::Checksums {
        detail: format!("cannot read the checksums file {url}: {detail}"),
    };
    if let Some(path) = url.to_file_path() {
        return std::fs::read_to_string(path).map_err(|e| fail(e.to_string()));
    }
    let response = client
        .request(Request::get(&url, true))
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

/// The hash and size of the bytes downloaded.
fn download_hash(
    client: &Client<'_>,
    asset: &plan::Asset,
) -> Result<(Sha256Hash, u64), fetch::Error> {
    let mut temp = tempfile::tempfile().map_err(|source| fetch::Error::Write { source })?;
    let done = fetch::download(
        client,
        &asset.sources,
        &fetch::Want::new(Expect::Anything),
        &mut temp,
        &asset.asset_name,
    )?;
    Ok((done.sha256, done.size))
}

/// Rewrites only `postbin.targets.<t>.sha256` and `.size`, keeping
/// everything else. A size is written only for bytes downloaded here; a hash
/// that changes without them drops the old size, which described other bytes.
fn write_hashes(
    package_dir: &Path,
    pinned: &[(String, Sha256Hash, String)],
    sizes: &[(String, u64)],
) -> Result<(), Error> {
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
            let same = entry
                .get("sha256")
                .and_then(Value::as_str)
                .and_then(Sha256Hash::parse)
                == Some(*sha);
            entry.insert("sha256".into(), Value::String(sha.hex()));
            match sizes.iter().find(|(t, _)| t == target) {
                Some((_, size)) => {
                    entry.insert("size".into(), Value::from(*size));
                }
                None if !same => {
                    entry.remove("size");
                }
                None => {}
            }
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
