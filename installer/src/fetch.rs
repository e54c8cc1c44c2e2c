//! Downloads one asset into a file while hashing it: each source in order
//! (mirrors, else the origin), each with bounded retries for what is
//! retryable, resuming with `Range` when the server answers 206 and restarting
//! when it does not. The caller gets bytes whose SHA-256 matched, or an error
//! listing every attempt.

use crate::hash::{HashingWriter, Sha256Hash};
use crate::net::{self, Client, url::file_url_to_path, url::redact};
use crate::plan::Source;
use crate::progress::Progress;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::time::Duration;

/// One failed try, for the final message.
#[derive(Debug)]
pub struct Attempt {
    pub url: String,
    pub error: String,
}

#[derive(Debug)]
pub enum Error {
    Net(net::Error),
    /// The bytes arrived but are not the pinned ones.
    ChecksumMismatch {
        url: String,
        expected: Sha256Hash,
        actual: Sha256Hash,
        size: u64,
    },
    LocalFile {
        path: std::path::PathBuf,
        source: io::Error,
    },
    /// Writing our own temp file failed (disk full, permissions).
    Write {
        source: io::Error,
    },
    /// Several attempts failed; `last` is the final one.
    Exhausted {
        attempts: Vec<Attempt>,
        last: Box<Error>,
    },
}

impl Error {
    /// Whether the final attempt found no file at a `file://` mirror (an
    /// offline install's equivalent of a cache miss).
    pub fn is_missing_local_file(&self) -> bool {
        match self {
            Error::LocalFile { source, .. } => source.kind() == io::ErrorKind::NotFound,
            Error::Exhausted { last, .. } => last.is_missing_local_file(),
            _ => false,
        }
    }

    /// Whether the TLS configuration itself (a CA file, the `ca` setting)
    /// could not be used: a configuration error, whichever source it hit.
    pub fn is_tls_setup(&self) -> bool {
        match self {
            Error::Net(net::Error::TlsSetup(_)) => true,
            Error::Exhausted { last, .. } => last.is_tls_setup(),
            _ => false,
        }
    }

    /// Whether any attempt saw bytes that did not match the pinned hash.
    pub fn is_integrity_failure(&self) -> bool {
        match self {
            Error::ChecksumMismatch { .. } => true,
            Error::Exhausted { attempts, last } => {
                last.is_integrity_failure()
                    || attempts
                        .iter()
                        .any(|a| a.error.contains("SHA-256 mismatch"))
            }
            _ => false,
        }
    }

    fn is_retryable(&self) -> bool {
        match self {
            Error::Net(e) => e.is_retryable(),
            _ => false,
        }
    }

    pub fn is_offline(&self) -> bool {
        match self {
            Error::Net(net::Error::Offline { .. }) => true,
            Error::Exhausted { last, .. } => last.is_offline(),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Net(e) => write!(f, "{e}"),
            Error::ChecksumMismatch {
                url,
                expected,
                actual,
                size,
            } => write!(
                f,
                "SHA-256 mismatch for {url}: expected {expected}, got {actual} ({size} bytes). \
                 The file is not the one the publisher pinned (a stale mirror, a tampered download, \
                 or a release re-uploaded after pinning); nothing was installed"
            ),
            Error::LocalFile { path, .. } => write!(f, "cannot read {}", path.display()),
            Error::Write { .. } => write!(
                f,
                "cannot write the download to the cache (is the disk full?)"
            ),
            // Each attempt on its own line, causes included; the last one
            // carries the advice. Nothing is repeated after the list.
            Error::Exhausted { attempts, .. } => {
                write!(f, "download failed after {} attempts:", attempts.len())?;
                for (i, a) in attempts.iter().enumerate() {
                    if a.error.contains(&a.url) {
                        write!(f, "\n  {}. {}", i + 1, a.error)?;
                    } else {
                        write!(f, "\n  {}. {}: {}", i + 1, a.url, a.error)?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Net(e) => e.source(),
            Error::LocalFile { source, .. } | Error::Write { source } => Some(source),
            // The attempt lines already hold every cause.
            Error::Exhausted { .. } | Error::ChecksumMismatch { .. } => None,
        }
    }
}

impl From<net::Error> for Error {
    fn from(e: net::Error) -> Self {
        Error::Net(e)
    }
}

#[derive(Debug)]
pub struct Downloaded {
    pub url: String,
    pub size: u64,
    pub sha256: Sha256Hash,
}

/// What to expect of the bytes.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    Sha256(Sha256Hash),
    /// No hash known yet (`postbin pin --download`): the caller hashes what came.
    Anything,
}

/// Downloads into `file` (truncated first), trying `sources` in order.
pub fn download(
    client: &Client<'_>,
    sources: &[Source],
    expect: Expect,
    file: &mut File,
    label: &str,
) -> Result<Downloaded, Error> {
    let mut attempts = Vec::new();
    let mut last = None;
    for source in sources {
        match try_source(client, source, expect, file, label, &mut attempts) {
            Ok(done) => return Ok(done),
            Err(e) => last = Some(e),
        }
    }
    let last = last.expect("at least one source is always planned");
    if attempts.len() == 1 {
        return Err(last);
    }
    Err(Error::Exhausted {
        attempts,
        last: Box::new(last),
    })
}

/// All attempts at one source; each failure is recorded in `attempts`.
fn try_source(
    client: &Client<'_>,
    source: &Source,
    expect: Expect,
    file: &mut File,
    label: &str,
    attempts: &mut Vec<Attempt>,
) -> Result<Downloaded, Error> {
    let retries = client.settings().retries;
    let url = redact(&source.url);
    let mut sink = HashingWriter::new(file);
    restart(&mut sink)?;
    let mut attempt = 0;
    loop {
        let result = match file_url_to_path(&source.url) {
            Some(path) => copy_local(&path, &mut sink),
            None => fetch_remote(client, source, &mut sink, label),
        };
        let error = match result {
            Ok(()) => {
                sink.flush().map_err(|source| Error::Write { source })?;
                let (_, actual, size) = sink.finish();
                let error = match expect {
                    Expect::Sha256(expected) if expected != actual => Error::ChecksumMismatch {
                        url: url.clone(),
                        expected,
                        actual,
                        size,
                    },
                    _ => {
                        return Ok(Downloaded {
                            url,
                            size,
                            sha256: actual,
                        });
                    }
                };
                attempts.push(Attempt {
                    url,
                    error: one_line(&error),
                });
                return Err(error);
            }
            Err(e) => e,
        };
        crate::debug!("attempt {} at {url} failed: {error}", attempt + 1);
        attempts.push(Attempt {
            url: url.clone(),
            error: one_line(&error),
        });
        if !error.is_retryable() || attempt >= retries {
            return Err(error);
        }
        let wait = backoff(attempt, error_retry_after(&error));
        crate::debug!("retrying in {:.1}s", wait.as_secs_f32());
        std::thread::sleep(wait);
        attempt += 1;
    }
}

/// One GET, resuming from what `sink` already holds when the server allows.
fn fetch_remote(
    client: &Client<'_>,
    source: &Source,
    sink: &mut HashingWriter<&mut File>,
    label: &str,
) -> Result<(), Error> {
    let have = sink.written();
    let response = client.request(
        &source.url,
        source.explicit,
        (have > 0).then_some(have),
        false,
    )?;
    let url = response.url.to_string();
    if have > 0 {
        if response.status == 206 && response.range_start == Some(have) {
            crate::debug!("resuming {url} at byte {have}");
        } else if response.status == 206 {
            // Bytes from elsewhere in the file: neither appendable nor a
            // whole file. Start over on the next attempt.
            restart(sink)?;
            return Err(Error::Net(net::Error::Transfer {
                url,
                source: io::Error::other(format!(
                    "asked to resume at byte {have}, got a range starting at {:?}",
                    response.range_start
                )),
            }));
        } else {
            crate::debug!("{url} ignored the Range request; restarting from byte 0");
            restart(sink)?;
        }
    }
    let total = response.content_length.map(|len| len + sink.written());
    let mut progress = Progress::new(label, total);
    progress.update(sink.written());
    let stall = client.settings().stall_timeout;
    let mut reader = response.body.into_reader();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                progress.finish();
                return Err(body_error(e, &url, stall));
            }
        };
        sink.write_all(&buf[..n])
            .map_err(|source| Error::Write { source })?;
        progress.update(sink.written());
    }
    progress.finish();
    Ok(())
}

