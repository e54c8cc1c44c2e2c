//! The one rule for every path postbin creates, opens or deletes under the
//! cache (docs/design-notes.md, "Threat model"). A cache is carried between
//! machines (a restored CI cache), shared, or made by someone else before
//! us (`/tmp/...` when there is no home directory); whatever it holds, an
//! install must touch nothing outside it. So:
//!
//! - the directories postbin owns (`v1/` and each of its subdirectories) are
//!   real directories of this user's: a symlink, file or FIFO in their place
//!   is removed (the name, never what it points to) and replaced; one owned
//!   by another user is refused (then `open_or_temp` uses a private temp
//!   cache); others lose write permission on it;
//! - the cache directory itself may be a symlink the user made, but one
//!   that anybody may write to and is not sticky is refused: anyone could
//!   swap `v1/` for a link;
//! - every file in the cache is opened without following a final symlink
//!   (`O_NOFOLLOW`; `FILE_FLAG_OPEN_REPARSE_POINT` on Windows), without
//!   blocking on a FIFO, and must then be a regular file; a file opened for
//!   writing must have no other hard link (it could be a link to a file
//!   outside the cache);
//! - nothing is deleted through a link (`remove_dir_all` removes a link
//!   itself, and `tmp/` is checked to be a real directory before a sweep).
//!
//! A leaf: it imports nothing of the crate's but the log macros, so the
//! settings (the fallback cache directory) and the cache both use it.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Makes `dir` a directory of this user's that nobody else can write to:
/// created if missing; a non-directory (a symlink included) at its place is
/// unlinked and replaced; a directory of another user's is refused.
pub fn own_dir(dir: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return create_private_dir(dir),
        Err(e) => return Err(e),
        Ok(meta) if meta.file_type().is_dir() => {
            return check_own_dir(&meta).and_then(|()| fix_mode(dir, &meta));
        }
        Ok(meta) => {
            crate::warn!(
                "{} in the postbin cache is a {} where a directory belongs; replacing it \
                 (what it points to is left alone)",
                dir.display(),
                kind(&meta)
            );
            unlink(dir, &meta)?;
        }
    }
    create_private_dir(dir)
}

/// Checks the cache directory the user chose (or the default): a symlink is
/// followed (the user may have made it), but a directory that anybody can
/// write to, without the sticky bit that stops them renaming our entries,
/// cannot hold a cache safely.
pub fn usable_root(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = match fs::metadata(dir) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        const WORLD_WRITABLE: u32 = 0o002;
        const STICKY: u32 = 0o1000;
        if meta.mode() & WORLD_WRITABLE != 0 && meta.mode() & STICKY == 0 {
            return Err(unsafe_dir(
                "any user can write to it and it has no sticky bit, so anyone could swap \
                 its contents for links to your files"
                    .into(),
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A private directory for a cache when the user has no home directory:
/// `<temp>/postbin-cache-<uid>`, used only if it is this user's own, mode
/// 0700, and a real directory; otherwise (another user made it first) a
/// fresh `mkdtemp` directory, which only costs the cache's reuse.
pub fn private_fallback_dir(temp: &Path) -> PathBuf {
    #[cfg(unix)]
    {
        let stable = temp.join(format!("postbin-cache-{}", effective_uid()));
        let ours = match fs::symlink_metadata(&stable) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => create_private_dir(&stable).is_ok(),
            Ok(meta) => meta.file_type().is_dir() && is_private(&meta),
            Err(_) => false,
        };
        if ours {
            return stable;
        }
        use std::os::unix::fs::PermissionsExt;
        tempfile::Builder::new()
            .prefix("postbin-cache-")
            .permissions(fs::Permissions::from_mode(0o700))
            .tempdir_in(temp)
            .map(tempfile::TempDir::keep)
            .unwrap_or(stable)
    }
    #[cfg(not(unix))]
    temp.join("postbin-cache")
}

/// How a cache file is opened.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Access {
    Read,
    /// Read and write, created if missing (a lock file, a kept partial).
    ReadWriteCreate,
    /// Appended to (the mtime bump of `touch`).
    Append,
}

/// Opens a file in the cache under the rule above. A symlink, FIFO,
/// directory or device at `path`, or, for writing, a file with other hard
/// links, is `ErrorKind::InvalidData` (see `is_refused`).
pub fn open(path: &Path, access: Access) -> io::Result<File> {
    let mut options = OpenOptions::new();
    match access {
        Access::Read => options.read(true),
        Access::ReadWriteCreate => options.read(true).write(true).create(true).truncate(false),
        Access::Append => options.append(true),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
        // writer forever. It changes nothing for a regular file.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        use windows_sys::Win32::Storage::FileSystem::{
            FILE_FLAG_OPEN_REPARSE_POINT, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
        };
        options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
        // As tempfile opens its files: a kept partial is renamed into the
        // cache while open, which needs FILE_SHARE_DELETE.
        options.share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE);
    }
    let file = options.open(path).map_err(|e| {
        if is_symlink_refusal(&e) {
            refused("a symlink")
        } else if e.kind() == io::ErrorKind::IsADirectory
            // Windows says "access denied" for a directory opened to write.
            || fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_dir())
        {
            refused("a directory")
        } else {
            e
        }
    })?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() || meta.file_type().is_symlink() {
        return Err(refused("not a regular file"));
    }
    if access != Access::Read && other_links(&meta) {
        return Err(refused("a file with other hard links"));
    }
    Ok(file)
}

