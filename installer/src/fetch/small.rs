//! Small files (a checksums file, a manifest, a GitHub API page) fetched
//! the way an archive is: through `download`, so every source in order,
//! retries with backoff (`POSTBIN_RETRIES`), a server's `Retry-After`, the
//! stall and connect timeouts, and a size cap. One path for every caller,
//! so no small file has rules of its own.

use super::{Error, Expect, Want};
use crate::net::Client;
use crate::plan::Source;
use std::io::{Read, Seek};

/// The body of the first of `sources` that serves it, at most `max` bytes
/// (a larger one is `Error::TooLarge`, and is not read past the cap).
pub fn small_file(
    client: &Client<'_>,
    sources: &[Source],
    max: u64,
    label: &str,
) -> Result<Vec<u8>, Error> {
    let mut capped = client.settings().clone();
    capped.max_download_size = capped.max_download_size.min(max);
    let client = Client::new(&capped);
    let mut temp = tempfile::tempfile().map_err(|source| Error::Write { source })?;
    super::download(
        &client,
        sources,
        &Want::new(Expect::Anything),
        &mut temp,
        label,
    )?;
    let mut bytes = Vec::new();
    temp.rewind()
        .and_then(|()| temp.read_to_end(&mut bytes))
        .map_err(|source| Error::Write { source })?;
    Ok(bytes)
}

/// Whether `e` is (or ended with) a file larger than the cap.
pub fn is_too_large(e: &Error) -> bool {
    matches!(e.last(), Error::TooLarge { .. })
}
