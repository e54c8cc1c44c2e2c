//! One module per subcommand. Each takes its typed options (parsed by
//! `cli`) and returns a report; `cli` prints the report and exits with the
//! code it names. Commands that install share `crate::pipeline`; no command
//! calls another.

pub mod cache_cmd;
pub mod doctor;
pub mod init;
pub mod install;
pub mod pin;
pub mod prefill;
pub mod which;

use crate::error::exit;
use std::path::{Path, PathBuf};

/// What a command hands back to `cli`: the text for stdout (`Display`), the
/// lines for stderr (what failed or was skipped, printed after it), and the
/// exit code.
pub trait Report: std::fmt::Display {
    fn problems(&self) -> Vec<String> {
        Vec::new()
    }

    fn exit_code(&self) -> i32 {
        exit::OK
    }
}

/// The package directory: `--package`, else the current directory (npm runs
/// install scripts in the package's own directory).
pub fn package_dir(flag: Option<&Path>) -> PathBuf {
    let dir = flag.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::path::absolute(&dir).unwrap_or(dir)
}