/// Opens `path` for writing under the rule above; whatever stood there and
/// was refused (a link, a FIFO, a hard link to a file outside) is unlinked
/// first, once, so a poisoned name costs only its entry.
pub fn open_replacing(path: &Path, access: Access) -> io::Result<File> {
    match open(path, access) {
        Err(e) if is_refused(&e) => {
            crate::warn!(
                "{} in the postbin cache is {e}; replacing it (what it points to is left alone)",
                path.display()
            );
            remove_name(path)?;
            open(path, access)
        }
        other => other,
    }
}

/// Whether `open` refused what stands at the path (rather than failing to
/// open it).
pub fn is_refused(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Refused>())
}

/// What `open` found at a path instead of a file it may use.
#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Refused {}

pub fn refused(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Refused(what))
}

/// Reads a whole small cache file (a listing, a seal, a meta record) under
/// the rule above.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    let mut text = String::new();
    io::Read::read_to_string(&mut open(path, Access::Read)?, &mut text)?;
    Ok(text)
}

/// Whether `path` is a directory itself, not a link to one: `O_NOFOLLOW`
/// guards only a path's last component, so a directory inside the cache
/// that files are opened through is checked with this first.
pub fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_dir())
}

/// Removes the name at `path` without following it, whatever it is: a
/// directory tree (`remove_dir_all` does not follow links inside it), a
/// file, a link (to a file or, on Windows, to a directory).
pub fn remove_name(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    unlink(path, &meta)
}

