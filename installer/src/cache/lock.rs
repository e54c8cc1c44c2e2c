//! Per-archive locks: OS file locks on `locks/<sha256>.lock` (a dead
//! holder never blocks), exclusive while an entry is made or removed,
//! shared while its files are copied out.

use super::{Cache, Error};
use crate::fs_retry;
use crate::hash::Sha256Hash;
use crate::io_error::io_err;
use crate::safe_fs::{self, Access};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// Held while one archive is downloaded, unpacked or removed; released on
/// drop (and by the OS if the process dies).
#[derive(Debug)]
pub struct Lock {
    _file: File,
    pub(super) path: PathBuf,
}

impl Cache {
    /// Waits for the lock of one archive. Different archives never wait for
    /// each other.
    pub fn lock(&self, sha: &Sha256Hash) -> Result<Lock, Error> {
        self.writing();
        let path = self.lock_path(sha);
        let mut said = false;
        loop {
            let file = open_lock_file(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    if !said {
                        crate::info!(
                            "waiting for another postbin process to finish with {}",
                            sha.short()
                        );
                        said = true;
                    }
                    file.lock().map_err(io_err("lock", &path))?;
                }
                Err(fs::TryLockError::Error(e)) => return Err(io_err("lock", &path)(e)),
            }
            // `cache clean` deletes lock files it holds; whoever waited on
            // the deleted one must lock the file now at that path instead.
            if still_linked(&file, &path) {
                return Ok(Lock { _file: file, path });
            }
        }
    }

    /// A shared hold on an entry while its files are copied out: `prune`,
    /// `clean` and `verify` take entry locks without waiting and skip an
    /// entry while any reader holds it. Waits while an exclusive holder (an
    /// install making the entry, a removal) works. Best effort: `None` when
    /// the entry has no lock file (a cache prefilled elsewhere, read-only),
    /// where nothing of ours could remove the entry either.
    pub fn read_hold(&self, sha: &Sha256Hash) -> Option<File> {
        let file = safe_fs::open(&self.lock_path(sha), Access::Read).ok()?;
        file.lock_shared().ok()?;
        Some(file)
    }

    /// The lock of one archive if nobody holds it now; `None` if it is busy.
    pub fn try_lock(&self, sha: &Sha256Hash) -> Result<Option<Lock>, Error> {
        let path = self.lock_path(sha);
        for _ in 0..8 {
            let file = open_lock_file(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Ok(None),
                Err(fs::TryLockError::Error(e)) => return Err(io_err("lock", &path)(e)),
            }
            if still_linked(&file, &path) {
                return Ok(Some(Lock { _file: file, path }));
            }
        }
        Ok(None)
    }
}

/// Opens (creating) a lock file, never through a link (`safe_fs`).
/// Retried: on Windows a lock file that `cache clean` deleted while others
/// still had it open cannot be opened again (access denied) until the last
/// of them closes it, a moment later.
fn open_lock_file(path: &Path) -> Result<File, Error> {
    fs_retry::retry(|| safe_fs::open_replacing(path, Access::ReadWriteCreate))
        .map_err(io_err("open lock", path))
}

/// Whether `file` is still the file at `path` (not unlinked or replaced).
fn still_linked(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    // Rust opens files with FILE_SHARE_DELETE, so `cache clean` can delete
    // a lock file that another process has open and waits on, as on Unix;
    // the identity of the open file is compared with that of the path's.
    #[cfg(windows)]
    {
        // Deleted with POSIX semantics (Windows 10 and later): the name is
        // gone. Without them the name lingers until the last handle closes,
        // and opening it fails (access denied: `open_lock_file` retries).
        // wine keeps serving the deleted file to every opener instead, which
        // keeps the lock exclusive there too.
        let Ok(fresh) = File::open(path) else {
            return false;
        };
        matches!((file_id(file), file_id(&fresh)), (Some(a), Some(b)) if a == b)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (file, path);
        true
    }
}

/// A file's identity on Windows: volume serial number and file index.
#[cfg(windows)]
fn file_id(file: &File) -> Option<(u32, u32, u32)> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Storage::FileSystem::{
        BY_HANDLE_FILE_INFORMATION, GetFileInformationByHandle,
    };
    let mut info = std::mem::MaybeUninit::<BY_HANDLE_FILE_INFORMATION>::uninit();
    // SAFETY: the handle stays open for the call, and `info` is a writable
    // BY_HANDLE_FILE_INFORMATION that the call fills when it succeeds.
    let ok = unsafe { GetFileInformationByHandle(file.as_raw_handle(), info.as_mut_ptr()) };
    if ok == 0 {
        return None;
    }
    // SAFETY: the call succeeded, so it initialised `info`.
    let info = unsafe { info.assume_init() };
    Some((
        info.dwVolumeSerialNumber,
        info.nFileIndexHigh,
        info.nFileIndexLow,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash;
    use std::time::Duration;

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let sha = hash::hash_bytes(b"x");
        let held = cache.lock(&sha).unwrap();
        let path = cache
            .root()
            .join("locks")
            .join(format!("{}.lock", sha.hex()));
        let other = File::options().write(true).open(&path).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(fs::TryLockError::WouldBlock)
        ));
        assert!(cache.try_lock(&sha).unwrap().is_none());
        drop(held);
        assert!(other.try_lock().is_ok());
    }

    #[test]
    fn a_waiter_on_a_deleted_lock_file_locks_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let sha = hash::hash_bytes(b"x");
        let held = cache.try_lock(&sha).unwrap().unwrap();
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let waiter = {
            let cache = cache.clone();
            std::thread::spawn(move || {
                let lock = cache.lock(&sha).unwrap();
                locked_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                drop(lock);
            })
        };
        // Whether the waiter opened the old file before the delete or the
        // new one after it, it ends up holding the lock at the path.
        std::thread::sleep(Duration::from_millis(50));
        cache.remove_lock_file(held);
        locked_rx.recv().unwrap();
        assert!(cache.try_lock(&sha).unwrap().is_none());
        release_tx.send(()).unwrap();
        waiter.join().unwrap();
        assert!(cache.try_lock(&sha).unwrap().is_some());
    }
    /// What `lock` relies on after `cache clean` deleted a lock file that a
    /// waiter had open: the waiter's file no longer counts as the one at the
    /// path once another file (or none) is there. On Windows too: files are
    /// opened with FILE_SHARE_DELETE there, so they can be renamed while open.
    #[test]
    fn a_lock_file_replaced_while_open_is_no_longer_linked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = open_lock_file(&path).unwrap();
        assert!(still_linked(&held, &path));
        fs::rename(&path, dir.path().join("moved")).unwrap();
        assert!(!still_linked(&held, &path), "nothing is at the path");
        let new = open_lock_file(&path).unwrap();
        assert!(still_linked(&new, &path));
        assert!(!still_linked(&held, &path), "another file is at the path");
    }
}
