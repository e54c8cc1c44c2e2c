//! What the publisher commands (`pin`, `init --from`) fetch before anything
//! is pinned: small text files (checksums files, manifests) and the release
//! assets themselves, hashed and unpacked into a temp dir to list them.
//! Both go through the consumer's network stack (mirrors, proxy, CA,
//! retries) exactly as an install's download would.

use crate::extract::{self, Limits, Listing};
use crate::fetch::{self, Expect};
use crate::hash::Sha256Hash;
use crate::net::Client;
use crate::plan::{self, Format, Source};
use crate::settings::Settings;
use crate::url::Url;
use std::io::{self, Read};
use std::path::Path;

/// Why a text file could not be read; each caller says it in its own terms.
#[derive(Debug)]
pub enum TextError {
    /// A local file (a path or a `file://` URL) that cannot be read.
    Local(io::Error),
    /// Larger than the caller's cap.
    TooLarge,
    /// A location that is no usable URL (or that no mirror can serve).
    Location(String),
    Fetch(fetch::Error),
}

/// The text at `location`, at most `max` bytes, and the label messages name
/// it by (a URL without credentials): a local file read as it is, a URL
/// fetched like an asset.
pub fn read_text(
    settings: &Settings,
    location: &str,
    max: u64,
) -> Result<(String, String), TextError> {
    let url = match location.contains("://") {
        true => Some(Url::parse(location).map_err(|e| TextError::Location(e.to_string()))?),
        false => None,
    };
    let bytes = match url.as_ref().map(|u| (u, u.to_file_path())) {
        Some((url, None)) => download_text(settings, url, max)?,
        Some((_, Some(path))) => read_local(&path, max)?,
        None => read_local(Path::new(location), max)?,
    };
    let label = url.map_or_else(|| location.to_string(), |u| u.to_string());
    Ok((label, String::from_utf8_lossy(&bytes).into_owned()))
}

fn read_local(path: &Path, max: u64) -> Result<Vec<u8>, TextError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(TextError::Local)?;
    if bytes.len() as u64 > max {
        return Err(TextError::TooLarge);
    }
    Ok(bytes)
}

fn download_text(settings: &Settings, url: &Url, max: u64) -> Result<Vec<u8>, TextError> {
    let location = url.to_string_with_credentials();
    let sources =
        plan::sources_for(&location, settings).map_err(|e| TextError::Location(e.to_string()))?;
    let client = Client::new(settings);
    fetch::small_file(&client, &sources, max, url.file_name()).map_err(|e| {
        if fetch::is_too_large(&e) {
            TextError::TooLarge
        } else {
            TextError::Fetch(e)
        }
    })
}

/// An asset's bytes, hashed and unpacked into `dir`.
pub struct Probed {
    pub sha256: Sha256Hash,
    pub size: u64,
    /// The digest of each chunk (`chunks.rs`), for streaming installs.
    pub chunks: crate::chunks::Chunks,
    /// Where the bytes came from (`None`: a local copy).
    pub url: Option<Url>,
    pub listing: Listing,
}

/// Why an asset could not be probed.
#[derive(Debug)]
pub enum ProbeError {
    Fetch(fetch::Error),
    Io(io::Error),
    /// The bytes are no archive of `format`; `looks_like` names what they
    /// recognisably are instead (a web page...).
    /// `url`: where the bytes came from, as messages name it.
    Unpack {
        url: Option<String>,
        error: Box<extract::Error>,
        looks_like: Option<&'static str>,
    },
    /// A `raw` asset that is recognisably no executable.
    NotAnExecutable {
        url: Option<String>,
        looks_like: &'static str,
    },
}

/// Downloads the asset from `sources` (or reads `local`), hashes it and
/// unpacks it into `dir`. Nothing is pinned yet, so nothing vouches for
/// these bytes: they go only to a temp dir, under the usual unpack limits.
pub fn probe(
    client: &Client<'_>,
    sources: &[Source],
    local: Option<&Path>,
    name: &str,
    format: Format,
    raw_name: &str,
    dir: &Path,
) -> Result<Probed, ProbeError> {
    let temp;
    // A download is hashed as it arrives; a local copy is hashed here.
    let (path, url, (sha256, size)) = match local {
        Some(path) => (
            path,
            None,
            crate::hash::hash_file(path).map_err(ProbeError::Io)?,
        ),
        None => {
            let mut file = tempfile::NamedTempFile::new().map_err(ProbeError::Io)?;
            let want = fetch::Want::new(Expect::Anything);
            let done = fetch::download(client, sources, &want, file.as_file_mut(), name)
                .map_err(ProbeError::Fetch)?;
            temp = file;
            (temp.path(), Some(done.url), (done.sha256, done.size))
        }
    };
    let limits = Limits {
        max_unpacked: client.settings().max_unpacked_size,
        ..Limits::default()
    };
    let shown = || url.as_ref().map(Url::to_string);
    let looks_like = std::fs::File::open(path)
        .ok()
        .and_then(|mut f| sniff(&mut f));
    match extract::unpack(format, path, dir, limits, raw_name) {
        // A "raw executable" that is a web page is no executable either.
        Ok(_) if format == Format::Raw && looks_like.is_some() => {
            Err(ProbeError::NotAnExecutable {
                url: shown(),
                looks_like: looks_like.unwrap_or_default(),
            })
        }
        Ok(listing) => Ok(Probed {
            sha256,
            size,
            chunks: std::fs::File::open(path)
                .and_then(|mut f| crate::chunks::Chunks::of_reader(&mut f))
                .map_err(ProbeError::Io)?,
            url,
            listing,
        }),
        Err(error) => Err(ProbeError::Unpack {
            url: shown(),
            error: Box::new(error),
            looks_like,
        }),
    }
}

/// What a download that should be an archive or executable looks like
/// instead, when it is recognisably something else.
fn sniff(file: &mut std::fs::File) -> Option<&'static str> {
    let mut head = [0u8; 256];
    let n = file.read(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head[..n])
        .trim_start()
        .to_ascii_lowercase();
    if text.starts_with("<!doctype html") || text.starts_with("<html") || text.starts_with("<?xml")
    {
        Some("a web page")
    } else if text.starts_with('{') || text.starts_with('[') {
        Some("JSON")
    } else {
        None
    }
}
