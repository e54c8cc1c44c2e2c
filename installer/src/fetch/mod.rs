//! Downloads one asset into a file while hashing it: each source in order
//! (mirrors, else the origin), each with bounded retries for what is
//! retryable, resuming with `Range` when the server answers 206 and restarting
//! when it does not. A file that already holds a prefix (a partial kept from
//! an interrupted run) is re-hashed and continued the same way. Downloads
//! never run past the pinned size (or, unpinned, `POSTBIN_MAX_DOWNLOAD_SIZE`),
//! and a `Content-Length` that contradicts the pinned size, or the free space,
//! stops them before a byte is written. The caller gets bytes whose SHA-256
//! matched, or an error listing every attempt, each kind of advice once.

mod wrapped;

use crate::hash::{HashingWriter, Sha256Hash};
use crate::net::{self, Client, url::Url};
use crate::npm::integrity::Sha512Integrity;
use crate::plan::Source;
use crate::progress::Progress;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One failed try: where, and what went wrong (typed, cause included).
#[derive(Debug)]
pub struct Attempt {
    pub url: Url,
    pub error: Error,
}

#[derive(Debug)]
pub enum Error {
    Net(net::Error),
    /// The bytes arrived but are not the pinned ones.
    ChecksumMismatch {
        url: Box<Url>,
        expected: Sha256Hash,
        actual: Sha256Hash,
        size: u64,
    },
    /// The server announced (`Content-Length`) a size other than the pinned
    /// one: this source serves another file.
    SizeMismatch {
        url: Box<Url>,
        pinned: u64,
        announced: u64,
    },
    /// The body ran past the pinned size (`pinned`), or past the cap on
    /// downloads whose size is not pinned.
    TooLarge {
        url: Box<Url>,
        limit: u64,
        pinned: bool,
    },
    /// The disk holding `dir` has less free space than the download needs.
    NoSpace {
        dir: PathBuf,
        needed: u64,
        available: u64,
    },
    LocalFile {
        path: std::path::PathBuf,
        source: io::Error,
    },
    /// Writing our own temp file failed (disk full, permissions).
    Write {
        source: io::Error,
    },
    /// One chunk of a streamed download is not the pinned one (its digest,
    /// `chunks.rs`); nothing of it reached the decoder.
    ChunkMismatch {
        url: Box<Url>,
        mismatch: Box<crate::chunks::ChunkMismatch>,
    },
    /// An npm package's tarball is not the one the publisher pinned.
    IntegrityMismatch {
        url: Box<Url>,
        expected: Box<Sha512Integrity>,
        actual: Box<Sha512Integrity>,
    },
    /// The pinned package holds no archive where its publisher said.
    NotInWrapper {
        url: Box<Url>,
        member: String,
    },
    /// The npm registry answered 401/403: it wants (other) credentials.
    RegistryRefused {
        url: Box<Url>,
        registry: Box<Url>,
        status: u16,
        /// The key that set the credentials sent, and where.
        credential: Option<String>,
    },
    /// Several attempts failed; the last one is the final word.
    Exhausted {
        attempts: Vec<Attempt>,
    },
}

impl Error {
    /// The failure that ended the download.
    fn last(&self) -> &Error {
        match self {
            Error::Exhausted { attempts } => attempts.last().map_or(self, |a| a.error.last()),
            _ => self,
        }
    }

