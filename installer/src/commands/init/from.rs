//! `postbin init --from SOURCE`: the whole `postbin` section written from a
//! release the publisher already has, and pinned. Reads the release
//! (`crate::release`), recognises each asset's targets and format, takes one
//! asset per target, finds each command inside it (listing the archive when
//! no metadata says), checks every hash it is told against the others and
//! against the bytes, infers one url template with per-target overrides
//! only where names break it, and writes package.json in its own style.
//! A cargo-dist npm package is migrated in place, `--from` or not.

use super::Options;
use super::report::{Pick, Report, Row};
use crate::checksums;
use crate::error::Error;
use crate::hash::Sha256Hash;
use crate::manifest::unscoped;
use crate::net::Client;
use crate::plan::Format;
use crate::platform;
use crate::release::{self, Asset, Release, cargo_dist_npm, names};
use crate::settings::Settings;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Writes (unless `--dry-run`) the `postbin` section from `--from`, or from
/// the package itself when it is a cargo-dist npm package; `None` when
/// there is nothing to read.
pub fn run(package_dir: &Path, options: &Options) -> Result<Option<Report>, Error> {
    let json_path = package_dir.join("package.json");
    let Some((text, mut root)) = read_package_json(&json_path, options.from.is_some())? else {
        return Ok(None);
    };
    let cargo_dist = cargo_dist_npm::detect(&root);
    let legacy = cargo_dist_npm::detect_legacy(&root);
    if options.from.is_none() && legacy {
        return Err(Error::Usage(format!(
            "{} is an npm package of a cargo-dist older than 0.14: its platforms are code in \
             binary.js, not data postbin can read. Name the release: `postbin init --from \
             owner/repo@tag` (or its dist-manifest.json); cargo-dist's installer is then removed",
            json_path.display()
        )));
    }
    if options.from.is_none() && !cargo_dist {
        return Ok(None);
    }
    let name = root["name"].as_str().unwrap_or_default().to_string();
    let prefix = crate::plan::env_prefix(&crate::manifest::Manifest {
        name: name.clone(),
        ..Default::default()
    });
    let settings = Settings::load(Some(&prefix));
    settings.check()?;
    let client = Client::new(&settings);
    let release = match &options.from {
        Some(source) => release::source::read(&client, source, &root, options.app.as_deref())?,
        None => cargo_dist_npm::read(&root)?,
    };
    let mut report = Report {
        origin: release.origin.clone(),
        ..Report::default()
    };
    let declared = declared_commands(&root, &name);
    let picks = pick_assets(&client, &release, &declared, &mut report)?;
    report.rows = picks.iter().map(Row::of).collect();
    let unvouched: Vec<&str> = picks
        .iter()
        .filter(|p| p.hash_from.iter().all(|f| f == DOWNLOAD || f == LOCAL_COPY))
        .map(|p| p.asset.name.as_str())
        .collect();
    if !unvouched.is_empty() {
        report.notes.push(format!(
            "trust on first use: nothing but the bytes themselves vouches for the sha256 of {}; \
             the release publishes no checksum for them. Compare the pins with a build you trust \
             before publishing",
            unvouched.join(", ")
        ));
    }
    let pkg_version = root["version"].as_str().unwrap_or_default().to_string();
    let version = release
        .version
        .clone()
        .unwrap_or_else(|| pkg_version.clone());
    let own_version = (version != pkg_version).then_some(&version);
    let section = super::section::section(&release, &picks, &version, own_version, &root);
    let obj = root
        .as_object_mut()
        .ok_or_else(|| Error::Release(format!("{}: not a JSON object", json_path.display())))?;
    if cargo_dist || legacy {
        report.removed = cargo_dist_npm::migrate(package_dir, obj, options.dry_run);
        if package_dir.join("npm-shrinkwrap.json").is_file() {
            report.notes.push(
                "npm-shrinkwrap.json still pins the removed dependencies, and npm installs what it \
                 pins: run `npm install` to rewrite it before publishing"
                    .into(),
            );
        }
    }
    let commands = match declared.is_empty() {
        true => picks[0].bins.keys().cloned().collect(),
        false => declared,
    };
    put_section(obj, section, &commands);
    if !options.dry_run {
        write_package_json(&json_path, &text, &root)?;
        report.written = Some(json_path);
    }
    Ok(Some(report))
}

