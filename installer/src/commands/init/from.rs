//! `postbin init --from SOURCE`: the whole `postbin` section written from a
//! release the publisher already has, and pinned. Reads the release
//! (`crate::release`), recognises each asset's targets and format, takes one
//! asset per target, finds each command inside it (listing the archive when
//! no metadata says), checks every hash it is told against the others and
//! against the bytes, infers one url template with per-target overrides
//! only where names break it, and writes package.json in its own style.
//! A cargo-dist npm package is migrated in place, `--from` or not.

use super::Options;
use crate::checksums;
use crate::error::Error;
use crate::hash::Sha256Hash;
use crate::manifest::unscoped;
use crate::net::Client;
use crate::plan::Format;
use crate::platform;
use crate::release::{self, Asset, Release, cargo_dist_npm, names};
use crate::settings::Settings;
use crate::template;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One target as chosen.
#[derive(Debug)]
pub struct Row {
    pub target: String,
    pub asset: String,
    pub format: Format,
    /// Command → path inside the archive.
    pub bins: BTreeMap<String, String>,
    /// Where the pinned hash came from (every source that agreed).
    pub hash_from: String,
}

/// What was chosen for each target, printed as a table.
#[derive(Debug, Default)]
pub struct Report {
    pub origin: String,
    pub rows: Vec<Row>,
    /// (asset, why it is not used)
    pub skipped: Vec<(String, String)>,
    /// What a cargo-dist npm migration removed.
    pub removed: Vec<String>,
    pub notes: Vec<String>,
    /// package.json, when written (not with `--dry-run`).
    pub written: Option<PathBuf>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "from {}:", self.origin)?;
        let mut table = vec![[
            "target".to_string(),
            "asset".into(),
            "format".into(),
            "bin".into(),
            "sha256 from".into(),
        ]];
        for r in &self.rows {
            let bins: Vec<String> = match r.bins.len() {
                1 => r.bins.values().cloned().collect(),
                _ => r.bins.iter().map(|(c, p)| format!("{c}={p}")).collect(),
            };
            table.push([
                r.target.clone(),
                r.asset.clone(),
                r.format.as_str().into(),
                bins.join(", "),
                r.hash_from.clone(),
            ]);
        }
        let width = |i: usize| table.iter().map(|row| row[i].len()).max().unwrap_or(0);
        let widths: Vec<usize> = (0..4).map(width).collect();
        for row in &table {
            for (cell, w) in row.iter().zip(&widths) {
                write!(f, "  {cell:w$}")?;
            }
            writeln!(f, "  {}", row[4])?;
        }
        for (asset, why) in &self.skipped {
            writeln!(f, "skipped {asset}: {why}")?;
        }
        for what in &self.removed {
            writeln!(f, "removed {what}")?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        match &self.written {
            Some(path) => writeln!(f, "wrote the postbin section to {}", path.display()),
            None => writeln!(f, "dry run: nothing written"),
        }
    }
}

