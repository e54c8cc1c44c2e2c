//! The top-level error: one variant per layer, plus the few failures that
//! belong to the commands themselves. Exit codes are decided here and only
//! here; they are documented in docs/cli.md.

use crate::{
    cache, checksums, extract, fetch, link, manifest, mirror_tree, net, plan, release, settings,
};
use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    Usage(String),
    Manifest(manifest::Error),
    /// A consumer setting (env or `.npmrc`) has a value that cannot be used.
    Setting(settings::Invalid),
    Plan(plan::Error),
    Fetch(fetch::Error),
    Extract(extract::Error),
    Cache(cache::Error),
    Link(link::Error),
    /// Writing `prefill --out`'s tree.
    MirrorTree(mirror_tree::Error),
    /// The archive unpacked fine but lacks a declared executable.
    MissingBin {
        package: String,
        target: String,
        archive_path: String,
        found: Vec<String>,
    },
    /// Offline, and the cache does not hold the archive.
    OfflineMiss {
        package: String,
        target: String,
        asset: String,
        /// Where `file://` mirrors were looked in too.
        mirrors: Vec<String>,
    },
    NotInstalled {
        package: String,
        command: String,
    },
    BinaryOverride {
        variable: String,
        path: PathBuf,
    },
    Checksums {
        detail: String,
    },
    /// `init --from`: the release (or its metadata) cannot make a
    /// `postbin` section; the message says why and what to do.
    Release(String),
}

/// Exit codes, one per kind of failure, so scripts can tell them apart.
pub mod exit {
    pub const OK: i32 = 0;
    /// `which`: not installed; anything not listed below.
    pub const FAILURE: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const CONFIG: i32 = 3;
    pub const UNSUPPORTED_PLATFORM: i32 = 4;
    pub const NETWORK: i32 = 5;
    pub const INTEGRITY: i32 = 6;
    pub const ARCHIVE: i32 = 7;
    pub const FILESYSTEM: i32 = 8;
    pub const OFFLINE_MISS: i32 = 9;
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Manifest(_)
            | Error::Setting(_)
            | Error::BinaryOverride { .. }
            | Error::Release(_) => exit::CONFIG,
            Error::Plan(
                plan::Error::UnsupportedPlatform { .. }
                | plan::Error::ForcedTargetNotOffered { .. },
            ) => exit::UNSUPPORTED_PLATFORM,
            Error::Plan(_) => exit::CONFIG,
            Error::Fetch(e) if e.is_integrity_failure() => exit::INTEGRITY,
            Error::Checksums { .. } => exit::INTEGRITY,
            Error::Fetch(e) if e.is_offline() => exit::OFFLINE_MISS,
            // A full disk (or too little free space for the download).
            Error::Fetch(e) if e.is_filesystem() => exit::FILESYSTEM,
            // A CA file or `ca` setting that cannot be used is configuration.
            Error::Fetch(e) if e.is_tls_setup() => exit::CONFIG,
            Error::Fetch(_) => exit::NETWORK,
            Error::Extract(extract::Error::Io(_)) => exit::FILESYSTEM,
            Error::Extract(_) | Error::MissingBin { .. } => exit::ARCHIVE,
            Error::Cache(_) | Error::Link(_) => exit::FILESYSTEM,
            Error::MirrorTree(_) => exit::FILESYSTEM,
            Error::OfflineMiss { .. } => exit::OFFLINE_MISS,
            Error::NotInstalled { .. } => exit::FAILURE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => write!(f, "{m}\nRun `postbin --help` for usage."),
            Error::Manifest(e) => e.fmt(f),
            Error::Setting(e) => e.fmt(f),
            Error::Plan(e) => e.fmt(f),
            Error::Fetch(e) => e.fmt(f),
            Error::Extract(e) => e.fmt(f),
            Error::Cache(e) => e.fmt(f),
            Error::Link(e) => e.fmt(f),
            Error::MirrorTree(e) => e.fmt(f),
            Error::MissingBin {
                package,
                target,
                archive_path,
                found,
            } => {
                write!(
                    f,
                    "the {target} archive of {package} has no `{archive_path}`, which `postbin.bin` declares; nothing was installed."
                )?;
                if found.is_empty() {
                    write!(f, " The archive holds no executable file.")
                } else {
                    write!(
                        f,
                        " Executables in the archive: {}. Publisher: fix `postbin.bin`.",
                        found.join(", ")
                    )
                }
            }
            Error::OfflineMiss {
                package,
                target,
                asset,
                mirrors,
            } => write!(
                f,
                "offline mode: {asset} ({package}, {target}) is not in the cache{}. \
                 On a connected machine run `postbin prefill --out DIR` and carry DIR over, then \
                 `postbin cache import DIR` or set POSTBIN_MIRROR=file:///DIR; or unset POSTBIN_OFFLINE.",
                if mirrors.is_empty() {
                    String::new()
                } else {
                    format!(", nor at {}", mirrors.join(", "))
                }
            ),
            Error::NotInstalled { package, command } => write!(
                f,
                "{command} of {package} is not installed; run `postbin install` in the package directory"
            ),
            Error::BinaryOverride { variable, path } => write!(
                f,
                "{variable} points at {}, which is not an executable file; fix or unset {variable}",
                path.display()
            ),
            Error::Checksums { detail } => f.write_str(detail),
            Error::Release(detail) => f.write_str(detail),
        }
    }
}

impl std::error::Error for Error {
    /// The cause chain starts below the layer's own message, which `Display`
    /// already printed; nothing is said twice.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Manifest(e) => e.source(),
            Error::Plan(e) => e.source(),
            Error::Fetch(e) => e.source(),
            Error::Extract(e) => e.source(),
            Error::Cache(e) => e.source(),
            Error::Link(e) => e.source(),
            Error::MirrorTree(e) => e.source(),
            _ => None,
        }
    }
}

macro_rules! from_layer {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self { Error::$variant(e) }
        }
    )*};
}
from_layer!(
    Manifest(manifest::Error),
    Plan(plan::Error),
    Fetch(fetch::Error),
    Extract(extract::Error),
    Cache(cache::Error),
    Link(link::Error),
    MirrorTree(mirror_tree::Error),
    Setting(settings::Invalid)
);

/// An error and its causes on one line, `: `-joined: for lists of failures
/// (one line per item) and reports.
pub fn one_line(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.replace('\n', " ")
}

impl From<release::Error> for Error {
    fn from(e: release::Error) -> Self {
        match e {
            release::Error::Usage(m) => Error::Usage(m),
            release::Error::Release(m) => Error::Release(m),
            release::Error::Fetch(e) => Error::Fetch(e),
            release::Error::Extract(e) => Error::Extract(e),
        }
    }
}

impl From<checksums::Unavailable> for Error {
    fn from(e: checksums::Unavailable) -> Self {
        Error::Checksums { detail: e.detail }
    }
}

impl From<net::Error> for Error {
    fn from(e: net::Error) -> Self {
        Error::Fetch(fetch::Error::Net(e))
    }
}

pub use crate::io_error::{FromIo, io_err};
