//! Renames and deletes that Windows refuses for a moment, retried.
//!
//! On Windows a file that another process holds open without
//! `FILE_SHARE_DELETE` cannot be renamed or deleted: antivirus scanners and
//! the search indexer open every new file for a moment, which is the
//! well-known `EPERM`/`EBUSY` of npm installs on Windows. Those failures
//! (access denied, sharing violation, lock violation) are retried with a
//! short backoff, about 1.3 s at most in all. Other hosts have no such
//! failures: there every helper makes exactly one attempt.
//!
//! Every rename and delete of the installer in the cache and in the package
//! goes through here, except best-effort sweeps (which try once: a file in
//! use is simply left for the next run).

use std::io;
use std::path::Path;
use std::time::Duration;

/// How often and how patiently a failing operation is retried.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The pause after the first failure; each later pause doubles...
    pub first_delay: Duration,
    /// ...up to this.
    pub max_delay: Duration,
}

/// Windows: 10 attempts, pauses 10, 20, 40, 80, 160 ms then 250 ms:
/// 1.31 s of waiting at most. A scanner holds a file for milliseconds to
/// tens of milliseconds; a file still busy after that is held for good (a
/// running program), and the caller must do something else or fail.
pub const WINDOWS: Policy = Policy {
    attempts: 10,
    first_delay: Duration::from_millis(10),
    max_delay: Duration::from_millis(250),
};

impl Policy {
    /// The pauses between attempts, in order (one fewer than the attempts).
    fn delays(&self) -> impl Iterator<Item = Duration> + '_ {
        (0..self.attempts.saturating_sub(1)).map(|i| {
            self.first_delay
                .saturating_mul(1u32 << i.min(16))
                .min(self.max_delay)
        })
    }
}

/// The Windows errors that mean "someone else has the file open right now":
/// ERROR_ACCESS_DENIED (5; also what deleting a file that is pending deletion
/// or renaming a directory with an open file inside gives),
/// ERROR_SHARING_VIOLATION (32) and ERROR_LOCK_VIOLATION (33).
pub fn is_busy_on_windows(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(5 | 32 | 33))
}

/// What a message says of a file that is busy (`is_busy`).
pub const HELD_OPEN: &str = "another program keeps it open (a virus scanner?)";

/// Whether `error` is a transient "file in use" failure on this host.
pub fn is_busy(error: &io::Error) -> bool {
    cfg!(windows) && is_busy_on_windows(error)
}

/// Runs `op` until it succeeds, fails with an error `busy` does not accept,
/// or the policy's attempts are used up (the last error is returned).
/// `sleep` is injected so that tests run without waiting.
fn retry_with<T>(
    policy: &Policy,
    busy: &dyn Fn(&io::Error) -> bool,
    sleep: &mut dyn FnMut(Duration),
    mut op: impl FnMut() -> io::Result<T>,
) -> io::Result<T> {
    let mut delays = policy.delays();
    loop {
        match op() {
            Err(e) if busy(&e) => match delays.next() {
                Some(delay) => sleep(delay),
                None => return Err(e),
            },
            result => return result,
        }
    }
}

/// `op`, retried on this host's transient failures (only on Windows).
pub fn retry<T>(op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    if cfg!(windows) {
        retry_with(&WINDOWS, &is_busy_on_windows, &mut std::thread::sleep, op)
    } else {
        let mut op = op;
        op()
    }
}

pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    retry(|| std::fs::rename(from, to))
}

pub fn remove_file(path: &Path) -> io::Result<()> {
    retry(|| std::fs::remove_file(path))
}

pub fn remove_dir_all(path: &Path) -> io::Result<()> {
    retry(|| std::fs::remove_dir_all(path))
}

/// Removes `path`, a directory or a file.
pub fn remove_any(path: &Path) -> io::Result<()> {
    retry(|| std::fs::remove_dir_all(path).or_else(|_| std::fs::remove_file(path)))
}

