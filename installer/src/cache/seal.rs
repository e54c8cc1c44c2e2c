//! The tree seal: what makes an unpacked tree trusted.
//!
//! A tree (`v1/trees/<sha>/`) is only as good as its `listing.json`: a cache
//! hit re-hashes the executables it uses against the listing, so whoever can
//! rewrite the listing can make a hit of any bytes. The seal binds the
//! listing to the archive it was unpacked from:
//!
//! ```text
//! seal = HMAC-SHA256(key, "postbin tree seal v1\n" || <archive sha256 hex> || "\n" || listing.json bytes)
//! ```
//!
//! stored as 64 hex digits in `v1/trees/<sha>/seal`. The key is 32 random
//! bytes per user, kept outside the cache (`key_path`), so a tree that was
//! not made by this user's postbin from an archive that hashed to `<sha>`
//! (a tampered tree, one copied from another cache, one carried from another
//! machine or made before seals existed) fails the check and is rebuilt from
//! its archive, or counts as a miss.
//!
//! The key file is created once, atomically: written to a temp file in the
//! same directory (`create_new`, 0600), then hard-linked to its name, which
//! fails if the name exists; every process then reads the name, so
//! concurrent first runs all use the one key that won. Where no key can be
//! created or read (a read-only home), trees are never trusted.

use crate::env_vars;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The seal's file name inside a tree directory.
pub const SEAL_FILE: &str = "seal";

const DOMAIN: &[u8] = b"postbin tree seal v1\n";

