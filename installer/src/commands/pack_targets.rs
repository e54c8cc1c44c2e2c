//! `postbin pack-targets`: wraps each pinned target's release archive, byte
//! for byte, in an npm package of its own (`<name>-<target>`, same version,
//! `os`/`cpu`/`libc` set, no scripts, no bin), packs it into `--out`, and
//! records the tarball's sha512 integrity next to the archive's sha256 in
//! `postbin.targets.<t>.integrity`. Published before the tool itself
//! (`npm publish FILE.tgz` each), they let consumers whose network reaches
//! only an npm registry install the tool: the installer fetches the wrapper
//! from their registry, checks the integrity, then the archive's sha256.
//! The tool does not depend on them (no `optionalDependencies`): npm's
//! lockfile would then pin one platform's choice for every platform.

use crate::error::{Error, io_err};
use crate::fetch::{self, Expect};
use crate::manifest::Manifest;
use crate::net::Client;
use crate::npm::integrity::Sha512Integrity;
use crate::npm::wrapper;
use crate::pipeline::{self, Targets};
use crate::plan::{self, Integrity, Plan};
use serde_json::{Map, Value, json};
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Where the tarballs go by default, under the package: `.postbin/` is kept
/// out of the published package (`init`, `check`).
const DEFAULT_OUT: &str = ".postbin/npm-targets";

#[derive(Debug, Default, PartialEq)]
pub struct Options {
    pub package: Option<PathBuf>,
    pub out: Option<PathBuf>,
    /// `--targets all|T,T` (default: all).
    pub targets: Option<String>,
}

/// One wrapper written.
#[derive(Debug)]
pub struct Packed {
    pub target: String,
    pub package: String,
    pub file: PathBuf,
    pub size: u64,
    pub integrity: Sha512Integrity,
}

#[derive(Debug, Default)]
pub struct Report {
    pub packed: Vec<Packed>,
    /// (target, why): targets that could not be packed; the command fails.
    pub skipped: Vec<(String, String)>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .packed
            .iter()
            .map(|p| p.target.len())
            .max()
            .unwrap_or(0);
        for p in &self.packed {
            writeln!(
                f,
                "{:width$}  {}  {} bytes  {}",
                p.target, p.package, p.size, p.integrity
            )?;
        }
        if !self.packed.is_empty() {
            writeln!(
                f,
                "Publish them before the tool itself (the integrity is in package.json now):"
            )?;
            for p in &self.packed {
                writeln!(f, "  npm publish {}", p.file.display())?;
            }
        }
        Ok(())
    }
}

impl super::Report for Report {
    fn problems(&self) -> Vec<String> {
        super::left_out("packed", &self.skipped)
    }
}

