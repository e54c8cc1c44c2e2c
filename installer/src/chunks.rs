//! Chunk digests: the SHA-256 of each 1 MiB piece of an archive, so that an
//! install can check each piece as it arrives and hand only checked bytes to
//! the decoder, unpacking while the download goes on (`pipeline::stream`).
//! `pin --download` writes one file per target into the package
//! (`postbin-chunks/<target>`), whose own SHA-256 is pinned in the section
//! (`targets.<t>.chunks`), so the npm lockfile's integrity covers it. The
//! whole-file `sha256` stays the root of trust and is still checked at the end.
//!
//! The file is text: `postbin-chunks 1 <chunk size> <archive size>`, then one
//! lowercase hex digest per line.

use crate::hash::{Sha256Hash, hash_bytes};
use std::io::{self, Read};

/// 1 MiB: a few hundred digests for a large archive (a file of a few KB),
/// and a piece small enough that the decoder starts within the first
/// round trips of a download.
pub const CHUNK_SIZE: u64 = 1 << 20;

/// Where `pin` writes a target's chunk file, relative to the package.
pub fn file_for(target: &str) -> String {
    format!("postbin-chunks/{target}")
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chunks {
    pub chunk_size: u64,
    pub total: u64,
    pub digests: Vec<Sha256Hash>,
}

impl Chunks {
    /// The digests of everything `reader` yields.
    pub fn of_reader(reader: &mut dyn Read) -> io::Result<Chunks> {
        let mut digests = Vec::new();
        let mut total = 0;
        let mut buf = vec![0u8; CHUNK_SIZE as usize];
        loop {
            let n = crate::read_full::fill(reader, &mut buf)?;
            if n == 0 {
                break;
            }
            digests.push(hash_bytes(&buf[..n]));
            total += n as u64;
        }
        Ok(Chunks {
            chunk_size: CHUNK_SIZE,
            total,
            digests,
        })
    }

    pub fn to_text(&self) -> String {
        let mut text = format!("postbin-chunks 1 {} {}\n", self.chunk_size, self.total);
        for d in &self.digests {
            text.push_str(&d.hex());
            text.push('\n');
        }
        text
    }

    /// Parses `to_text`'s output; `None` for anything else, or digests that
    /// do not add up to the size. The chunk size must be the one postbin
    /// writes: a reader allocates one chunk, and a pinned file asking for a
    /// terabyte would abort every install (`check` refuses it too).
    pub fn parse(text: &str) -> Option<Chunks> {
        let mut lines = text.lines();
        let head: Vec<&str> = lines.next()?.split(' ').collect();
        let [magic, version, chunk_size, total] = head[..] else {
            return None;
        };
        if magic != "postbin-chunks" || version != "1" {
            return None;
        }
        let chunk_size: u64 = chunk_size.parse().ok().filter(|&c| c == CHUNK_SIZE)?;
        let total: u64 = total.parse().ok()?;
        let digests = lines.map(Sha256Hash::parse).collect::<Option<Vec<_>>>()?;
        (digests.len() as u64 == total.div_ceil(chunk_size)).then_some(Chunks {
            chunk_size,
            total,
            digests,
        })
    }

    /// The length of chunk `index` (the last one may be short).
    pub fn len_of(&self, index: usize) -> u64 {
        let start = index as u64 * self.chunk_size;
        self.chunk_size.min(self.total.saturating_sub(start))
    }
}

/// A chunk whose bytes are not the pinned ones: carried inside the
/// `io::Error` a write returns (`hash::Tap`), so the download can tell it
/// from a full disk.
#[derive(Debug)]
pub struct ChunkMismatch {
    pub index: usize,
    /// Where the chunk starts in the archive.
    pub start: u64,
    pub expected: Sha256Hash,
    pub actual: Sha256Hash,
}

impl std::fmt::Display for ChunkMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "chunk {} (from byte {}) has SHA-256 {}, the pinned chunk digest is {}",
            self.index, self.start, self.actual, self.expected
        )
    }
}

impl std::error::Error for ChunkMismatch {}

impl ChunkMismatch {
    /// The mismatch an `io::Error` carries, if it carries one.
    pub fn in_io(e: &io::Error) -> Option<&ChunkMismatch> {
        e.get_ref()?.downcast_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_cover_every_chunk_and_round_trip_as_text() {
        let bytes: Vec<u8> = (0..(2 * CHUNK_SIZE + 5)).map(|i| (i % 253) as u8).collect();
        let chunks = Chunks::of_reader(&mut &bytes[..]).unwrap();
        assert_eq!(chunks.digests.len(), 3);
        assert_eq!(chunks.total, bytes.len() as u64);
        assert_eq!(
            chunks.digests[2],
            hash_bytes(&bytes[2 * CHUNK_SIZE as usize..])
        );
        assert_eq!(chunks.len_of(2), 5);
        assert_eq!(Chunks::parse(&chunks.to_text()), Some(chunks.clone()));
        let mut short = chunks.to_text();
        short.truncate(short.trim_end().rfind('\n').unwrap() + 1);
        assert_eq!(Chunks::parse(&short), None, "a digest missing");
        assert_eq!(Chunks::parse("postbin-chunks 2 1 0\n"), None);
        let absurd = format!(
            "postbin-chunks 1 1099511627776 5\n{}\n",
            hash_bytes(b"x").hex()
        );
        assert_eq!(
            Chunks::parse(&absurd),
            None,
            "a chunk size postbin never writes"
        );
        let empty = Chunks::of_reader(&mut &b""[..]).unwrap();
        assert_eq!(Chunks::parse(&empty.to_text()), Some(empty));
    }
}
