//! Places the declared executables inside the package, at
//! `<package>/.postbin/bin/<name>[.exe]`, each a private copy of the verified
//! cache file (so a change to one can never corrupt the other), written to a
//! temp file and renamed, mode 755. A receipt, written last, records what was
//! placed; it is the marker that placement completed.
//!
//! On Windows a running executable can be neither replaced nor deleted, but
//! it can be renamed: an executable in use is moved aside
//! (`.postbin-old-*` beside it) so that the new one can take its place, and
//! later runs delete what was set aside once it no longer runs.

mod precopy;

pub use precopy::Precopies;

use crate::cache::Tree;
use crate::fs_retry;
use crate::hash::{self, Sha256Hash};
use crate::io_error::{PathIo, from_io_variant, io_err};
use crate::plan::Plan;
use crate::safe_fs;
use serde_json::{Value, json};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub const INSTALL_DIR: &str = ".postbin";

#[derive(Debug)]
pub enum Error {
    Io(PathIo),
    /// A cached file did not match its recorded hash while being copied.
    CorruptCache {
        path: PathBuf,
    },
    /// A cached file was removed (`postbin cache clean` from another shell)
    /// before it could be copied.
    GoneFromCache {
        path: PathBuf,
    },
}

from_io_variant!(Error);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(PathIo { op, path, source }) if fs_retry::is_busy(source) => write!(
                f,
                "cannot {op} {} inside the package: {}; close that program, or wait a moment, \
                 and run the install again",
                path.display(),
                fs_retry::HELD_OPEN
            ),
            Error::Io(PathIo { op, path, .. }) => write!(
                f,
                "cannot {op} {} inside the package (a read-only node_modules? the launcher runs the tool from the cache then)",
                path.display()
            ),
            Error::CorruptCache { path } => write!(
                f,
                "the cached file {} does not match its recorded SHA-256",
                path.display()
            ),
            Error::GoneFromCache { path } => write!(
                f,
                "the cached file {} was removed while it was being installed",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(PathIo { source, .. }) => Some(source),
            Error::CorruptCache { .. } | Error::GoneFromCache { .. } => None,
        }
    }
}

/// Where command `file_name` lives once installed.
fn bin_dir(package_dir: &Path) -> PathBuf {
    package_dir.join(INSTALL_DIR).join("bin")
}

/// A temp file in `dir`, named so that `sweep_stale_temps` knows it.
fn temp_beside(dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    temp_named(dir, ".postbin-")
}

/// `prefix` must start with `.postbin-`.
fn temp_named(dir: &Path, prefix: &str) -> io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new().prefix(prefix).tempfile_in(dir)
}

/// Mode 755 (the umask does not apply: a tool must run for every user who
/// can read node_modules).
fn make_executable(file: &fs::File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o755))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}

pub fn installed_path(package_dir: &Path, file_name: &str) -> PathBuf {
    bin_dir(package_dir).join(file_name)
}

