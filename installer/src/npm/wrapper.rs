//! Wrapper packages: naming them, writing their tarball (publisher side),
//! and taking the archive back out of a verified tarball (installer side).
//!
//! A wrapper tarball holds exactly `package/package.json` and
//! `package/<asset file name>`, with npm's fixed modes and date, so the same
//! archive and version always pack to the same bytes and the same integrity.
//! It is gzip with stored (uncompressed) deflate blocks: release archives
//! are compressed already, and it keeps a deflate encoder out of the
//! size-budgeted installer.

use crate::url::{ParseError, Url};
use std::io::{self, Read, Write};

/// npm's fixed mtime for packed files (1985-10-26T08:15:00Z).
const NPM_MTIME: u64 = 499_162_500;

/// The wrapper of `tool`'s `target` archive: `@acme/hello-x86_64-apple-darwin`.
pub fn package_name(tool: &str, target: &str) -> String {
    format!("{tool}-{target}")
}

/// Where a package's archive lives inside its tarball.
pub fn member_path(asset_name: &str) -> String {
    format!("package/{asset_name}")
}

/// `npm pack`'s file name: `@acme/x` 1.0.0 → `acme-x-1.0.0.tgz`.
pub fn tgz_file_name(package: &str, version: &str) -> String {
    let flat = package.trim_start_matches('@').replace('/', "-");
    format!("{flat}-{version}.tgz")
}

/// The registry's tarball URL for `package@version`, as npm registries
/// (npmjs, Verdaccio, Artifactory, Nexus) serve it:
/// `<registry>/@scope/name/-/name-<version>.tgz`.
pub fn tarball_url(registry: &Url, package: &str, version: &str) -> Result<Url, ParseError> {
    let unscoped = package.rsplit('/').next().unwrap_or(package);
    let base = registry.to_string_with_credentials();
    let sep = if base.ends_with('/') { "" } else { "/" };
    Url::parse(&format!("{base}{sep}{package}/-/{unscoped}-{version}.tgz"))
}

/// npm's `os`, `cpu` and `libc` for a Rust target triple (empty when unknown).
pub fn npm_platform(target: &str) -> (Vec<&'static str>, Vec<&'static str>, Vec<&'static str>) {
    let os = if target.contains("-linux") {
        vec!["linux"]
    } else if target.ends_with("-apple-darwin") {
        vec!["darwin"]
    } else if target.contains("-windows") {
        vec!["win32"]
    } else if target.contains("-freebsd") {
        vec!["freebsd"]
    } else {
        vec![]
    };
    let arch = target.split('-').next().unwrap_or("");
    let cpu = match arch {
        "x86_64" => vec!["x64"],
        "aarch64" | "arm64" => vec!["arm64"],
        "i386" | "i586" | "i686" => vec!["ia32"],
        a if a.starts_with("arm") || a.starts_with("thumbv7") => vec!["arm"],
        _ => vec![],
    };
    let libc = if !target.contains("-linux") {
        vec![]
    } else if target.contains("-musl") {
        vec!["musl"]
    } else if target.contains("-gnu") {
        vec!["glibc"]
    } else {
        vec![]
    };
    (os, cpu, libc)
}

/// Writes the wrapper tarball: `package.json`, then the archive. Plain
/// ustar headers, written here: two regular files need no more.
pub fn write_tgz(
    out: &mut dyn Write,
    package_json: &[u8],
    asset_name: &str,
    asset: &mut dyn Read,
    asset_len: u64,
) -> io::Result<()> {
    let mut gz = StoredGzip::new(out)?;
    append(&mut gz, "package.json", package_json.len() as u64, &mut {
        package_json
    })?;
    append(&mut gz, asset_name, asset_len, asset)?;
    // The end of a tar stream: two zero blocks.
    gz.write_all(&[0; 1024])?;
    gz.finish()
}

