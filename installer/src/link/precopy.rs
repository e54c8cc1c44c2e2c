//! The package's copies of its executables, written while the archive
//! unpacks instead of copied out of the cache after it.
//!
//! A fresh install otherwise ends with a copy of every executable from the
//! new cache tree into the package: for a 100 MiB tool, about 30 ms after
//! the last byte arrives, on a disk that waited idle during the download.
//! Here each executable's entry is written to two files at once: the cache
//! tree's (hashed there) and a temp file beside its place in the package
//! (`extract::Tee`). The temp file is put in place only once the tree is
//! published, so only after the whole archive verified. Any failure only
//! means no precopy: `place` then copies, and reports a problem in its own
//! words.
//!
//! An install killed while it unpacks (a Ctrl-C in `npm install`) leaves its
//! temp file, as large as the executable. Temp files are named after the
//! archive (`.postbin-unpacking-<sha>-*`), and `start` runs under that
//! archive's cache lock: one found then belongs to an install that is gone,
//! and is removed. (Another install of this package into another cache
//! holds another lock: if it loses its temp file this way, it copies.)

use crate::extract::Tee;
use crate::hash::Sha256Hash;
use crate::plan::Plan;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tempfile::TempPath;

/// Precopies made for one install (none until `start`).
#[derive(Default)]
pub struct Precopies {
    copies: Vec<Precopy>,
    /// Directories `start` created, innermost first: removed again if they
    /// are still empty when the precopies go (an install that failed leaves
    /// the package as it found it).
    made_dirs: Vec<PathBuf>,
}

struct Precopy {
    archive_path: String,
    temp: TempPath,
    complete: Arc<AtomicBool>,
}

impl Precopies {
    /// A temp file beside each declared executable's place in the package,
    /// and the tees that fill them, for unpacking `archive`. The caller holds
    /// `archive`'s cache lock. Temp files not taken are deleted when `self`
    /// is dropped.
    pub fn start(&mut self, plan: &Plan, archive: &Sha256Hash) -> Vec<Tee> {
        let bin_dir = super::bin_dir(&plan.package_dir);
        let prefix = format!(".postbin-unpacking-{}-", archive.short());
        remove_left_by_killed_installs(&bin_dir, &prefix);
        self.made_dirs = (bin_dir.ancestors().take(2))
            .take_while(|dir| !dir.exists())
            .map(Path::to_path_buf)
            .collect();
        if let Err(e) = std::fs::create_dir_all(&bin_dir) {
            crate::debug!("no precopies ({}: {e})", bin_dir.display());
            return Vec::new();
        }
        let mut tees = Vec::new();
        for bin in &plan.bins {
            let made = super::temp_named(&bin_dir, &prefix)
                .and_then(|temp| super::make_executable(temp.as_file()).map(|()| temp));
            let temp = match made {
                Ok(temp) => temp,
                Err(e) => {
                    crate::debug!("no precopy of {} ({e})", bin.archive_path);
                    continue;
                }
            };
            let (file, temp) = temp.into_parts();
            let complete = Arc::new(AtomicBool::new(false));
            tees.push(Tee {
                archive_path: bin.archive_path.clone(),
                file,
                complete: complete.clone(),
            });
            self.copies.push(Precopy {
                archive_path: bin.archive_path.clone(),
                temp,
                complete,
            });
        }
        tees
    }

    /// The completed copy of `archive_path`, if there is one: closed, with
    /// every byte of the entry the tree's listing records.
    pub(super) fn take(&mut self, archive_path: &str) -> Option<TempPath> {
        let i = self
            .copies
            .iter()
            .position(|c| c.archive_path == archive_path && c.complete.load(Ordering::Acquire))?;
        Some(self.copies.swap_remove(i).temp)
    }
}

fn remove_left_by_killed_installs(bin_dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(bin_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            crate::debug!(
                "removing {}, left by a killed install",
                entry.path().display()
            );
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl Drop for Precopies {
    fn drop(&mut self) {
        self.copies.clear(); // deletes the temp files not taken
        for dir in &self.made_dirs {
            // Fails, as it should, once anything is in it.
            let _ = std::fs::remove_dir(dir);
        }
    }
}
