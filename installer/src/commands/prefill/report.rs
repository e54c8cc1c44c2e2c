//! What `prefill` reports: the summary line, each failure, the exit code.

use crate::error::{Error, exit, one_line};
use crate::progress::human_size;
use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

/// One thing that went wrong, for the list printed at the end.
pub(super) struct Failure {
    pub(super) what: String,
    pub(super) message: String,
    pub(super) code: i32,
}

impl Failure {
    pub(super) fn new(what: impl Into<String>, e: &Error) -> Failure {
        Failure {
            what: what.into(),
            message: one_line(e),
            code: e.exit_code(),
        }
    }
}

/// Totals for the summary line.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) written: usize,
    pub(super) bytes: u64,
    pub(super) already: usize,
    pub(super) packages: BTreeSet<(String, String)>,
    pub(super) not_offered: usize,
}

/// What `prefill` did: the summary (stdout), each failure (stderr), and
/// the exit code: 0; 1 when nothing was found; when items failed, their
/// common exit code (9 when every one was an offline miss...), else 1.
pub struct Report {
    pub(super) tally: Tally,
    pub(super) out: Option<PathBuf>,
    pub(super) failures: Vec<Failure>,
    pub(super) found_any: bool,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.found_any {
            return Ok(());
        }
        let tally = &self.tally;
        let plural = |n: usize, one, many| if n == 1 { one } else { many };
        let archives = plural(tally.written, "archive", "archives");
        let packages = plural(tally.packages.len(), "package", "packages");
        let not_offered = match tally.not_offered {
            0 => String::new(),
            n => format!("; {n} not offered by the package"),
        };
        let (into, already) = match &self.out {
            None => (String::new(), "already cached"),
            Some(dir) => (format!(" into {}", dir.display()), "already there"),
        };
        writeln!(
            f,
            "prefilled {} {archives} ({}) for {} {packages}{into}; {} {already}{not_offered}",
            tally.written,
            human_size(tally.bytes),
            tally.packages.len(),
            tally.already
        )
    }
}

impl crate::commands::Report for Report {
    fn problems(&self) -> Vec<String> {
        if !self.found_any && self.failures.is_empty() {
            return vec![
                "postbin: nothing to prefill: found no package with a `postbin` section; \
                 pass package directories, .tgz files or --node-modules DIR"
                    .into(),
            ];
        }
        if self.failures.is_empty() {
            return vec![];
        }
        let mut lines: Vec<String> = self
            .failures
            .iter()
            .map(|f| format!("postbin: failed: {}: {}", f.what, f.message))
            .collect();
        lines.push(format!(
            "postbin: error: {} {} could not be prefilled (listed above)",
            self.failures.len(),
            if self.failures.len() == 1 {
                "item"
            } else {
                "items"
            }
        ));
        lines
    }

    fn exit_code(&self) -> i32 {
        if !self.found_any && self.failures.is_empty() {
            return exit::FAILURE;
        }
        // One kind of failure keeps its own exit code (9 for offline misses...).
        let codes: BTreeSet<i32> = self.failures.iter().map(|f| f.code).collect();
        match codes.len() {
            0 => exit::OK,
            1 => *codes.first().expect("one code"),
            _ => exit::FAILURE,
        }
    }
}
