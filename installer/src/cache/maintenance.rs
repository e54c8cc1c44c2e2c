//! Looking after the cache: what is in it (`inventory`), re-verifying
//! entries (`check_entry`), removing them and debris under their locks,
//! sweeping temp files, importing archives. `commands::cache_cmd` only decides
//! and prints.

use super::*;

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
    /// `Some(true)` if the tree is sealed by this user's key, its
    /// listing.json parses and every file matches it. `None` with no tree,
    /// or with no key to check seals with (`no_key`).
    pub tree_ok: Option<bool>,
    /// The tree's listing is missing or not sealed by this user's key (not
    /// made here from a verified archive: carried, copied, tampered with,
    /// or from before seals).
    pub unsealed: bool,
    /// There is a tree but no key to check its seal (see `Cache::key`).
    pub no_key: bool,
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
    /// Removes temp entries that no running process owns. Downloads and
    /// staged trees are named after their archive (`download-<sha>-*`,
    /// `tree-<sha>-*`) and made only under that archive's lock: whoever
    /// can take the lock knows their maker is gone (killed, crashed), and
    /// they go at once. Entries being buried (`discard-*`) are read by
    /// nobody and go at once too. Anything else (older names, metadata
    /// being written) goes when untouched for longer than `age`; a
    /// directory counts as touched when anything inside it was. Resumable
    /// partial downloads (`<sha>.partial`, `partial-*`, see `fetch::Partial`)
    /// are kept on purpose after their maker dies, so they too go by age
    /// only, never by the lock rule. Returns how many entries were removed
    /// and how many were kept as in use (partial downloads not counted). Each removal is tried once: an entry
    /// still open (Windows) waits for a later sweep.
    pub fn sweep_temp(&self, age: Duration) -> (usize, usize) {
        // Never through a link: `tmp/` was checked when the cache was
        // opened (`safe_fs::own_dir`); checked again here, at the one place
        // that deletes whatever it lists. Entries are removed by name
        // (`remove_dir_all` does not follow links).
        let tmp = self.tmp_dir();
        if !fs::symlink_metadata(&tmp).is_ok_and(|m| m.file_type().is_dir()) {
            return (0, 0);
        }
        let Ok(entries) = fs::read_dir(&tmp) else {
            return (0, 0);
        };
        let now = SystemTime::now();
        let (mut removed, mut kept) = (0, 0);
        for entry in entries.flatten() {
            let p = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let resumable = name.starts_with("partial-") || name.ends_with(".partial");
            // Held until the removal is done, so no install of that
            // archive starts meanwhile (it would make a new temp anyway).
            let mut _owner = None;
            let dead = if let Some(sha) = temp_owner(&name).filter(|_| !resumable) {
                match self.try_lock(&sha) {
                    Ok(Some(lock)) => {
                        _owner = Some(lock);
                        true
                    }
                    _ => false,
                }
            } else if name.starts_with("discard-") {
                true
            } else {
                newest_mtime(&p, 0).is_some_and(|t| now.duration_since(t).unwrap_or_default() > age)
            };
            if dead {
                if fs::remove_dir_all(&p)
                    .or_else(|_| fs::remove_file(&p))
                    .is_ok()
                {
                    removed += 1;
                }
            } else if !resumable {
                kept += 1;
            }
        }
        (removed, kept)
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
        let archive_ok = archive.is_file().then(|| self.archive_intact(sha));
        let dir = self.tree_dir(sha);
        if !dir.exists() {
            return Check {
                archive_ok,
                ..Check::default()
            };
        }
        let Some(key) = self.key() else {
            return Check {
                archive_ok,
                no_key: true,
                ..Check::default()
            };
        };
        let (tree_ok, unsealed) = match read_tree(&dir, sha, key) {
            None => (false, true),
            Some(tree) => (
                tree.listing
                    .keys()
                    .all(|rel| tree.verify_file(rel).unwrap_or(false)),
                false,
            ),
        };
        Check {
            archive_ok,
            tree_ok: Some(tree_ok),
            unsealed,
            no_key: false,
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
        // Copied under the entry's lock: its temp file is then known to be
        // live (`sweep_temp`).
        let _lock = self.lock(&sha)?;
        if self.archive_intact(&sha) {
            return Ok((sha, Imported::AlreadyCached));
        }
        let mut temp = self.temp_file_for(&sha)?;
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
        self.publish_archive(temp, &sha)?;
        Ok((sha, Imported::Added { size }))
    }

    /// True if this cache's archive is a regular file of its own (not a
    /// link, `safe_fs`) that hashes to its name.
    fn archive_intact(&self, sha: &Sha256Hash) -> bool {
        safe_fs::open(&self.own_archive_path(sha), Access::Read)
            .and_then(hash::hash_reader)
            .is_ok_and(|(h, _)| h == *sha)
    }
}

/// The archive a temp entry was made for, from its name
/// (`download-<sha>-*`, `tree-<sha>-*`, see `Cache::temp_file_for`).
fn temp_owner(name: &str) -> Option<Sha256Hash> {
    let rest = name
        .strip_prefix("download-")
        .or_else(|| name.strip_prefix("tree-"))?;
    let (hex, tail) = (rest.get(..64)?, rest.get(64..)?);
    tail.starts_with('-')
        .then(|| Sha256Hash::parse(hex))
        .flatten()
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn sweep_removes_temps_whose_owner_is_gone_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let (live, dead) = (hash::hash_bytes(b"live"), hash::hash_bytes(b"dead"));
        let held = cache.lock(&live).unwrap();
        let live_file = cache
            .temp_file_for(&live)
            .unwrap()
            .into_temp_path()
            .keep()
            .unwrap();
        let live_dir = cache.temp_dir_for(&live).unwrap().keep();
        let dead_file = cache
            .temp_file_for(&dead)
            .unwrap()
            .into_temp_path()
            .keep()
            .unwrap();
        let dead_dir = cache.temp_dir_for(&dead).unwrap().keep();
        fs::create_dir(dead_dir.join("files")).unwrap();
        let grave = cache.tmp_dir().join("discard-abc-1-0");
        fs::write(&grave, b"x").unwrap();
        let partial = cache.tmp_dir().join(format!("{}.partial", dead.hex()));
        fs::write(&partial, b"x").unwrap();
        let fresh = cache.tmp_dir().join("meta-fresh");
        fs::write(&fresh, b"x").unwrap();
        assert_eq!(
            temp_owner(&dead_file.file_name().unwrap().to_string_lossy()),
            Some(dead)
        );
        assert_eq!(cache.sweep_temp(Duration::from_secs(3600)), (3, 3));
        assert!(
            live_file.exists() && live_dir.exists(),
            "a running install's"
        );
        assert!(!dead_file.exists() && !dead_dir.exists() && !grave.exists());
        assert!(partial.exists(), "resumable downloads go by age only");
        assert!(fresh.exists(), "no owner known: by age");
        drop(held);
        assert_eq!(cache.sweep_temp(Duration::from_secs(3600)), (2, 1));
        assert!(!live_file.exists() && !live_dir.exists());
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
}