/// Renames a temp file onto `dest` (replacing it), retried. tempfile's own
/// `persist`, not `fs::rename`: on Windows it also clears the "temporary"
/// attribute it created the file with. On failure the temp file is deleted.
pub fn persist<F>(temp: tempfile::NamedTempFile<F>, dest: &Path) -> io::Result<()> {
    let mut slot = Some(temp);
    retry(|| {
        let temp = slot.take().expect("put back after every failure");
        temp.persist(dest).map(drop).map_err(|e| {
            slot = Some(e.file);
            e.error
        })
    })
}

/// Writes `bytes` as `dest` through a temp file made in `temp_dir` (on the
/// same file system) and renamed over `dest`: a reader sees the old file or
/// the new one, never half of one, and a crash leaves at most a temp file.
pub fn write_atomically(dest: &Path, temp_dir: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut temp = tempfile::Builder::new()
        .prefix(".postbin-")
        .tempfile_in(temp_dir)?;
    io::Write::write_all(&mut temp, bytes)?;
    persist(temp, dest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn sharing_violation() -> io::Error {
        io::Error::from_raw_os_error(32)
    }

    /// Runs `retry_with` (Windows policy) over an operation that fails
    /// `failures` times with `error`, then succeeds. Returns the result,
    /// how many times the operation ran and the pauses requested.
    fn run(failures: u32, error: fn() -> io::Error) -> (io::Result<u32>, u32, Vec<Duration>) {
        let calls = Cell::new(0);
        let mut slept = Vec::new();
        let result = retry_with(
            &WINDOWS,
            &is_busy_on_windows,
            &mut |d| slept.push(d),
            || {
                calls.set(calls.get() + 1);
                if calls.get() <= failures {
                    Err(error())
                } else {
                    Ok(calls.get())
                }
            },
        );
        (result, calls.get(), slept)
    }

    #[test]
    fn a_briefly_busy_file_is_retried_with_growing_pauses() {
        let (result, calls, slept) = run(3, sharing_violation);
        assert_eq!(result.unwrap(), 4);
        assert_eq!(calls, 4);
        let ms: Vec<u128> = slept.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [10, 20, 40]);
    }

    #[test]
    fn a_file_busy_for_good_fails_after_the_budget_with_its_error() {
        let (result, calls, slept) = run(u32::MAX, || io::Error::from_raw_os_error(5));
        assert_eq!(result.unwrap_err().raw_os_error(), Some(5));
        assert_eq!(calls, WINDOWS.attempts);
        let total: Duration = slept.iter().sum();
        assert_eq!(total, Duration::from_millis(1310));
        assert!(slept.iter().all(|d| *d <= WINDOWS.max_delay));
    }

    #[test]
    fn other_errors_are_not_retried() {
        let (result, calls, slept) = run(1, || io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!((calls, slept.len()), (1, 0));
    }

    #[test]
    fn busy_codes_are_access_denied_sharing_and_lock_violations() {
        for (code, busy) in [(5, true), (32, true), (33, true), (2, false), (183, false)] {
            let e = io::Error::from_raw_os_error(code);
            assert_eq!(is_busy_on_windows(&e), busy, "{code}");
        }
        assert!(!is_busy_on_windows(&io::Error::other("x")));
    }

    #[test]
    fn without_windows_one_attempt_is_made() {
        let calls = Cell::new(0);
        let result: io::Result<()> = retry(|| {
            calls.set(calls.get() + 1);
            Err(sharing_violation())
        });
        assert!(result.is_err());
        let expected = if cfg!(windows) { WINDOWS.attempts } else { 1 };
        assert_eq!(calls.get(), expected);
    }

    #[test]
    fn persist_replaces_the_destination_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("dest");
        std::fs::write(&dest, b"old").unwrap();
        let mut temp = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
        io::Write::write_all(&mut temp, b"new").unwrap();
        persist(temp, &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