/// Writes (unless `--dry-run`) the `postbin` section from `--from`, or from
/// the package itself when it is a cargo-dist npm package; `None` when
/// there is nothing to read.
pub fn run(package_dir: &Path, options: &Options) -> Result<Option<Report>, Error> {
    let json_path = package_dir.join("package.json");
    let text = match std::fs::read_to_string(&json_path) {
        Ok(text) => text,
        Err(_) if options.from.is_none() => return Ok(None),
        Err(e) => {
            return Err(Error::Release(format!(
                "cannot read {}: {e}; init --from writes into the package's package.json: create it first (npm init)",
                json_path.display()
            )));
        }
    };
    let mut root: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Release(format!("{}: {e}", json_path.display())))?;
    let cargo_dist = cargo_dist_npm::detect(&root);
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
        Some(source) => release::source::read(&client, source, &root)?,
        None => cargo_dist_npm::read(&root),
    };
    let mut report = Report {
        origin: release.origin.clone(),
        ..Report::default()
    };
    let declared: Vec<String> = match &root["bin"] {
        Value::Object(bin) => bin.keys().cloned().collect(),
        Value::String(_) => vec![unscoped(&name).to_string()],
        _ => Vec::new(),
    };
    let chosen = choose(&release, &mut report)?;
    let pkg_version = root["version"].as_str().unwrap_or_default().to_string();
    let version = release
        .version
        .clone()
        .unwrap_or_else(|| pkg_version.clone());
    let sums = checksum_files(&client, &release, &chosen)?;
    let mut picks = Vec::new();
    for (target, index, format) in chosen {
        let asset = &release.assets[index];
        let pick = settle(&client, asset, target, format, &declared, &sums)?;
        picks.push(pick);
    }
    let commands: Vec<String> = match declared.is_empty() {
        true => picks[0].bins.keys().cloned().collect(),
        false => declared.clone(),
    };
    let section = section(
        &release,
        &picks,
        &version,
        (version != pkg_version).then_some(&version),
        &root,
    );
    for pick in &picks {
        report.rows.push(Row {
            target: pick.target.clone(),
            asset: pick.asset.name.clone(),
            format: pick.format,
            bins: pick.bins.clone(),
            hash_from: pick.hash_from.join(", "),
        });
    }
    let obj = root
        .as_object_mut()
        .ok_or_else(|| Error::Release(format!("{}: not a JSON object", json_path.display())))?;
    if cargo_dist {
        report.removed = cargo_dist_npm::migrate(package_dir, obj, options.dry_run);
        if package_dir.join("npm-shrinkwrap.json").is_file() {
            report.notes.push(
                "npm-shrinkwrap.json still lists the removed dependencies: run `npm install` to refresh it".into(),
            );
        }
    }
    if !obj.contains_key("bin") {
        let bin: Map<String, Value> = commands
            .iter()
            .map(|c| (c.clone(), Value::String(format!("bin/{c}"))))
            .collect();
        obj.insert("bin".into(), Value::Object(bin));
    }
    if let Some(Value::Object(old)) = obj.get("postbin")
        && let Some(prefix) = old.get("envPrefix")
    {
        let mut section = section.clone();
        section.insert("envPrefix".into(), prefix.clone());
        obj.insert("postbin".into(), Value::Object(section));
    } else {
        obj.insert("postbin".into(), Value::Object(section));
    }
    if !options.dry_run {
        let out = crate::json_edit::like(&text, &root);
        if out != text {
            std::fs::write(&json_path, out).map_err(|e| {
                Error::Release(format!("cannot write {}: {e}", json_path.display()))
            })?;
        }
        report.written = Some(json_path);
    }
    Ok(Some(report))
}

