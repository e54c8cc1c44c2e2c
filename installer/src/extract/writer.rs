//! The second core: unpacked file contents are hashed and written on a writer
//! thread while the caller's thread decompresses the next bytes. Inflating
//! and SHA-256 cost about the same per byte; on two threads an unpack takes
//! the time of the slower, not of both.
//!
//! Files are handled strictly in order: `open`, any number of `data`, `close`.
//! A fixed set of buffers circulates between the threads, so memory stays
//! bounded (and musl's allocator is not asked for 256 KiB per chunk).

use crate::hash::{HashingWriter, Sha256Hash};
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

/// Bytes per buffer.
pub(super) const CHUNK: usize = 256 * 1024;
/// Buffers in circulation: enough for the writer to absorb a burst while
/// the decompressor works ahead.
const BUFFERS: usize = 4;

enum Job {
    Open(File, PathBuf),
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

    pub fn open(&self, file: File, path: PathBuf) -> io::Result<()> {
        self.send(Job::Open(file, path))
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
    // The open file, its path, and the first write error (later data for a
    // failed file is dropped; the error is reported at close).
    let mut current: Option<(HashingWriter<File>, PathBuf, Option<io::Error>)> = None;
    for job in jobs {
        match job {
            Job::Open(file, path) => current = Some((HashingWriter::new(file), path, None)),
            Job::Data(buf) => {
                if let Some((out, _, error @ None)) = current.as_mut()
                    && let Err(e) = out.write_all(&buf)
                {
                    *error = Some(e);
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
                if done.send(Written { path, result }).is_err() {
                    return;
                }
            }
        }
    }
}
