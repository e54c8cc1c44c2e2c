//! The content-addressed cache, versioned under `v1/`:
//!
//! ```text
//! v1/archives/<sha256>           verified archives, named by their own hash
//! v1/trees/<sha256>/files/...    what that archive unpacked to
//! v1/trees/<sha256>/listing.json size + sha256 of every file (hits re-verify against it)
//! v1/locks/<sha256>.lock         OS file locks (a dead holder never blocks)
//! v1/tmp/                        temp files and dirs, on the same file system
//! ```
//! Rules: take the lock, re-check, then work; write to temp and rename; never
//! write a published file in place. A crash leaves only temp entries, which
//! nothing mistakes for complete and `sweep_temp` removes later.

use crate::extract::{FileRecord, Listing};
use crate::hash::{self, Sha256Hash};
use serde_json::{Map, Value, json};
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub const LAYOUT: &str = "v1";

#[derive(Debug)]
pub enum Error {
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, source } if source.kind() == io::ErrorKind::StorageFull => {
                write!(
                    f,
                    "cannot {op} {}: the disk is full; free space or set POSTBIN_CACHE_DIR to a larger disk",
                    path.display()
                )
            }
            Error::Io { op, path, .. } => write!(
                f,
                "cannot {op} {} in the postbin cache; set POSTBIN_CACHE_DIR to a writable directory",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
        }
    }
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
    move |source| Error::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Clone, Debug)]
pub struct Cache {
    /// `<cache dir>/v1`.
    root: PathBuf,
}

/// A published, unpacked archive.
#[derive(Clone, Debug)]
pub struct Tree {
    pub archive: Sha256Hash,
    /// The directory holding the archive's files.
    pub files: PathBuf,
    pub listing: Listing,
}

/// Held while one archive is downloaded or unpacked; released on drop (and
/// by the OS if the process dies).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Cache {
    /// Opens (creating) the cache under `dir`.
    pub fn open(dir: &Path) -> Result<Cache, Error> {
        let root = dir.join(LAYOUT);
        for sub in ["archives", "trees", "locks", "tmp"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(io_err("create", &p))?;
        }
        Ok(Cache { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn archive_path(&self, sha: &Sha256Hash) -> PathBuf {
        self.root.join("archives").join(sha.hex())
    }

    fn tree_dir(&self, sha: &Sha256Hash) -> PathBuf {
        self.root.join("trees").join(sha.hex())
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Waits for the lock of one archive. Different archives never wait for
    /// each other.
    pub fn lock(&self, sha: &Sha256Hash) -> Result<Lock, Error> {
        let path = self.root.join("locks").join(format!("{}.lock", sha.hex()));
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("open lock", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                crate::info!(
                    "waiting for another postbin process to finish with {}",
                    sha.short()
                );
                file.lock().map_err(io_err("lock", &path))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_err("lock", &path)(e)),
        }
        Ok(Lock { _file: file })
    }

    /// The published tree for this archive, if any. Its files are not
    /// verified here: callers verify what they use (`verify_file`).
    pub fn tree(&self, sha: &Sha256Hash) -> Option<Tree> {
        let dir = self.tree_dir(sha);
        let text = fs::read_to_string(dir.join("listing.json")).ok()?;
        let listing = parse_listing(&text)?;
        Some(Tree {
            archive: *sha,
            files: dir.join("files"),
            listing,
        })
    }

    /// A new temp directory inside the cache (same file system as the
    /// published entries, so `rename` is atomic).
    pub fn temp_dir(&self) -> Result<tempfile::TempDir, Error> {
        let tmp = self.tmp_dir();
        tempfile::Builder::new()
            .prefix("tree-")
            .tempdir_in(&tmp)
            .map_err(io_err("create a temp dir in", &tmp))
    }

    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile, Error> {
        let tmp = self.tmp_dir();
        tempfile::Builder::new()
            .prefix("download-")
            .tempfile_in(&tmp)
            .map_err(io_err("create a temp file in", &tmp))
    }

    /// Moves a verified download into place under its hash.
    pub fn publish_archive(
        &self,
        temp: tempfile::NamedTempFile,
        sha: &Sha256Hash,
    ) -> Result<PathBuf, Error> {
        let dest = self.archive_path(sha);
        temp.persist(&dest)
            .map_err(|e| io_err("publish", &dest)(e.error))?;
        Ok(dest)
    }

    /// Moves an unpacked temp dir (holding `files/`) into place with its listing.
    pub fn publish_tree(
        &self,
        temp: tempfile::TempDir,
        sha: &Sha256Hash,
        listing: Listing,
    ) -> Result<Tree, Error> {
        let listing_path = temp.path().join("listing.json");
        fs::write(&listing_path, render_listing(sha, &listing))
            .map_err(io_err("write", &listing_path))?;
        let dest = self.tree_dir(sha);
        // A corrupt tree found earlier was renamed away by `discard_tree`; if
        // another process won the race, its tree is as good as ours.
        let staged = temp.keep();
        if let Err(e) = fs::rename(&staged, &dest) {
            let _ = fs::remove_dir_all(&staged);
            if self.tree(sha).is_none() {
                return Err(io_err("publish", &dest)(e));
            }
        }
        Ok(Tree {
            archive: *sha,
            files: dest.join("files"),
            listing,
        })
    }

    /// True if a tree directory exists, complete or not.
    pub fn has_tree_dir(&self, sha: &Sha256Hash) -> bool {
        self.tree_dir(sha).exists()
    }

    /// Removes a tree found corrupt: renamed into tmp first (atomic), then deleted.
    pub fn discard_tree(&self, sha: &Sha256Hash) {
        let dir = self.tree_dir(sha);
        let grave = self
            .tmp_dir()
            .join(format!("discard-{}-{}", sha.short(), std::process::id()));
        if fs::rename(&dir, &grave).is_ok() {
            let _ = fs::remove_dir_all(&grave);
        }
    }

    /// Re-hashes a cached archive; a corrupt one is deleted. True if valid.
    pub fn verify_archive(&self, sha: &Sha256Hash) -> bool {
        let path = self.archive_path(sha);
        match hash::hash_file(&path) {
            Ok((actual, _)) if actual == *sha => true,
            Ok(_) => {
                crate::warn!(
                    "cached archive {} is corrupt; downloading it again",
                    sha.short()
                );
                let _ = fs::remove_file(&path);
                false
            }
            Err(_) => false,
        }
    }

    /// Removes temp entries older than `age` (left by crashed installs).
    pub fn sweep_temp(&self, age: Duration) {
        let Ok(entries) = fs::read_dir(self.tmp_dir()) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > age);
            if old {
                let p = entry.path();
                let _ = fs::remove_dir_all(&p).or_else(|_| fs::remove_file(&p));
            }
        }
    }

    /// Marks a tree as used now (for `cache list` and `prune`).
    pub fn touch(&self, sha: &Sha256Hash) {
        let listing = self.tree_dir(sha).join("listing.json");
        if let Ok(f) = File::options().append(true).open(listing) {
            let _ = f.set_modified(SystemTime::now());
        }
    }
}