fn body_error(e: io::Error, url: &str, stall: Duration) -> Error {
    let timed_out = e.kind() == io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|i| i.downcast_ref::<ureq::Error>())
            .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
    if timed_out {
        Error::Net(net::Error::Stalled {
            url: url.to_string(),
            after: stall,
        })
    } else {
        Error::Net(net::Error::Transfer {
            url: url.to_string(),
            source: e,
        })
    }
}

fn copy_local(path: &std::path::Path, sink: &mut HashingWriter<&mut File>) -> Result<(), Error> {
    let local = |source| Error::LocalFile {
        path: path.to_path_buf(),
        source,
    };
    let mut src = File::open(path).map_err(local)?;
    io::copy(&mut src, sink).map_err(|e| {
        // Distinguish our write failing from the mirror's read failing.
        if e.kind() == io::ErrorKind::StorageFull {
            Error::Write { source: e }
        } else {
            local(e)
        }
    })?;
    Ok(())
}

fn restart(sink: &mut HashingWriter<&mut File>) -> Result<(), Error> {
    let file = sink.get_mut();
    // Only when there is something to drop: ext4 marks a file truncated to
    // zero for a full flush on close (replace-via-truncate), which costs
    // ~100 ms per 100 MiB downloaded after it.
    let len = file
        .metadata()
        .map_err(|source| Error::Write { source })?
        .len();
    if len > 0 {
        file.set_len(0).map_err(|source| Error::Write { source })?;
    }
    file.rewind().map_err(|source| Error::Write { source })?;
    sink.reset();
    Ok(())
}

fn error_retry_after(e: &Error) -> Option<Duration> {
    match e {
        Error::Net(n) => n.retry_after(),
        _ => None,
    }
}

/// Cap on how long a server's `Retry-After` can make postbin wait.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Exponential backoff from 500 ms, capped at 8 s, with ±25% jitter so that
/// many installs behind one NAT do not retry in lockstep; `Retry-After` wins
/// up to `MAX_RETRY_AFTER`.
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(MAX_RETRY_AFTER);
    }
    let base = Duration::from_millis(500)
        .saturating_mul(1 << attempt.min(4))
        .min(Duration::from_secs(8));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = 0.75 + (nanos % 1000) as f64 / 2000.0;
    base.mul_f64(jitter)
}

fn one_line(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        let a0 = backoff(0, None);
        let a3 = backoff(3, None);
        assert!(
            a0 >= Duration::from_millis(375) && a0 <= Duration::from_millis(625),
            "{a0:?}"
        );
        assert!(
            a3 >= Duration::from_secs(3) && a3 <= Duration::from_secs(5),
            "{a3:?}"
        );
        assert!(backoff(30, None) <= Duration::from_secs(10));
        assert_eq!(
            backoff(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(backoff(0, Some(Duration::from_secs(3600))), MAX_RETRY_AFTER);
    }
}
