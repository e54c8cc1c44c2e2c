//! `postbin check`: the publisher's last look before `npm pack` (wired as
//! `prepack` by `init`).

use crate::error::Error;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// `--package DIR`.
    pub package: Option<PathBuf>,
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
    Err(Error::Usage("postbin check is not built yet".into()))
}
