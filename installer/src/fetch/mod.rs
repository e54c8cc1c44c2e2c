//! Downloads one asset into a file while hashing it: each source in order
//! (mirrors, else the origin), each with bounded retries for what is
//! retryable, resuming with `Range` when the server answers 206 and restarting
//! when it does not. A file that already holds a prefix (a partial kept from
//! an interrupted run) is re-hashed and continued the same way. Downloads
//! never run past the pinned size (or, unpinned, `POSTBIN_MAX_DOWNLOAD_SIZE`),
//! and a `Content-Length` that contradicts the pinned size, or the free space,
//! stops them before a byte is written. The caller gets bytes whose SHA-256
//! matched, or an error listing every attempt, each kind of advice once.

mod error;
mod free_space;
mod partial;
mod resume;
mod retry;
mod small;
mod wrapped;

pub use error::{Attempt, Error};
pub use free_space::free_space;
pub use partial::Partial;
use resume::{absorb_prefix, request_rest, restart};
pub use retry::backoff;
use retry::error_retry_after;
pub use small::{is_too_large, small_file};

use crate::hash::{HashingWriter, Sha256Hash};
use crate::net::{self, Client};
use crate::plan::Source;
use crate::progress::Progress;
use crate::url::Url;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

#[derive(Debug)]
pub struct Downloaded {
    pub url: Url,
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

/// What the caller knows and wants of one download.
#[derive(Clone, Copy, Debug)]
pub struct Want<'a> {
    pub expect: Expect,
    /// The pinned size, if any: `Content-Length` must match, and the body
    /// is never read past it.
    pub size: Option<u64>,
    /// The directory the file is in, named in messages: its free space is
    /// checked against `Content-Length` before writing.
    pub dir: Option<&'a Path>,
    /// The file may hold a prefix of this asset, kept from an interrupted
    /// run: re-hash it and continue after it (`Range`) rather than drop it.
    pub resume: bool,
    /// With no pinned size: a cap below `POSTBIN_MAX_DOWNLOAD_SIZE` (a
    /// checksums file or manifest is never hundreds of MB).
    pub max: Option<u64>,
}

impl Want<'_> {
    pub fn new(expect: Expect) -> Self {
        Want {
            expect,
            size: None,
            dir: None,
            resume: false,
            max: None,
        }
    }
}

/// Why `try_source` gave up.
enum Stop {
    /// This source failed; the next one may do better.
    Next,
    /// Our side failed (disk full): no source can help.
    Fatal,
}

/// Downloads into `file`, trying `sources` in order. `file` is truncated
/// first unless `want.resume`, when a prefix it holds is continued.
pub fn download(
    client: &Client<'_>,
    sources: &[Source],
    want: &Want<'_>,
    file: &mut File,
    label: &str,
) -> Result<Downloaded, Error> {
    download_tapped(client, sources, want, file, label, None)
}

/// `download`, with every byte also shown to `tap` (`hash::Tap`) as it is
/// written; a chunk the tap refuses fails that source like a hash mismatch.
pub fn download_tapped(
    client: &Client<'_>,
    sources: &[Source],
    want: &Want<'_>,
    file: &mut File,
    label: &str,
    tap: Option<Box<dyn crate::hash::Tap>>,
) -> Result<Downloaded, Error> {
    let mut attempts = Vec::new();
    let mut sink = HashingWriter::with_tap(file, tap);
    let limit = download_limit(client, want);
    if want.resume {
        absorb_prefix(&mut sink, limit)?;
    } else {
        restart(&mut sink)?;
    }
    for (i, source) in sources.iter().enumerate() {
        let more_sources = i + 1 < sources.len();
        if matches!(want.expect, Expect::Anything) {
            // Nothing to verify against: every byte must come from one source.
            restart(&mut sink)?;
        }
        match try_source(
            client,
            source,
            want,
            &mut sink,
            label,
            more_sources,
            &mut attempts,
        ) {
            Ok(done) => return Ok(done),
            Err(Stop::Next) => {}
            Err(Stop::Fatal) => break,
        }
    }
    let mut attempts = attempts;
    if attempts.len() == 1 {
        return Err(attempts.pop().expect("one attempt").error);
    }
    Err(Error::Exhausted { attempts })
}

