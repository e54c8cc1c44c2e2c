//! The content-addressed cache, versioned under `v1/`:
//!
//! ```text
//! v1/archives/<sha256>           verified archives, named by their own hash
//! v1/trees/<sha256>/files/...    what that archive unpacked to
//! v1/trees/<sha256>/listing.json size + sha256 of every file (hits re-verify against it);
//!                                its mtime is the entry's last use (`touch`)
//! v1/meta/<sha256>.json          what the archive is (package, version, target, asset),
//!                                for `cache list`; optional, entries without it are "unknown"
//! v1/locks/<sha256>.lock         OS file locks (a dead holder never blocks)
//! v1/tmp/                        temp files and dirs, on the same file system
//! ```
//! Rules: take the lock, re-check, then work; write to temp and rename; never
//! write a published file in place. A crash leaves only temp entries, which
//! nothing mistakes for complete and `sweep_temp` removes later. Removal
//! (`remove_entry`) happens under the entry's lock and renames into `tmp/`
//! before deleting, so a reader sees a whole entry or none. Every rename and
//! delete goes through `fs_retry` (Windows scanners hold new files open for a
//! moment), except sweeps, which try once.
//!
//! Maintenance (`inventory`, `check_entry`, `remove_entry`, `import_file`)
//! lives here too; `commands::cache_cmd` only decides and prints.

use crate::extract::{FileRecord, Listing};
use crate::fs_retry;
use crate::hash::{self, HashingWriter, Sha256Hash};
use serde_json::{Map, Value, json};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

pub const LAYOUT: &str = "v1";

const SUBDIRS: [&str; 5] = ["archives", "trees", "meta", "locks", "tmp"];

/// How deep `import` and tree walks go (a mirror tree is a handful of levels).
const MAX_WALK_DEPTH: usize = 32;

#[derive(Debug)]
pub enum Error {
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A file changed while `import` was copying it.
    Changed { path: PathBuf },
}

impl Error {
    fn is_storage_full(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::StorageFull)
    }
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
            Error::Io { op, path, source } if fs_retry::is_busy(source) => write!(
                f,
                "cannot {op} {} in the postbin cache: another program keeps it open (a virus \
                 scanner?); run the install again, or exclude the cache directory from scanning",
                path.display()
            ),
            Error::Io { op, path, .. } => write!(
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
            Error::Io { source, .. } => Some(source),
            Error::Changed { .. } => None,
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
    /// When the configured cache is readable but not writable (`open_or_temp`),
    /// its `v1`: looked up after `root`, never written.
    read_only: Option<PathBuf>,
    /// Set when `root` is a temp dir standing in for an unwritable cache.
    fallback: Option<Arc<Fallback>>,
}

/// The temp dir behind a fallback cache (removed when the last `Cache`
/// clone drops, unless kept) and the warning, said once, on the first write:
/// a run served entirely from a read-only cache has nothing to warn about.
#[derive(Debug)]
struct Fallback {
    warning: String,
    keep: bool,
    said: AtomicBool,
    dir: Mutex<Option<tempfile::TempDir>>,
}

/// A published, unpacked archive.
#[derive(Clone, Debug)]
pub struct Tree {
    pub archive: Sha256Hash,
    /// The directory holding the archive's files.
    pub files: PathBuf,
    pub listing: Listing,
}

/// Held while one archive is downloaded, unpacked or removed; released on
/// drop (and by the OS if the process dies).
#[derive(Debug)]
pub struct Lock {
    _file: File,
    path: PathBuf,
}

/// What a cached archive is, as far as the install or prefill that stored it knew.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryMeta {
    pub package: String,
    pub version: String,
    pub target: String,
    pub asset: String,
}

/// One cache entry: an archive, its tree, or both.
#[derive(Clone, Debug)]
pub struct Entry {
    pub sha: Sha256Hash,
    /// Size of `archives/<sha>`, if present.
    pub archive_size: Option<u64>,
    /// Bytes under `trees/<sha>`, if present.
    pub tree_size: Option<u64>,
    pub meta: Option<EntryMeta>,
    /// mtime of the tree's listing.json (what installs touch), else of the
    /// archive, else of the tree dir.
    pub last_used: SystemTime,
}

impl Entry {
    pub fn size(&self) -> u64 {
        self.archive_size.unwrap_or(0) + self.tree_size.unwrap_or(0)
    }
}

