//! The content-addressed cache, versioned under `v1/`:
//!
//! ```text
//! v1/archives/<sha256>           verified archives, named by their own hash
//! v1/trees/<sha256>/files/...    what that archive unpacked to
//! v1/trees/<sha256>/listing.json size + sha256 of every file (hits re-verify against it);
//!                                its mtime is the entry's last use (`touch`)
//! v1/trees/<sha256>/seal         HMAC of listing.json and <sha256> under this user's
//!                                key (`seal`); a tree without a valid one is not used
//! v1/meta/<sha256>.json          what the archive is (package, version, target, asset),
//!                                for `cache list`; optional, entries without it are "unknown"
//! v1/locks/<sha256>.lock         OS file locks (a dead holder never blocks)
//! v1/tmp/                        temp files and dirs, on the same file system;
//!                                `download-<sha>-*`, `tree-<sha>-*` made under <sha>'s lock
//! ```
//! Rules: take the lock, re-check, then work; write to temp and rename; never
//! write a published file in place. A crash leaves only temp entries, which
//! nothing mistakes for complete and `sweep_temp` removes as soon as their
//! archive's lock is free. Removal
//! (`remove_entry`) happens under the entry's lock and renames into `tmp/`
//! before deleting, so a reader sees a whole entry or none. Every rename and
//! delete goes through `fs_retry` (Windows scanners hold new files open for a
//! moment), except sweeps, which try once.
//!
//! Trees are trusted only when sealed (`seal`): a MAC over the listing
//! and the archive hash, keyed by a per-user secret kept outside the cache.
//!
//! This module is the core (open, lock, publish, read); `maintenance` holds
//! `inventory`, `check_entry`, `remove_entry`, the temp sweep and
//! `import_file`; `commands::cache_cmd` only decides and prints.

mod error;
mod lock;
mod maintenance;
pub mod seal;

pub use error::Error;
pub use lock::Lock;

pub use maintenance::{Check, Entry, Imported, Inventory, walk_files};

use crate::extract::{FileRecord, Listing};
use crate::fs_retry;
use crate::hash::{self, HashingWriter, Sha256Hash};
use crate::io_error::io_err;
use crate::safe_fs::{self, Access};
use serde_json::{Map, Value, json};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

pub const LAYOUT: &str = "v1";

const SUBDIRS: [&str; 5] = ["archives", "trees", "meta", "locks", "tmp"];

/// How deep `import` and tree walks go (a mirror tree is a handful of levels).
const MAX_WALK_DEPTH: usize = 32;

#[derive(Clone, Debug)]
pub struct Cache {
    /// `<cache dir>/v1`.
    root: PathBuf,
    /// When the configured cache is readable but not writable (`open_or_temp`),
    /// its `v1`: looked up after `root`, never written.
    read_only: Option<PathBuf>,
    /// Set when `root` is a temp dir standing in for an unwritable cache.
    fallback: Option<Arc<Fallback>>,
    /// This user's seal key, read (or created) on first use; `Err` says why
    /// there is none, and then no tree is trusted.
    key: Arc<OnceLock<Result<seal::Key, String>>>,
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

/// What a cached archive is, as far as the install or prefill that stored it knew.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryMeta {
    pub package: String,
    pub version: String,
    pub target: String,
    pub asset: String,
}