/// One asset per target: (target, asset index, format), sorted by target.
/// Everything else is listed in the report with the reason.
fn choose(release: &Release, report: &mut Report) -> Result<Vec<(String, usize, Format)>, Error> {
    let mut by_target: BTreeMap<String, Vec<(usize, Format)>> = BTreeMap::new();
    for (i, asset) in release.assets.iter().enumerate() {
        let (format, targets) = match names::classify(&asset.name) {
            _ if !asset.targets.is_empty() => (
                names::format(&asset.name).unwrap_or(Format::Raw),
                asset.targets.clone(),
            ),
            names::Kind::Archive(format, targets) => (format, targets),
            names::Kind::Checksums => continue,
            names::Kind::Skip(why) => {
                report.skipped.push((asset.name.clone(), why.to_string()));
                continue;
            }
        };
        for target in targets {
            by_target.entry(target).or_default().push((i, format));
        }
    }
    let mac = |arch: &str| by_target.contains_key(&format!("{arch}-apple-darwin"));
    if mac("x86_64")
        && mac("aarch64")
        && let Some(universal) = by_target.remove("universal2-apple-darwin")
    {
        for (i, _) in universal {
            report.skipped.push((
                release.assets[i].name.clone(),
                "universal macOS build; both Mac targets have their own".into(),
            ));
        }
    }
    if by_target.is_empty() {
        let skipped: Vec<String> = report
            .skipped
            .iter()
            .map(|(a, why)| format!("\n  {a}: {why}"))
            .collect();
        return Err(Error::Release(format!(
            "{} has no asset postbin can install (an archive or executable whose name says its platform, \
             such as hello-x86_64-unknown-linux-musl.tar.gz or hello_linux_amd64.tar.gz){}",
            release.origin,
            skipped.concat()
        )));
    }
    let mut chosen = Vec::new();
    for (target, assets) in by_target {
        if let [a, b, ..] = assets.as_slice() {
            return Err(Error::Release(format!(
                "two assets of {} are for {target}: {} and {}; postbin takes one per target. \
                 Delete the one you do not want from the release, or put the assets to use in a \
                 directory and run `postbin init --from DIR`",
                release.origin, release.assets[a.0].name, release.assets[b.0].name
            )));
        }
        chosen.push((target, assets[0].0, assets[0].1));
    }
    Ok(chosen)
}

/// The text of every checksums file that may hash a chosen asset: the
/// release-wide ones, and `<asset>.sha256` for each chosen asset.
fn checksum_files(
    client: &Client<'_>,
    release: &Release,
    chosen: &[(String, usize, Format)],
) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for asset in &release.assets {
        if names::classify(&asset.name) != names::Kind::Checksums {
            continue;
        }
        if let Some(of) = asset.name.strip_suffix(".sha256")
            && !chosen.iter().any(|(_, i, _)| release.assets[*i].name == of)
        {
            continue;
        }
        let text = release::read_text(client, &asset.url, asset.local.as_deref())?;
        out.push((asset.name.clone(), text));
    }
    Ok(out)
}

/// One target's asset, settled: its hash (every source agreeing), its
/// commands' paths, its size when counted here.
struct Pick<'a> {
    target: String,
    asset: &'a Asset,
    format: Format,
    bins: BTreeMap<String, String>,
    sha256: Sha256Hash,
    size: Option<u64>,
    hash_from: Vec<String>,
}

fn settle<'a>(
    client: &Client<'_>,
    asset: &'a Asset,
    mut target: String,
    format: Format,
    declared: &[String],
    sums: &[(String, String)],
) -> Result<Pick<'a>, Error> {
    let mut claims = asset.hashes.clone();
    for (file, text) in sums {
        let own = file.strip_suffix(".sha256") == Some(asset.name.as_str());
        let found = checksums::find(text, &asset.name).or_else(|| {
            own.then(|| text.split_whitespace().next().and_then(Sha256Hash::parse))
                .flatten()
        });
        if let Some(sha) = found {
            claims.push((sha, file.clone()));
        }
    }
    let exe = if platform::is_windows(&target) {
        ".exe"
    } else {
        ""
    };
    let mut bins = asset.bins.clone();
    if format == Format::Raw {
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
        bins = BTreeMap::from([(commands[0].clone(), format!("{}{exe}", commands[0]))]);
    }
    let listed = claims.is_empty() || bins.is_empty();
    let mut size = None;
    let mut hash_from = Vec::new();
    if listed {
        let dir = tempfile::tempdir()
            .map_err(|e| Error::Release(format!("cannot make a temp dir: {e}")))?;
        let raw_name = bins.values().next().cloned().unwrap_or_default();
        let (sha, bytes, listing) = release::unpack(client, asset, format, &raw_name, dir.path())?;
        claims.push((sha, "download".into()));
        size = Some(bytes);
        if bins.is_empty() {
            bins = find_bins(asset, &target, declared, &listing)?;
        }
        // A Linux build whose name says no libc: its loader says which.
        let lower = asset.name.to_ascii_lowercase();
        if asset.targets.is_empty() && target.contains("-linux-musl") && !lower.contains("musl") {
            let first = dir
                .path()
                .join(bins.values().next().map_or("", String::as_str));
            if platform::elf_interpreter(&first).is_some_and(|i| !i.contains("musl")) {
                target = target.replace("-musl", "-gnu");
            }
        }
    }
    let missing: Vec<&String> = declared.iter().filter(|c| !bins.contains_key(*c)).collect();
    if let Some(command) = missing.first() {
        let found: Vec<&str> = bins.keys().map(String::as_str).collect();
        return Err(Error::Release(format!(
            "{} ({target}) has no `{command}`, which package.json `bin` declares; it holds: {}. \
             Fix `bin`, or pick a release whose archives hold it",
            asset.name,
            if found.is_empty() {
                "no executable".into()
            } else {
                found.join(", ")
            }
        )));
    }
    bins.retain(|c, _| declared.is_empty() || declared.contains(c));
    let (sha, first) = claims[0].clone();
    for (other, from) in &claims[1..] {
        if *other != sha {
            return Err(Error::Checksums {
                detail: format!(
                    "the sha256 of {} disagrees: {first} says {sha}, {from} says {other}; \
                     was the asset re-uploaded? Nothing was written",
                    asset.name
                ),
            });
        }
    }
    for (_, from) in claims {
        if !hash_from.contains(&from) {
            hash_from.push(from);
        }
    }
    Ok(Pick {
        target,
        asset,
        format,
        bins,
        sha256: sha,
        size,
        hash_from,
    })
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