/// All attempts at one source; each failure is recorded in `attempts`.
fn try_source(
    client: &Client<'_>,
    source: &Source,
    want: &Want<'_>,
    sink: &mut HashingWriter<&mut File>,
    label: &str,
    more_sources: bool,
    attempts: &mut Vec<Attempt>,
) -> Result<Downloaded, Stop> {
    let retries = client.settings().retries;
    let url = &source.url;
    // Bytes this source did not send (a kept partial, another source's
    // prefix): a mismatch may be theirs, so it earns one clean try here.
    let mut foreign_prefix = sink.written() > 0;
    let mut attempt = 0;
    loop {
        let error = match attempt_once(client, source, want, sink, label) {
            Ok(done) => return Ok(done),
            Err(e) => e,
        };
        crate::debug!("attempt {} at {url} failed: {error}", attempt + 1);
        // A host that cannot be reached at all (a firewall that lets only
        // the npm registry through) is not waited on while other sources
        // remain; retries are for the last one.
        let then = if more_sources && error.is_unreachable() {
            Then::Stop(Stop::Next)
        } else {
            after_failure(&error, sink, &mut foreign_prefix, attempt, retries, url)
        };
        attempts.push(Attempt {
            url: url.clone(),
            error,
        });
        match then {
            Then::Stop(stop) => return Err(stop),
            Then::FromByteZero => {}
            Then::Retry(wait) => {
                crate::debug!("retrying in {:.1}s", wait.as_secs_f32());
                std::thread::sleep(wait);
                attempt += 1;
            }
        }
    }
}

/// Fetches (or copies) the whole asset from `source` once and verifies it.
fn attempt_once(
    client: &Client<'_>,
    source: &Source,
    want: &Want<'_>,
    sink: &mut HashingWriter<&mut File>,
    label: &str,
) -> Result<Downloaded, Error> {
    let result = match (&source.wrapped, source.url.to_file_path()) {
        (Some(wrapped), _) => wrapped::fetch(client, source, wrapped, want, sink, label),
        (None, Some(path)) => copy_local(&path, source, want, sink),
        (None, None) => fetch_remote(client, source, want, sink, label),
    };
    result.and_then(|()| verify(sink, want, &source.url))
}

/// What `try_source` does after a failed attempt.
enum Then {
    Stop(Stop),
    /// Again at once, not counted as a retry: the bytes kept were not this
    /// source's, so the mismatch may not be its fault.
    FromByteZero,
    /// Again after this wait, as retry number `attempt + 1`.
    Retry(Duration),
}

/// Decides what follows `error`, the failure of try number `attempt + 1`,
/// and drops the bytes in `sink` when they can be of no further use.
fn after_failure(
    error: &Error,
    sink: &mut HashingWriter<&mut File>,
    foreign_prefix: &mut bool,
    attempt: u32,
    retries: u32,
    url: &Url,
) -> Then {
    if matches!(error, Error::Write { .. } | Error::NoSpace { .. }) {
        return Then::Stop(Stop::Fatal);
    }
    let mismatch = matches!(
        error,
        Error::ChecksumMismatch { .. } | Error::ChunkMismatch { .. }
    );
    if mismatch || matches!(error, Error::TooLarge { .. }) {
        // These bytes are worthless to any source.
        if restart(sink).is_err() {
            return Then::Stop(Stop::Fatal);
        }
        if mismatch && *foreign_prefix {
            crate::debug!("the kept prefix did not match; downloading {url} from byte 0");
            *foreign_prefix = false;
            return Then::FromByteZero;
        }
        return Then::Stop(Stop::Next);
    }
    if !error.is_retryable() || attempt >= retries {
        return Then::Stop(Stop::Next);
    }
    Then::Retry(backoff(attempt, error_retry_after(error)))
}

/// Checks the complete bytes against the pinned hash.
fn verify(
    sink: &mut HashingWriter<&mut File>,
    want: &Want<'_>,
    url: &Url,
) -> Result<Downloaded, Error> {
    sink.flush().map_err(|source| Error::Write { source })?;
    let actual = sink.digest();
    let size = sink.written();
    match want.expect {
        Expect::Sha256(expected) if expected != actual => Err(Error::ChecksumMismatch {
            url: Box::new(url.clone()),
            expected,
            actual,
            size,
        }),
        _ => Ok(Downloaded {
            url: url.clone(),
            size,
            sha256: actual,
        }),
    }
}

/// The sizes a response announces, checked before a byte is written: the
/// pinned size, the cap, the free space.
fn check_announced(
    client: &Client<'_>,
    want: &Want<'_>,
    url: &Url,
    total: u64,
    have: u64,
) -> Result<(), Error> {
    match want.size {
        Some(pinned) if total != pinned => {
            return Err(Error::SizeMismatch {
                url: Box::new(url.clone()),
                pinned,
                announced: total,
            });
        }
        None if total > download_limit(client, want) => {
            return Err(Error::TooLarge {
                url: Box::new(url.clone()),
                limit: download_limit(client, want),
                pinned: false,
            });
        }
        _ => {}
    }
    if let Some(dir) = want.dir {
        let needed = total.saturating_sub(have);
        if let Some(available) = free_space(dir)
            && available < needed
        {
            return Err(Error::NoSpace {
                dir: dir.to_path_buf(),
                needed,
                available,
            });
        }
    }
    Ok(())
}

