//! One module per subcommand. Each takes its typed options (parsed by
//! `cli`) and returns a report; `cli` prints the report and exits with the
//! code it names. Commands that install share `crate::pipeline`; no command
//! calls another.

pub mod cache_cmd;
pub mod check;
pub mod doctor;
pub mod init;
pub mod install;
pub mod pack_targets;
pub mod pin;
pub mod plan_cmd;
pub mod prefill;
pub mod which;

use crate::error::{Error, exit};
use crate::manifest::Manifest;
use crate::pipeline::{self, Flags};
use crate::settings::Settings;
use std::path::{Path, PathBuf};

/// What a command hands back to `cli`: the text for stdout (`Display`), the
/// lines for stderr (what failed or was skipped, printed after it), and the
/// exit code.
pub trait Report: std::fmt::Display {
    fn problems(&self) -> Vec<String> {
        Vec::new()
    }

    /// A command that has a problem to report has failed, unless it says
    /// otherwise (`prefill` passes one kind of failure's code through).
    fn exit_code(&self) -> i32 {
        if self.problems().is_empty() {
            exit::OK
        } else {
            exit::FAILURE
        }
    }
}

/// A report that is its text: lines for stdout, lines for stderr, a code
/// (`doctor`, whose product is one fact per line; `cache`'s summaries).
#[derive(Debug, Default)]
pub struct Lines {
    stdout: Vec<String>,
    stderr: Vec<String>,
    pub code: i32,
}

impl Lines {
    pub fn line(&mut self, text: String) {
        self.stdout.push(text);
    }

    pub fn problem(&mut self, text: String) {
        self.stderr.push(text);
    }
}

impl std::fmt::Display for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.stdout.iter().try_for_each(|l| writeln!(f, "{l}"))
    }
}

impl Report for Lines {
    fn problems(&self) -> Vec<String> {
        self.stderr.clone()
    }

    fn exit_code(&self) -> i32 {
        self.code
    }
}

/// The package directory (`--package`), its manifest, and the consumer
/// settings for it: where a command that plans or fetches starts.
pub fn load_package(flag: Option<&Path>) -> Result<(PathBuf, Manifest, Settings), Error> {
    let dir = package_dir(flag);
    let manifest = Manifest::load(&dir)?;
    let settings = pipeline::settings_for(&manifest, Flags::default())?;
    Ok((dir, manifest, settings))
}

/// One stderr line per target a publisher command left out, with why:
/// `postbin: not <done>: <target>: <why>`.
pub fn left_out(done: &str, targets: &[(String, String)]) -> Vec<String> {
    targets
        .iter()
        .map(|(target, why)| format!("postbin: not {done}: {target}: {why}"))
        .collect()
}

/// The package directory: `--package`, else the current directory (npm runs
/// install scripts in the package's own directory).
pub fn package_dir(flag: Option<&Path>) -> PathBuf {
    let dir = flag.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::path::absolute(&dir).unwrap_or(dir)
}
