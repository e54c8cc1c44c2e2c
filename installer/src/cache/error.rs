//! The cache's own error: which operation on which path failed, worded for
//! the cases a user can act on (a full disk, a scanner holding a file, a
//! directory postbin refuses to use).

use crate::fs_retry;
use crate::io_error::{PathIo, from_io_variant};
use crate::safe_fs;
use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    Io(PathIo),
    /// A file changed while `import` was copying it.
    Changed {
        path: PathBuf,
    },
}

from_io_variant!(Error);

impl Error {
    /// The disk is full: no other entry will fit either.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, Error::Io(PathIo { source, .. }) if source.kind() == io::ErrorKind::StorageFull)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(PathIo { op, path, source })
                if source.kind() == io::ErrorKind::StorageFull =>
            {
                write!(
                    f,
                    "cannot {op} {}: the disk is full; free space or set POSTBIN_CACHE_DIR to a larger disk",
                    path.display()
                )
            }
            Error::Io(PathIo { op, path, source }) if safe_fs::is_unsafe(source) => write!(
                f,
                "refusing to {op} the postbin cache at {}: {source}; remove it, or set \
                 POSTBIN_CACHE_DIR to a directory of your own",
                path.display()
            ),
            Error::Io(PathIo { op, path, source }) if fs_retry::is_busy(source) => write!(
                f,
                "cannot {op} {} in the postbin cache: {}; run the install again, or exclude \
                 the cache directory from scanning",
                path.display(),
                fs_retry::HELD_OPEN
            ),
            Error::Io(PathIo { op, path, .. }) => write!(
                f,
                "cannot {op} {} in the postbin cache; set POSTBIN_CACHE_DIR to a writable directory",
                path.display()
            ),
            Error::Changed { path } => write!(
                f,
                "{} changed while it was being imported; nothing was stored for it, import again",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(PathIo { source, .. }) => Some(source),
            Error::Changed { .. } => None,
        }
    }
}