/// Everything under `v1/`, sorted by last use, oldest first.
#[derive(Debug, Default)]
pub struct Inventory {
    pub entries: Vec<Entry>,
    /// Files or dirs in `archives/` or `trees/` whose names are no hash.
    pub junk: Vec<PathBuf>,
    /// `meta/` files whose entry is gone.
    pub orphan_meta: Vec<PathBuf>,
}

/// The result of re-verifying one entry.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Check {
    /// `Some(true)` if the archive hashes to its name.
    pub archive_ok: Option<bool>,
    /// `Some(true)` if listing.json parses and every file matches it.
    pub tree_ok: Option<bool>,
}

impl Check {
    pub fn is_ok(&self) -> bool {
        self.archive_ok != Some(false) && self.tree_ok != Some(false)
    }
}

/// What `import_file` did with one file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Imported {
    Added { size: u64 },
    AlreadyCached,
}

impl Cache {
    /// Opens (creating) the cache under `dir`.
    pub fn open(dir: &Path) -> Result<Cache, Error> {
        let root = dir.join(LAYOUT);
        for sub in SUBDIRS {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(io_err("create", &p))?;
        }
        Ok(Cache {
            root,
            read_only: None,
            fallback: None,
        })
    }

    /// The cache under `dir` if it exists; creates nothing (for `cache list`
    /// and friends, which must not fail on a cache never used).
    pub fn open_existing(dir: &Path) -> Option<Cache> {
        let root = dir.join(LAYOUT);
        root.is_dir().then_some(Cache {
            root,
            read_only: None,
            fallback: None,
        })
    }

    /// Opens the cache under `dir`; if it cannot be written (a read-only
    /// mount, another user's directory, a path through a file), falls back
    /// to a private temp dir, still reading what the configured cache
    /// already holds. One warning line says so when the temp dir is first
    /// written. The temp dir goes when the last clone of the returned cache
    /// drops, unless `keep` (the caller hands out paths into it). A full disk
    /// is an error, not a fallback: the temp dir is most likely on the same
    /// disk, and the error names POSTBIN_CACHE_DIR.
    pub fn open_or_temp(dir: &Path, keep: bool) -> Result<Cache, Error> {
        let error = match Cache::open(dir).and_then(|c| c.probe_writable().map(|()| c)) {
            Ok(cache) => return Ok(cache),
            Err(e) => e,
        };
        if error.is_storage_full() {
            return Err(error);
        }
        let Ok(temp) = tempfile::Builder::new().prefix("postbin-cache-").tempdir() else {
            return Err(error);
        };
        let Ok(mut cache) = Cache::open(temp.path()) else {
            return Err(error);
        };
        let configured = dir.join(LAYOUT);
        let readable = configured.join("trees").is_dir() || configured.join("archives").is_dir();
        if readable {
            cache.read_only = Some(configured);
        }
        let cause = std::error::Error::source(&error)
            .map(|s| s.to_string())
            .unwrap_or_default();
        let warning = format!(
            "cannot write to the cache at {} ({cause}); using the temporary cache {}{} for this run; \
             set POSTBIN_CACHE_DIR to a writable directory to keep downloads",
            dir.display(),
            temp.path().display(),
            if readable {
                " (entries already in the configured cache are still used)"
            } else {
                ""
            }
        );
        cache.fallback = Some(Arc::new(Fallback {
            warning,
            keep,
            said: AtomicBool::new(false),
            dir: Mutex::new(Some(temp)),
        }));
        Ok(cache)
    }

    /// Called before anything is written: says, once, that a fallback
    /// cache is in use, and keeps its dir if asked to.
    fn writing(&self) {
        let Some(fallback) = &self.fallback else {
            return;
        };
        if fallback.said.swap(true, Ordering::Relaxed) {
            return;
        }
        crate::warn!("{}", fallback.warning);
        if fallback.keep
            && let Some(dir) = fallback.dir.lock().map(|mut d| d.take()).unwrap_or(None)
        {
            let _ = dir.keep();
        }
    }

