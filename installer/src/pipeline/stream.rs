//! The streaming install: with the archive's chunk digests pinned
//! (`chunks.rs`), each 1 MiB chunk is checked as it arrives and only then
//! handed to the decoder, which unpacks on its own thread into the staging
//! tree while the download goes on. The tree is published only after the
//! whole-file sha256 also matches. A chunk that fails stops that source
//! (`fetch::Error::ChunkMismatch`); the next source starts over, and the
//! decoder, which has only ever seen checked bytes, is simply not handed
//! those chunks again. zip is not streamed (its directory is at the end),
//! nor is a `raw` asset (nothing to decode).

use crate::chunks::{ChunkMismatch, Chunks};
use crate::error::Error;
use crate::extract::{self, Limits};
use crate::fetch::{self, Expect};
use crate::hash::{Sha256Hash, Tap, hash_bytes};
use crate::net::Client;
use crate::plan::{Format, Plan};
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel};

/// Chunk buffers in circulation between the download and the decoder:
/// enough to ride out a slow moment of either side, little memory (4 MiB).
/// The decoder sends each emptied buffer back; the download waits for one
/// before handing the next chunk over, so memory stays bounded. (Plain
/// channels of `Vec<u8>`, as extract's writer uses: no second channel type
/// compiled into the size-budgeted installer.)
const IN_FLIGHT: usize = 4;

/// The chunk digests for `plan`, when it can be streamed: the pinned file,
/// read from the package and checked against its pinned sha256. A file that
/// does not match is refused (exit 6); a missing one only means no
/// streaming, since the whole-file hash still guards the install.
pub fn chunks_for(plan: &Plan) -> Result<Option<Chunks>, Error> {
    let Some(pinned) = &plan.chunks else {
        return Ok(None);
    };
    if matches!(plan.format, Format::Zip | Format::Raw) {
        return Ok(None);
    }
    let text = match std::fs::read(&pinned.path) {
        Ok(text) => text,
        Err(e) => {
            crate::debug!(
                "no chunk digests ({}: {e}); downloading without streaming",
                pinned.path.display()
            );
            return Ok(None);
        }
    };
    let refused = |why: &str| Error::Checksums {
        detail: format!(
            "the chunk digests {} {why}; the package was altered after it was published: reinstall it",
            pinned.path.display()
        ),
    };
    if hash_bytes(&text) != pinned.sha256 {
        return Err(refused(&format!(
            "do not match their pinned sha256 {}",
            pinned.sha256
        )));
    }
    let chunks = std::str::from_utf8(&text)
        .ok()
        .and_then(Chunks::parse)
        .ok_or_else(|| refused("are not a chunk digest file"))?;
    if plan.size.is_some_and(|size| size != chunks.total) {
        return Err(refused("are for an archive of another size"));
    }
    Ok(Some(chunks))
}

/// Where a download goes: the cache (named in messages about space) and the
/// staging dir it unpacks into, under these limits.
#[derive(Clone, Copy)]
pub struct Staging<'a> {
    pub cache_dir: &'a Path,
    pub files: &'a Path,
    pub limits: Limits,
}

/// Downloads `plan`'s archive into `partial` and unpacks it into `files`
/// at the same time: the listing, the verified archive, its size.
pub fn download_and_unpack(
    client: &Client<'_>,
    plan: &Plan,
    sha: &Sha256Hash,
    mut partial: fetch::Partial,
    to: Staging<'_>,
    chunks: Chunks,
    tees: Vec<extract::Tee>,
) -> Result<(fetch::Downloaded, extract::Listing, tempfile::NamedTempFile), Error> {
    let Staging {
        cache_dir,
        files,
        limits,
    } = to;
    let want = fetch::Want {
        size: Some(chunks.total),
        dir: Some(cache_dir),
        resume: true,
        ..fetch::Want::new(Expect::Sha256(*sha))
    };
    let (full_tx, full_rx) = channel();
    let (empty_tx, empty_rx) = channel();
    for _ in 1..IN_FLIGHT {
        let _ = empty_tx.send(Vec::with_capacity(chunks.chunk_size as usize));
    }
    let raw_name = &plan.bins[0].archive_path;
    let (done, listing) = std::thread::scope(|scope| {
        let decoder = scope.spawn(move || {
            extract::unpack_stream(
                plan.format,
                &mut ChannelReader::new(full_rx, empty_tx),
                files,
                limits,
                raw_name,
                tees,
            )
        });
        // The tap (and with it the channel's sender) goes when the download
        // returns: the decoder then sees the end of its input.
        let tap = Box::new(ChunkTap::new(chunks, full_tx, empty_rx));
        let done = fetch::download_tapped(
            client,
            &plan.sources,
            &want,
            partial.file_mut(),
            &plan.asset_name,
            Some(tap),
        );
        let listing = decoder.join().expect("the decoder thread does not panic");
        (done, listing)
    });
    let (done, temp) = super::partial::verified_download(done, partial)?;
    Ok((done, listing?, temp))
}

