//! npm's integrity strings (`sha512-<base64>`, as in `dist.integrity` and
//! lockfiles), and the base64 they are written in.

use ring::digest::{Context, SHA512};
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The SHA-512 of an npm tarball, as npm writes it: `sha512-<base64>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sha512Integrity([u8; 64]);

impl Sha512Integrity {
    /// Parses `sha512-<base64 of 64 bytes>`. npm's strings may list several
    /// hashes separated by spaces; postbin writes and accepts exactly one,
    /// since anything weaker than SHA-512 would not be worth checking.
    pub fn parse(text: &str) -> Option<Self> {
        let b64 = text.trim().strip_prefix("sha512-")?;
        let bytes = decode_base64(b64)?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self::of_reader(&mut { bytes }).expect("reading a slice cannot fail")
    }

    pub fn of_reader(reader: &mut dyn Read) -> io::Result<Self> {
        let mut hasher = Context::new(&SHA512);
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let digest = hasher.finish();
        Ok(Self(
            digest.as_ref().try_into().expect("SHA-512 is 64 bytes"),
        ))
    }

    pub fn of_file(path: &Path) -> io::Result<Self> {
        Self::of_reader(&mut std::fs::File::open(path)?)
    }

    /// Where npm's cache (cacache) keeps the content with this integrity:
    /// `<cache>/_cacache/content-v2/sha512/<2 hex>/<2 hex>/<the other 124>`.
    pub fn cacache_path(&self, npm_cache: &Path) -> PathBuf {
        let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        npm_cache
            .join("_cacache")
            .join("content-v2")
            .join("sha512")
            .join(&hex[..2])
            .join(&hex[2..4])
            .join(&hex[4..])
    }
}

impl fmt::Display for Sha512Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha512-{}", encode_base64(&self.0))
    }
}

impl fmt::Debug for Sha512Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha512Integrity({self})")
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with `=` padding.
pub fn encode_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, padding optional; `None` for any other character.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = acc << 6 | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero padding of a whole number of bytes.
    (bits < 6 && acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_matches_known_values() {
        assert_eq!(encode_base64(b""), "");
        assert_eq!(encode_base64(b"f"), "Zg==");
        assert_eq!(encode_base64(b"fo"), "Zm8=");
        assert_eq!(encode_base64(b"foo"), "Zm9v");
        assert_eq!(encode_base64(b"user:p@ss"), "dXNlcjpwQHNz");
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(len))
                .collect();
            assert_eq!(decode_base64(&encode_base64(&bytes)).unwrap(), bytes);
        }
        assert_eq!(decode_base64("Zm8").unwrap(), b"fo", "padding is optional");
        assert_eq!(decode_base64("Zm9v!"), None);
        assert_eq!(decode_base64("Zh=="), None, "non-zero leftover bits");
    }

    #[test]
    fn integrity_of_empty_input_is_npms() {
        // `printf '' | openssl dgst -sha512 -binary | base64`
        let empty = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";
        assert_eq!(Sha512Integrity::of_bytes(b"").to_string(), empty);
        assert_eq!(
            Sha512Integrity::parse(empty),
            Some(Sha512Integrity::of_bytes(b""))
        );
        assert_eq!(
            Sha512Integrity::parse("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
            None
        );
        assert_eq!(Sha512Integrity::parse("sha512-Zm9v"), None, "too short");
    }

    #[test]
    fn cacache_path_splits_the_hex_digest() {
        let p = Sha512Integrity::of_bytes(b"").cacache_path(Path::new("/npm"));
        let hex = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
        assert_eq!(
            p,
            Path::new("/npm/_cacache/content-v2/sha512")
                .join(&hex[..2])
                .join(&hex[2..4])
                .join(&hex[4..])
        );
    }
}
