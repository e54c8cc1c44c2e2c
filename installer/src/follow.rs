//! Reading a download's temp file while it is still being written, so a
//! second thread can unpack the archive as it arrives instead of after.
//!
//! The writer `commit`s how many bytes are on disk; a `Follower` reads up to
//! that point and waits for more. A commit that goes backwards (the download
//! restarted from byte 0, or moved to the next source) makes every follower
//! fail with `Restarted`; `finish` ends the stream, complete or not. Nothing
//! read here is trusted: the unpacked tree is used only if the finished
//! download matched its pinned hash and never restarted.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Default)]
pub struct Progress {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    committed: u64,
    restarts: u32,
    finished: bool,
}

impl Progress {
    /// `total` bytes of the download are now written to the file.
    pub fn commit(&self, total: u64) {
        let mut state = self.lock();
        if total < state.committed {
            state.restarts += 1;
        }
        state.committed = total;
        self.changed.notify_all();
    }

    /// The writer is done, successfully or not; followers see the end.
    pub fn finish(&self) {
        self.lock().finished = true;
        self.changed.notify_all();
    }

    /// Whether the download ever went back to an earlier byte.
    pub fn restarted(&self) -> bool {
        self.lock().restarts > 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock means the other thread panicked; its state is
        // still plain numbers, fine to read.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Calls `finish` when dropped, so a follower is never left waiting by a
/// writer that returned early or panicked.
pub struct FinishOnDrop<'a>(pub &'a Progress);

impl Drop for FinishOnDrop<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

pub struct Follower<'a> {
    file: File,
    position: u64,
    progress: &'a Progress,
}

impl<'a> Follower<'a> {
    pub fn open(path: &Path, progress: &'a Progress) -> io::Result<Self> {
        Ok(Self {
            file: File::open(path)?,
            position: 0,
            progress,
        })
    }
}

impl Read for Follower<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = {
            let mut state = self.progress.lock();
            loop {
                if state.restarts > 0 {
                    return Err(io::Error::other("the download restarted"));
                }
                if state.committed > self.position || state.finished {
                    break state.committed;
                }
                state = self
                    .progress
                    .changed
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
        };
        if available <= self.position || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min((available - self.position) as usize);
        let n = self.file.read(&mut buf[..want])?;
        self.position += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn follows_a_file_as_it_grows_and_ends_at_finish() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("download");
        let mut file = File::create(&path).unwrap();
        let progress = Progress::default();
        let read = std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                let mut out = Vec::new();
                Follower::open(&path, &progress)
                    .unwrap()
                    .read_to_end(&mut out)
                    .map(|_| out)
            });
            let mut total = 0;
            for chunk in [&b"hello "[..], b"growing ", b"file"] {
                file.write_all(chunk).unwrap();
                total += chunk.len() as u64;
                progress.commit(total);
                std::thread::yield_now();
            }
            progress.finish();
            reader.join().unwrap()
        });
        assert_eq!(read.unwrap(), b"hello growing file");
        assert!(!progress.restarted());
    }

    #[test]
    fn a_restart_fails_the_follower() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("download");
        std::fs::write(&path, b"first attempt").unwrap();
        let progress = Progress::default();
        progress.commit(13);
        let mut follower = Follower::open(&path, &progress).unwrap();
        let mut buf = [0u8; 5];
        assert_eq!(follower.read(&mut buf).unwrap(), 5);
        progress.commit(0);
        assert!(follower.read(&mut buf).is_err());
        assert!(progress.restarted());
    }

    #[test]
    fn finish_without_data_is_end_of_stream_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("download");
        std::fs::write(&path, b"").unwrap();
        let progress = Progress::default();
        {
            let _guard = FinishOnDrop(&progress);
        }
        let mut out = Vec::new();
        Follower::open(&path, &progress)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert!(out.is_empty());
    }
}