fn receipt_path(package_dir: &Path) -> PathBuf {
    package_dir.join(INSTALL_DIR).join("receipt.json")
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlacedBin {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: Sha256Hash,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Receipt {
    pub target: String,
    pub archive: Sha256Hash,
    pub bins: Vec<PlacedBin>,
}

/// Whether a tree's files are re-hashed as they are copied out of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Source {
    /// Made (and hashed) by this run a moment ago.
    Fresh,
    /// A cache hit not verified yet: every copy is checked against the
    /// tree's listing, and `Error::CorruptCache` stops the placement.
    Cached,
}

/// Copies each declared executable from the tree into the package, or,
/// for a tree this run made, puts in place the copy written while it
/// unpacked (`Precopies`).
pub fn place(
    plan: &Plan,
    tree: &Tree,
    source: Source,
    mut precopies: Precopies,
) -> Result<Receipt, Error> {
    let bin_dir = bin_dir(&plan.package_dir);
    fs::create_dir_all(&bin_dir).map_err(io_err("create", &bin_dir))?;
    sweep_stale_temps(&bin_dir);
    let mut bins = Vec::new();
    for bin in &plan.bins {
        let record = &tree.listing[&bin.archive_path];
        let dest = installed_path(&plan.package_dir, &bin.file_name);
        let precopied = source == Source::Fresh && precopies.put(&bin.archive_path, &dest)?;
        if !precopied {
            let check = (source == Source::Cached).then_some((record.size, record.sha256));
            let src = tree.path_of(&bin.archive_path);
            let source = tree
                .open_file(&bin.archive_path)
                .map_err(|e| open_error(&src, e))?;
            replace_with_checked_copy(source, &src, &dest, check)?;
        }
        bins.push(PlacedBin {
            name: bin.name.clone(),
            path: dest,
            size: record.size,
            sha256: record.sha256,
        });
    }
    let receipt = Receipt {
        target: plan.target.clone(),
        archive: tree.archive,
        bins,
    };
    write_receipt(&plan.package_dir, &receipt)?;
    Ok(receipt)
}

/// Sweeps the package's executable directory (see `sweep_stale_temps`)
/// without placing anything: for an install that finds the package current.
pub fn sweep_set_aside(package_dir: &Path) {
    sweep_stale_temps(&bin_dir(package_dir));
}

/// Prefix of an executable set aside because it was running (Windows).
const SET_ASIDE_PREFIX: &str = ".postbin-old-";

/// Temp files of a placement that was killed midway are never mistaken for
/// an executable (they are not at its path and the receipt does not name
/// them), but they take disk space: remove those old enough that no running
/// install can still own them. Executables set aside are removed whatever
/// their age: no install uses them. Each removal is tried once (no retry):
/// one that is still running cannot be deleted yet and waits for a later run.
fn sweep_stale_temps(dir: &Path) {
    const STALE: std::time::Duration = std::time::Duration::from_secs(3600);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with(".postbin-") {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE));
        if old || name.starts_with(SET_ASIDE_PREFIX) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Atomically replaces `dest` with an executable copy of `src`: copy to a
/// temp file beside it, chmod 755, rename. Never writes `dest` in place
/// (bun and pnpm hard-link package files from their stores).
fn replace_with_copy(src: &Path, dest: &Path) -> Result<(), Error> {
    let source = fs::File::open(src).map_err(|e| open_error(src, e))?;
    replace_with_checked_copy(source, src, dest, None)
}

/// A source that is gone (a cache entry removed meanwhile) or refused as no
/// file of the cache's own (`safe_fs`) says so; anything else is I/O.
fn open_error(src: &Path, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::NotFound {
        Error::GoneFromCache {
            path: src.to_path_buf(),
        }
    } else if safe_fs::is_refused(&e) {
        Error::CorruptCache {
            path: src.to_path_buf(),
        }
    } else {
        io_err("open", src)(e)
    }
}

/// `replace_with_copy`, and with `check` = (size, SHA-256) the copy is
/// kept only if it matches. The copy itself is hashed (through the handle
/// it was written with), not the source: what is checked is exactly what
/// is placed, whatever replaces the cached file meanwhile. The kernel copies
/// (copy_file_range, a reflink on btrfs/XFS); the hash then reads pages
/// the copy just brought into memory.
fn replace_with_checked_copy(
    mut source: fs::File,
    src: &Path,
    dest: &Path,
    check: Option<(u64, Sha256Hash)>,
) -> Result<(), Error> {
    let dir = dest.parent().expect("dest has a parent");
    let mut temp = temp_beside(dir).map_err(io_err("create a temp file in", dir))?;
    // Into the open temp file, not `fs::copy(src, temp path)`: that
    // reopens it with O_TRUNC, and ext4 then flushes the whole file to
    // disk on close (its replace-via-truncate heuristic): 100 ms for
    // 100 MiB. io::copy between files is copy_file_range on Linux.
    let copied =
        io::copy(&mut source, temp.as_file_mut()).map_err(io_err("copy into", temp.path()))?;
    if let Some((size, sha)) = check {
        let copy = temp.as_file_mut();
        let (actual, len) = io::Seek::rewind(copy)
            .and_then(|()| hash::hash_reader(copy))
            .map_err(io_err("read", temp.path()))?;
        if actual != sha || len != size || copied != size {
            return Err(Error::CorruptCache {
                path: src.to_path_buf(),
            });
        }
    }
    make_executable(temp.as_file()).map_err(io_err("chmod", temp.path()))?;
    // The write handle is closed here, before the rename: on Linux, exec of
    // a file that any process holds open for writing fails with ETXTBSY, and
    // a launcher may exec `dest` the moment it appears (eight first runs at
    // once each install, and each execs what the others place). Nothing to
    // flush (a `File` has no user-space buffer). No fsync either: this copy
    // is reproducible from the verified cache, every re-install re-hashes it
    // against the receipt and replaces it if a crash left it short, and an
    // fsync would cost a 100 MiB install ~100 ms of disk flush. The descriptor
    // is O_CLOEXEC (Rust opens every file so), so a process forked meanwhile
    // drops it at its exec and cannot keep the file busy afterwards.
    let temp = temp.into_temp_path();
    put_in_place(temp, dest).map_err(io_err("replace", dest))
}

/// Renames `temp` onto `dest`, retrying while the file is briefly in use
/// (`fs_retry`). When `dest` itself stays busy (on Windows: the executable
/// is running), it is renamed aside first; the set-aside file is deleted
/// at once if that works, else by a later run's sweep. A `TempPath`, not a
/// `NamedTempFile`: no handle to the file can be open at the rename.
fn put_in_place(temp: tempfile::TempPath, dest: &Path) -> io::Result<()> {
    let dir = dest.parent().expect("dest has a parent");
    let mut slot = Some(temp);
    let mut replace = || {
        let temp = slot.take().expect("put back after every failure");
        match temp.persist(dest) {
            Ok(()) => {
                #[cfg(test)]
                tests::after_rename(dest);
                Ok(())
            }
            Err(e) => {
                slot = Some(e.path);
                Err(e.error)
            }
        }
    };
    let rename = |from: &Path, to: &Path| fs::rename(from, to);
    let aside = fs_retry::retry(|| {
        let aside = set_aside_path(dir);
        replace_once(&mut replace, &rename, &fs_retry::is_busy, dest, &aside)
            .map(|moved| moved.then_some(aside))
    })?;
    if let Some(aside) = aside {
        let _ = fs::remove_file(aside);
    }
    Ok(())
}

/// One attempt at replacing `dest` by what `replace` renames onto it. If
/// `busy` says `dest` is in use, `dest` is renamed to `aside` and `replace`
/// tried again; should that fail too, the old file is put back, so the
/// package keeps a working command. Returns whether `aside` now holds the
/// old file. A busy error while `dest` does not exist is the temp file
/// being held: it is returned for the caller's retry.
fn replace_once(
    replace: &mut dyn FnMut() -> io::Result<()>,
    rename: &dyn Fn(&Path, &Path) -> io::Result<()>,
    busy: &dyn Fn(&io::Error) -> bool,
    dest: &Path,
    aside: &Path,
) -> io::Result<bool> {
    match replace() {
        Ok(()) => return Ok(false),
        Err(e) if !busy(&e) || fs::symlink_metadata(dest).is_err() => return Err(e),
        Err(_) => {}
    }
    rename(dest, aside)?;
    match replace() {
        Ok(()) => Ok(true),
        Err(e) => {
            let _ = rename(aside, dest);
            Err(e)
        }
    }
}

/// A fresh name beside the executables for one that is set aside.
fn set_aside_path(dir: &Path) -> PathBuf {
    use std::hash::{BuildHasher, Hasher};
    // RandomState's keys are random (per thread, then stepped per use); the
    // counter and the process id are mixed in for good measure.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    dir.join(format!("{SET_ASIDE_PREFIX}{:016x}", hasher.finish()))
}

fn write_receipt(package_dir: &Path, receipt: &Receipt) -> Result<(), Error> {
    let bins: Vec<Value> = receipt
        .bins
        .iter()
        .map(|b| {
            json!({
                "name": b.name,
                "path": b.path.strip_prefix(package_dir).unwrap_or(&b.path).to_string_lossy(),
                "size": b.size,
                "sha256": b.sha256.hex(),
            })
        })
        .collect();
    let text = json!({"target": receipt.target, "archive": receipt.archive.hex(), "bins": bins})
        .to_string();
    let path = receipt_path(package_dir);
    let dir = path.parent().expect("receipt has a parent");
    fs_retry::write_atomically(&path, dir, text.as_bytes()).map_err(io_err("write", &path))
}

/// The receipt, if a complete placement exists. Paths are made absolute
/// from `package_dir` (packages move: pnpm renames staging dirs).
pub fn read_receipt(package_dir: &Path) -> Option<Receipt> {
    let text = fs::read_to_string(receipt_path(package_dir)).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let mut bins = Vec::new();
    for b in v.get("bins")?.as_array()? {
        bins.push(PlacedBin {
            name: b.get("name")?.as_str()?.to_string(),
            path: package_dir.join(b.get("path")?.as_str()?),
            size: b.get("size")?.as_u64()?,
            sha256: Sha256Hash::parse(b.get("sha256")?.as_str()?)?,
        });
    }
    Some(Receipt {
        target: v.get("target")?.as_str()?.to_string(),
        archive: Sha256Hash::parse(v.get("archive")?.as_str()?)?,
        bins,
    })
}

/// True if the package already holds exactly this plan's executables,
/// re-hashed now (a hit is verified, not trusted).
pub fn is_current(plan: &Plan, archive: &Sha256Hash) -> bool {
    let Some(receipt) = read_receipt(&plan.package_dir) else {
        return false;
    };
    if receipt.target != plan.target
        || receipt.archive != *archive
        || receipt.bins.len() != plan.bins.len()
    {
        return false;
    }
    receipt.bins.iter().all(|b| {
        plan.bins.iter().any(|p| p.name == b.name)
            && fs::metadata(&b.path).is_ok_and(|m| m.len() == b.size)
            && hash::hash_file(&b.path).is_ok_and(|(h, _)| h == b.sha256)
    })
}

/// Whether `package_dir` is an installed package: a `node_modules`
/// directory is among its ancestors once symlinks are resolved (npm, yarn,
/// bun, `npm -g`, npx's `_npx/<hash>/node_modules`, pnpm's
/// `node_modules/.pnpm/...`), or it is unplugged by yarn PnP
/// (`.yarn/unplugged/...`). A checkout (the publisher's own repository, a
/// workspace member, an `npm link`ed or `file:` directory, which package
/// managers reach through a symlink) is not: postbin writes nothing there.
pub fn inside_node_modules(package_dir: &Path) -> bool {
    let real = fs::canonicalize(package_dir).unwrap_or_else(|_| package_dir.to_path_buf());
    let names: Vec<String> = real
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
        .collect();
    names.iter().any(|n| n == "node_modules")
        || names
            .windows(2)
            .any(|w| w[0] == ".yarn" && w[1] == "unplugged")
}

/// The marker every launcher written by `postbin init` carries; only such a
/// file is ever replaced, never a publisher's own script.
pub const LAUNCHER_MARKER: &str = "postbin-launcher";

/// Why the speed path is off, or `None` when the launcher may be replaced by
/// the native executable. From docs/package-managers.md: npm, yarn (1 and berry)
/// and bun link `.bin` by symlink, pnpm links local installs after the build
/// from the file itself; a pnpm global shim keeps `exec node <file>` and
/// Windows' cmd-shim reads the shebang at link time, so those keep the launcher.
pub fn speed_path_blocker(env: &dyn Fn(&str) -> Option<String>) -> Option<&'static str> {
    use crate::env_vars as ev;
    if cfg!(windows) {
        return Some("Windows shims need the JS launcher");
    }
    if env(ev::POSTBIN_SPEED_PATH).is_some_and(|v| !ev::is_truthy(&v)) {
        return Some("POSTBIN_SPEED_PATH turns it off");
    }
    if !matches!(
        env(ev::NPM_LIFECYCLE_EVENT).as_deref(),
        Some("postinstall" | "install")
    ) {
        return Some("not running as an install script");
    }
    let agent = env(ev::NPM_CONFIG_USER_AGENT).unwrap_or_default();
    let manager = agent.split('/').next().unwrap_or("");
    let global = env(ev::NPM_CONFIG_GLOBAL).is_some_and(|v| ev::is_truthy(&v));
    match manager {
        "pnpm" if global => Some("a pnpm global shim runs its target with node"),
        "npm" | "pnpm" | "yarn" | "bun" => None,
        _ => Some("unknown package manager"),
    }
}