impl Cache {
    /// Opens (creating) the cache under `dir`, its own directories checked
    /// or replaced under the rule of `safe_fs` first: whatever a carried or
    /// poisoned cache holds there, nothing outside it is touched.
    pub fn open(dir: &Path) -> Result<Cache, Error> {
        safe_fs::usable_root(dir).map_err(io_err("use", dir))?;
        fs::create_dir_all(dir).map_err(io_err("create", dir))?;
        let root = dir.join(LAYOUT);
        safe_fs::own_dir(&root).map_err(io_err("use", &root))?;
        for sub in SUBDIRS {
            let p = root.join(sub);
            safe_fs::own_dir(&p).map_err(io_err("use", &p))?;
        }
        Ok(Cache {
            root,
            read_only: None,
            fallback: None,
            key: Arc::default(),
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
            key: Arc::default(),
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

    /// This user's seal key; `None` (said once, at info level) where it
    /// cannot be read or created: then every tree is rebuilt from its archive.
    fn key(&self) -> Option<&seal::Key> {
        self.key
            .get_or_init(|| {
                let dirs: Vec<&Path> = [Some(&self.root), self.read_only.as_ref()]
                    .into_iter()
                    .flatten()
                    .filter_map(|v1| v1.parent())
                    .collect();
                let key = if cfg!(test) {
                    Err("unit tests use no user key".to_string())
                } else {
                    seal::user_key(&dirs)
                };
                if let Err(why) = &key {
                    crate::info!(
                        "{why}; cached unpacked files are not trusted, each install unpacks \
                         the (re-verified) archive again"
                    );
                }
                key
            })
            .as_ref()
            .ok()
    }

    /// Whether trees can be trusted at all (a seal key is available).
    pub fn trusts_trees(&self) -> bool {
        self.key().is_some()
    }

    /// Uses `key` instead of the user's (unit tests).
    #[cfg(test)]
    pub(crate) fn with_key(self, key: Option<seal::Key>) -> Cache {
        let cell = OnceLock::new();
        let _ = cell.set(key.ok_or_else(|| "no key".to_string()));
        Cache {
            key: Arc::new(cell),
            ..self
        }
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

    /// The published tree for this archive, if any and if its seal proves
    /// this user's postbin made it from the archive `sha` (`seal`). Its files
    /// are not verified here: callers verify what they use (`verify_file`).
    pub fn tree(&self, sha: &Sha256Hash) -> Option<Tree> {
        let key = self.key()?;
        read_tree(&self.tree_dir(sha), sha, key).or_else(|| {
            let ro = self.read_only.as_ref()?;
            read_tree(&ro.join("trees").join(sha.hex()), sha, key)
        })
    }

    /// A new temp directory for unpacking archive `sha`, inside the cache
    /// (same file system as the published entries, so `rename` is atomic).
    pub fn temp_dir_for(&self, sha: &Sha256Hash) -> Result<tempfile::TempDir, Error> {
        self.temp_for("tree", sha, |b, tmp| b.tempdir_in(tmp))
            .map_err(io_err("create a temp dir in", &self.tmp_dir()))
    }

    /// A new temp file for archive `sha` (a download, an import).
    pub fn temp_file_for(&self, sha: &Sha256Hash) -> Result<tempfile::NamedTempFile, Error> {
        self.temp_for("download", sha, |b, tmp| b.tempfile_in(tmp))
            .map_err(io_err("create a temp file in", &self.tmp_dir()))
    }

    /// A temp entry in `tmp/` named `<kind>-<sha>-…`, made only under `sha`'s
    /// lock: its name says whose it is, so `sweep_temp` removes it at once
    /// if its maker dies.
    fn temp_for<T>(
        &self,
        kind: &str,
        sha: &Sha256Hash,
        make: impl FnOnce(&tempfile::Builder, &Path) -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        self.writing();
        make(
            tempfile::Builder::new().prefix(&format!("{kind}-{}-", sha.hex())),
            &self.tmp_dir(),
        )
    }

    /// A temp file owned by no archive (swept by age only).
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
        let text = render_listing(sha, &listing);
        fs::write(&listing_path, &text).map_err(io_err("write", &listing_path))?;
        // Without a key the tree is published unsealed: it serves this run
        // (and `--cache-only` paths) but no later hit trusts it.
        if let Some(key) = self.key() {
            let seal_path = temp.path().join(seal::SEAL_FILE);
            fs::write(&seal_path, key.seal(&sha.hex(), text.as_bytes()))
                .map_err(io_err("write", &seal_path))?;
        }
        let dest = self.tree_dir(sha);
        // A corrupt tree found earlier was renamed away by `discard_tree`; if
        // another process won the race, its tree is as good as ours.
        let staged = temp.keep();
        let published = fs_retry::retry(|| match fs::rename(&staged, &dest) {
            Err(_)
                if self
                    .key()
                    .is_some_and(|k| read_tree(&dest, sha, k).is_some()) =>
            {
                Ok(())
            }
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
        if let Err(e) = fs_retry::write_atomically(&dest, &self.tmp_dir(), text.as_bytes()) {
            crate::debug!("cannot record {}: {e}", dest.display());
        }
    }

    /// What an archive is, if recorded.
    pub fn meta(&self, sha: &Sha256Hash) -> Option<EntryMeta> {
        let value: Value =
            serde_json::from_str(&safe_fs::read_to_string(&self.meta_path(sha)).ok()?).ok()?;
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
        // Not `exists()`: a dangling link there must be cleared too.
        fs::symlink_metadata(self.tree_dir(sha)).is_ok()
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

    /// The cached archive, opened once and re-hashed through that same
    /// handle, rewound: what the caller reads is what was checked, whatever
    /// happens at the path meanwhile. A corrupt archive (or something that
    /// is no regular file of ours) is deleted.
    pub fn checked_archive(&self, sha: &Sha256Hash) -> Option<File> {
        let path = self.archive_path(sha);
        let mut file = match safe_fs::open(&path, Access::Read) {
            Ok(file) => file,
            Err(e) => {
                if safe_fs::is_refused(&e) && path.starts_with(&self.root) {
                    crate::warn!(
                        "cached archive {} is {e}; downloading it again",
                        sha.short()
                    );
                    let _ = safe_fs::remove_name(&path);
                }
                return None;
            }
        };
        match hash::hash_reader(&mut file) {
            Ok((actual, _)) if actual == *sha => {
                io::Seek::rewind(&mut file).ok()?;
                Some(file)
            }
            Ok(_) => {
                crate::warn!(
                    "cached archive {} is corrupt; downloading it again",
                    sha.short()
                );
                if path.starts_with(&self.root) {
                    let _ = fs_retry::remove_file(&path);
                }
                None
            }
            Err(_) => None,
        }
    }

    /// Marks a tree as used now (for `cache list` and `prune`).
    pub fn touch(&self, sha: &Sha256Hash) {
        let dir = self.tree_dir(sha);
        if !safe_fs::is_real_dir(&dir) {
            return;
        }
        if let Ok(f) = safe_fs::open(&dir.join("listing.json"), Access::Append) {
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
        let mut file = match self.open_file(rel) {
            Err(e) if safe_fs::is_refused(&e) => return Ok(false),
            other => other?,
        };
        if file.metadata()?.len() != record.size {
            return Ok(false);
        }
        Ok(hash::hash_reader(&mut file)?.0 == record.sha256)
    }

    /// Opens one of the tree's files for reading. A link the archive held
    /// is followed as it was unpacked (inside the tree: `extract` allows no
    /// other), but never out of the tree, whatever was put there since: the
    /// path is resolved, must stay under `files/`, and is opened under the
    /// rule of `safe_fs`.
    pub fn open_file(&self, rel: &str) -> io::Result<File> {
        let real = fs::canonicalize(self.path_of(rel))?;
        if !real.starts_with(fs::canonicalize(&self.files)?) {
            return Err(safe_fs::refused("a link out of the cache"));
        }
        safe_fs::open(&real, Access::Read)
    }

    pub fn path_of(&self, rel: &str) -> PathBuf {
        rel.split('/').fold(self.files.clone(), |p, c| p.join(c))
    }
}

/// The tree in `dir` if its listing parses and `key` sealed it for `sha`.
/// Its directory and `files/` must be real directories: `O_NOFOLLOW` guards
/// only a path's last component, and a tree directory linked elsewhere would
/// be read (and touched) there.
fn read_tree(dir: &Path, sha: &Sha256Hash, key: &seal::Key) -> Option<Tree> {
    if !(safe_fs::is_real_dir(dir) && safe_fs::is_real_dir(&dir.join("files"))) {
        return None;
    }
    let text = safe_fs::read_to_string(&dir.join("listing.json")).ok()?;
    let sealed = safe_fs::read_to_string(&dir.join(seal::SEAL_FILE)).ok()?;
    if !key.verifies(&sha.hex(), text.as_bytes(), &sealed) {
        return None;
    }
    let listing = parse_listing(&text)?;
    Some(Tree {
        archive: *sha,
        files: dir.join("files"),
        listing,
    })
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

    fn one_file_listing() -> Listing {
        let mut l = Listing::new();
        l.insert(
            "hello".into(),
            FileRecord {
                size: 3,
                sha256: hash::hash_bytes(b"abc"),
                executable: true,
            },
        );
        l
    }

    /// Found by the cache_layout fuzz target: `O_NOFOLLOW` guards only the
    /// last component, so `trees/<sha>` linked to a directory outside had
    /// its `listing.json` read and touched there.
    #[cfg(unix)]
    #[test]
    fn a_tree_directory_that_is_a_link_is_neither_read_nor_touched() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("cache"))
            .unwrap()
            .with_key(Some(seal::Key::from_bytes([1; 32])));
        let sha = hash::hash_bytes(b"archive");
        let outside = dir.path().join("home");
        fs::create_dir_all(outside.join("files")).unwrap();
        fs::write(outside.join("listing.json"), b"{}").unwrap();
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        File::options()
            .append(true)
            .open(outside.join("listing.json"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        std::os::unix::fs::symlink(&outside, cache.tree_dir(&sha)).unwrap();
        cache.touch(&sha);
        assert!(cache.tree(&sha).is_none());
        let mtime = fs::metadata(outside.join("listing.json"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(mtime, old, "touched through the link");
        assert!(
            cache.has_tree_dir(&sha),
            "a link there is cleared as debris"
        );
    }

    #[test]
    fn only_a_tree_sealed_with_this_key_for_this_archive_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let key = seal::Key::from_bytes([1; 32]);
        let cache = Cache::open(dir.path()).unwrap().with_key(Some(key));
        let sha = hash::hash_bytes(b"archive");
        let staging = cache.temp_dir_for(&sha).unwrap();
        fs::create_dir(staging.path().join("files")).unwrap();
        fs::write(staging.path().join("files/hello"), b"abc").unwrap();
        cache
            .publish_tree(staging, &sha, one_file_listing())
            .unwrap();
        assert!(cache.tree(&sha).is_some());

        let other = Cache::open(dir.path())
            .unwrap()
            .with_key(Some(seal::Key::from_bytes([2; 32])));
        assert!(other.tree(&sha).is_none(), "another key");
        let keyless = Cache::open(dir.path()).unwrap().with_key(None);
        assert!(keyless.tree(&sha).is_none(), "no key");
        assert!(!keyless.trusts_trees());

        // The same tree under another archive's name.
        let moved = hash::hash_bytes(b"another archive");
        fs::rename(cache.tree_dir(&sha), cache.tree_dir(&moved)).unwrap();
        assert!(cache.tree(&moved).is_none(), "another archive");
        fs::rename(cache.tree_dir(&moved), cache.tree_dir(&sha)).unwrap();

        // A listing rewritten to vouch for other bytes.
        let listing = cache.tree_dir(&sha).join("listing.json");
        let text = fs::read_to_string(&listing).unwrap();
        let forged = text.replace(
            &hash::hash_bytes(b"abc").hex(),
            &hash::hash_bytes(b"xyz").hex(),
        );
        assert_ne!(text, forged);
        fs::write(&listing, forged).unwrap();
        assert!(cache.tree(&sha).is_none(), "forged listing");
        fs::write(&listing, &text).unwrap();
        assert!(cache.tree(&sha).is_some());
        fs::remove_file(cache.tree_dir(&sha).join(seal::SEAL_FILE)).unwrap();
        assert!(cache.tree(&sha).is_none(), "no seal");
    }
}