    /// Creates and removes a temp file: the cheapest proof that downloads
    /// can be written.
    fn probe_writable(&self) -> Result<(), Error> {
        self.temp_file().map(drop)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the archive is: in this cache, else in the read-only one, else
    /// where it would be published.
    pub fn archive_path(&self, sha: &Sha256Hash) -> PathBuf {
        let own = self.own_archive_path(sha);
        if own.is_file() {
            return own;
        }
        match &self.read_only {
            Some(ro) if ro.join("archives").join(sha.hex()).is_file() => {
                ro.join("archives").join(sha.hex())
            }
            _ => own,
        }
    }

    fn own_archive_path(&self, sha: &Sha256Hash) -> PathBuf {
        self.root.join("archives").join(sha.hex())
    }

    fn tree_dir(&self, sha: &Sha256Hash) -> PathBuf {
        self.root.join("trees").join(sha.hex())
    }

    fn meta_path(&self, sha: &Sha256Hash) -> PathBuf {
        self.root.join("meta").join(format!("{}.json", sha.hex()))
    }

    fn lock_path(&self, sha: &Sha256Hash) -> PathBuf {
        self.root.join("locks").join(format!("{}.lock", sha.hex()))
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

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
        let file = File::open(self.lock_path(sha)).ok()?;
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

    /// The published tree for this archive, if any. Its files are not
    /// verified here: callers verify what they use (`verify_file`).
    pub fn tree(&self, sha: &Sha256Hash) -> Option<Tree> {
        read_tree(&self.tree_dir(sha), sha).or_else(|| {
            let ro = self.read_only.as_ref()?;
            read_tree(&ro.join("trees").join(sha.hex()), sha)
        })
    }

    /// A new temp directory inside the cache (same file system as the
    /// published entries, so `rename` is atomic).
    pub fn temp_dir(&self) -> Result<tempfile::TempDir, Error> {
        self.writing();
        let tmp = self.tmp_dir();
        tempfile::Builder::new()
            .prefix("tree-")
            .tempdir_in(&tmp)
            .map_err(io_err("create a temp dir in", &tmp))
    }

    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile, Error> {
        self.writing();
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
        let dest = self.own_archive_path(sha);
        fs_retry::persist(temp, &dest).map_err(io_err("publish", &dest))?;
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
        let published = fs_retry::retry(|| match fs::rename(&staged, &dest) {
            Err(_) if read_tree(&dest, sha).is_some() => Ok(()),
            other => other,
        });
        if staged.exists() {
            let _ = fs_retry::remove_dir_all(&staged);
        }
        published.map_err(io_err("publish", &dest))?;
        Ok(Tree {
            archive: *sha,
            files: dest.join("files"),
            listing,
        })
    }

    /// Records what an archive is, for `cache list` (best effort: an entry
    /// without it lists as unknown).
    pub fn record_meta(&self, sha: &Sha256Hash, meta: &EntryMeta) {
        let text = json!({
            "package": meta.package,
            "version": meta.version,
            "target": meta.target,
            "asset": meta.asset,
        })
        .to_string();
        let dest = self.meta_path(sha);
        let written = tempfile::Builder::new()
            .prefix("meta-")
            .tempfile_in(self.tmp_dir())
            .and_then(|mut t| {
                t.write_all(text.as_bytes())?;
                fs_retry::persist(t, &dest)
            });
        if let Err(e) = written {
            crate::debug!("cannot record {}: {e}", dest.display());
        }
    }

    /// What an archive is, if recorded.
    pub fn meta(&self, sha: &Sha256Hash) -> Option<EntryMeta> {
        let value: Value =
            serde_json::from_str(&fs::read_to_string(self.meta_path(sha)).ok()?).ok()?;
        let field = |k: &str| value.get(k)?.as_str().map(str::to_string);
        Some(EntryMeta {
            package: field("package")?,
            version: field("version")?,
            target: field("target")?,
            asset: field("asset")?,
        })
    }

    /// True if a tree directory exists, complete or not.
    pub fn has_tree_dir(&self, sha: &Sha256Hash) -> bool {
        self.tree_dir(sha).exists()
    }

    /// Removes a tree found corrupt: renamed into tmp first (atomic), then deleted.
    pub fn discard_tree(&self, sha: &Sha256Hash) {
        self.bury(&self.tree_dir(sha));
    }

    /// Renames `path` into tmp (atomic: readers see it whole or not at all),
    /// then deletes it. True if `path` existed and was taken away.
    fn bury(&self, path: &Path) -> bool {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("entry");
        let grave = self.tmp_dir().join(format!(
            "discard-{}-{}-{}",
            &name[..name.len().min(12)],
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        if fs_retry::rename(path, &grave).is_err() {
            return false;
        }
        // Left in tmp/ if it cannot go now: `sweep_temp` removes it later.
        let _ = fs_retry::remove_any(&grave);
        true
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
                let _ = fs_retry::remove_file(&path);
                false
            }
            Err(_) => false,
        }
    }

    /// Removes temp entries untouched for longer than `age` (left by crashed
    /// installs). A directory counts as touched when anything inside it was,
    /// so a long extraction in progress is never swept. Returns how many
    /// entries were removed and how many were kept as too recent. Each
    /// removal is tried once: an entry still in use waits for a later sweep.
    pub fn sweep_temp(&self, age: Duration) -> (usize, usize) {
        let Ok(entries) = fs::read_dir(self.tmp_dir()) else {
            return (0, 0);
        };
        let now = SystemTime::now();
        let (mut removed, mut kept) = (0, 0);
        for entry in entries.flatten() {
            let p = entry.path();
            let old = newest_mtime(&p, 0)
                .is_some_and(|t| now.duration_since(t).unwrap_or_default() > age);
            if old {
                if fs::remove_dir_all(&p)
                    .or_else(|_| fs::remove_file(&p))
                    .is_ok()
                {
                    removed += 1;
                }
            } else {
                kept += 1;
            }
        }
        (removed, kept)
    }

    /// Marks a tree as used now (for `cache list` and `prune`).
    pub fn touch(&self, sha: &Sha256Hash) {
        let listing = self.tree_dir(sha).join("listing.json");
        if let Ok(f) = File::options().append(true).open(listing) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// Every entry of this cache (not of a read-only fallback), oldest use first.
    pub fn inventory(&self) -> Result<Inventory, Error> {
        let mut inventory = Inventory::default();
        let mut entries: std::collections::BTreeMap<Sha256Hash, Entry> = Default::default();
        let blank = |sha| Entry {
            sha,
            archive_size: None,
            tree_size: None,
            meta: None,
            last_used: SystemTime::UNIX_EPOCH,
        };

        let archives = self.root.join("archives");
        for item in read_dir(&archives)? {
            let path = item.path();
            let meta = item.metadata().ok();
            match file_sha(&item) {
                Some(sha) if meta.as_ref().is_some_and(|m| m.is_file()) => {
                    let m = meta.expect("checked");
                    let e = entries.entry(sha).or_insert_with(|| blank(sha));
                    e.archive_size = Some(m.len());
                    e.last_used = m.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                }
                _ => inventory.junk.push(path),
            }
        }

        let trees = self.root.join("trees");
        for item in read_dir(&trees)? {
            let path = item.path();
            match file_sha(&item) {
                Some(sha) if item.file_type().is_ok_and(|t| t.is_dir()) => {
                    let e = entries.entry(sha).or_insert_with(|| blank(sha));
                    e.tree_size = Some(disk_bytes(&path, 0));
                    let used = fs::metadata(path.join("listing.json"))
                        .or_else(|_| fs::metadata(&path))
                        .and_then(|m| m.modified());
                    if let Ok(t) = used {
                        // The listing is what installs touch; it wins over
                        // the archive's mtime (set once, when stored).
                        e.last_used = t;
                    }
                }
                _ => inventory.junk.push(path),
            }
        }

        let metas = self.root.join("meta");
        for item in read_dir(&metas)? {
            let name = item.file_name();
            let sha = name
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(Sha256Hash::parse);
            match sha.and_then(|s| entries.get_mut(&s)) {
                Some(e) => e.meta = self.meta(&e.sha),
                None => inventory.orphan_meta.push(item.path()),
            }
        }

        inventory.entries = entries.into_values().collect();
        inventory
            .entries
            .sort_by_key(|e| (e.last_used, e.sha.hex()));
        Ok(inventory)
    }

    /// Re-hashes an entry: the archive against its name, each tree file
    /// against listing.json. Reads only; `remove_entry` repairs.
    pub fn check_entry(&self, sha: &Sha256Hash) -> Check {
        let archive = self.own_archive_path(sha);
        let archive_ok = archive
            .is_file()
            .then(|| hash::hash_file(&archive).is_ok_and(|(h, _)| h == *sha));
        let dir = self.tree_dir(sha);
        let tree_ok = dir.exists().then(|| match read_tree(&dir, sha) {
            None => false,
            Some(tree) => tree
                .listing
                .keys()
                .all(|rel| tree.verify_file(rel).unwrap_or(false)),
        });
        Check {
            archive_ok,
            tree_ok,
        }
    }

    /// Removes the parts of an entry (its archive and/or tree, and its
    /// metadata once both are gone), under its lock. Returns the bytes freed.
    pub fn remove_entry(&self, entry: &Entry, archive: bool, tree: bool, _lock: &Lock) -> u64 {
        let mut freed = 0;
        if archive && self.bury(&self.own_archive_path(&entry.sha)) {
            freed += entry.archive_size.unwrap_or(0);
        }
        if tree && self.bury(&self.tree_dir(&entry.sha)) {
            freed += entry.tree_size.unwrap_or(0);
        }
        if !self.own_archive_path(&entry.sha).exists() && !self.tree_dir(&entry.sha).exists() {
            let _ = fs_retry::remove_file(&self.meta_path(&entry.sha));
        }
        freed
    }

    /// Deletes a lock file while holding it (`cache clean`); anyone waiting
    /// on it notices and locks the new file at that path (see `lock`).
    pub fn remove_lock_file(&self, lock: Lock) {
        let _ = fs_retry::remove_file(&lock.path);
        drop(lock);
    }

    /// Lock files in `locks/`, by the archive they guard.
    pub fn lock_files(&self) -> Result<Vec<Sha256Hash>, Error> {
        Ok(read_dir(&self.root.join("locks"))?
            .iter()
            .filter_map(|item| {
                let name = item.file_name();
                Sha256Hash::parse(name.to_str()?.strip_suffix(".lock")?)
            })
            .collect())
    }

    /// Removes junk and orphaned metadata found by `inventory`.
    pub fn remove_debris(&self, inventory: &Inventory) -> usize {
        let mut removed = 0;
        for path in &inventory.junk {
            removed += usize::from(self.bury(path));
        }
        for path in &inventory.orphan_meta {
            // An install may have published the entry since the inventory.
            let sha = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(Sha256Hash::parse);
            let back = sha
                .is_some_and(|s| self.own_archive_path(&s).exists() || self.tree_dir(&s).exists());
            if !back {
                removed += usize::from(fs_retry::remove_file(path).is_ok());
            }
        }
        removed
    }

    /// Stores `path` as `archives/<its sha256>`: copied into tmp while hashed,
    /// checked against a first hash (the file must not change meanwhile),
    /// published under the entry's lock. An intact copy already cached is kept.
    pub fn import_file(&self, path: &Path) -> Result<(Sha256Hash, Imported), Error> {
        let (sha, size) = hash::hash_file(path).map_err(io_err("read", path))?;
        if self.archive_intact(&sha) {
            return Ok((sha, Imported::AlreadyCached));
        }
        let mut temp = self.temp_file()?;
        let mut src = File::open(path).map_err(io_err("read", path))?;
        let mut sink = HashingWriter::new(temp.as_file_mut());
        io::copy(&mut src, &mut sink).map_err(|e| {
            if e.kind() == io::ErrorKind::StorageFull {
                io_err("write", &self.tmp_dir())(e)
            } else {
                io_err("read", path)(e)
            }
        })?;
        sink.flush().map_err(io_err("write", &self.tmp_dir()))?;
        let (_, copied, copied_size) = sink.finish();
        if copied != sha || copied_size != size {
            return Err(Error::Changed {
                path: path.to_path_buf(),
            });
        }
        let _lock = self.lock(&sha)?;
        if self.archive_intact(&sha) {
            return Ok((sha, Imported::AlreadyCached));
        }
        self.publish_archive(temp, &sha)?;
        Ok((sha, Imported::Added { size }))
    }

    /// True if this cache's archive exists and hashes to its name.
    fn archive_intact(&self, sha: &Sha256Hash) -> bool {
        let path = self.own_archive_path(sha);
        path.is_file() && hash::hash_file(&path).is_ok_and(|(h, _)| h == *sha)
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

fn read_tree(dir: &Path, sha: &Sha256Hash) -> Option<Tree> {
    let text = fs::read_to_string(dir.join("listing.json")).ok()?;
    let listing = parse_listing(&text)?;
    Some(Tree {
        archive: *sha,
        files: dir.join("files"),
        listing,
    })
}

/// Opens (creating) a lock file. Retried: on Windows a lock file that
/// `cache clean` deleted while others still had it open cannot be opened
/// again (access denied) until the last of them closes it, a moment later.
fn open_lock_file(path: &Path) -> Result<File, Error> {
    fs_retry::retry(|| {
        fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
    })
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

/// The entries of `dir`; a missing dir has none.
fn read_dir(dir: &Path) -> Result<Vec<fs::DirEntry>, Error> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(entries.flatten().collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io_err("read", dir)(e)),
    }
}

fn file_sha(item: &fs::DirEntry) -> Option<Sha256Hash> {
    let name = item.file_name();
    let name = name.to_str()?;
    // Only the canonical spelling: `parse` also takes upper case.
    Sha256Hash::parse(name).filter(|s| s.hex() == name)
}

/// Bytes of regular files under `path` (links not followed).
fn disk_bytes(path: &Path, depth: usize) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return if meta.is_file() { meta.len() } else { 0 };
    }
    if depth > MAX_WALK_DEPTH {
        return 0;
    }
    fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| disk_bytes(&e.path(), depth + 1))
                .sum()
        })
        .unwrap_or(0)
}

