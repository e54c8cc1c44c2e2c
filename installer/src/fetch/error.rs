//! How a download failed: every attempt, typed, with the fact and the
//! advice for the user said once (`fact`, `advice`), and the exit-code
//! classes the top-level error reads (`is_integrity_failure`, ...).

use crate::hash::Sha256Hash;
use crate::net;
use crate::npm::integrity::Sha512Integrity;
use crate::url::Url;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// One failed try: where, and what went wrong (typed, cause included).
#[derive(Debug)]
pub struct Attempt {
    pub url: Url,
    pub error: Error,
}

#[derive(Debug)]
pub enum Error {
    Net(net::Error),
    /// The bytes arrived but are not the pinned ones.
    ChecksumMismatch {
        url: Box<Url>,
        expected: Sha256Hash,
        actual: Sha256Hash,
        size: u64,
    },
    /// The server announced (`Content-Length`) a size other than the pinned
    /// one: this source serves another file.
    SizeMismatch {
        url: Box<Url>,
        pinned: u64,
        announced: u64,
    },
    /// The body ran past the pinned size (`pinned`), or past the cap on
    /// downloads whose size is not pinned.
    TooLarge {
        url: Box<Url>,
        limit: u64,
        pinned: bool,
    },
    /// The disk holding `dir` has less free space than the download needs.
    NoSpace {
        dir: PathBuf,
        needed: u64,
        available: u64,
    },
    LocalFile {
        path: std::path::PathBuf,
        source: io::Error,
    },
    /// Writing our own temp file failed (disk full, permissions).
    Write {
        source: io::Error,
    },
    /// One chunk of a streamed download is not the pinned one (its digest,
    /// `chunks.rs`); nothing of it reached the decoder.
    ChunkMismatch {
        url: Box<Url>,
        mismatch: Box<crate::chunks::ChunkMismatch>,
    },
    /// An npm package's tarball is not the one the publisher pinned.
    IntegrityMismatch {
        url: Box<Url>,
        expected: Box<Sha512Integrity>,
        actual: Box<Sha512Integrity>,
    },
    /// The pinned package holds no archive where its publisher said.
    NotInWrapper {
        url: Box<Url>,
        member: String,
    },
    /// The npm registry answered 401/403: it wants (other) credentials.
    RegistryRefused {
        url: Box<Url>,
        registry: Box<Url>,
        status: u16,
        /// The key that set the credentials sent, and where.
        credential: Option<String>,
    },
    /// The npm registry has no such wrapper package (HTTP 404).
    NotOnRegistry {
        url: Box<Url>,
        registry: Box<Url>,
    },
    /// Several attempts failed; the last one is the final word.
    Exhausted {
        attempts: Vec<Attempt>,
    },
}

impl Error {
    /// The failure that ended the download.
    pub fn last(&self) -> &Error {
        match self {
            Error::Exhausted { attempts } => attempts.last().map_or(self, |a| a.error.last()),
            _ => self,
        }
    }