/// The launchers (package.json `bin` path, placed executable) that an
/// earlier speed path replaced by the executable: a hard link to the placed
/// file, or a file whose size and SHA-256 are the receipt's for it (a copy,
/// or a link that a `COPY`, `cp -r` or tarball of node_modules turned into
/// one). Called before a placement, which gives the placed path a new file;
/// such launchers are exposed again afterwards (`expose_native`), so that a
/// package moved from another platform, whose `.bin` entry is then a foreign
/// executable, is repaired by `postbin install` (`npm rebuild <tool>`).
/// Returns absolute launcher paths.
pub fn previously_exposed(
    package_dir: &Path,
    launchers: &[(PathBuf, PathBuf)],
    receipt: Option<&Receipt>,
) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for (launcher, native) in launchers {
        let launcher = package_dir.join(launcher);
        let Ok(meta) = fs::metadata(&launcher) else {
            continue;
        };
        if !meta.is_file() || is_our_launcher(&launcher) {
            continue;
        }
        let linked = fs::metadata(native).is_ok_and(|n| same_file(&meta, &n));
        let copied = || {
            receipt
                .and_then(|r| r.bins.iter().find(|b| b.path == *native))
                .is_some_and(|b| {
                    meta.len() == b.size
                        && hash::hash_file(&launcher).is_ok_and(|(h, _)| h == b.sha256)
                })
        };
        if linked || copied() {
            found.push(launcher);
        }
    }
    found
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    false // the speed path never runs on Windows
}