/// The latest mtime of `path` and everything under it (links not followed).
fn newest_mtime(path: &Path, depth: usize) -> Option<SystemTime> {
    let meta = fs::symlink_metadata(path).ok()?;
    let own = meta.modified().ok();
    if !meta.is_dir() || depth > MAX_WALK_DEPTH {
        return own;
    }
    let inner = fs::read_dir(path)
        .ok()?
        .flatten()
        .filter_map(|e| newest_mtime(&e.path(), depth + 1))
        .max();
    own.max(inner)
}

/// Every regular file under `dir` (symlinks to files followed, to dirs not),
/// as paths, in a stable order; for `cache import`.
pub fn walk_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let mut items = match fs::read_dir(&d) {
            Ok(items) => items.flatten().collect::<Vec<_>>(),
            Err(e) if d == dir => return Err(io_err("read", dir)(e)),
            Err(_) => continue,
        };
        items.sort_by_key(|e| e.file_name());
        for item in items.into_iter().rev() {
            let path = item.path();
            let Ok(kind) = item.file_type() else { continue };
            if kind.is_dir() {
                if depth < MAX_WALK_DEPTH {
                    stack.push((path, depth + 1));
                }
            } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
                out.push(path);
            }
        }
    }
    Ok(out)
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

    #[test]
    fn inventory_sees_archives_trees_meta_and_junk() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let src = dir.path().join("a.tgz");
        fs::write(&src, b"archive bytes").unwrap();
        let (sha, how) = cache.import_file(&src).unwrap();
        assert_eq!(how, Imported::Added { size: 13 });
        assert_eq!(cache.import_file(&src).unwrap().1, Imported::AlreadyCached);
        let meta = EntryMeta {
            package: "hello".into(),
            version: "1.0.0".into(),
            target: "t".into(),
            asset: "a.tgz".into(),
        };
        cache.record_meta(&sha, &meta);
        fs::write(cache.root().join("archives").join("README"), b"x").unwrap();
        let orphan = hash::hash_bytes(b"gone");
        cache.record_meta(&orphan, &meta);

        let inv = cache.inventory().unwrap();
        assert_eq!(inv.entries.len(), 1);
        assert_eq!(inv.entries[0].meta.as_ref(), Some(&meta));
        assert_eq!(inv.entries[0].archive_size, Some(13));
        assert_eq!(inv.junk.len(), 1);
        assert_eq!(inv.orphan_meta.len(), 1);
        assert!(cache.check_entry(&sha).is_ok());

        assert_eq!(cache.remove_debris(&inv), 2);
        let lock = cache.try_lock(&sha).unwrap().unwrap();
        assert_eq!(cache.remove_entry(&inv.entries[0], true, true, &lock), 13);
        assert!(cache.inventory().unwrap().entries.is_empty());
        assert!(cache.meta(&sha).is_none());
    }

    #[test]
    fn sweep_keeps_a_dir_with_a_fresh_file_deep_inside() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let old = SystemTime::now() - Duration::from_secs(7200);
        let stale = cache.tmp_dir().join("tree-stale");
        fs::create_dir_all(stale.join("files")).unwrap();
        let busy = cache.tmp_dir().join("tree-busy");
        fs::create_dir_all(busy.join("files/deep")).unwrap();
        fs::write(busy.join("files/deep/big"), b"being written").unwrap();
        for d in [&stale.join("files"), &stale, &busy.join("files"), &busy] {
            open_dir(d).set_modified(old).unwrap();
        }
        assert_eq!(cache.sweep_temp(Duration::from_secs(3600)), (1, 1));
        assert!(!stale.exists() && busy.exists());
    }

    /// A directory opened so that its times can be set (Windows opens
    /// directories only with FILE_FLAG_BACKUP_SEMANTICS).
    fn open_dir(path: &Path) -> File {
        let mut options = fs::OpenOptions::new();
        #[cfg(windows)]
        {
            use std::os::windows::fs::OpenOptionsExt;
            const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
            options.write(true).custom_flags(FILE_FLAG_BACKUP_SEMANTICS);
        }
        #[cfg(not(windows))]
        options.read(true);
        options.open(path).unwrap()
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
