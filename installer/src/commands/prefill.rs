//! `postbin prefill`: fills the cache, or a portable mirror tree, ahead of time.

use crate::error::Error;
use std::path::PathBuf;

pub struct Options {
    /// Package directories or packed `.tgz` files.
    pub inputs: Vec<PathBuf>,
    /// Installed trees to scan for packages with a `postbin` section.
    pub node_modules: Vec<PathBuf>,
    /// `None` = the host; `Some("all")`; or a comma-separated list.
    pub targets: Option<String>,
    /// Write a mirror-layout tree here instead of filling the cache.
    pub out: Option<PathBuf>,
    /// `--offline`: never open a socket (file:// mirrors still work).
    pub offline: bool,
}

/// Returns the exit code.
pub fn run(options: &Options) -> Result<i32, Error> {
    let _ = (
        &options.inputs,
        &options.node_modules,
        &options.targets,
        &options.out,
    );
    Err(Error::Usage("prefill is not implemented yet".into()))
}