fn unlink(path: &Path, meta: &fs::Metadata) -> io::Result<()> {
    if meta.file_type().is_dir() {
        return fs::remove_dir_all(path);
    }
    // A link to a directory is a directory entry on Windows.
    fs::remove_file(path).or_else(|e| {
        if cfg!(windows) && meta.file_type().is_symlink() {
            fs::remove_dir(path)
        } else {
            Err(e)
        }
    })
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    let builder = {
        use std::os::unix::fs::DirBuilderExt;
        let mut builder = fs::DirBuilder::new();
        builder.mode(0o700);
        builder
    };
    #[cfg(not(unix))]
    let builder = fs::DirBuilder::new();
    match builder.create(dir) {
        Ok(()) => Ok(()),
        // Another install made it a moment ago: check what is there now.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match fs::symlink_metadata(dir) {
            Ok(meta) if meta.file_type().is_dir() => {
                check_own_dir(&meta).and_then(|()| fix_mode(dir, &meta))
            }
            _ => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// An existing directory of the cache's: this user's, or refused; write
/// permission for group and others is taken away (nobody but the user
/// writes a cache's inner directories).
fn check_own_dir(meta: &fs::Metadata) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = effective_uid();
        if meta.uid() != me {
            return Err(unsafe_dir(format!(
                "it belongs to user {}, not to you (user {me})",
                meta.uid()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}

fn fix_mode(dir: &Path, meta: &fs::Metadata) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if meta.mode() & 0o022 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(meta.mode() & 0o7755))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, meta);
    Ok(())
}

/// The error for a directory the cache must not use; `is_unsafe` tells it.
#[cfg(unix)]
fn unsafe_dir(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, UnsafeDir(why))
}

/// Whether `e` says a directory is not safe to use (not merely unwritable).
pub fn is_unsafe(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<UnsafeDir>())
}

#[derive(Debug)]
struct UnsafeDir(String);

impl std::fmt::Display for UnsafeDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnsafeDir {}

#[cfg(unix)]
fn is_private(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.uid() == effective_uid() && meta.mode() & 0o077 == 0
}

#[cfg(unix)]
fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(unix)]
fn other_links(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.nlink() > 1
}

/// Windows' link count needs an unstable API; a hard link there can only
/// be made by someone who can already write the target.
#[cfg(not(unix))]
fn other_links(_: &fs::Metadata) -> bool {
    false
}

/// ELOOP (`O_NOFOLLOW` met a symlink; EMLINK on FreeBSD); on Windows a
/// reparse point opened as such is caught by the metadata check instead.
fn is_symlink_refusal(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::EMLINK))
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

fn kind(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_symlink() {
        "symlink"
    } else if t.is_file() {
        "file"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlinked_subdirectory_is_replaced_and_its_target_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("home");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join(".bashrc"), b"mine").unwrap();
        let sub = dir.path().join("tmp");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, &sub).unwrap();
        #[cfg(windows)]
        std::os::windows::fs::symlink_dir(&outside, &sub).unwrap();
        own_dir(&sub).unwrap();
        assert!(fs::symlink_metadata(&sub).unwrap().is_dir());
        assert_eq!(fs::read(outside.join(".bashrc")).unwrap(), b"mine");
    }

    #[cfg(unix)]
    #[test]
    fn files_are_opened_only_when_regular_and_written_only_when_unshared() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::write(&outside, b"mine").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert!(is_refused(
            &open(&link, Access::ReadWriteCreate).unwrap_err()
        ));
        let hard = dir.path().join("hard");
        fs::hard_link(&outside, &hard).unwrap();
        assert!(open(&hard, Access::Read).is_ok(), "reading is harmless");
        assert!(is_refused(&open(&hard, Access::Append).unwrap_err()));
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(is_refused(&open(&fifo, Access::Read).unwrap_err()));

        for name in [&link, &hard, &fifo] {
            let mut f = open_replacing(name, Access::ReadWriteCreate).unwrap();
            io::Write::write_all(&mut f, b"cache bytes").unwrap();
        }
        assert_eq!(fs::read(&outside).unwrap(), b"mine");
    }

    #[cfg(unix)]
    #[test]
    fn the_no_home_fallback_is_private_and_never_another_users() {
        use std::os::unix::fs::PermissionsExt;
        let temp = tempfile::tempdir().unwrap();
        let first = private_fallback_dir(temp.path());
        assert_eq!(
            fs::metadata(&first).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(private_fallback_dir(temp.path()), first, "reused");
        // Someone opened it up (or made it, 0777, before us): not reused.
        fs::set_permissions(&first, fs::Permissions::from_mode(0o777)).unwrap();
        let second = private_fallback_dir(temp.path());
        assert_ne!(second, first);
        assert_eq!(
            fs::metadata(&second).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}
