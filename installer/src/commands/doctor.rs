//! `postbin doctor`: what postbin would do here, and why.

use crate::error::Error;
use std::path::PathBuf;

pub struct Options {
    pub package: Option<PathBuf>,
    pub check: bool,
}

/// Prints the report; returns the exit code.
pub fn run(options: &Options) -> Result<i32, Error> {
    let _ = (&options.package, options.check);
    Err(Error::Usage("doctor is not implemented yet".into()))
}