impl Tree {
    /// Checks one file of the tree against its listing (size, then hash).
    pub fn verify_file(&self, rel: &str) -> Result<bool, io::Error> {
        let Some(record) = self.listing.get(rel) else {
            return Ok(false);
        };
        let path = self.path_of(rel);
        let meta = fs::metadata(&path)?;
        if meta.len() != record.size {
            return Ok(false);
        }
        Ok(hash::hash_file(&path)?.0 == record.sha256)
    }

    pub fn path_of(&self, rel: &str) -> PathBuf {
        rel.split('/').fold(self.files.clone(), |p, c| p.join(c))
    }
}

fn render_listing(sha: &Sha256Hash, listing: &Listing) -> String {
    let files: Map<String, Value> = listing
        .iter()
        .map(|(k, r)| {
            (
                k.clone(),
                json!({"size": r.size, "sha256": r.sha256.hex(), "executable": r.executable}),
            )
        })
        .collect();
    json!({"archive": sha.hex(), "files": files}).to_string()
}

fn parse_listing(text: &str) -> Option<Listing> {
    let value: Value = serde_json::from_str(text).ok()?;
    let mut listing = Listing::new();
    for (k, v) in value.get("files")?.as_object()? {
        listing.insert(
            k.clone(),
            FileRecord {
                size: v.get("size")?.as_u64()?,
                sha256: Sha256Hash::parse(v.get("sha256")?.as_str()?)?,
                executable: v.get("executable")?.as_bool()?,
            },
        );
    }
    Some(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_round_trips_and_garbage_is_no_tree() {
        let mut l = Listing::new();
        l.insert(
            "a/b".into(),
            FileRecord {
                size: 3,
                sha256: hash::hash_bytes(b"abc"),
                executable: true,
            },
        );
        let sha = hash::hash_bytes(b"archive");
        assert_eq!(parse_listing(&render_listing(&sha, &l)).unwrap(), l);
        assert!(parse_listing("{\"files\":{\"a\":{\"size\":\"x\"}}}").is_none());
        assert!(parse_listing("not json").is_none());
    }

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
        drop(held);
        assert!(other.try_lock().is_ok());
    }
}