/// One GET, resuming from what `sink` already holds when the server allows.
fn fetch_remote(
    client: &Client<'_>,
    source: &Source,
    want: &Want<'_>,
    sink: &mut HashingWriter<&mut File>,
    label: &str,
) -> Result<(), Error> {
    let have = sink.written();
    if have > 0 && want.size == Some(have) {
        // The whole file is already here (killed before it was published):
        // nothing to ask for, only to verify.
        return Ok(());
    }
    if have >= download_limit(client, want) {
        restart(sink)?;
    }
    let response = request_rest(client, source, sink)?;
    // Saturating: a hostile Content-Length near u64::MAX must not overflow;
    // it then fails the size checks below.
    let total = response
        .content_length
        .map(|len| len.saturating_add(sink.written()));
    if let Some(total) = total {
        check_announced(client, want, &response.url, total, sink.written())?;
    }
    receive(client, want, response, total, sink, label)
}

/// The most bytes a download of `want` may take: its pinned size, else the
/// cap on downloads of unknown size (the caller's own, if lower).
fn download_limit(client: &Client<'_>, want: &Want<'_>) -> u64 {
    let cap = client.settings().max_download_size;
    want.size
        .unwrap_or(want.max.map_or(cap, |max| max.min(cap)))
}

/// Streams the body into `sink` under a progress bar, stopping the moment
/// it would run past the download's limit: a server may send more than it
/// announced, or announce nothing.
fn receive(
    client: &Client<'_>,
    want: &Want<'_>,
    response: net::Response,
    total: Option<u64>,
    sink: &mut HashingWriter<&mut File>,
    label: &str,
) -> Result<(), Error> {
    let limit = download_limit(client, want);
    let url = response.url;
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
        if sink.written() + n as u64 > limit {
            progress.finish();
            return Err(Error::TooLarge {
                url: Box::new(url),
                limit,
                pinned: want.size.is_some(),
            });
        }
        if let Err(source) = sink.write_all(&buf[..n]) {
            progress.finish();
            return Err(write_error(source, &url));
        }
        progress.update(sink.written());
    }
    progress.finish();
    Ok(())
}

fn body_error(e: io::Error, url: &Url, stall: Duration) -> Error {
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

fn copy_local(
    path: &Path,
    source: &Source,
    want: &Want<'_>,
    sink: &mut HashingWriter<&mut File>,
) -> Result<(), Error> {
    let local = |source| Error::LocalFile {
        path: path.to_path_buf(),
        source,
    };
    let src = File::open(path).map_err(local)?;
    let len = src.metadata().map_err(local)?.len();
    // A local copy is cheap: always whole.
    restart(sink)?;
    // Only `size`: a mirror directory on the same machine is no stream to cap.
    if let Some(pinned) = want.size
        && len != pinned
    {
        return Err(Error::SizeMismatch {
            url: Box::new(source.url.clone()),
            pinned,
            announced: len,
        });
    }
    if let Some(dir) = want.dir
        && let Some(available) = free_space(dir)
        && available < len
    {
        return Err(Error::NoSpace {
            dir: dir.to_path_buf(),
            needed: len,
            available,
        });
    }
    io::copy(&mut src.take(len), sink).map_err(|e| {
        // Distinguish our write failing from the mirror's read failing.
        if e.kind() == io::ErrorKind::StorageFull
            || crate::chunks::ChunkMismatch::in_io(&e).is_some()
        {
            write_error(e, &source.url)
        } else {
            local(e)
        }
    })?;
    Ok(())
}

/// A failed write into the download's file: a chunk the tap refused, else
/// our own disk.
fn write_error(source: io::Error, url: &Url) -> Error {
    if crate::chunks::ChunkMismatch::in_io(&source).is_none() {
        return Error::Write { source };
    }
    let mismatch = source
        .into_inner()
        .and_then(|inner| inner.downcast::<crate::chunks::ChunkMismatch>().ok())
        .expect("checked above");
    Error::ChunkMismatch {
        url: Box::new(url.clone()),
        mismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_is_given_once_for_many_attempts() {
        let url = Url::parse("http://user:s3cret@127.0.0.1:9/a.tgz").unwrap();
        let refused = || {
            Error::Net(net::Error::Status {
                url: url.to_string(),
                status: 503,
                retry_after: None,
                mirror: false,
            })
        };
        let attempts = (0..4)
            .map(|_| Attempt {
                url: url.clone(),
                error: refused(),
            })
            .collect();
        let text = Error::Exhausted { attempts }.to_string();
        assert_eq!(text.matches("POSTBIN_RETRIES").count(), 1, "{text}");
        assert_eq!(text.matches("answered HTTP 503").count(), 4, "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
