//! The second core: unpacked file contents are hashed and written on a writer
//! thread while the caller's thread decompresses the next bytes. Inflating
//! and SHA-256 cost about the same per byte; on two threads an unpack takes
//! the time of the slower, not of both.
//!
//! Files are handled strictly in order: `open`, any number of `data`, `close`.
//! A fixed set of buffers circulates between the threads, so memory stays
//! bounded (and musl's allocator is not asked for 256 KiB per chunk).
//!
//! A file may have a `Tee`: a second file that gets the same bytes, so the
//! package's copy of an executable is written while the archive unpacks (on
//! a network install, while the download goes on) instead of copied out of
//! the cache after it.

use crate::hash::{HashingWriter, Sha256Hash};
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

/// Bytes per buffer.
pub(super) const CHUNK: usize = 256 * 1024;
/// Buffers in circulation: enough for the writer to absorb a burst while
/// the decompressor works ahead.
const BUFFERS: usize = 4;

/// A second file for one entry's bytes (`link::Precopies` makes them).
/// A tee is best effort: if writing it fails, or the entry never comes (the
/// archive has a link at that path), `complete` stays false and the caller
/// copies the file as it would have without one. The unpack itself never
/// fails because of a tee.
pub struct Tee {
    /// The entry it copies, as a listing key (`bin.archive_path`).
    pub archive_path: String,
    pub file: File,
    /// Set once every byte of the entry is in `file` and `file` is closed.
    pub complete: Arc<AtomicBool>,
}

enum Job {
    Open(File, PathBuf, Option<Tee>),
    Data(Vec<u8>),
    Close,
}

/// What became of one file: its hash and size, or the write error.
pub(super) struct Written {
    pub path: PathBuf,
    pub result: io::Result<(Sha256Hash, u64)>,
}

pub(super) struct Writer {
    jobs: Option<SyncSender<Job>>,
    free: Receiver<Vec<u8>>,
    done: Receiver<Written>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub fn start() -> io::Result<Self> {
        let (jobs_tx, jobs_rx) = sync_channel(BUFFERS + 2);
        let (free_tx, free_rx) = channel();
        let (done_tx, done_rx) = channel();
        for _ in 0..BUFFERS {
            let _ = free_tx.send(vec![0u8; CHUNK]);
        }
        let thread = std::thread::Builder::new()
            .name("postbin-writer".into())
            .spawn(move || run(jobs_rx, free_tx, done_tx))?;
        Ok(Self {
            jobs: Some(jobs_tx),
            free: free_rx,
            done: done_rx,
            thread: Some(thread),
        })
    }

    /// A buffer of `CHUNK` bytes to fill; waits while the writer is behind.
    pub fn buffer(&self) -> io::Result<Vec<u8>> {
        let mut buf = self.free.recv().map_err(|_| stopped())?;
        buf.resize(CHUNK, 0);
        Ok(buf)
    }

    pub fn open(&self, file: File, path: PathBuf, tee: Option<Tee>) -> io::Result<()> {
        self.send(Job::Open(file, path, tee))
    }

    /// Hands over a filled buffer (truncated to the bytes read).
    pub fn data(&self, buf: Vec<u8>) -> io::Result<()> {
        self.send(Job::Data(buf))
    }

    pub fn close(&self) -> io::Result<()> {
        self.send(Job::Close)
    }

    /// The next finished file, in order; `None` if `wait` is false and the
    /// writer has not finished one yet.
    pub fn next_written(&self, wait: bool) -> io::Result<Option<Written>> {
        if wait {
            return self.done.recv().map(Some).map_err(|_| stopped());
        }
        match self.done.try_recv() {
            Ok(w) => Ok(Some(w)),
            Err(std::sync::mpsc::TryRecvError::Empty) => Ok(None),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(stopped()),
        }
    }

    fn send(&self, job: Job) -> io::Result<()> {
        self.jobs
            .as_ref()
            .expect("jobs is only taken on drop")
            .send(job)
            .map_err(|_| stopped())
    }
}

impl Drop for Writer {
    /// Closing the job queue ends the thread; joining it means every file it
    /// held is closed before the caller removes or publishes the tree.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn stopped() -> io::Error {
    io::Error::other("the writer thread stopped unexpectedly")
}

fn run(jobs: Receiver<Job>, free: Sender<Vec<u8>>, done: Sender<Written>) {
    // The open file, its path, the first write error (later data for a
    // failed file is dropped; the error is reported at close), and its tee.
    let mut current: Option<(HashingWriter<File>, PathBuf, Option<io::Error>)> = None;
    let mut tee: Option<Tee> = None;
    for job in jobs {
        match job {
            Job::Open(file, path, its_tee) => {
                current = Some((HashingWriter::new(file), path, None));
                tee = its_tee;
            }
            Job::Data(buf) => {
                if let Some((out, _, error @ None)) = current.as_mut()
                    && let Err(e) = out.write_all(&buf)
                {
                    *error = Some(e);
                }
                if let Some(t) = &mut tee
                    && let Err(e) = t.file.write_all(&buf)
                {
                    crate::debug!(
                        "cannot write the copy of {}: {e}; copying it later",
                        t.archive_path
                    );
                    tee = None;
                }
                let _ = free.send(buf);
            }
            Job::Close => {
                let Some((out, path, error)) = current.take() else {
                    continue;
                };
                let result = match error {
                    Some(e) => Err(e),
                    None => {
                        let (_, sha, size) = out.finish();
                        Ok((sha, size))
                    }
                };
                if let Some(Tee { file, complete, .. }) = tee.take() {
                    // Closed before it is called complete: the caller renames
                    // it into place, and it must not be open for writing then.
                    drop(file);
                    complete.store(result.is_ok(), Ordering::Release);
                }
                if done.send(Written { path, result }).is_err() {
                    return;
                }
            }
        }
    }
}
