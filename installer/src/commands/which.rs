//! `postbin which [NAME]`: the absolute path of an installed executable.
//! Reads only package.json, the environment and the receipt (in a checkout,
//! where nothing is placed, the cache the launchers run the tool from):
//! never installs, never touches the network. A `<PREFIX>_BINARY_PATH` override wins, but
//! only an absolute path to an existing file (else exit 3); a command the
//! package does not declare is a usage error (exit 2).

use crate::error::Error;
use crate::link;
use crate::manifest::{Manifest, unscoped};
use crate::plan;
use crate::settings;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// `--package DIR`.
    pub package: Option<PathBuf>,
    /// The command; may be left out when the package has one (or one named
    /// after the package).
    pub name: Option<String>,
}

/// The executable's absolute path, printed alone on stdout.
pub struct Report {
    pub path: PathBuf,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.path.display())
    }
}

impl super::Report for Report {}

pub fn run(options: &Options) -> Result<Report, Error> {
    let package_dir = super::package_dir(options.package.as_deref());
    let path = find(&package_dir, options.name.as_deref())?;
    Ok(Report { path })
}

fn find(package_dir: &Path, name: Option<&str>) -> Result<PathBuf, Error> {
    let manifest = Manifest::load(package_dir)?;
    let prefix = plan::env_prefix(&manifest);
    let override_var = format!("{prefix}{}", crate::env_vars::SUFFIX_BINARY_PATH);
    if let Some(path) = crate::env_vars::get(&override_var) {
        // The same rule as install's: an absolute path to an existing file.
        let path = PathBuf::from(path);
        return match settings::usable_binary_path(&path) {
            Ok(()) => Ok(path),
            Err(problem) => Err(Error::Setting(settings::Invalid {
                name: override_var.clone(),
                origin: settings::Origin::Env(override_var),
                value: path.display().to_string(),
                problem: problem.into(),
            })),
        };
    }
    let declared = || manifest.bin.keys().cloned().collect::<Vec<_>>().join(", ");
    let command = match name {
        Some(n) if manifest.bin.contains_key(n) => n.to_string(),
        Some(n) => {
            return Err(Error::Usage(format!(
                "{} declares no command `{n}`; its commands: {}",
                manifest.name,
                declared()
            )));
        }
        None if manifest.bin.len() == 1 => manifest.bin.keys().next().cloned().unwrap_or_default(),
        None => {
            let own = unscoped(&manifest.name);
            if manifest.bin.contains_key(own) {
                own.to_string()
            } else {
                return Err(Error::Usage(format!(
                    "{} has several commands ({}); name one",
                    manifest.name,
                    declared()
                )));
            }
        }
    };
    let not_installed = || Error::NotInstalled {
        package: manifest.name.clone(),
        command: command.clone(),
    };
    if !link::inside_node_modules(package_dir) {
        // A checkout: nothing is placed in it, and its launchers run the
        // tool from the cache, where `postbin install` by hand puts it.
        let cached = super::install::cached_executables(package_dir).ok_or_else(not_installed)?;
        let (_, path) = cached
            .into_iter()
            .find(|(name, _)| *name == command)
            .ok_or_else(not_installed)?;
        return Ok(path);
    }
    let receipt = link::read_receipt(package_dir).ok_or_else(not_installed)?;
    let placed = receipt
        .bins
        .iter()
        .find(|b| b.name == command)
        .ok_or_else(not_installed)?;
    if !placed.path.is_file() {
        return Err(not_installed());
    }
    Ok(std::path::absolute(&placed.path).unwrap_or_else(|_| placed.path.clone()))
}