    /// Whether the final attempt found no file at a `file://` mirror (an
    /// offline install's equivalent of a cache miss).
    pub fn is_missing_local_file(&self) -> bool {
        matches!(self.last(), Error::LocalFile { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// Whether the TLS configuration itself (a CA file, the `ca` setting)
    /// could not be used: a configuration error, whichever source it hit.
    pub fn is_tls_setup(&self) -> bool {
        matches!(self.last(), Error::Net(net::Error::TlsSetup(_)))
    }

    /// Whether any attempt saw bytes (or a size) that contradict what the
    /// publisher pinned.
    pub fn is_integrity_failure(&self) -> bool {
        match self {
            Error::ChecksumMismatch { .. }
            | Error::ChunkMismatch { .. }
            | Error::IntegrityMismatch { .. }
            | Error::SizeMismatch { .. }
            | Error::TooLarge { pinned: true, .. } => true,
            Error::Exhausted { attempts } => {
                attempts.iter().any(|a| a.error.is_integrity_failure())
            }
            _ => false,
        }
    }

    /// Whether our own side failed: the disk is full or unwritable.
    pub fn is_filesystem(&self) -> bool {
        matches!(self.last(), Error::Write { .. } | Error::NoSpace { .. })
    }

    /// No connection could be made (DNS, refused, connect timeout).
    fn is_unreachable(&self) -> bool {
        matches!(self, Error::Net(net::Error::Connect { .. }))
    }

    fn is_retryable(&self) -> bool {
        match self {
            Error::Net(e) => e.is_retryable(),
            _ => false,
        }
    }

    pub fn is_offline(&self) -> bool {
        matches!(self.last(), Error::Net(net::Error::Offline { .. }))
    }

    /// What went wrong, without advice.
    pub fn fact(&self) -> String {
        match self {
            Error::Net(e) => e.fact(),
            Error::ChecksumMismatch {
                url,
                expected,
                actual,
                size,
            } => format!(
                "SHA-256 mismatch for {url}: expected {expected}, got {actual} ({size} bytes)"
            ),
            Error::SizeMismatch {
                url,
                pinned,
                announced,
            } => format!(
                "{url} announced {announced} bytes, but the publisher pinned {pinned} bytes (`size`)"
            ),
            Error::TooLarge {
                url,
                limit,
                pinned: true,
            } => format!(
                "{url} sent more than the {limit} bytes the publisher pinned (`size`); the download was stopped"
            ),
            Error::TooLarge { url, limit, .. } => format!(
                "{url} sent more than {limit} bytes ({}); the download was stopped",
                human(*limit)
            ),
            Error::NoSpace {
                dir,
                needed,
                available,
            } => format!(
                "the disk is full for this download: {} has {available} bytes free, the download needs {needed} bytes ({})",
                dir.display(),
                human(*needed)
            ),
            Error::ChunkMismatch { url, mismatch } => {
                format!("{url}: {mismatch}; the download was stopped there")
            }
            Error::IntegrityMismatch {
                url,
                expected,
                actual,
            } => format!("integrity mismatch for {url}: expected {expected}, got {actual}"),
            Error::NotInWrapper { url, member } => {
                format!("{url} (integrity verified) holds no {member}")
            }
            Error::RegistryRefused {
                url,
                registry,
                status,
                credential: Some(key),
            } => format!(
                "the npm registry {registry} refused the credentials from {key} (HTTP {status} for {url})"
            ),
            Error::RegistryRefused {
                url,
                registry,
                status,
                credential: None,
            } => format!(
                "the npm registry {registry} wants credentials (HTTP {status} for {url}), and none are configured for it"
            ),
            Error::LocalFile { path, .. } => format!("cannot read {}", path.display()),
            Error::Write { .. } => {
                "cannot write the download to the cache (is the disk full?)".to_string()
            }
            Error::Exhausted { attempts } => {
                format!("download failed after {} attempts", attempts.len())
            }
        }
    }

    /// What to do about it, when there is a specific fix.
    pub fn advice(&self) -> Option<String> {
        Some(match self {
            Error::Net(e) => return e.advice(),
            Error::ChecksumMismatch { .. }
            | Error::ChunkMismatch { .. }
            | Error::IntegrityMismatch { .. }
            | Error::SizeMismatch { .. }
            | Error::TooLarge { pinned: true, .. } => {
                "the file is not the one the publisher pinned (a stale mirror, a tampered download, \
                 or a release re-uploaded after pinning); nothing was installed"
                    .to_string()
            }
            Error::TooLarge { .. } => format!(
                "if the archive really is that large, raise {} (e.g. 4G); publishers: pin `size` with `postbin pin`",
                crate::env_vars::POSTBIN_MAX_DOWNLOAD_SIZE
            ),
            Error::NotInWrapper { .. } => {
                "the publisher's wrapper package is not as `postbin pack-targets` writes it; \
                 tell the publisher"
                    .to_string()
            }
            Error::RegistryRefused { registry, .. } => format!(
                "log in to it (`npm login --registry {registry}`), or put a valid token in .npmrc \
                 as `{}:_authToken=...`",
                crate::settings::registry::nerf_dart(registry)
            ),
            Error::NoSpace { .. } => format!(
                "free some space there, or set {} to a disk with room",
                crate::env_vars::POSTBIN_CACHE_DIR
            ),
            _ => return None,
        })
    }

    /// The fact and its causes on one line (an attempt's line).
    fn fact_line(&self) -> String {
        let mut text = self.fact();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text.replace('\n', " ")
    }
}

/// `2147483648` → `2.0 GiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = "bytes";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if unit == "bytes" {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {unit}")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Each attempt on its own line with its causes; then each piece
            // of advice once (two mirrors and retries failing alike need one
            // hint, not one per line).
            Error::Exhausted { attempts } => {
                write!(f, "{}:", self.fact())?;
                let mut advice: Vec<String> = Vec::new();
                for (i, a) in attempts.iter().enumerate() {
                    write!(f, "\n  {}. {}", i + 1, a.error.fact_line())?;
                    if let Some(text) = a.error.advice()
                        && !advice.contains(&text)
                    {
                        advice.push(text);
                    }
                }
                for text in advice {
                    write!(f, "\n{}", capitalized(&text))?;
                }
                Ok(())
            }
            _ => {
                write!(f, "{}", self.fact())?;
                match self.advice() {
                    Some(advice) => write!(f, "; {advice}"),
                    None => Ok(()),
                }
            }
        }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Net(e) => e.source(),
            Error::LocalFile { source, .. } | Error::Write { source } => Some(source),
            // The attempt lines already hold every cause.
            _ => None,
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
}

impl Want<'_> {
    pub fn new(expect: Expect) -> Self {
        Want {
            expect,
            size: None,
            dir: None,
            resume: false,
        }
    }
}