/// package.json's text and value; `None` when it is absent and nothing
/// asked for it (plain `init` on a package that is not cargo-dist's).
fn read_package_json(json_path: &Path, asked: bool) -> Result<Option<(String, Value)>, Error> {
    let text = match std::fs::read_to_string(json_path) {
        Ok(text) => text,
        Err(_) if !asked => return Ok(None),
        Err(e) => {
            return Err(Error::Release(format!(
                "cannot read {}: {e}; init --from writes into the package's package.json: create it first (npm init)",
                json_path.display()
            )));
        }
    };
    let root = serde_json::from_str(&text)
        .map_err(|e| Error::Release(format!("{}: {e}", json_path.display())))?;
    Ok(Some((text, root)))
}

fn write_package_json(json_path: &Path, text: &str, root: &Value) -> Result<(), Error> {
    let out = crate::json_edit::like(text, root);
    if out != text {
        std::fs::write(json_path, out)
            .map_err(|e| Error::Release(format!("cannot write {}: {e}", json_path.display())))?;
    }
    Ok(())
}

/// The commands package.json declares (a string `bin` is the package's own).
fn declared_commands(root: &Value, name: &str) -> Vec<String> {
    match &root["bin"] {
        Value::Object(bin) => bin.keys().cloned().collect(),
        Value::String(_) => vec![unscoped(name).to_string()],
        _ => Vec::new(),
    }
}

/// One settled asset per target: chosen, hashed, its executables found.
fn pick_assets<'a>(
    client: &Client<'_>,
    release: &'a Release,
    declared: &[String],
    report: &mut Report,
) -> Result<Vec<Pick<'a>>, Error> {
    let chosen = super::choose::choose(release, report)?;
    let sums = checksum_files(client, release, &chosen)?;
    chosen
        .into_iter()
        .map(|(target, index, format)| {
            settle(
                client,
                &release.assets[index],
                target,
                format,
                declared,
                &sums,
            )
        })
        .collect()
}

/// The section in place (an `envPrefix` the publisher set is kept), and a
/// `bin` for the commands when package.json had none.
fn put_section(obj: &mut Map<String, Value>, mut section: Map<String, Value>, commands: &[String]) {
    if !obj.contains_key("bin") {
        let bin: Map<String, Value> = commands
            .iter()
            .map(|c| (c.clone(), Value::String(format!("bin/{c}"))))
            .collect();
        obj.insert("bin".into(), Value::Object(bin));
    }
    if let Some(prefix) = obj.get("postbin").and_then(|old| old.get("envPrefix")) {
        section.insert("envPrefix".into(), prefix.clone());
    }
    obj.insert("postbin".into(), Value::Object(section));
}

/// The text of every checksums file that may hash a chosen asset: the
/// release-wide ones, and `<asset>.sha256` (or `.sha256sum`) of each. One
/// is needed when a chosen asset has no hash from the metadata and no local
/// copy to hash where it lies; the others only cross-check what is already
/// known, so one that cannot be fetched (offline, gone) is passed over.
fn checksum_files(
    client: &Client<'_>,
    release: &Release,
    chosen: &[(String, usize, Format)],
) -> Result<Vec<(String, String)>, Error> {
    let chosen: Vec<&Asset> = chosen.iter().map(|(_, i, _)| &release.assets[*i]).collect();
    let unknown = |a: &&&Asset| a.hashes.is_empty() && a.local.is_none();
    let mut out = Vec::new();
    for file in &release.assets {
        if names::classify(&file.name) != names::Kind::Checksums {
            continue;
        }
        let of = file
            .name
            .strip_suffix(".sha256")
            .or_else(|| file.name.strip_suffix(".sha256sum"));
        let needed = match of {
            Some(of) if !chosen.iter().any(|a| a.name == of) => continue,
            Some(of) => chosen.iter().filter(unknown).any(|a| a.name == of),
            None => chosen.iter().any(|a| unknown(&a)),
        };
        match release::read_text(client, &file.url, file.local.as_deref()) {
            Ok(text) => out.push((file.name.clone(), text)),
            Err(e) if needed => return Err(e.into()),
            Err(_) => {}
        }
    }
    Ok(out)
}