/// One `package/<name>` entry: its header, `len` bytes of `data`, padding.
fn append(out: &mut dyn Write, name: &str, len: u64, data: &mut dyn Read) -> io::Result<()> {
    out.write_all(&ustar_header(name, len)?)?;
    let copied = io::copy(&mut data.take(len), out)?;
    if copied != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the archive is shorter than its size",
        ));
    }
    out.write_all(&vec![0; (512 - (len % 512) as usize) % 512])
}

/// A ustar header for the regular file `package/<name>` (npm's mode and
/// date, owner 0). The name field holds 100 bytes, the prefix `package`.
fn ustar_header(name: &str, len: u64) -> io::Result<[u8; 512]> {
    if name.len() > 100 || name.contains('/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{name}` cannot be a wrapper entry: a plain file name of at most 100 bytes"),
        ));
    }
    let mut h = [0u8; 512];
    let mut field = |at: usize, text: &[u8]| h[at..at + text.len()].copy_from_slice(text);
    field(0, name.as_bytes());
    field(100, b"0000644\0");
    field(108, b"0000000\0");
    field(116, b"0000000\0");
    field(124, format!("{len:011o}\0").as_bytes());
    field(136, format!("{NPM_MTIME:011o}\0").as_bytes());
    field(148, b"        ");
    field(156, b"0");
    field(257, b"ustar\0");
    field(263, b"00");
    field(345, b"package");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    Ok(h)
}

/// Why a verified tarball does not give the archive.
#[derive(Debug)]
pub enum ReadError {
    /// It holds no `member`.
    Missing,
    /// The member is larger than `limit`.
    TooLarge,
    Io(io::Error),
}

/// Copies `member` out of the gzipped tarball `tgz` into `out`; at most
/// `limit` bytes. Only for a tarball already checked against its pinned
/// integrity: nothing unverified reaches the decoders. The reader types are
/// the ones `extract` decodes with, so the code is shared, not compiled twice.
pub fn read_member(
    tgz: &mut dyn Read,
    member: &str,
    out: &mut dyn Write,
    limit: u64,
) -> Result<u64, ReadError> {
    let gz = flate2::read::GzDecoder::new(io::BufReader::with_capacity(256 * 1024, tgz));
    let mut archive = tar::Archive::new(gz);
    for entry in archive.entries().map_err(ReadError::Io)? {
        let entry = entry.map_err(ReadError::Io)?;
        if entry.path_bytes().as_ref() != member.as_bytes() {
            continue;
        }
        if entry.size() > limit {
            return Err(ReadError::TooLarge);
        }
        let mut body = entry.take(limit.saturating_add(1));
        let copied = io::copy(&mut body, out).map_err(ReadError::Io)?;
        if copied > limit {
            return Err(ReadError::TooLarge);
        }
        return Ok(copied);
    }
    Err(ReadError::Missing)
}

/// gzip whose deflate stream is stored blocks only (RFC 1951 BTYPE=00).
struct StoredGzip<'a> {
    out: &'a mut dyn Write,
    block: Vec<u8>,
    crc: flate2::Crc,
}

/// A stored block holds at most 65535 bytes.
const BLOCK: usize = 0xffff;

impl<'a> StoredGzip<'a> {
    fn new(out: &'a mut dyn Write) -> io::Result<Self> {
        // ID1 ID2, deflate, no flags, no mtime, no extra flags, OS unknown.
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
        Ok(StoredGzip {
            out,
            block: Vec::with_capacity(BLOCK),
            crc: flate2::Crc::new(),
        })
    }

    fn emit(&mut self, last: bool) -> io::Result<()> {
        let len = self.block.len() as u16;
        self.out.write_all(&[u8::from(last)])?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&(!len).to_le_bytes())?;
        self.out.write_all(&self.block)?;
        self.block.clear();
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.emit(true)?;
        self.out.write_all(&self.crc.sum().to_le_bytes())?;
        self.out.write_all(&self.crc.amount().to_le_bytes())?;
        self.out.flush()
    }
}