    /// Whether the final attempt found no file at a `file://` mirror (an
    /// offline install's equivalent of a cache miss).
    pub fn is_missing_local_file(&self) -> bool {
        matches!(self.last(), Error::LocalFile { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// Whether the TLS configuration itself (a CA file, the `ca` setting)
    /// could not be used: a configuration error, whichever source it hit.
    pub fn is_tls_setup(&self) -> bool {
        matches!(self.last(), Error::Net(net::Error::TlsSetup(_)))
    }

    /// Whether any attempt saw bytes (or a size) that contradict what the
    /// publisher pinned.
    pub fn is_integrity_failure(&self) -> bool {
        match self {
            Error::ChecksumMismatch { .. }
            | Error::ChunkMismatch { .. }
            | Error::IntegrityMismatch { .. }
            | Error::SizeMismatch { .. }
            | Error::TooLarge { pinned: true, .. } => true,
            Error::Exhausted { attempts } => {
                attempts.iter().any(|a| a.error.is_integrity_failure())
            }
            _ => false,
        }
    }

    /// Whether our own side failed: the disk is full or unwritable.
    pub fn is_filesystem(&self) -> bool {
        matches!(self.last(), Error::Write { .. } | Error::NoSpace { .. })
    }

    /// No connection could be made (DNS, refused, connect timeout).
    pub(super) fn is_unreachable(&self) -> bool {
        matches!(self, Error::Net(net::Error::Connect { .. }))
    }

    pub(super) fn is_retryable(&self) -> bool {
        match self {
            Error::Net(e) => e.is_retryable(),
            _ => false,
        }
    }

    pub fn is_offline(&self) -> bool {
        matches!(self.last(), Error::Net(net::Error::Offline { .. }))
    }

    /// What went wrong, without advice.
    pub fn fact(&self) -> String {
        match self {
            Error::Net(e) => e.fact(),
            Error::ChecksumMismatch {
                url,
                expected,
                actual,
                size,
            } => format!(
                "SHA-256 mismatch for {url}: expected {expected}, got {actual} ({size} bytes)"
            ),
            Error::SizeMismatch {
                url,
                pinned,
                announced,
            } => format!(
                "{url} announced {announced} bytes, but the publisher pinned {pinned} bytes (`size`)"
            ),
            Error::TooLarge {
                url,
                limit,
                pinned: true,
            } => format!(
                "{url} sent more than the {limit} bytes the publisher pinned (`size`); the download was stopped"
            ),
            Error::TooLarge { url, limit, .. } => format!(
                "{url} sent more than {limit} bytes ({}); the download was stopped",
                crate::progress::human_size(*limit)
            ),
            Error::NoSpace {
                dir,
                needed,
                available,
            } => format!(
                "the disk is full for this download: {} has {available} bytes free, the download needs {needed} bytes ({})",
                dir.display(),
                crate::progress::human_size(*needed)
            ),
            Error::ChunkMismatch { url, mismatch } => {
                format!("{url}: {mismatch}; the download was stopped there")
            }
            Error::IntegrityMismatch {
                url,
                expected,
                actual,
            } => format!("integrity mismatch for {url}: expected {expected}, got {actual}"),
            Error::NotInWrapper { url, member } => {
                format!("{url} (integrity verified) holds no {member}")
            }
            Error::RegistryRefused {
                url,
                registry,
                status,
                credential: Some(key),
            } => format!(
                "the npm registry {registry} refused the credentials from {key} (HTTP {status} for {url})"
            ),
            Error::RegistryRefused {
                url,
                registry,
                status,
                credential: None,
            } if registry.has_credentials() => format!(
                "the npm registry {registry} refused the user and password in its URL (HTTP {status} for {url})"
            ),
            Error::RegistryRefused {
                url,
                registry,
                status,
                credential: None,
            } => format!(
                "the npm registry {registry} wants credentials (HTTP {status} for {url}), and none are configured for it"
            ),
            Error::NotOnRegistry { url, registry } => {
                format!("the npm registry {registry} has no {url} (HTTP 404)")
            }
            Error::LocalFile { path, .. } => format!("cannot read {}", path.display()),
            Error::Write { .. } => {
                "cannot write the download to the cache (is the disk full?)".to_string()
            }
            Error::Exhausted { attempts } => {
                format!("download failed after {} attempts", attempts.len())
            }
        }
    }

    /// What to do about it, when there is a specific fix.
    pub fn advice(&self) -> Option<String> {
        Some(match self {
            Error::Net(e) => return e.advice(),
            Error::ChecksumMismatch { .. }
            | Error::ChunkMismatch { .. }
            | Error::IntegrityMismatch { .. }
            | Error::SizeMismatch { .. }
            | Error::TooLarge { pinned: true, .. } => {
                "the file is not the one the publisher pinned (a stale mirror, a tampered download, \
                 or a release re-uploaded after pinning); nothing was installed"
                    .to_string()
            }
            Error::TooLarge { .. } => format!(
                "if the archive really is that large, raise {} (e.g. 4G); publishers: pin `size` with `postbin pin`",
                crate::env_vars::POSTBIN_MAX_DOWNLOAD_SIZE
            ),
            Error::NotInWrapper { .. } => {
                "the publisher's wrapper package is not as `postbin pack-targets` writes it; \
                 tell the publisher"
                    .to_string()
            }
            Error::RegistryRefused {
                registry,
                credential: None,
                ..
            } if registry.has_credentials() => "fix the user and password in the registry URL \
                 (`registry=` in .npmrc), or remove them from it and log in with `npm login`"
                .to_string(),
            Error::NotOnRegistry { .. } => {
                "the publisher's wrapper packages are not on this registry (they are published \
                 with `postbin pack-targets`); ask the publisher, or mirror them there"
                    .to_string()
            }
            Error::RegistryRefused { registry, .. } => format!(
                "log in to it (`npm login --registry {registry}`), or put a valid token in .npmrc \
                 as `{}:_authToken=...`",
                crate::settings::registry::nerf_dart(registry)
            ),
            Error::NoSpace { .. } => format!(
                "free some space there, or set {} to a disk with room",
                crate::env_vars::POSTBIN_CACHE_DIR
            ),
            _ => return None,
        })
    }

    /// The fact and its causes on one line (an attempt's line).
    fn fact_line(&self) -> String {
        let mut text = self.fact();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text.replace('\n', " ")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Each attempt on its own line with its causes; then each piece
            // of advice once (two mirrors and retries failing alike need one
            // hint, not one per line).
            Error::Exhausted { attempts } => {
                write!(f, "{}:", self.fact())?;
                let mut advice: Vec<String> = Vec::new();
                for (i, a) in attempts.iter().enumerate() {
                    write!(f, "\n  {}. {}", i + 1, a.error.fact_line())?;
                    if let Some(text) = a.error.advice()
                        && !advice.contains(&text)
                    {
                        advice.push(text);
                    }
                }
                for text in advice {
                    write!(f, "\n{}", capitalized(&text))?;
                }
                Ok(())
            }
            _ => {
                write!(f, "{}", self.fact())?;
                match self.advice() {
                    Some(advice) => write!(f, "; {advice}"),
                    None => Ok(()),
                }
            }
        }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Net(e) => e.source(),
            Error::LocalFile { source, .. } | Error::Write { source } => Some(source),
            // The attempt lines already hold every cause.
            _ => None,
        }
    }
}

impl From<net::Error> for Error {
    fn from(e: net::Error) -> Self {
        Error::Net(e)
    }
}
