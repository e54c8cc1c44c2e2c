//! Continuing a download: re-hashing the bytes a kept partial holds, asking
//! for the rest with `Range`, and keeping the prefix only when the answer
//! continues it.

use super::{Error, Source};
use crate::hash::HashingWriter;
use crate::net::{self, Client};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// Hashes what `sink`'s file already holds (a kept partial) so that the
/// download continues after it; drops it when it cannot be the asset (longer
/// than the limit) or cannot be read.
pub(super) fn absorb_prefix(sink: &mut HashingWriter<&mut File>, limit: u64) -> Result<(), Error> {
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

/// Asks for the bytes after those `sink` holds, and leaves in `sink` only
/// what the answer continues (all of them, or none).
pub(super) fn request_rest(
    client: &Client<'_>,
    source: &Source,
    sink: &mut HashingWriter<&mut File>,
) -> Result<net::Response, Error> {
    let whole = net::Request {
        credential: source.wrapped.as_ref().and_then(|w| w.credential.as_ref()),
        to_registry: source.wrapped.is_some(),
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

pub(super) fn restart(sink: &mut HashingWriter<&mut File>) -> Result<(), Error> {
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
