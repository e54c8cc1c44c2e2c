//! One module per subcommand; each takes parsed options and returns a result
//! for `cli` to print.

pub mod cache_cmd;
pub mod doctor;
pub mod init;
pub mod install;
pub mod pin;
pub mod prefill;
pub mod which;

use crate::error::Error;
use crate::manifest::Manifest;
use crate::plan::{self, Plan};
use crate::platform;
use crate::settings::{Origin, Setting, Settings};
use std::path::Path;

/// Everything known about one package before any I/O beyond reading config.
pub struct Loaded {
    pub manifest: Manifest,
    pub settings: Settings,
    pub plan: Plan,
}

/// Reads package.json, the consumer's settings (with command-line flags on
/// top), and resolves the plan for the host (or forced) target.
pub fn load(
    package_dir: &Path,
    target_flag: Option<&str>,
    offline_flag: bool,
) -> Result<Loaded, Error> {
    let manifest = Manifest::load(package_dir)?;
    let mut settings = Settings::load(Some(&plan::env_prefix(&manifest)));
    if offline_flag {
        settings.offline = Setting {
            value: true,
            origin: Origin::Flag("--offline"),
        };
    }
    if let Some(t) = target_flag {
        settings.target = Some(Setting {
            value: t.to_string(),
            origin: Origin::Flag("--target"),
        });
    }
    settings.check()?;
    let candidates = platform::host_candidates();
    let target = plan::choose_target(
        &manifest,
        &candidates,
        settings.target.as_ref().map(|s| s.value.as_str()),
    )?;
    let plan = plan::resolve(&manifest, &settings, &target)?;
    Ok(Loaded {
        manifest,
        settings,
        plan,
    })
}

/// The package directory: `--package`, else the current directory (npm runs
/// install scripts in the package's own directory).
pub fn package_dir(flag: Option<std::path::PathBuf>) -> std::path::PathBuf {
    let dir = flag.unwrap_or_else(|| std::path::PathBuf::from("."));
    std::path::absolute(&dir).unwrap_or(dir)
}
