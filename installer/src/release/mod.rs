//! Releases as `postbin init --from` reads them: a GitHub release (REST
//! API), a cargo-dist `dist-manifest.json`, a cargo-dist npm package,
//! goreleaser's `dist/`, a crate's cargo-binstall metadata, or a directory
//! of assets. Each source becomes one
//! `Release`: its assets with what is known of them (targets, executables
//! inside, hashes and where each came from); `commands::init::from` chooses
//! and writes the section.

pub(crate) mod binstall;
pub(crate) mod cargo_dist_npm;
pub(crate) mod dist_manifest;
pub(crate) mod github;
pub(crate) mod goreleaser;
pub(crate) mod names;
pub(crate) mod source;
mod toml_lite;

use crate::extract::Listing;
use crate::hash::Sha256Hash;
use crate::net::Client;
use crate::plan::{self, Format};
use crate::probe::{self, ProbeError, TextError};
use crate::url::Url;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a release cannot be read. The top-level error keeps each kind's
/// exit code: a `--from` that names nothing readable is a usage error (2),
/// a release that cannot be used as it stands is configuration (3), and a
/// failed fetch or unpack keeps its own.
#[derive(Debug)]
pub enum Error {
    Usage(String),
    Release(String),
    Fetch(crate::fetch::Error),
    Extract(crate::extract::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Usage(m) | Error::Release(m) => f.write_str(m),
            Error::Fetch(e) => e.fmt(f),
            Error::Extract(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Usage(_) | Error::Release(_) => None,
            Error::Fetch(e) => e.source(),
            Error::Extract(e) => e.source(),
        }
    }
}

impl From<crate::fetch::Error> for Error {
    fn from(e: crate::fetch::Error) -> Self {
        Error::Fetch(e)
    }
}

impl From<crate::net::Error> for Error {
    fn from(e: crate::net::Error) -> Self {
        Error::Fetch(crate::fetch::Error::Net(e))
    }
}

impl From<crate::extract::Error> for Error {
    fn from(e: crate::extract::Error) -> Self {
        Error::Extract(e)
    }
}

/// One published file.
#[derive(Clone, Debug, Default)]
pub struct Asset {
    pub name: String,
    /// Where it is published (the URL the section is written from).
    pub url: String,
    /// A local copy (a directory source), read instead of downloading.
    pub local: Option<PathBuf>,
    /// Hashes known without downloading, each with where it came from.
    pub hashes: Vec<(Sha256Hash, String)>,
    /// The targets its metadata names (empty: read them from the name).
    pub targets: Vec<String>,
    /// Its format, when metadata says (else read from the name).
    pub format: Option<Format>,
    /// Command → path inside the archive, when metadata says.
    pub bins: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
pub struct Release {
    /// What was read, for the report (`GitHub release acme/hello@v1.0.0`).
    pub origin: String,
    /// The release's version (its tag without `v`), when known.
    pub version: Option<String>,
    /// The release's tag, when the metadata names it (cargo-dist's
    /// `announcement_tag`, goreleaser's `metadata.json`): local sources are
    /// published under it, never under a guessed `v<version>`.
    pub tag: Option<String>,
    pub assets: Vec<Asset>,
    /// cargo-dist's `glibcMinimum`, for its `-gnu` targets.
    pub glibc: Option<String>,
    /// (asset, why it is not installable), where the metadata says so.
    pub skipped: Vec<(String, String)>,
}

impl Release {
    pub fn asset_mut(&mut self, name: &str) -> Option<&mut Asset> {
        self.assets.iter_mut().find(|a| a.name == name)
    }
}

/// `v1.2.3`, `hello-v1.2.3`, `hello@1.2.3` → `1.2.3`.
pub fn version_of_tag(tag: &str) -> String {
    let last = tag.rsplit(['/', '@']).next().unwrap_or(tag);
    let b = last.as_bytes();
    let at = (0..b.len())
        .find(|&i| {
            b[i].is_ascii_digit() && (i == 0 || matches!(b[i - 1], b'v' | b'V' | b'-' | b'_'))
        })
        .unwrap_or(0);
    last[at..].to_string()
}

/// `base` + `/` + `name`.
pub fn join(base: &str, name: &str) -> String {
    format!("{}/{name}", base.trim_end_matches('/'))
}

/// Reads a small text file (a checksums file, a manifest): a local path, or
/// a URL fetched through the consumer's mirrors, proxy, CA and retries.
pub fn read_text(
    client: &Client<'_>,
    location: &str,
    local: Option<&Path>,
) -> Result<String, Error> {
    let location = local.map_or_else(|| location.to_string(), |p| p.display().to_string());
    match probe::read_text(client.settings(), &location, MAX_TEXT) {
        Ok((_, text)) => Ok(text),
        Err(TextError::Fetch(e)) => Err(not_found(e, &location)),
        Err(TextError::Local(e)) => Err(Error::Release(format!("cannot read {location}: {e}"))),
        Err(TextError::TooLarge) => Err(Error::Release(format!(
            "{location} is larger than 16 MiB: no checksums file or manifest is; check the path"
        ))),
        Err(TextError::Location(why)) => Err(Error::Release(format!("{location}: {why}"))),
    }
}

/// A 404 while reading a release names the file the release lacks, where
/// it was looked for (and the mirror it was asked of, when one is set): the
/// usual cause is a tag or a name the metadata does not match.
fn not_found(e: crate::fetch::Error, location: &str) -> Error {
    match e {
        crate::fetch::Error::Net(crate::net::Error::Status {
            status: 404,
            url,
            mirror,
            ..
        }) => {
            let via = if mirror {
                format!(" (asked of the mirror as {url}; it may lack it)")
            } else {
                String::new()
            };
            Error::Release(format!(
                "the release has no {location}: it answered 404 Not Found{via}. Check the \
                 release's tag and that the file was uploaded"
            ))
        }
        other => other.into(),
    }
}

/// The most of a checksums file or manifest that is read.
const MAX_TEXT: u64 = 16 << 20;

/// GET `url` (no mirror: an API), its body as text, at most 16 MiB,
/// retried as any download is.
pub fn get(client: &Client<'_>, url: &Url, explicit: bool) -> Result<String, crate::fetch::Error> {
    let source = crate::plan::Source::direct(url.clone(), explicit);
    let bytes = crate::fetch::small_file(client, &[source], MAX_TEXT, url.file_name())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The asset's bytes (downloaded, or its local copy): their hash and size,
/// and what they unpack to in `dir`.
pub fn unpack(
    client: &Client<'_>,
    asset: &Asset,
    format: Format,
    raw_name: &str,
    dir: &Path,
) -> Result<(Sha256Hash, u64, Listing), Error> {
    let sources = plan::sources_for(&asset.url, client.settings())
        .map_err(|e| Error::Release(format!("{}: {e}", asset.url)))?;
    let local = asset.local.as_deref();
    match probe::probe(client, &sources, local, &asset.name, format, raw_name, dir) {
        Ok(p) => Ok((p.sha256, p.size, p.listing)),
        Err(ProbeError::Fetch(e)) => Err(not_found(e, &asset.url)),
        Err(ProbeError::Io(e)) => Err(Error::Release(format!("cannot read {}: {e}", asset.name))),
        Err(ProbeError::Unpack { error, .. }) => Err((*error).into()),
        Err(ProbeError::NotAnExecutable { looks_like, .. }) => Err(Error::Release(format!(
            "{} is {looks_like}, not an executable; remove it from the release or rename it",
            asset.name
        ))),
    }
}