/// Checks each chunk as its last byte is written and hands it on.
struct ChunkTap {
    chunks: Chunks,
    /// The bytes of the chunk being received.
    current: Vec<u8>,
    /// Index of the chunk being received.
    index: usize,
    /// Chunks already handed to the decoder: after a restart they are
    /// checked again but not handed on twice.
    handed: usize,
    to_decoder: Sender<Vec<u8>>,
    /// Buffers the decoder has emptied.
    emptied: Receiver<Vec<u8>>,
    #[cfg(debug_assertions)]
    handoff_log: Option<std::fs::File>,
}

impl ChunkTap {
    fn new(chunks: Chunks, to_decoder: Sender<Vec<u8>>, emptied: Receiver<Vec<u8>>) -> Self {
        ChunkTap {
            current: Vec::with_capacity(chunks.chunk_size as usize),
            chunks,
            index: 0,
            handed: 0,
            to_decoder,
            emptied,
            #[cfg(debug_assertions)]
            handoff_log: crate::env_vars::get(crate::env_vars::POSTBIN_TEST_HANDOFF_LOG).and_then(
                |p| {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)
                        .ok()
                },
            ),
        }
    }

    fn chunk_done(&mut self) -> io::Result<()> {
        let index = self.index;
        let actual = hash_bytes(&self.current);
        let Some(&expected) = self.chunks.digests.get(index) else {
            return Err(io::Error::other("more bytes than the chunk digests cover"));
        };
        if actual != expected {
            return Err(io::Error::other(ChunkMismatch {
                index,
                start: index as u64 * self.chunks.chunk_size,
                expected,
                actual,
            }));
        }
        if index == self.handed {
            self.log_handoff(index, &actual);
            // Waits for the decoder to give a buffer back; one that has
            // stopped (it failed, or the archive ended) gives none, needs no
            // more, and its own result says what happened.
            let next = self.emptied.recv().unwrap_or_default();
            let chunk = std::mem::replace(&mut self.current, next);
            let _ = self.to_decoder.send(chunk);
            self.handed += 1;
        } else {
            self.current.clear();
        }
        self.index += 1;
        Ok(())
    }

    #[cfg(debug_assertions)]
    fn log_handoff(&mut self, index: usize, sha: &Sha256Hash) {
        use std::io::Write;
        if let Some(log) = &mut self.handoff_log {
            let _ = writeln!(log, "{index} {sha}");
        }
    }

    #[cfg(not(debug_assertions))]
    fn log_handoff(&mut self, _index: usize, _sha: &Sha256Hash) {}
}

impl Tap for ChunkTap {
    fn bytes(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let want = self.chunks.len_of(self.index) as usize - self.current.len();
            if want == 0 {
                return Err(io::Error::other("more bytes than the chunk digests cover"));
            }
            let n = want.min(bytes.len());
            self.current.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if n == want {
                self.chunk_done()?;
            }
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.current.clear();
        self.index = 0;
    }

    /// Whole chunks only: a partial chunk kept from an interrupted run
    /// cannot be checked until it is complete, so it is fetched again.
    fn keepable(&self, len: u64) -> u64 {
        len - len % self.chunks.chunk_size
    }
}

/// The decoder's input: the chunks handed over, in order; the end of input
/// when the download side lets go of the channel.
struct ChannelReader {
    from_tap: Receiver<Vec<u8>>,
    emptied: Sender<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl ChannelReader {
    fn new(from_tap: Receiver<Vec<u8>>, emptied: Sender<Vec<u8>>) -> Self {
        ChannelReader {
            from_tap,
            emptied,
            chunk: Vec::new(),
            at: 0,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.from_tap.recv() {
                Ok(chunk) => {
                    let mut used = std::mem::replace(&mut self.chunk, chunk);
                    used.clear();
                    let _ = self.emptied.send(used);
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