pub fn run(options: &Options) -> Result<Report, Error> {
    let (package_dir, manifest, settings) = super::load_package(options.package.as_deref())?;
    let client = Client::new(&settings);
    let out = match &options.out {
        Some(dir) => std::path::absolute(dir).unwrap_or_else(|_| dir.clone()),
        None => package_dir.join(DEFAULT_OUT),
    };
    std::fs::create_dir_all(&out).map_err(|e| Error::MirrorTree(io_err("create", &out)(e)))?;
    let targets: Vec<String> =
        match Targets::parse(Some(options.targets.as_deref().unwrap_or("all"))) {
            Targets::List(list) => list,
            Targets::Host => vec![pipeline::host_target(&manifest, &settings)?],
            Targets::All => manifest.postbin.targets.keys().cloned().collect(),
        };
    let mut report = Report::default();
    for target in &targets {
        if !manifest.postbin.targets.contains_key(target) {
            report
                .skipped
                .push((target.clone(), "the package offers no such target".into()));
            continue;
        }
        match plan::resolve(&manifest, &settings, target) {
            Ok(plan) => report.packed.push(pack(&client, &manifest, &plan, &out)?),
            Err(plan::Error::MissingHash { .. }) => {
                report.skipped.push((
                    target.clone(),
                    "no pinned sha256; run `postbin pin` first".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    record_integrity(&package_dir, &report.packed)?;
    Ok(report)
}

/// Downloads the archive (verified against its pinned sha256) and writes
/// its wrapper tarball into `out`.
fn pack(
    client: &Client<'_>,
    manifest: &Manifest,
    plan: &Plan,
    out: &Path,
) -> Result<Packed, Error> {
    let Integrity::Pinned(sha) = plan.integrity else {
        unreachable!(
            "plan::resolve pins or fails with MissingHash for a target without sha256 and checksums"
        );
    };
    // From the release itself: the registry's copy is what is being made.
    let sources: Vec<plan::Source> = plan
        .sources
        .iter()
        .filter(|s| s.wrapped.is_none())
        .cloned()
        .collect();
    let mut archive =
        tempfile::tempfile_in(out).map_err(|e| Error::MirrorTree(io_err("write in", out)(e)))?;
    let want = fetch::Want {
        size: plan.size,
        ..fetch::Want::new(Expect::Sha256(sha))
    };
    let done = fetch::download(client, &sources, &want, &mut archive, &plan.asset_name)?;
    let package = wrapper::package_name(&manifest.name, &plan.target);
    let package_json = wrapper_package_json(manifest, &package, plan);
    let file = out.join(wrapper::tgz_file_name(&package, &manifest.version));
    let mut write = |file: &Path| -> std::io::Result<Sha512Integrity> {
        use std::io::Seek;
        archive.rewind()?;
        // Mode 0666 less the umask, as `npm pack` leaves its tarballs, not
        // tempfile's private 0600: they are for publishing.
        #[cfg(unix)]
        let builder = {
            use std::os::unix::fs::PermissionsExt;
            let mut builder = tempfile::Builder::new();
            builder.permissions(std::fs::Permissions::from_mode(0o666));
            builder
        };
        #[cfg(not(unix))]
        let builder = tempfile::Builder::new();
        let mut temp = builder.tempfile_in(out)?;
        let mut out = std::io::BufWriter::new(temp.as_file_mut());
        wrapper::write_tgz(
            &mut out,
            package_json.as_bytes(),
            &plan.asset_name,
            &mut archive,
            done.size,
        )?;
        drop(out);
        let integrity = Sha512Integrity::of_file(temp.path())?;
        temp.persist(file).map_err(|e| e.error)?;
        Ok(integrity)
    };
    let integrity = write(&file).map_err(|e| Error::MirrorTree(io_err("write", &file)(e)))?;
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    Ok(Packed {
        target: plan.target.clone(),
        package,
        file,
        size,
        integrity,
    })
}

/// The wrapper's package.json: what npm needs to publish it, the platform
/// it is for, and where it comes from.
fn wrapper_package_json(manifest: &Manifest, package: &str, plan: &Plan) -> String {
    let (os, cpu, libc) = wrapper::npm_platform(&plan.target);
    let mut root = Map::new();
    root.insert("name".into(), json!(package));
    root.insert("version".into(), json!(manifest.version));
    root.insert(
        "description".into(),
        json!(format!(
            "The {} release archive of {} ({}), for postbin to install from an npm registry; not meant to be installed directly",
            plan.target, manifest.name, plan.asset_name
        )),
    );
    for (key, list) in [("os", os), ("cpu", cpu), ("libc", libc)] {
        if !list.is_empty() {
            root.insert(key.into(), json!(list));
        }
    }
    let original = read_package_json(&manifest.dir).unwrap_or(Value::Null);
    for key in ["license", "repository", "homepage"] {
        if let Some(value) = original.get(key) {
            root.insert(key.into(), value.clone());
        }
    }
    let mut text =
        serde_json::to_string_pretty(&Value::Object(root)).expect("a Value always serializes");
    text.push('\n');
    text
}

fn read_package_json(dir: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(dir.join("package.json")).ok()?).ok()
}

/// Writes each packed target's integrity into package.json, keeping its
/// formatting.
fn record_integrity(package_dir: &Path, packed: &[Packed]) -> Result<(), Error> {
    if packed.is_empty() {
        return Ok(());
    }
    let path = package_dir.join("package.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
    let mut root: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    for p in packed {
        if let Some(entry) = crate::json_edit::target_entry_mut(&mut root, &p.target) {
            entry.insert("integrity".into(), Value::String(p.integrity.to_string()));
        }
    }
    let updated = crate::json_edit::like(&text, &root);
    if updated != text {
        File::create(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, updated.as_bytes()))
            .map_err(|e| Error::Usage(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_names_its_platform_and_keeps_the_license() {
        let dir = tempfile::tempdir().unwrap();
        let text = r#"{"name":"@acme/hello","version":"1.2.3","license":"MIT","bin":{"hello":"bin/hello"},"scripts":{"postinstall":"postbin install"},
            "postbin":{"url":"https://h/{target}.tar.gz","bin":{"hello":"hello"},"targets":{"aarch64-unknown-linux-musl":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}}}"#;
        std::fs::write(dir.path().join("package.json"), text).unwrap();
        let manifest = Manifest::load(dir.path()).unwrap();
        let settings = crate::settings::Settings::resolve(&|_| None, &Default::default(), None);
        let plan = plan::resolve(&manifest, &settings, "aarch64-unknown-linux-musl").unwrap();
        let json: Value =
            serde_json::from_str(&wrapper_package_json(&manifest, "@acme/hello-x", &plan)).unwrap();
        assert_eq!(json["name"], "@acme/hello-x");
        assert_eq!(json["version"], "1.2.3");
        assert_eq!(json["os"], json!(["linux"]));
        assert_eq!(json["cpu"], json!(["arm64"]));
        assert_eq!(json["libc"], json!(["musl"]));
        assert_eq!(json["license"], "MIT");
        assert!(
            json.get("scripts").is_none() && json.get("bin").is_none(),
            "no scripts, no bin: {json}"
        );
    }
}
