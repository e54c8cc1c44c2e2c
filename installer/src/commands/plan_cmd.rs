//! `postbin plan [--json]`: the fetch plan, resolved exactly as `install`
//! would resolve it (mirrors, checksums sources, bins) and printed without
//! downloading anything: for Nix, Bazel, SBOM tools and CI cache keys.
//!
//! The JSON shape is stable (docs/cli.md): fields are only ever added.
//! URLs are printed without credentials (`Url`'s `Display`).

use crate::error::Error;
use crate::manifest::Manifest;
use crate::pipeline::{self, Targets};
use crate::plan::{self, Integrity, Plan};
use serde_json::{Value, json};
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

/// The version of the JSON shape; bumped only if a field changes meaning.
const SCHEMA: u32 = 1;

pub struct Report {
    name: String,
    version: String,
    plans: Vec<Plan>,
    json: bool,
}

pub fn run(options: &Options) -> Result<Report, Error> {
    let (_, manifest, settings) = super::load_package(options.package.as_deref())?;
    let targets = match Targets::parse(options.targets.as_deref()) {
        Targets::Host => vec![pipeline::host_target(&manifest, &settings)?],
        Targets::All => manifest.postbin.targets.keys().cloned().collect(),
        Targets::List(list) => {
            if let Some(missing) = list
                .iter()
                .find(|t| !manifest.postbin.targets.contains_key(*t))
            {
                return Err(Error::Usage(format!(
                    "{} offers no binary for {missing}; it offers: {}",
                    manifest.name,
                    offered(&manifest)
                )));
            }
            list
        }
    };
    let plans = targets
        .iter()
        .map(|t| plan::resolve(&manifest, &settings, t))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Report {
        name: manifest.name,
        version: manifest.version,
        plans,
        json: options.json,
    })
}

fn offered(manifest: &Manifest) -> String {
    let keys: Vec<&str> = manifest
        .postbin
        .targets
        .keys()
        .map(String::as_str)
        .collect();
    keys.join(", ")
}

impl Report {
    fn to_json(&self) -> Value {
        let targets: Vec<Value> = self.plans.iter().map(target_json).collect();
        json!({
            "schema": SCHEMA,
            "package": { "name": self.name, "version": self.version },
            "targets": targets,
        })
    }
}

fn target_json(plan: &Plan) -> Value {
    let urls: Vec<String> = plan.sources.iter().map(|s| s.url.to_string()).collect();
    let (sha256, hash) = match &plan.integrity {
        Integrity::Pinned(sha) => (Value::String(sha.hex()), json!({ "from": "pinned" })),
        Integrity::ChecksumsFile(sources) => {
            let urls: Vec<String> = sources.iter().map(|s| s.url.to_string()).collect();
            (
                Value::Null,
                json!({ "from": "checksums-file", "urls": urls }),
            )
        }
    };
    let bins: Vec<Value> = plan
        .bins
        .iter()
        .map(|b| json!({ "name": b.name, "path": b.archive_path, "file": b.file_name }))
        .collect();
    json!({
        "target": plan.target,
        "asset": plan.asset_name,
        "format": plan.format.as_str(),
        "urls": urls,
        "sha256": sha256,
        "hash": hash,
        "size": plan.size,
        "bins": bins,
    })
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.json {
            let text =
                serde_json::to_string_pretty(&self.to_json()).expect("JSON values serialize");
            return writeln!(f, "{text}");
        }
        writeln!(f, "{} {}", self.name, self.version)?;
        for plan in &self.plans {
            writeln!(
                f,
                "\n{} ({}, {})",
                plan.target,
                plan.asset_name,
                plan.format.as_str()
            )?;
            for (i, source) in plan.sources.iter().enumerate() {
                writeln!(f, "  {}. {}", i + 1, source.url)?;
            }
            match &plan.integrity {
                Integrity::Pinned(sha) => writeln!(f, "  sha256 {sha} (pinned)")?,
                Integrity::ChecksumsFile(_) => writeln!(
                    f,
                    "  sha256 not pinned: read from the checksums file at install"
                )?,
            }
            if let Some(size) = plan.size {
                writeln!(f, "  size {size} bytes")?;
            }
            for bin in &plan.bins {
                writeln!(f, "  bin {} = {}", bin.name, bin.archive_path)?;
            }
        }
        Ok(())
    }
}

impl super::Report for Report {}