/// Where a hash came from when it is the bytes' own (trust on first use).
const DOWNLOAD: &str = "download";
const LOCAL_COPY: &str = "local copy";

fn settle<'a>(
    client: &Client<'_>,
    asset: &'a Asset,
    mut target: String,
    format: Format,
    declared: &[String],
    sums: &[(String, String)],
) -> Result<Pick<'a>, Error> {
    let mut claims = asset.hashes.clone();
    claims.extend(claims_in(asset, sums));
    let mut bins = match format {
        Format::Raw => raw_bins(asset, &target, declared)?,
        _ => asset.bins.clone(),
    };
    let mut size = None;
    if claims.is_empty() || bins.is_empty() {
        let dir = tempfile::tempdir().map_err(|e| {
            Error::Release(format!(
                "cannot make a temp dir to list {} in: {e}; set TMPDIR to a writable directory",
                asset.name
            ))
        })?;
        let raw_name = bins.values().next().cloned().unwrap_or_default();
        let (sha, bytes, listing) = release::unpack(client, asset, format, &raw_name, dir.path())?;
        let from = if asset.local.is_some() {
            LOCAL_COPY
        } else {
            DOWNLOAD
        };
        claims.push((sha, from.into()));
        size = Some(bytes);
        if bins.is_empty() {
            bins = find_bins(asset, &target, declared, &listing)?;
        }
        target = libc_of_unnamed_linux(asset, target, dir.path(), &bins);
    }
    check_declared(asset, &target, declared, &bins)?;
    bins.retain(|c, _| declared.is_empty() || declared.contains(c));
    let (sha256, hash_from) = agreed_hash(asset, claims)?;
    Ok(Pick {
        target,
        asset,
        format,
        bins,
        sha256,
        size,
        hash_from,
    })
}

/// The asset's hash as each checksums file states it (its own `.sha256`
/// may hold the bare hash).
fn claims_in(asset: &Asset, sums: &[(String, String)]) -> Vec<(Sha256Hash, String)> {
    let mut claims = Vec::new();
    for (file, text) in sums {
        let own = file
            .strip_suffix(".sha256")
            .or_else(|| file.strip_suffix(".sha256sum"))
            == Some(asset.name.as_str());
        let found = checksums::find(text, &asset.name).or_else(|| {
            own.then(|| text.split_whitespace().next().and_then(Sha256Hash::parse))
                .flatten()
        });
        if let Some(sha) = found {
            claims.push((sha, file.clone()));
        }
    }
    claims
}

/// A bare executable is one command: the declared one, else named after it.
fn raw_bins(
    asset: &Asset,
    target: &str,
    declared: &[String],
) -> Result<BTreeMap<String, String>, Error> {
    let exe = if platform::is_windows(target) {
        ".exe"
    } else {
        ""
    };
    let commands = if declared.is_empty() {
        vec![names_command(&asset.name)]
    } else {
        declared.to_vec()
    };
    if commands.len() != 1 {
        return Err(Error::Release(format!(
            "{} is a bare executable, but package.json `bin` declares {} commands",
            asset.name,
            commands.len()
        )));
    }
    Ok(BTreeMap::from([(
        commands[0].clone(),
        format!("{}{exe}", commands[0]),
    )]))
}

