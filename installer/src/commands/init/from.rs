//! `postbin init --from SOURCE`: the whole `postbin` section written from a
//! release the publisher already has, and pinned.

use super::Options;
use crate::error::Error;
use std::fmt;
use std::path::Path;

/// What was chosen for each target, printed as a table.
#[derive(Debug, Default)]
pub struct Report {}

impl fmt::Display for Report {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

/// Writes (unless `--dry-run`) the `postbin` section from `--from`, or from
/// the package itself when it is a cargo-dist npm package; `None` when
/// there is nothing to read.
pub fn run(_package_dir: &Path, options: &Options) -> Result<Option<Report>, Error> {
    match &options.from {
        Some(_) => Err(Error::Usage("init --from is not built yet".into())),
        None => Ok(None),
    }
}
