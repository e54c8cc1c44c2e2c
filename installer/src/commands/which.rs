//! `postbin which [NAME]`: the absolute path of an installed executable.
//! Reads only package.json, the environment and the receipt: never installs,
//! never touches the network.

use crate::error::Error;
use crate::link;
use crate::manifest::{Manifest, unscoped};
use crate::plan;
use std::path::{Path, PathBuf};

pub fn run(package_dir: &Path, name: Option<&str>) -> Result<PathBuf, Error> {
    let manifest = Manifest::load(package_dir)?;
    let prefix = plan::env_prefix(&manifest);
    let override_var = format!("{prefix}{}", crate::env_vars::SUFFIX_BINARY_PATH);
    if let Some(path) = crate::env_vars::get(&override_var) {
        return Ok(PathBuf::from(path));
    }
    let command = match name {
        Some(n) => n.to_string(),
        None if manifest.bin.len() == 1 => manifest.bin.keys().next().cloned().unwrap_or_default(),
        None => {
            let own = unscoped(&manifest.name);
            if manifest.bin.contains_key(own) {
                own.to_string()
            } else {
                return Err(Error::Usage(format!(
                    "{} has several commands ({}); name one",
                    manifest.name,
                    manifest.bin.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
    };
    let not_installed = || Error::NotInstalled {
        package: manifest.name.clone(),
        command: command.clone(),
    };
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