/// Replaces each launcher (package.json `bin` path) that `postbin init`
/// wrote, or that `previous` (from `previously_exposed`) names, with the
/// placed executable. A launcher that already is the placed file is left
/// alone. Returns the replaced paths.
pub fn expose_native(
    package_dir: &Path,
    launchers: &[(PathBuf, PathBuf)],
    previous: &[PathBuf],
) -> Result<Vec<PathBuf>, Error> {
    let mut replaced = Vec::new();
    for (launcher, native) in launchers {
        let launcher = package_dir.join(launcher);
        if !previous.contains(&launcher) && !is_our_launcher(&launcher) {
            continue;
        }
        let current = match (fs::metadata(&launcher), fs::metadata(native)) {
            (Ok(l), Ok(n)) => same_file(&l, &n),
            _ => false,
        };
        if current {
            continue;
        }
        replace_with_link_or_copy(native, &launcher)?;
        replaced.push(launcher);
    }
    Ok(replaced)
}

/// Replaces `dest` (a launcher) by a hard link to `src` (the executable
/// placed in the same package), or by a copy where links are not possible.
/// Both files are the package's own and never written in place, so sharing
/// the inode is safe and saves copying the executable a second time.
fn replace_with_link_or_copy(src: &Path, dest: &Path) -> Result<(), Error> {
    let dir = dest.parent().expect("dest has a parent");
    // `make_in` opens nothing: the temp name is only a link, never a handle.
    let temp = tempfile::Builder::new()
        .prefix(".postbin-")
        .make_in(dir, |path| fs::hard_link(src, path));
    match temp {
        Ok(temp) => put_in_place(temp.into_temp_path(), dest).map_err(io_err("replace", dest)),
        Err(e) => {
            crate::debug!("cannot hard-link {}: {e}; copying", src.display());
            replace_with_copy(src, dest)
        }
    }
}