/// A download kept at `<cache>/tmp/<sha256>.partial` between runs: named by
/// the pinned hash so that the next install of the same archive continues
/// it (`Want::resume`). Callers hold the entry's lock while they write it,
/// so two processes never append to one. Left behind non-empty when the
/// download fails or the process dies; removed when empty; turned into an
/// ordinary temp file once verified. `cache clean` leaves these to the
/// age-based sweep of `tmp/`.
#[derive(Debug)]
pub struct Partial {
    file: Option<File>,
    path: PathBuf,
}

/// The file name suffix of a kept partial download.
pub const PARTIAL_SUFFIX: &str = ".partial";

impl Partial {
    pub fn open(tmp: &Path, sha: &Sha256Hash) -> Result<Partial, Error> {
        let path = tmp.join(format!("{}{PARTIAL_SUFFIX}", sha.hex()));
        // Never through a link, a FIFO or a hard link to a file outside the
        // cache: such a name is replaced by a file of our own (`safe_fs`).
        let file = crate::safe_fs::open_replacing(&path, crate::safe_fs::Access::ReadWriteCreate)
            .map_err(|source| Error::Write { source })?;
        Ok(Partial {
            file: Some(file),
            path,
        })
    }

    pub fn file_mut(&mut self) -> &mut File {
        self.file.as_mut().expect("only `verified` takes the file")
    }

    /// Removes the file whatever it holds (the disk is full: keeping
    /// bytes for the next run would only keep it full).
    pub fn discard(mut self) {
        drop(self.file.take());
        let _ = std::fs::remove_file(&self.path);
    }

