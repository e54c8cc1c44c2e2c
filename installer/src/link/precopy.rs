//! The package's copies of its executables, written while the archive
//! unpacks instead of copied out of the cache after it.
//!
//! A fresh install otherwise ends with a copy of every executable from the
//! new cache tree into the package: for a 100 MiB tool, 63 ms of
//! `copy_file_range` (under strace) after the last byte arrives, on a disk
//! that waited idle during the download.
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
use crate::io_error::io_err;
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

    /// Puts the completed copy of `archive_path` at `dest`: true if it did,
    /// false if there is none, or another install removed it (see the
    /// module's comment), and the caller must copy.
    pub(super) fn put(&mut self, archive_path: &str, dest: &Path) -> Result<bool, super::Error> {
        let Some(i) = (self.copies.iter())
            .position(|c| c.archive_path == archive_path && c.complete.load(Ordering::Acquire))
        else {
            return Ok(false);
        };
        match super::put_in_place(self.copies.swap_remove(i).temp, dest) {
            Ok(()) => {
                crate::debug!("{}: the copy written while unpacking", dest.display());
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err("replace", dest)(e)),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Tree;
    use crate::extract::FileRecord;
    use crate::hash::hash_bytes;
    use crate::link::{INSTALL_DIR, Source, bin_dir, installed_path, place};
    use crate::manifest::Manifest;
    use std::fs;
    use std::io::Write;

    const TOOL: &[u8] = b"#!/bin/sh\necho hello\n";
    const TARGET: &str = "x86_64-unknown-linux-musl";

    /// A package in a temp dir whose one executable is `hello/hello` of the
    /// archive `TOOL` is the only file of, and that archive's unpacked tree.
    fn package_and_tree() -> (tempfile::TempDir, Plan, Tree) {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg");
        fs::create_dir(&pkg).unwrap();
        let json = format!(
            r#"{{"name":"hello-tool","version":"1.0.0","bin":{{"hello":"bin/hello"}},
                "postbin":{{"url":"https://example.invalid/hello.tar.gz","bin":{{"hello":"hello/hello"}},
                "targets":{{"{TARGET}":{{"sha256":"{}"}}}}}}}}"#,
            hash_bytes(b"archive")
        );
        let mut manifest = Manifest::parse(&json, &pkg.join("package.json")).unwrap();
        manifest.dir = pkg;
        let settings = crate::settings::tests::resolve(&[], &[], None);
        let plan = crate::plan::resolve(&manifest, &settings, TARGET).unwrap();
        let files = dir.path().join("tree");
        fs::create_dir_all(files.join("hello")).unwrap();
        fs::write(files.join("hello/hello"), TOOL).unwrap();
        let record = FileRecord {
            size: TOOL.len() as u64,
            sha256: hash_bytes(TOOL),
            executable: true,
        };
        let tree = Tree {
            archive: hash_bytes(b"archive"),
            files,
            listing: [("hello/hello".to_string(), record)].into(),
        };
        (dir, plan, tree)
    }

    /// What the unpacker does with a tee: writes the entry, closes the file,
    /// says it is complete. Returns the temp file's inode.
    #[cfg(unix)]
    fn fill(mut tee: Tee) -> u64 {
        use std::os::unix::fs::MetadataExt;
        tee.file.write_all(TOOL).unwrap();
        let inode = tee.file.metadata().unwrap().ino();
        drop(tee.file);
        tee.complete.store(true, Ordering::Release);
        inode
    }

    fn temp_files(plan: &Plan) -> Vec<String> {
        let dir = bin_dir(&plan.package_dir);
        (fs::read_dir(dir).into_iter().flatten().flatten())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".postbin-"))
            .collect()
    }

    /// A completed precopy is the very file placed: no second copy is made.
    #[cfg(unix)]
    #[test]
    fn a_complete_precopy_is_put_in_place() {
        use std::os::unix::fs::MetadataExt;
        let (_dir, plan, tree) = package_and_tree();
        let mut precopies = Precopies::default();
        let mut tees = precopies.start(&plan, &tree.archive);
        assert_eq!(tees.len(), 1);
        let inode = fill(tees.remove(0));
        place(&plan, &tree, Source::Fresh, precopies).unwrap();
        let placed = installed_path(&plan.package_dir, "hello");
        assert_eq!(fs::read(&placed).unwrap(), TOOL);
        assert_eq!(fs::metadata(&placed).unwrap().ino(), inode);
        assert_eq!(fs::metadata(&placed).unwrap().mode() & 0o777, 0o755);
        assert!(temp_files(&plan).is_empty());
    }

    /// One that never completed, or whose temp file another install removed,
    /// is not used: the executable is copied out of the tree instead. (The
    /// tee gets other bytes of the same length, so a placement that used it
    /// would show.)
    #[test]
    fn an_unfinished_or_vanished_precopy_means_a_copy() {
        for vanished in [false, true] {
            let (_dir, plan, tree) = package_and_tree();
            let mut precopies = Precopies::default();
            let mut tee = precopies.start(&plan, &tree.archive).remove(0);
            tee.file.write_all(&vec![b'x'; TOOL.len()]).unwrap();
            drop(tee.file);
            if vanished {
                tee.complete.store(true, Ordering::Release);
                for name in temp_files(&plan) {
                    fs::remove_file(bin_dir(&plan.package_dir).join(name)).unwrap();
                }
            }
            place(&plan, &tree, Source::Fresh, precopies).unwrap();
            let placed = installed_path(&plan.package_dir, "hello");
            assert_eq!(fs::read(&placed).unwrap(), TOOL, "vanished: {vanished}");
            assert!(temp_files(&plan).is_empty(), "vanished: {vanished}");
        }
    }

    /// An install that fails after `start` leaves the package as it found
    /// it, and a later one removes what a killed one left.
    #[test]
    fn a_failed_install_leaves_no_trace_and_a_killed_ones_temp_goes_next_time() {
        let (_dir, plan, tree) = package_and_tree();
        let mut precopies = Precopies::default();
        let tees = precopies.start(&plan, &tree.archive);
        drop(tees);
        drop(precopies);
        assert!(!plan.package_dir.join(INSTALL_DIR).exists());

        // Killed: its temp file stays (nothing runs its destructors).
        let mut killed = Precopies::default();
        let _tees = killed.start(&plan, &tree.archive);
        std::mem::forget(killed);
        let left = temp_files(&plan);
        assert_eq!(left.len(), 1);
        let mut next = Precopies::default();
        let _tees = next.start(&plan, &tree.archive);
        let names = temp_files(&plan);
        assert_eq!(names.len(), 1, "{names:?}");
        assert_ne!(names, left, "the killed install's temp file is still there");
    }
}