pub fn is_our_launcher(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 512];
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    let n = f.read(&mut head).unwrap_or(0);
    head[..n].starts_with(b"#!") && String::from_utf8_lossy(&head[..n]).contains(LAUNCHER_MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    type Hook = Box<dyn Fn(&Path)>;

    thread_local! {
        /// Run by `put_in_place` right after its rename succeeded, before it
        /// returns: what a concurrent launcher sees the moment the file appears.
        static AFTER_RENAME: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }

    pub(super) fn after_rename(dest: &Path) {
        AFTER_RENAME.with(|hook| {
            if let Some(hook) = &*hook.borrow() {
                hook(dest);
            }
        });
    }

    /// The descriptors of this process open for writing on `path`'s inode.
    #[cfg(target_os = "linux")]
    fn write_handles_on(path: &Path) -> Vec<String> {
        use std::os::unix::fs::MetadataExt;
        let target = fs::metadata(path).unwrap();
        let mut found = Vec::new();
        for entry in fs::read_dir("/proc/self/fd").unwrap().flatten() {
            let Ok(meta) = fs::metadata(entry.path()) else {
                continue;
            };
            if meta.dev() != target.dev() || meta.ino() != target.ino() {
                continue;
            }
            let fd = entry.file_name().to_string_lossy().into_owned();
            let info = fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap_or_default();
            let flags = info
                .lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
                .unwrap_or(0);
            if flags & 0o3 != 0 {
                found.push(format!("fd {fd} flags {flags:o}"));
            }
        }
        found
    }

    /// The ETXTBSY of eight concurrent first runs: a file renamed into place
    /// while its write handle was still open could not be exec'd until that
    /// handle closed. At the moment of the rename, nothing may hold it open
    /// for writing, and exec must work: checked inside the placement itself
    /// (deterministic, unlike racing processes), for the copy and for the
    /// speed path's hard link.
    #[cfg(target_os = "linux")]
    #[test]
    fn nothing_holds_the_file_open_for_writing_when_it_appears() {
        use std::sync::{Arc, Mutex};
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::write(&src, b"#!/bin/sh\nexit 0\n").unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let record = Arc::clone(&seen);
        AFTER_RENAME.with(|hook| {
            *hook.borrow_mut() = Some(Box::new(move |dest: &Path| {
                let mut seen = record.lock().unwrap();
                for handle in write_handles_on(dest) {
                    seen.push(format!("{}: {handle}", dest.display()));
                }
                if let Err(e) = std::process::Command::new(dest).status() {
                    seen.push(format!("exec {}: {e}", dest.display()));
                }
            }))
        });
        let placed = bin.join("tool");
        replace_with_copy(&src, &placed).unwrap();
        let launcher = bin.join("launcher");
        fs::write(
            &launcher,
            format!("#!/usr/bin/env node\n// {LAUNCHER_MARKER}\n"),
        )
        .unwrap();
        replace_with_link_or_copy(&placed, &launcher).unwrap();
        AFTER_RENAME.with(|hook| hook.borrow_mut().take());
        let seen = seen.lock().unwrap();
        assert!(seen.is_empty(), "busy at the rename: {seen:#?}");
        assert_eq!(fs::read(&launcher).unwrap(), b"#!/bin/sh\nexit 0\n");
    }

    /// A placement's temp file is opened with O_CLOEXEC (Rust's default), so
    /// a process forked while it is open does not keep it past its exec.
    #[cfg(target_os = "linux")]
    #[test]
    fn temp_files_are_close_on_exec() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let temp = tempfile::Builder::new()
            .prefix(".postbin-")
            .tempfile_in(dir.path())
            .unwrap();
        let fd = temp.as_file().as_raw_fd();
        let info = fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
        let flags = info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
            .unwrap();
        const O_CLOEXEC: u32 = 0o2000000;
        assert_ne!(flags & O_CLOEXEC, 0, "flags {flags:o}");
    }

    #[test]
    fn sweeps_old_temp_files_and_any_set_aside_executable() {
        let dir = tempfile::tempdir().unwrap();
        let path = |n: &str| dir.path().join(n);
        let names = [
            ".postbin-killed",
            ".postbin-running",
            ".postbin-old-0123456789abcdef",
            "hello",
        ];
        for name in names {
            fs::write(path(name), b"x").unwrap();
        }
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for name in [".postbin-killed", "hello"] {
            fs::File::options()
                .write(true)
                .open(path(name))
                .unwrap()
                .set_modified(long_ago)
                .unwrap();
        }
        sweep_stale_temps(dir.path());
        assert!(
            !path(".postbin-killed").exists(),
            "a killed placement's temp file is removed"
        );
        assert!(
            path(".postbin-running").exists(),
            "a running placement's temp file is kept"
        );
        assert!(
            !path(".postbin-old-0123456789abcdef").exists(),
            "an executable set aside is removed, however recent"
        );
        assert!(path("hello").exists(), "only temp files are touched");
    }

    /// A package dir with `dest` (the old executable, "running") and a temp
    /// file holding the new one; `replace` moves the temp file onto `dest`
    /// but fails like Windows (access denied) while the old one is there.
    struct Running {
        dir: tempfile::TempDir,
        dest: PathBuf,
        temp: PathBuf,
        aside: PathBuf,
    }

    impl Running {
        fn new() -> Running {
            let dir = tempfile::tempdir().unwrap();
            let dest = dir.path().join("tool.exe");
            let temp = dir.path().join(".postbin-new");
            let aside = dir.path().join(".postbin-old-1");
            fs::write(&dest, b"old").unwrap();
            fs::write(&temp, b"new").unwrap();
            Running {
                dir,
                dest,
                temp,
                aside,
            }
        }

        fn replace(&self, can_replace_new: bool) -> impl FnMut() -> io::Result<()> + '_ {
            move || {
                let running = fs::read(&self.dest).is_ok_and(|b| b == b"old");
                if running || !can_replace_new {
                    return Err(io::Error::from_raw_os_error(5));
                }
                fs::rename(&self.temp, &self.dest)
            }
        }

        fn attempt(&self, can_replace_new: bool) -> io::Result<bool> {
            let rename = |a: &Path, b: &Path| fs::rename(a, b);
            replace_once(
                &mut self.replace(can_replace_new),
                &rename,
                &fs_retry::is_busy_on_windows,
                &self.dest,
                &self.aside,
            )
        }
    }

    #[test]
    fn a_running_executable_is_set_aside_and_replaced() {
        let r = Running::new();
        assert!(r.attempt(true).unwrap(), "the old file was set aside");
        assert_eq!(fs::read(&r.dest).unwrap(), b"new");
        assert_eq!(fs::read(&r.aside).unwrap(), b"old");
        sweep_stale_temps(r.dir.path());
        assert!(!r.aside.exists(), "the next run sweeps it");
    }

    #[test]
    fn when_the_new_file_cannot_be_placed_the_old_one_is_put_back() {
        let r = Running::new();
        let e = r.attempt(false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(5));
        assert_eq!(fs::read(&r.dest).unwrap(), b"old");
        assert!(!r.aside.exists());
    }

    #[test]
    fn a_busy_temp_file_without_destination_is_left_to_the_retry() {
        let r = Running::new();
        fs::remove_file(&r.dest).unwrap();
        let e = r.attempt(false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(5));
        assert!(!r.aside.exists() && r.temp.exists());
    }

    #[test]
    fn other_failures_never_set_anything_aside() {
        let r = Running::new();
        let rename = |a: &Path, b: &Path| fs::rename(a, b);
        let mut fail = || Err(io::Error::from(io::ErrorKind::PermissionDenied));
        let result = replace_once(
            &mut fail,
            &rename,
            &fs_retry::is_busy_on_windows,
            &r.dest,
            &r.aside,
        );
        assert!(result.is_err());
        assert_eq!(fs::read(&r.dest).unwrap(), b"old");
        assert!(!r.aside.exists());
    }

    #[test]
    fn placing_replaces_an_existing_file_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::write(&src, b"v2").unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        let dest = bin.join("tool");
        fs::write(&dest, b"v1").unwrap();
        replace_with_copy(&src, &dest).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"v2");
        assert_eq!(fs::read_dir(&bin).unwrap().count(), 1);
        let names: std::collections::HashSet<_> = (0..64).map(|_| set_aside_path(&bin)).collect();
        assert_eq!(names.len(), 64, "set-aside names do not repeat");
    }

    fn blocker(vars: &[(&str, &str)]) -> Option<&'static str> {
        speed_path_blocker(&|n: &str| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn speed_path_rules() {
        let post = ("npm_lifecycle_event", "postinstall");
        if cfg!(windows) {
            let npm = ("npm_config_user_agent", "npm/11");
            assert!(blocker(&[post, npm]).is_some(), "never on Windows");
            return;
        }
        for agent in [
            "npm/11.1 node/v20",
            "yarn/1.22.22 npm/? node/v20",
            "yarn/4.18.1",
            "bun/1.4.5",
            "pnpm/10.3.0 npm/? node/v20",
        ] {
            assert_eq!(
                blocker(&[post, ("npm_config_user_agent", agent)]),
                None,
                "{agent}"
            );
        }
        assert!(
            blocker(&[
                post,
                ("npm_config_user_agent", "pnpm/10"),
                ("npm_config_global", "true")
            ])
            .is_some()
        );
        assert_eq!(
            blocker(&[
                post,
                ("npm_config_user_agent", "npm/11"),
                ("npm_config_global", "true")
            ]),
            None
        );
        assert!(blocker(&[("npm_config_user_agent", "npm/11")]).is_some());
        assert!(blocker(&[post]).is_some());
        assert!(
            blocker(&[
                post,
                ("npm_config_user_agent", "npm/11"),
                ("POSTBIN_SPEED_PATH", "0")
            ])
            .is_some()
        );
    }

    #[test]
    fn installed_packages_are_inside_node_modules() {
        for (dir, inside) in [
            ("/p/node_modules/hello-tool", true),
            (
                "/p/node_modules/.pnpm/hello-tool@1.0.0/node_modules/hello-tool",
                true,
            ),
            ("/home/u/.npm/_npx/1a2b/node_modules/hello-tool", true),
            ("/usr/lib/node_modules/hello-tool", true),
            (
                "/p/.yarn/unplugged/hello-tool-npm-1.0.0-abc/hello-tool",
                true,
            ),
            ("/p/Node_Modules/x", true),
            ("/home/u/src/hello-tool", false),
            ("/home/u/src/node_modules_old/hello-tool", false),
            ("/home/u/.yarn/hello-tool", false),
        ] {
            assert_eq!(inside_node_modules(Path::new(dir)), inside, "{dir}");
        }
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("checkout");
        fs::create_dir_all(&real).unwrap();
        let nm = dir.path().join("project/node_modules");
        fs::create_dir_all(&nm).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&real, nm.join("tool")).unwrap();
            assert!(
                !inside_node_modules(&nm.join("tool")),
                "a linked checkout is judged by where it really is"
            );
        }
    }

    #[test]
    fn only_marked_launchers_are_ours() {
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join("a");
        fs::write(
            &ours,
            format!("#!/usr/bin/env node\n// {LAUNCHER_MARKER}\n"),
        )
        .unwrap();
        let theirs = dir.path().join("b");
        fs::write(&theirs, "#!/usr/bin/env node\nconsole.log(1)\n").unwrap();
        assert!(is_our_launcher(&ours));
        assert!(!is_our_launcher(&theirs));
        assert!(!is_our_launcher(&dir.path().join("missing")));
    }
}
