//! The glibc version of this host: `GlibcVersion`, where a libc.so.6 is
//! looked for, and reading the version out of one (its banner, else its
//! highest symbol version), never running it.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::linux_arch::linux_arch;

/// A glibc version as `MAJOR.MINOR` (glibc releases have no patch number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion {
    pub major: u32,
    pub minor: u32,
}

impl GlibcVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        GlibcVersion { major, minor }
    }

    /// Exactly `MAJOR.MINOR` in decimal, as a publisher writes it in
    /// package.json: anything else is refused rather than guessed at.
    pub fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.split_once('.')?;
        Some(GlibcVersion::new(decimal(major)?, decimal(minor)?))
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A non-empty run of ASCII digits that fits a u32.
fn decimal(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Upper bound on what is read of a libc.so.6: glibc's is about 2 MB; a
/// file far larger is not one, and reading it whole would only cost time.
const LIBC_READ_LIMIT: u64 = 16 << 20;

/// The host's glibc version and the libc.so.6 it was read from. The first
/// place looked is beside `/bin/sh`'s interpreter, symlinks resolved: that
/// is the libc the system's programs load, wherever it lives (/nix/store,
/// /usr/lib64). Then the usual directories.
pub fn find_glibc(interpreter: Option<&str>, arch: &str) -> Option<(GlibcVersion, PathBuf)> {
    libc_paths(interpreter, arch)
        .into_iter()
        .find_map(|path| glibc_version_of(&path).map(|v| (v, path)))
}

fn libc_paths(interpreter: Option<&str>, arch: &str) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let beside_loader = interpreter
        .and_then(|i| std::fs::canonicalize(i).ok())
        .and_then(|loader| loader.parent().map(|dir| dir.join("libc.so.6")));
    paths.extend(beside_loader);
    let mut dirs: Vec<String> = Vec::new();
    if let Some(a) = linux_arch(arch) {
        dirs.push(format!("/lib/{}", a.multiarch));
        dirs.push(format!("/usr/lib/{}", a.multiarch));
    }
    dirs.extend(["/lib64", "/usr/lib64", "/lib", "/usr/lib"].map(String::from));
    paths.extend(dirs.iter().map(|d| Path::new(d).join("libc.so.6")));
    paths
}

/// The glibc version of one libc.so.6, read (bounded), never run.
pub fn glibc_version_of(path: &Path) -> Option<GlibcVersion> {
    // A regular file only: opening a FIFO planted there would block.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(LIBC_READ_LIMIT)
        .read_to_end(&mut bytes)
        .ok()?;
    parse_glibc_version(&bytes)
}

/// The version in glibc's banner, `GNU C Library (...) stable release
/// version 2.36.`; else the highest `GLIBC_2.N` version definition, which
/// is at most the release (a release may add no new symbol version).
pub fn parse_glibc_version(bytes: &[u8]) -> Option<GlibcVersion> {
    banner_version(bytes).or_else(|| highest_version_node(bytes))
}

fn banner_version(bytes: &[u8]) -> Option<GlibcVersion> {
    const BANNER: &[u8] = b"GNU C Library";
    const MARK: &[u8] = b"release version ";
    positions(bytes, BANNER).find_map(|at| {
        // The banner is one C string; never look past its end.
        let rest = &bytes[at..bytes.len().min(at + 512)];
        let text = &rest[..rest.iter().position(|&b| b == 0).unwrap_or(rest.len())];
        let mark = positions(text, MARK).next()?;
        leading_version(&text[mark + MARK.len()..])
    })
}

/// `2.36.` or `2.40.9000` → 2.36 / 2.40: MAJOR.MINOR at the start of `text`.
pub(super) fn leading_version(text: &[u8]) -> Option<GlibcVersion> {
    let digits = |t: &[u8]| t.iter().take_while(|b| b.is_ascii_digit()).count();
    let major_len = digits(text);
    if text.get(major_len) != Some(&b'.') {
        return None;
    }
    let minor_text = &text[major_len + 1..];
    let minor_len = digits(minor_text);
    let number = |t: &[u8]| decimal(std::str::from_utf8(t).ok()?);
    Some(GlibcVersion::new(
        number(&text[..major_len])?,
        number(&minor_text[..minor_len])?,
    ))
}

/// The highest `GLIBC_X.Y[.Z]` string that stands alone (NUL on both
/// sides), as glibc's version definitions do in its string table.
fn highest_version_node(bytes: &[u8]) -> Option<GlibcVersion> {
    const NODE: &[u8] = b"\0GLIBC_";
    positions(bytes, NODE)
        .filter_map(|at| {
            let rest = &bytes[at + NODE.len()..];
            let end = rest.iter().take(16).position(|&b| b == 0)?;
            version_node(&rest[..end])
        })
        .max()
}