impl Write for StoredGzip<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&data[..n]);
        self.crc.update(&data[..n]);
        if self.block.len() == BLOCK {
            self.emit(false)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_npm() {
        assert_eq!(
            package_name("@acme/hello", "x86_64-apple-darwin"),
            "@acme/hello-x86_64-apple-darwin"
        );
        assert_eq!(
            tgz_file_name("@acme/hello-x", "1.2.3"),
            "acme-hello-x-1.2.3.tgz"
        );
        assert_eq!(tgz_file_name("hello-x", "1.2.3"), "hello-x-1.2.3.tgz");
        let reg = Url::parse("http://127.0.0.1:4873/").unwrap();
        assert_eq!(
            tarball_url(&reg, "@acme/hello-x", "1.2.3")
                .unwrap()
                .to_string(),
            "http://127.0.0.1:4873/@acme/hello-x/-/hello-x-1.2.3.tgz"
        );
        let reg = Url::parse("https://r.corp/api/npm/npm/").unwrap();
        assert_eq!(
            tarball_url(&reg, "hello-x", "1.0.0").unwrap().to_string(),
            "https://r.corp/api/npm/npm/hello-x/-/hello-x-1.0.0.tgz"
        );
    }

    #[test]
    fn npm_platform_fields_from_triples() {
        assert_eq!(
            npm_platform("x86_64-unknown-linux-musl"),
            (vec!["linux"], vec!["x64"], vec!["musl"])
        );
        assert_eq!(
            npm_platform("aarch64-unknown-linux-gnu"),
            (vec!["linux"], vec!["arm64"], vec!["glibc"])
        );
        assert_eq!(
            npm_platform("aarch64-apple-darwin"),
            (vec!["darwin"], vec!["arm64"], vec![])
        );
        assert_eq!(
            npm_platform("i686-pc-windows-msvc"),
            (vec!["win32"], vec!["ia32"], vec![])
        );
        assert_eq!(
            npm_platform("universal2-apple-darwin"),
            (vec!["darwin"], vec![], vec![])
        );
    }

    /// A tarball that a standard gzip and tar reader (flate2, tar) read back,
    /// across several stored blocks, and that packs to the same bytes twice.
    #[test]
    fn written_tarballs_read_back_and_are_reproducible() {
        let asset: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let pack = || {
            let mut tgz = Vec::new();
            write_tgz(
                &mut tgz,
                b"{}",
                "a.tar.gz",
                &mut &asset[..],
                asset.len() as u64,
            )
            .unwrap();
            tgz
        };
        let tgz = pack();
        assert_eq!(tgz, pack(), "deterministic");
        let mut names = Vec::new();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&tgz[..]));
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            assert_eq!(entry.header().mode().unwrap(), 0o644);
            assert_eq!(entry.header().mtime().unwrap(), NPM_MTIME);
            let mut body = Vec::new();
            entry.read_to_end(&mut body).unwrap();
            names.push((entry.path().unwrap().display().to_string(), body));
        }
        assert_eq!(
            names[0],
            ("package/package.json".to_string(), b"{}".to_vec())
        );
        assert_eq!(names[1], ("package/a.tar.gz".to_string(), asset.clone()));
        assert_eq!(names.len(), 2);

        let mut out = Vec::new();
        assert_eq!(
            read_member(&mut &tgz[..], "package/a.tar.gz", &mut out, 1 << 20).unwrap(),
            asset.len() as u64
        );
        assert_eq!(out, asset);
        assert!(matches!(
            read_member(&mut &tgz[..], "package/other", &mut Vec::new(), 1 << 20),
            Err(ReadError::Missing)
        ));
        assert!(matches!(
            read_member(&mut &tgz[..], "package/a.tar.gz", &mut Vec::new(), 1000),
            Err(ReadError::TooLarge)
        ));
        let long = "x".repeat(101);
        for bad in ["a/b", long.as_str()] {
            let mut sink = Vec::new();
            assert!(
                write_tgz(&mut sink, b"{}", bad, &mut &asset[..], 1).is_err(),
                "{bad}"
            );
        }
    }
}