/// The section: one url template (and format, and bin map) for most
/// targets, overrides where a target breaks it.
fn section(
    release: &Release,
    picks: &[Pick<'_>],
    version: &str,
    own_version: Option<&String>,
    root: &Value,
) -> Map<String, Value> {
    let name = unscoped(root["name"].as_str().unwrap_or_default()).to_string();
    let vars = |p: &Pick<'_>, command: &str| -> Vec<(&'static str, String)> {
        let (os, arch) = platform::go_os_arch(&p.target);
        let exe = if platform::is_windows(&p.target) {
            ".exe"
        } else {
            ""
        };
        vec![
            ("version", version.to_string()),
            ("target", p.target.clone()),
            ("format", p.format.as_str().to_string()),
            ("exe", exe.to_string()),
            (
                "name",
                if command.is_empty() {
                    name.clone()
                } else {
                    command.to_string()
                },
            ),
            ("os", os.to_string()),
            ("arch", arch.to_string()),
        ]
    };
    let renders = |t: &str, p: &Pick<'_>, command: &str, want: &str| {
        let v = vars(p, command);
        let v: Vec<(&'static str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
        template::render(t, &v).is_ok_and(|r| r == want)
    };
    let urls: Vec<String> = picks.iter().map(|p| url_template(p, version)).collect();
    let url = most(picks, &urls, |t, p| renders(t, p, "", &p.asset.url));
    // Bin maps: none (each command at the top, `{name}{exe}`) if that fits most.
    let bin_maps: Vec<BTreeMap<String, String>> = picks
        .iter()
        .map(|p| {
            p.bins
                .iter()
                .map(|(c, path)| (c.clone(), path_template(path, p, version)))
                .collect()
        })
        .collect();
    let fits = |map: &BTreeMap<String, String>, p: &Pick<'_>| {
        p.format == Format::Raw
            || p.bins.iter().all(|(c, path)| {
                let t = map.get(c).map_or("{name}{exe}", String::as_str);
                renders(t, p, c, path)
            })
    };
    let bin = most(picks, &bin_maps, |m, p| fits(m, p));
    let default_fits = picks.iter().filter(|p| fits(&BTreeMap::new(), p)).count();
    let bin_fits = picks.iter().filter(|p| fits(&bin, p)).count();
    let bin = if default_fits >= bin_fits {
        BTreeMap::new()
    } else {
        bin
    };
    let formats: Vec<Format> = picks.iter().map(|p| p.format).collect();
    let format = most(picks, &formats, |f, p| *f == p.format);

    let mut section = Map::new();
    section.insert("url".into(), Value::String(url.clone()));
    if format != Format::TarGz {
        section.insert("format".into(), format.as_str().into());
    }
    if let Some(v) = own_version {
        section.insert("version".into(), v.clone().into());
    }
    if !bin.is_empty() {
        section.insert("bin".into(), string_map(&bin));
    }
    let mut targets = Map::new();
    for (i, p) in picks.iter().enumerate() {
        let mut entry = Map::new();
        if !renders(&url, p, "", &p.asset.url) {
            entry.insert("url".into(), urls[i].clone().into());
        }
        if p.format != format {
            entry.insert("format".into(), p.format.as_str().into());
        }
        if !fits(&bin, p) {
            entry.insert("bin".into(), string_map(&bin_maps[i]));
        }
        entry.insert("sha256".into(), p.sha256.hex().into());
        if let Some(size) = p.size {
            entry.insert("size".into(), size.into());
        }
        if let Some(glibc) = &release.glibc
            && platform::is_gnu_linux(&p.target)
        {
            entry.insert("glibc".into(), glibc.clone().into());
        }
        targets.insert(p.target.clone(), Value::Object(entry));
    }
    section.insert("targets".into(), Value::Object(targets));
    section
}