/// `2.34` or `2.2.5` (dot-separated numbers, nothing else) → MAJOR.MINOR.
fn version_node(text: &[u8]) -> Option<GlibcVersion> {
    let text = std::str::from_utf8(text).ok()?;
    let mut parts = text.split('.');
    let major = decimal(parts.next()?)?;
    let minor = decimal(parts.next()?)?;
    if parts.any(|p| decimal(p).is_none()) {
        return None;
    }
    Some(GlibcVersion::new(major, minor))
}

/// Every offset where `needle` (not empty) starts in `haystack`.
fn positions<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let mut next = 0;
    std::iter::from_fn(move || {
        // A plain loop on the first byte: it runs over ~2 MB of libc, where
        // iterator adapters per byte cost ten times more in debug builds.
        while next + needle.len() <= haystack.len() {
            let at = next;
            next += 1;
            if haystack[at] == needle[0] && haystack[at..].starts_with(needle) {
                return Some(at);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_minimums_are_exactly_major_dot_minor() {
        assert_eq!(GlibcVersion::parse("2.28"), Some(GlibcVersion::new(2, 28)));
        assert_eq!(GlibcVersion::parse("2.017"), Some(GlibcVersion::new(2, 17)));
        for bad in [
            "",
            "2",
            "2.",
            ".28",
            "2.28.1",
            "v2.28",
            " 2.28",
            "2.28 ",
            "2,28",
            "2.x",
            "+2.28",
            "2.99999999999",
        ] {
            assert_eq!(GlibcVersion::parse(bad), None, "{bad:?}");
        }
        assert!(GlibcVersion::new(2, 9) < GlibcVersion::new(2, 10));
        assert!(GlibcVersion::new(2, 40) < GlibcVersion::new(3, 0));
        assert_eq!(GlibcVersion::new(2, 36).to_string(), "2.36");
    }

    /// A libc image: an ELF-ish start, then `parts` as C strings, one after
    /// the other as in a string table, then bytes that mean nothing.
    fn image(parts: &[&[u8]]) -> Vec<u8> {
        let mut bytes = b"\x7fELF\x02\x01\x01\x01junk".to_vec();
        for part in parts {
            bytes.extend_from_slice(part);
            bytes.push(0);
        }
        bytes.extend_from_slice(b"\x01\x02GLIBC");
        bytes
    }

    #[test]
    fn the_banner_gives_the_release_version() {
        let v = |major, minor| Some(GlibcVersion::new(major, minor));
        let cases: &[(&[&[u8]], Option<GlibcVersion>)] = &[
            (
                &[b"GNU C Library (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36.\nCopyright"],
                v(2, 36),
            ),
            (
                &[b"GNU C Library (GNU libc) release release version 2.34."],
                v(2, 34),
            ),
            (
                &[b"GNU C Library (GNU libc) development release version 2.40.9000."],
                v(2, 40),
            ),
            (
                &[b"GNU C Library (Ubuntu GLIBC 2.35-0ubuntu3) stable release version 2.35."],
                v(2, 35),
            ),
            // The banner wins over the version definitions, which may lag.
            (
                &[b"\0GLIBC_2.36", b"GNU C Library stable release version 2.37."],
                v(2, 37),
            ),
        ];
        for (parts, want) in cases {
            assert_eq!(parse_glibc_version(&image(parts)), *want, "{parts:?}");
        }
    }

    #[test]
    fn without_a_banner_the_highest_version_definition_counts() {
        let v = |major, minor| Some(GlibcVersion::new(major, minor));
        let cases: &[(&[&[u8]], Option<GlibcVersion>)] = &[
            (
                &[
                    b"\0GLIBC_2.2.5",
                    b"GLIBC_2.34",
                    b"GLIBC_2.9",
                    b"GLIBC_PRIVATE",
                ],
                v(2, 34),
            ),
            (&[b"\0GLIBC_2.17"], v(2, 17)),
            // Not standalone strings, or not versions: ignored.
            (
                &[b"xGLIBC_9.9", b"\0GLIBC_2.31x", b"\0GLIBC_2.28"],
                v(2, 28),
            ),
            (&[b"\0GLIBC_PRIVATE", b"\0GLIBC_", b"\0GLIBC_2"], None),
            // A banner with no version, or one cut by the string's end.
            (
                &[b"GNU C Library\0 release version 9.9.", b"\0GLIBC_2.3"],
                v(2, 3),
            ),
            (&[b"GNU C Library release version two"], None),
            (&[b"musl libc (x86_64)"], None),
            (&[], None),
        ];
        for (parts, want) in cases {
            assert_eq!(parse_glibc_version(&image(parts)), *want, "{parts:?}");
        }
    }
}
