//! Release archives built in code, including hostile ones: the tar headers
//! are written by hand so that names the `tar` crate's builder refuses
//! (`..`, absolute paths) can be produced.

use std::io::{Cursor, Write};
use tar::{EntryType, Header};
use zip::write::SimpleFileOptions;

/// A tar stream, entry by entry, with no checks on names or link targets.
pub struct Tar {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for Tar {
    fn default() -> Self {
        Self::new()
    }
}

impl Tar {
    pub fn new() -> Tar {
        Tar {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    /// Appends one entry whose name and link name are copied verbatim into
    /// the header (at most 100 bytes each).
    pub fn raw(
        mut self,
        name: &str,
        kind: EntryType,
        mode: u32,
        link: Option<&str>,
        data: &[u8],
    ) -> Tar {
        let mut header = Header::new_gnu();
        {
            let old = header.as_old_mut();
            assert!(name.len() <= old.name.len(), "name too long: {name}");
            old.name = [0; 100];
            old.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(link) = link {
                assert!(link.len() <= old.linkname.len(), "link too long: {link}");
                old.linkname = [0; 100];
                old.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
        }
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(data.len() as u64);
        header.set_cksum();
        self.builder.append(&header, data).unwrap();
        self
    }

    pub fn file(self, name: &str, mode: u32, data: &[u8]) -> Tar {
        self.raw(name, EntryType::Regular, mode, None, data)
    }

    pub fn dir(self, name: &str) -> Tar {
        self.raw(name, EntryType::Directory, 0o755, None, b"")
    }

    pub fn symlink(self, name: &str, target: &str) -> Tar {
        self.raw(name, EntryType::Symlink, 0o777, Some(target), b"")
    }

    pub fn hardlink(self, name: &str, target: &str) -> Tar {
        self.raw(name, EntryType::Link, 0o755, Some(target), b"")
    }

    /// A device, FIFO or other non-file entry with no data.
    pub fn special(self, name: &str, kind: EntryType) -> Tar {
        self.raw(name, kind, 0o644, None, b"")
    }

    /// The uncompressed tar bytes.
    pub fn finish(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }

    pub fn gz(self) -> Vec<u8> {
        gzip(&self.finish())
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

pub fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut w =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
    w.write_all(bytes).unwrap();
    w.finish().unwrap()
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// A zip archive built entry by entry.
pub struct Zip {
    writer: zip::ZipWriter<Cursor<Vec<u8>>>,
}

impl Default for Zip {
    fn default() -> Self {
        Self::new()
    }
}

impl Zip {
    pub fn new() -> Zip {
        Zip {
            writer: zip::ZipWriter::new(Cursor::new(Vec::new())),
        }
    }

    pub fn file(mut self, name: &str, mode: u32, data: &[u8]) -> Zip {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode);
        self.writer.start_file(name, options).unwrap();
        self.writer.write_all(data).unwrap();
        self
    }

    pub fn symlink(mut self, name: &str, target: &str) -> Zip {
        self.writer
            .add_symlink(name, target, SimpleFileOptions::default())
            .unwrap();
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.writer.finish().unwrap().into_inner()
    }
}

/// The usual release layout: `hello-<target>/hello<exe>` (mode 755) plus a README.
pub fn nested_tar(target: &str) -> Tar {
    Tar::new()
        .dir(&format!("hello-{target}/"))
        .file(
            &format!("hello-{target}/hello"),
            0o755,
            crate::support::SCRIPT,
        )
        .file(&format!("hello-{target}/README.md"), 0o644, b"# hello\n")
}

/// A flat archive: `hello` (mode 755) at the top level.
pub fn flat_tar() -> Tar {
    Tar::new()
        .file("hello", 0o755, crate::support::SCRIPT)
        .file("README.md", 0o644, b"# hello\n")
}

/// `len` bytes that gzip cannot shrink (xorshift), so archive sizes are real.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    // Distinct seeds give distinct streams (xorshift state must be nonzero).
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A tar.gz holding the script `hello` and `payload` (`len` bytes of noise).
pub fn big_tar(len: usize, seed: u64) -> Vec<u8> {
    Tar::new()
        .file("hello", 0o755, crate::support::SCRIPT)
        .file("payload.bin", 0o644, &noise(len, seed))
        .gz()
}
