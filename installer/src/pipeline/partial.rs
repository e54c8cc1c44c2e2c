//! The end of a download into a kept partial file, streamed or not: what
//! becomes of the partial when the download succeeded or failed.

use crate::error::Error;
use crate::fetch;

/// The verified download as a temp file like any other (removed unless
/// published); on failure the partial is kept for the next run, unless the
/// disk is full, when keeping its bytes would only keep it full.
pub fn verified_download(
    result: Result<fetch::Downloaded, fetch::Error>,
    partial: fetch::Partial,
) -> Result<(fetch::Downloaded, tempfile::NamedTempFile), Error> {
    match result {
        Ok(done) => Ok((done, partial.verified()?)),
        Err(e) => {
            if e.is_filesystem() {
                partial.discard();
            }
            Err(e.into())
        }
    }
}
