//! `postbin cache dir|list|verify|prune|clean|import`.

use crate::error::Error;
use std::path::PathBuf;

pub struct Options {
    pub action: String,
    pub older_than_days: Option<u64>,
    pub max_size: Option<String>,
    /// `import DIR`.
    pub path: Option<PathBuf>,
}

/// Returns the exit code.
pub fn run(options: &Options) -> Result<i32, Error> {
    let _ = (&options.older_than_days, &options.max_size, &options.path);
    Err(Error::Usage(format!(
        "cache {} is not implemented yet",
        options.action
    )))
}