    /// The verified download, as a temp file removed unless persisted.
    pub fn verified(mut self) -> Result<tempfile::NamedTempFile, Error> {
        let path = tempfile::TempPath::try_from_path(&self.path)
            .map_err(|source| Error::Write { source })?;
        let file = self.file.take().expect("only `verified` takes the file");
        Ok(tempfile::NamedTempFile::from_parts(file, path))
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        // An empty partial (nothing arrived, or bad bytes were dropped) is
        // worth nothing to the next run.
        if let Some(file) = self.file.take()
            && file.metadata().is_ok_and(|m| m.len() == 0)
        {
            drop(file);
            let _ = std::fs::remove_file(&self.path);
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

/// Hashes what `sink`'s file already holds (a kept partial) so that the
/// download continues after it; drops it when it cannot be the asset (longer
/// than the limit) or cannot be read.
fn absorb_prefix(sink: &mut HashingWriter<&mut File>, limit: u64) -> Result<(), Error> {
    sink.reset();
    let file = sink.get_mut();
    let len = file
        .metadata()
        .map_err(|source| Error::Write { source })?
        .len();
    if len == 0 || len > limit {
        return restart(sink);
    }
    let len = sink.keepable(len);
    if len == 0 {
        return restart(sink);
    }
    let read = |sink: &mut HashingWriter<&mut File>, len: u64| -> io::Result<()> {
        sink.get_mut().rewind()?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut left = len;
        while left > 0 {
            let want = buf.len().min(left as usize);
            let n = sink.get_mut().read(&mut buf[..want])?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            sink.absorb(&buf[..n])?;
            left -= n as u64;
        }
        sink.get_mut().set_len(len)?;
        sink.get_mut().seek(SeekFrom::Start(len))?;
        Ok(())
    };
    let mut result = read(sink, len);
    if let Err(e) = &result
        && let Some(bad) = crate::chunks::ChunkMismatch::in_io(e)
    {
        // Kept bytes that fail a chunk digest: keep the verified chunks
        // before it and continue from there.
        let start = bad.start;
        crate::debug!(
            "the partial download fails chunk {}; continuing from byte {start}",
            bad.index
        );
        sink.reset();
        result = sink
            .get_mut()
            .set_len(start)
            .and_then(|()| read(sink, start));
    }
    match result {
        Ok(()) => {
            crate::debug!("continuing a partial download of {len} bytes");
            Ok(())
        }
        Err(e) => {
            crate::debug!("cannot read the partial download ({e}); starting over");
            restart(sink)
        }
    }
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
        None if total > client.settings().max_download_size => {
            return Err(Error::TooLarge {
                url: Box::new(url.clone()),
                limit: client.settings().max_download_size,
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
/// cap on downloads of unknown size.
fn download_limit(client: &Client<'_>, want: &Want<'_>) -> u64 {
    want.size.unwrap_or(client.settings().max_download_size)
}

/// Asks for the bytes after those `sink` holds, and leaves in `sink` only
/// what the answer continues (all of them, or none).
fn request_rest(
    client: &Client<'_>,
    source: &Source,
    sink: &mut HashingWriter<&mut File>,
) -> Result<net::Response, Error> {
    let whole = net::Request {
        credential: source.wrapped.as_ref().and_then(|w| w.credential.as_ref()),
        ..net::Request::get(&source.url, source.explicit)
    };
    let mut have = sink.written();
    let rest = net::Request {
        range_from: (have > 0).then_some(have),
        ..whole
    };
    let response = match client.request(rest) {
        // Nothing after byte `have`: the server's file is shorter than ours.
        Err(net::Error::Status { status: 416, .. }) if have > 0 => {
            restart(sink)?;
            have = 0;
            client.request(whole)?
        }
        result => result?,
    };
    if have > 0 {
        keep_prefix_if_continued(&response, have, sink)?;
    }
    Ok(response)
}

/// Keeps the `have` bytes in `sink` when `response` continues right after
/// them; otherwise the response is a whole file (restart) or an unusable
/// range (an error, so the next attempt starts over).
fn keep_prefix_if_continued(
    response: &net::Response,
    have: u64,
    sink: &mut HashingWriter<&mut File>,
) -> Result<(), Error> {
    let url = &response.url;
    if response.status == 206 && response.range_start == Some(have) {
        crate::debug!("resuming {url} at byte {have}");
    } else if response.status == 206 {
        // Bytes from elsewhere in the file: neither appendable nor a
        // whole file. Start over on the next attempt.
        restart(sink)?;
        return Err(Error::Net(net::Error::Transfer {
            url: url.to_string(),
            source: io::Error::other(match response.range_start {
                Some(start) => {
                    format!("asked to resume at byte {have}, got a range starting at {start}")
                }
                None => format!("asked to resume at byte {have}, got no range"),
            }),
        }));
    } else {
        crate::debug!("{url} ignored the Range request; restarting from byte 0");
        restart(sink)?;
    }
    Ok(())
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

/// Bytes free for this user on the disk holding `dir`; `None` when unknown
/// (the download then goes ahead, and a full disk is a write error).
/// `POSTBIN_TEST_FREE_SPACE` pretends, for tests.
pub fn free_space(dir: &Path) -> Option<u64> {
    if let Some(pretend) = crate::env_vars::get(crate::env_vars::POSTBIN_TEST_FREE_SPACE) {
        return crate::settings::parse_size(&pretend);
    }
    os_free_space(dir)
}

#[cfg(all(
    any(target_os = "linux", target_os = "macos"),
    target_pointer_width = "64",
    target_endian = "little"
))]
fn os_free_space(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    unsafe extern "C" {
        // `struct statvfs` is read as 64-bit words; the buffer is larger
        // than the struct on every target this is compiled for.
        fn statvfs(path: *const std::ffi::c_char, buf: *mut u64) -> std::ffi::c_int;
    }
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut buf = [0u64; 64];
    // SAFETY: `path` is NUL-terminated; `buf` (512 bytes) outsizes `struct
    // statvfs` (112 bytes on Linux, 64 on macOS), which statvfs fills.
    if unsafe { statvfs(path.as_ptr(), buf.as_mut_ptr()) } != 0 {
        return None;
    }
    // Both: f_bsize, f_frsize (unsigned long) come first.
    let frsize = buf[1];
    // Linux: f_blocks, f_bfree, f_bavail are 64-bit; macOS: 32-bit each,
    // so f_bavail is the low half of the fourth word.
    let avail = if cfg!(target_os = "linux") {
        buf[4]
    } else {
        buf[3] & 0xffff_ffff
    };
    (frsize > 0).then(|| avail.saturating_mul(frsize))
}

#[cfg(windows)]
fn os_free_space(dir: &Path) -> Option<u64> {
    use std::os::windows::ffi::OsStrExt;
    let wide: Vec<u16> = dir.as_os_str().encode_wide().chain(Some(0)).collect();
    let mut available = 0u64;
    // SAFETY: `wide` is NUL-terminated; the two totals may be null.
    let ok = unsafe {
        windows_sys::Win32::Storage::FileSystem::GetDiskFreeSpaceExW(
            wide.as_ptr(),
            &mut available,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    (ok != 0).then_some(available)
}

#[cfg(not(any(
    windows,
    all(
        any(target_os = "linux", target_os = "macos"),
        target_pointer_width = "64",
        target_endian = "little"
    )
)))]
fn os_free_space(_dir: &Path) -> Option<u64> {
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_known_here() {
        let dir = std::env::temp_dir();
        if cfg!(any(target_os = "linux", windows)) {
            assert!(os_free_space(&dir).is_some_and(|n| n > 0));
        }
    }

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
