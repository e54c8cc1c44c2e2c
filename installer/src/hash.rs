//! SHA-256 values and streaming verification: a writer that hashes what
//! passes through it, so a download is hashed while it is written and never
//! read twice.

use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, Read, Write};

/// A SHA-256 digest, parsed from or shown as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Hash([u8; 32]);

impl Sha256Hash {
    /// Parses 64 hex digits (either case). `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        // Hex digits only: `from_str_radix` alone would take `+f` as 0x0f.
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
    }

    pub fn hex(&self) -> String {
        self.to_string()
    }

    /// The first 12 hex digits, for log lines.
    pub fn short(&self) -> String {
        self.hex()[..12].to_string()
    }
}

impl fmt::Display for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Hash({self})")
    }
}

/// Wraps a writer; every byte written is also fed to SHA-256, and to the
/// tap, if one is set.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
    tap: Option<Box<dyn Tap>>,
}

/// Sees every byte after it is written, in order from byte 0 (`reset`
/// starts it over); an error it returns fails the write. The streaming
/// install checks chunk digests this way (`pipeline::stream`).
pub trait Tap {
    fn bytes(&mut self, bytes: &[u8]) -> io::Result<()>;
    fn reset(&mut self);
    /// How much of a kept prefix of `len` bytes is worth keeping: what the
    /// tap can check (whole chunks).
    fn keepable(&self, len: u64) -> u64;
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            written: 0,
            tap: None,
        }
    }

    pub fn with_tap(inner: W, tap: Option<Box<dyn Tap>>) -> Self {
        Self {
            tap,
            ..Self::new(inner)
        }
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Forgets everything hashed so far (a download restarted from byte 0).
    pub fn reset(&mut self) {
        self.hasher = Sha256::new();
        self.written = 0;
        if let Some(tap) = &mut self.tap {
            tap.reset();
        }
    }

    /// How much of a kept prefix of `len` bytes the tap can check (all of
    /// it without a tap).
    pub fn keepable(&self, len: u64) -> u64 {
        self.tap.as_ref().map_or(len, |t| t.keepable(len))
    }

    /// Hashes and counts bytes already in the destination (a kept partial
    /// download's prefix) without writing them again.
    pub fn absorb(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        match &mut self.tap {
            Some(tap) => tap.bytes(bytes),
            None => Ok(()),
        }
    }

    /// The hash of everything so far, without finishing.
    pub fn digest(&self) -> Sha256Hash {
        Sha256Hash(self.hasher.clone().finalize().into())
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    pub fn finish(self) -> (W, Sha256Hash, u64) {
        (
            self.inner,
            Sha256Hash(self.hasher.finalize().into()),
            self.written,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        if let Some(tap) = &mut self.tap {
            tap.bytes(&buf[..n])?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hashes a whole stream (used to re-verify cached files). Reads in 256 KiB
/// blocks: `io::copy` takes them straight from the `BufReader`'s buffer.
pub fn hash_reader(reader: impl Read) -> io::Result<(Sha256Hash, u64)> {
    let mut sink = HashingWriter::new(io::sink());
    io::copy(
        &mut io::BufReader::with_capacity(256 * 1024, reader),
        &mut sink,
    )?;
    let (_, hash, len) = sink.finish();
    Ok((hash, len))
}

pub fn hash_file(path: &std::path::Path) -> io::Result<(Sha256Hash, u64)> {
    hash_reader(std::fs::File::open(path)?)
}

pub fn hash_bytes(bytes: &[u8]) -> Sha256Hash {
    Sha256Hash(Sha256::digest(bytes).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let h = Sha256Hash::parse(&hex.to_uppercase()).unwrap();
        assert_eq!(h.hex(), hex);
        assert_eq!(h, hash_bytes(b""));
    }

    #[test]
    fn rejects_wrong_length_and_non_hex() {
        assert!(Sha256Hash::parse("abc").is_none());
        assert!(Sha256Hash::parse(&"g".repeat(64)).is_none());
        assert!(Sha256Hash::parse(&"é".repeat(32)).is_none());
    }

    #[test]
    fn hashing_writer_matches_one_shot_hash_and_resets() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"junk").unwrap();
        w.reset();
        w.get_mut().clear();
        w.write_all(b"hello ").unwrap();
        w.write_all(b"world").unwrap();
        let (bytes, hash, len) = w.finish();
        assert_eq!(bytes, b"hello world");
        assert_eq!(len, 11);
        assert_eq!(hash, hash_bytes(b"hello world"));
    }
}
