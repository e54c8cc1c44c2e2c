//! `postbin plan [--json]`: the fetch plan, resolved and printed without
//! downloading anything.

use crate::error::Error;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// `--package DIR`.
    pub package: Option<PathBuf>,
    /// `--targets all|T,T`; `None`: the host's target.
    pub targets: Option<String>,
    /// `--json`: the stable machine-readable shape.
    pub json: bool,
}

#[derive(Debug, Default)]
pub struct Report {}

impl fmt::Display for Report {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl super::Report for Report {}

pub fn run(_options: &Options) -> Result<Report, Error> {
    Err(Error::Usage("postbin plan is not built yet".into()))
}