/// A Linux build whose name says no libc was taken as `-musl`; its
/// executable's loader (in `dir`, where it was unpacked) says which it is.
fn libc_of_unnamed_linux(
    asset: &Asset,
    target: String,
    dir: &Path,
    bins: &BTreeMap<String, String>,
) -> String {
    let named = asset.name.to_ascii_lowercase().contains("musl");
    if !asset.targets.is_empty() || !target.contains("-linux-musl") || named {
        return target;
    }
    let first = dir.join(bins.values().next().map_or("", String::as_str));
    match platform::elf_interpreter(&first) {
        Some(loader) if !loader.contains("musl") => target.replace("-musl", "-gnu"),
        _ => target,
    }
}

/// Every command package.json declares is in the archive.
fn check_declared(
    asset: &Asset,
    target: &str,
    declared: &[String],
    bins: &BTreeMap<String, String>,
) -> Result<(), Error> {
    let Some(command) = declared.iter().find(|c| !bins.contains_key(*c)) else {
        return Ok(());
    };
    let found: Vec<&str> = bins.keys().map(String::as_str).collect();
    Err(Error::Release(format!(
        "{} ({target}) has no `{command}`, which package.json `bin` declares; it holds: {}. \
         Fix `bin`, or pick a release whose archives hold it",
        asset.name,
        if found.is_empty() {
            "no executable".into()
        } else {
            found.join(", ")
        }
    )))
}

/// The one hash every source agrees on, and the sources (each once); a
/// disagreement is exit 6, naming both.
fn agreed_hash(
    asset: &Asset,
    claims: Vec<(Sha256Hash, String)>,
) -> Result<(Sha256Hash, Vec<String>), Error> {
    let (sha, first) = claims[0].clone();
    if let Some((other, from)) = claims.iter().find(|(other, _)| *other != sha) {
        return Err(Error::Checksums {
            detail: format!(
                "the sha256 of {} disagrees: {first} says {sha}, {from} says {other}; \
                 was the asset re-uploaded? Nothing was written",
                asset.name
            ),
        });
    }
    let mut hash_from: Vec<String> = Vec::new();
    for (_, from) in claims {
        if !hash_from.contains(&from) {
            hash_from.push(from);
        }
    }
    Ok((sha, hash_from))
}

/// `hello-linux-amd64` → `hello`: the command a bare executable provides.
fn names_command(name: &str) -> String {
    let stem = name.trim_end_matches(".exe");
    stem.split(['-', '_']).next().unwrap_or(stem).to_string()
}

/// Each command's path in the listing: the declared commands, else every
/// executable found. The shallowest match wins.
fn find_bins(
    asset: &Asset,
    target: &str,
    declared: &[String],
    listing: &crate::extract::Listing,
) -> Result<BTreeMap<String, String>, Error> {
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    for (path, record) in listing {
        let file = path.rsplit('/').next().unwrap_or(path);
        let command = file.strip_suffix(".exe").unwrap_or(file);
        let executable = record.executable || file.ends_with(".exe");
        if !executable || command.contains('.') || command.is_empty() {
            continue;
        }
        let depth = |p: &str| p.matches('/').count();
        match found.get(command) {
            Some(old) if depth(old) <= depth(path) => {}
            _ => {
                found.insert(command.to_string(), path.clone());
            }
        }
    }
    if found.is_empty() && declared.is_empty() {
        return Err(Error::Release(format!(
            "{} ({target}) holds no executable file",
            asset.name
        )));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_tags() {
        for (tag, v) in [
            ("v1.2.3", "1.2.3"),
            ("hello-v0.4.0", "0.4.0"),
            ("1.0", "1.0"),
            ("hello@2.0.0", "2.0.0"),
        ] {
            assert_eq!(release::version_of_tag(tag), v, "{tag}");
        }
    }
}
