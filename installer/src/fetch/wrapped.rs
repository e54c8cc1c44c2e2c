//! An asset served inside an npm package (`plan::Wrapped`): the package
//! tarball comes from npm's own cache when it holds it, else from the
//! registry, and is checked against its pinned sha512 integrity before
//! anything reads it; then the archive is copied out into the download's
//! file, where `verify` checks its sha256 as for any source.

use super::{Error, Want, fetch_remote, restart};
use crate::hash::HashingWriter;
use crate::net::{self, Client};
use crate::npm::integrity::Sha512Integrity;
use crate::npm::wrapper::{self, ReadError};
use crate::plan::{Source, Wrapped};
use std::fs::File;
use std::io::{self, Seek, SeekFrom};

/// Puts the archive inside `source`'s package into `sink` (from byte 0).
pub(super) fn fetch(
    client: &Client<'_>,
    source: &Source,
    wrapped: &Wrapped,
    want: &Want<'_>,
    sink: &mut HashingWriter<&mut File>,
    label: &str,
) -> Result<(), Error> {
    restart(sink)?;
    let limit = super::download_limit(client, want);
    if let Some(mut tgz) = from_npm_cache(wrapped) {
        crate::debug!("{label}: the package is in npm's cache");
        return unwrap(&mut tgz, source, wrapped, sink, limit, want);
    }
    if client.settings().offline.value {
        // Offline, npm's cache was the only place to look.
        return Err(Error::LocalFile {
            path: wrapped.npm_cache_file.clone().unwrap_or_default(),
            source: io::ErrorKind::NotFound.into(),
        });
    }
    let mut tgz = match want.dir {
        Some(dir) => tempfile::tempfile_in(dir),
        None => tempfile::tempfile(),
    }
    .map_err(|source| Error::Write { source })?;
    let tgz_want = Want {
        size: None,
        resume: false,
        ..*want
    };
    let mut tgz_sink = HashingWriter::new(&mut tgz);
    match fetch_remote(client, source, &tgz_want, &mut tgz_sink, label) {
        Err(Error::Net(net::Error::Status { status, .. })) if status == 401 || status == 403 => {
            return Err(Error::RegistryRefused {
                url: Box::new(source.url.clone()),
                registry: Box::new(wrapped.registry.clone()),
                status,
                credential: wrapped.credential.as_ref().map(|c| c.key.clone()),
            });
        }
        Err(Error::Net(net::Error::Status { status: 404, .. })) => {
            return Err(Error::NotOnRegistry {
                url: Box::new(source.url.clone()),
                registry: Box::new(wrapped.registry.clone()),
            });
        }
        result => result?,
    }
    let actual =
        Sha512Integrity::of_reader(rewound(&mut tgz)?).map_err(|source| Error::Write { source })?;
    if actual != wrapped.integrity {
        return Err(Error::IntegrityMismatch {
            url: Box::new(source.url.clone()),
            expected: Box::new(wrapped.integrity),
            actual: Box::new(actual),
        });
    }
    unwrap(&mut tgz, source, wrapped, sink, limit, want)
}

/// npm's cached copy of the package, when it has one with the pinned
/// integrity (anything else there is ignored, not trusted).
fn from_npm_cache(wrapped: &Wrapped) -> Option<File> {
    let path = wrapped.npm_cache_file.as_ref()?;
    let mut file = File::open(path).ok()?;
    match Sha512Integrity::of_reader(&mut file) {
        Ok(found) if found == wrapped.integrity => {}
        _ => {
            crate::debug!(
                "{} does not hold the pinned package; not used",
                path.display()
            );
            return None;
        }
    }
    file.seek(SeekFrom::Start(0)).ok()?;
    Some(file)
}

fn rewound(file: &mut File) -> Result<&mut File, Error> {
    file.seek(SeekFrom::Start(0))
        .map_err(|source| Error::Write { source })?;
    Ok(file)
}

/// Copies the archive out of the verified tarball `tgz` into `sink`.
fn unwrap(
    tgz: &mut File,
    source: &Source,
    wrapped: &Wrapped,
    sink: &mut HashingWriter<&mut File>,
    limit: u64,
    want: &Want<'_>,
) -> Result<(), Error> {
    let tgz = rewound(tgz)?;
    match wrapper::read_member(tgz, &wrapped.member, sink, limit) {
        Ok(_) => Ok(()),
        Err(ReadError::Missing) => Err(Error::NotInWrapper {
            url: Box::new(source.url.clone()),
            member: wrapped.member.clone(),
        }),
        Err(ReadError::TooLarge) => Err(Error::TooLarge {
            url: Box::new(source.url.clone()),
            limit,
            pinned: want.size.is_some(),
        }),
        // A chunk the streaming install refused (the archive inside is not
        // the pinned one, chunk by chunk).
        Err(ReadError::Io(e)) if crate::chunks::ChunkMismatch::in_io(&e).is_some() => {
            Err(super::write_error(e, &source.url))
        }
        // The tarball matched its pinned integrity, so a read error is
        // ours (the temp file) or a package the publisher packed wrongly.
        Err(ReadError::Io(e))
            if e.kind() == io::ErrorKind::InvalidData
                || e.kind() == io::ErrorKind::UnexpectedEof =>
        {
            Err(Error::NotInWrapper {
                url: Box::new(source.url.clone()),
                member: wrapped.member.clone(),
            })
        }
        Err(ReadError::Io(source)) => Err(Error::Write { source }),
    }
}