/// The per-user secret that seals trees.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    #[cfg(test)]
    pub fn from_bytes(bytes: [u8; 32]) -> Key {
        Key(bytes)
    }

    /// The seal of a tree of `archive` whose listing.json is `listing`, as hex.
    pub fn seal(&self, archive_hex: &str, listing: &[u8]) -> String {
        hex(&hmac_sha256(
            &self.0,
            &[DOMAIN, archive_hex.as_bytes(), b"\n", listing],
        ))
    }

    /// Whether `seal` (the seal file's text) is this key's seal of the
    /// listing. Compared in constant time.
    pub fn verifies(&self, archive_hex: &str, listing: &[u8], seal: &str) -> bool {
        let want = self.seal(archive_hex, listing);
        let got = seal.trim().as_bytes();
        got.len() == want.len()
            && got
                .iter()
                .zip(want.as_bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Where this user's key is: `POSTBIN_CACHE_KEY_FILE`, else `postbin/cache-key`
/// in the user's config directory (`$XDG_CONFIG_HOME` or `~/.config` on
/// Linux, `~/Library/Application Support` on macOS, `%APPDATA%` on Windows:
/// never inside the default cache directory).
pub fn key_path() -> Option<PathBuf> {
    if let Some(path) = env_vars::get(env_vars::POSTBIN_CACHE_KEY_FILE) {
        return Some(PathBuf::from(path));
    }
    directories::BaseDirs::new().map(|d| d.config_dir().join("postbin").join("cache-key"))
}

/// This user's key for a cache under `cache_dirs`: read, or created on
/// first use. `Err` says why there is none (then no tree is trusted).
pub fn user_key(cache_dirs: &[&Path]) -> Result<Key, String> {
    let path = key_path().ok_or("no home directory to keep the cache key in")?;
    if let Some(dir) = cache_dirs.iter().find(|d| is_inside(&path, d)) {
        return Err(format!(
            "the cache key {} is inside the cache directory {}, which is carried and shared \
             with the cache; set POSTBIN_CACHE_KEY_FILE outside it",
            path.display(),
            dir.display()
        ));
    }
    load_or_create(&path).map_err(|e| format!("cannot use the cache key {}: {e}", path.display()))
}

fn is_inside(path: &Path, dir: &Path) -> bool {
    let canonical = |p: &Path| {
        // The key file may not exist yet: resolve its parent.
        match (p.parent(), p.file_name()) {
            (Some(parent), Some(name)) => fs::canonicalize(parent).map(|d| d.join(name)),
            _ => fs::canonicalize(p),
        }
    };
    let lexical = path.starts_with(dir);
    let resolved = match (canonical(path), fs::canonicalize(dir)) {
        (Ok(p), Ok(d)) => p.starts_with(d),
        _ => false,
    };
    lexical || resolved
}

/// Reads the key at `path`, creating it first if there is none.
pub fn load_or_create(path: &Path) -> io::Result<Key> {
    match read_key(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        other => return other,
    }
    create(path)?;
    read_key(path)
}

/// Reads a key file: 64 hex digits. A file too short is retried for a
/// moment (where hard links are not supported, `create` writes in place).
fn read_key(path: &Path) -> io::Result<Key> {
    let mut tries = 0;
    loop {
        let text = fs::read_to_string(path)?;
        if let Some(bytes) = unhex32(&text) {
            return Ok(Key(bytes));
        }
        tries += 1;
        if tries >= 20 || text.len() >= 64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the file is damaged; delete it and postbin makes a new one",
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Makes a key file at `path` unless one appears there first.
fn create(path: &Path) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("the key path has no directory"))?;
    private_dir_all(dir)?;
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    let text = format!("{}\n", hex(&bytes));
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let temp = dir.join(format!(
        ".cache-key-{}-{nanos}-{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let written = write_new(&temp, text.as_bytes());
    let linked = match written {
        Ok(()) => fs::hard_link(&temp, path),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
    };
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(()),
        // Another process made it first: everyone uses that one.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        // A file system without hard links: created in place instead
        // (`create_new`, so still one winner; readers retry a short file).
        Err(_) => match write_new(path, text.as_bytes()) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            other => other,
        },
    }
}

/// Writes a new file that only its owner can read (0600 on Unix).
fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(key: &[u8], data: &[u8]) -> String {
        hex(&hmac_sha256(key, &[data]))
    }

    /// RFC 4231, test cases 1-4, 6 and 7 (5 is a truncated output).
    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        assert_eq!(
            h(&[0x0b; 20], b"Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            h(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            h(&[0xaa; 20], &[0xdd; 50]),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        );
        let key4: Vec<u8> = (1..=25).collect();
        assert_eq!(
            h(&key4, &[0xcd; 50]),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
        );
        assert_eq!(
            h(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(
            h(
                &[0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than \
                  block-size data. The key needs to be hashed before being used by the HMAC \
                  algorithm."
            ),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        );
        // Parts are concatenated.
        assert_eq!(
            hex(&hmac_sha256(
                b"Jefe",
                &[b"what do ya ", b"want for nothing?"]
            )),
            h(b"Jefe", b"what do ya want for nothing?")
        );
    }

    #[test]
    fn a_seal_binds_listing_archive_and_key() {
        let key = Key([7; 32]);
        let seal = key.seal("aa", b"{}");
        assert!(key.verifies("aa", b"{}", &seal));
        assert!(key.verifies("aa", b"{}", &format!("{seal}\n")));
        assert!(!key.verifies("bb", b"{}", &seal), "another archive");
        assert!(!key.verifies("aa", b"{ }", &seal), "another listing");
        assert!(!Key([8; 32]).verifies("aa", b"{}", &seal), "another key");
        assert!(!key.verifies("aa", b"{}", ""));
    }

    #[test]
    fn concurrent_first_uses_agree_on_one_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deep/postbin/cache-key");
        let keys: Vec<[u8; 32]> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| load_or_create(&path).unwrap().0))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(load_or_create(&path).unwrap().0, keys[0]);
        let left: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "temp files left: {left:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_or_unreachable_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache-key");
        fs::write(
            &path,
            "not a key, but long enough to be no partial write......",
        )
        .unwrap();
        assert!(load_or_create(&path).is_err());
        let blocked = dir.path().join("file");
        fs::write(&blocked, "x").unwrap();
        assert!(load_or_create(&blocked.join("cache-key")).is_err());
    }

    #[test]
    fn a_key_inside_the_cache_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(is_inside(&dir.path().join("k"), dir.path()));
        assert!(!is_inside(&dir.path().join("k"), &dir.path().join("cache")));
    }
}