/// The candidate (one per pick) that fits the most picks; the first on ties.
fn most<T: Clone>(picks: &[Pick<'_>], candidates: &[T], fits: impl Fn(&T, &Pick<'_>) -> bool) -> T {
    let score = |c: &T| picks.iter().filter(|p| fits(c, p)).count();
    let mut best = &candidates[0];
    for c in candidates {
        if score(c) > score(best) {
            best = c;
        }
    }
    best.clone()
}

fn string_map(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect(),
    )
}

/// A pick's URL as a template: its target (or goreleaser's `{os}_{arch}`),
/// version and format made variables.
fn url_template(p: &Pick<'_>, version: &str) -> String {
    let url = &p.asset.url;
    let (dir, file) = url.rsplit_once('/').unwrap_or(("", url));
    let mut file = escape(file);
    if p.format != Format::Raw
        && let Some(stem) = file.strip_suffix(&format!(".{}", p.format.as_str()))
    {
        file = format!("{stem}.{{format}}");
    }
    let (os, arch) = platform::go_os_arch(&p.target);
    if file.contains(p.target.as_str()) {
        file = file.replace(p.target.as_str(), "{target}");
    } else {
        file = file.replace(&format!("{os}_{arch}"), "{os}_{arch}");
    }
    if p.format == Format::Raw && platform::is_windows(&p.target) && file.ends_with(".exe") {
        file = format!("{}{{exe}}", &file[..file.len() - 4]);
    }
    // The version is looked for in the path only, never in the host.
    let path_at = dir.find("://").map_or(0, |i| {
        dir[i + 3..].find('/').map_or(dir.len(), |j| i + 3 + j)
    });
    let (host, path) = dir.split_at(path_at);
    format!(
        "{}{}/{}",
        escape(host),
        versioned(&escape(path), version),
        versioned(&file, version)
    )
}

/// A path inside the archive as a template.
fn path_template(path: &str, p: &Pick<'_>, version: &str) -> String {
    let mut t = escape(path).replace(p.target.as_str(), "{target}");
    if platform::is_windows(&p.target) && t.ends_with(".exe") {
        t = format!("{}{{exe}}", &t[..t.len() - 4]);
    }
    versioned(&t, version)
}

fn versioned(text: &str, version: &str) -> String {
    if version.is_empty() {
        return text.to_string();
    }
    text.replace(version, "{version}")
}

fn escape(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
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
