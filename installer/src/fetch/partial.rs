//! The kept partial download of one archive, named by its pinned hash.

use super::Error;
use crate::hash::Sha256Hash;
use std::fs::File;
use std::path::{Path, PathBuf};

/// A download kept at `<cache>/tmp/<sha256>.partial` between runs: named by
/// the pinned hash so that the next install of the same archive continues
/// it (`Want::resume`). Callers hold the entry's lock while they write it,
/// so two processes never append to one. Left behind non-empty when the
/// download fails or the process dies; removed when empty; turned into an
/// ordinary temp file once verified. `cache clean` leaves these to the
/// age-based sweep of `tmp/`.
#[derive(Debug)]
pub struct Partial {
    file: Option<File>,
    path: PathBuf,
}

/// The file name suffix of a kept partial download.
const PARTIAL_SUFFIX: &str = ".partial";

impl Partial {
    pub fn open(tmp: &Path, sha: &Sha256Hash) -> Result<Partial, Error> {
        let path = tmp.join(format!("{}{PARTIAL_SUFFIX}", sha.hex()));
        // Never through a link, a FIFO or a hard link to a file outside the
        // cache: such a name is replaced by a file of our own (`safe_fs`).
        let file = crate::safe_fs::open_replacing(&path, crate::safe_fs::Access::ReadWriteCreate)
            .map_err(|source| Error::Write { source })?;
        Ok(Partial {
            file: Some(file),
            path,
        })
    }

    pub fn file_mut(&mut self) -> &mut File {
        self.file.as_mut().expect("only `verified` takes the file")
    }

    /// Removes the file whatever it holds (the disk is full: keeping
    /// bytes for the next run would only keep it full).
    pub fn discard(mut self) {
        drop(self.file.take());
        let _ = std::fs::remove_file(&self.path);
    }

    /// The verified download, as a temp file removed unless persisted.
    pub fn verified(mut self) -> Result<tempfile::NamedTempFile, Error> {
        let path = tempfile::TempPath::try_from_path(&self.path)
            .map_err(|source| Error::Write { source })?;
        let file = self.file.take().expect("only `verified` takes the file");
        Ok(tempfile::NamedTempFile::from_parts(file, path))
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        // An empty partial (nothing arrived, or bad bytes were dropped) is
        // worth nothing to the next run.
        if let Some(file) = self.file.take()
            && file.metadata().is_ok_and(|m| m.len() == 0)
        {
            drop(file);
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
