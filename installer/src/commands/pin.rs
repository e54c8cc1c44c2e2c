//! `postbin pin`: fills each target's `sha256` in package.json from
//! checksums sources (files, URLs, per-asset templates; every format
//! `checksums::read` knows) and/or by downloading each asset and hashing it.
//! It never writes a hash it did not read or compute. Every source is read
//! before anything is written; sources that disagree on an asset, or a
//! download that disagrees with them, fail the command (exit 6) and nothing
//! is written. A downloaded asset is unpacked, and pinned only if it holds
//! every declared executable. Targets it could not pin are reported and make
//! the command fail. With the bytes in hand (`--download`) it pins their
//! size (`size`) too; a hash it changes without the bytes loses the old, now
//! stale, size.

use crate::checksums::{self, Entry};
use crate::chunks::Chunks;
use crate::error::{Error, one_line};
use crate::hash::Sha256Hash;
use crate::manifest::Manifest;
use crate::net::Client;
use crate::plan::{self, Plan};
use crate::probe::{self, ProbeError, TextError};
use crate::settings::{Invalid, Origin, Settings};
use crate::url::{Url, redact};
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

/// The most of a checksums source that is read: anything larger is not a
/// checksums file (the archive's own URL, say).
const MAX_SUMS: u64 = 8 << 20;

#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// `--package DIR`.
    pub package: Option<PathBuf>,
    /// `--checksums FILE|URL`, each given; they are merged. `{url}` (the
    /// asset's URL) and `{asset}` (its file name) make one a per-asset
    /// template, read once per target.
    pub checksums: Vec<String>,
    /// `--download`: hash the assets themselves.
    pub download: bool,
}

#[derive(Debug, Default)]
pub struct Report {
    /// (target, hash, where it came from)
    pub pinned: Vec<(String, Sha256Hash, String)>,
    /// (target, size in bytes) for each target whose bytes were downloaded.
    pub sizes: Vec<(String, u64)>,
    /// (target, chunk digests) for each target whose bytes were downloaded.
    pub chunks: Vec<(String, Chunks)>,
    /// (target, old hash) whose pinned value changed: a re-uploaded asset.
    pub changed: Vec<(String, String)>,
    /// (target, why)
    pub unpinned: Vec<(String, String)>,
}

/// One line per pinned target (stdout); one per target left unpinned
/// (stderr), which makes the command fail.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (target, sha, how) in &self.pinned {
            writeln!(f, "pinned {target} {sha} from {how}")?;
        }
        Ok(())
    }
}

impl super::Report for Report {
    fn problems(&self) -> Vec<String> {
        super::left_out("pinned", &self.unpinned)
    }
}

pub fn run(options: &Options) -> Result<Report, Error> {
    let (package_dir, manifest, settings) = super::load_package(options.package.as_deref())?;
    let client = Client::new(&settings);
    let plans = plans(&manifest, &settings)?;
    // Every source first: a source that cannot be read, or sources that
    // disagree, stop the command before any download or write.
    let mut sources = Sources::new(&settings);
    let listed = plans
        .iter()
        .map(|plan| listed_hashes(&mut sources, &options.checksums, plan))
        .collect::<Result<Vec<_>, _>>()?;

    let mut report = Report::default();
    for (plan, listed) in plans.iter().zip(listed) {
        let target = &plan.target;
        let pinned = if options.download {
            pin_downloaded(&client, plan, &listed, &mut report)?
        } else if let Some((sha, _)) = listed.found.first() {
            Some((*sha, listed.labels().join(", ")))
        } else {
            report.unpinned.push((
                target.clone(),
                format!(
                    "{} is in none of the checksums sources ({})",
                    plan.asset_name,
                    listed.read.join(", ")
                ),
            ));
            None
        };
        if let Some((sha, how)) = pinned {
            let old = manifest.postbin.targets[target].sha256.clone();
            if let Some(old) = old.filter(|o| Sha256Hash::parse(o).is_some_and(|o| o != sha)) {
                report.changed.push((target.clone(), old));
            }
            report.pinned.push((target.clone(), sha, how));
        }
    }
    write_hashes(&package_dir, &report)?;
    for (target, old) in &report.changed {
        crate::warn!(
            "{target}: the pinned sha256 changed (was {old}); was the release asset re-uploaded?"
        );
    }
    Ok(report)
}

/// What the checksums sources say about one target's asset.
struct Listed {
    /// (hash, source) for each source listing the asset; all agree.
    found: Vec<(Sha256Hash, String)>,
    /// Every source read for it.
    read: Vec<String>,
}

impl Listed {
    fn labels(&self) -> Vec<&str> {
        self.found.iter().map(|(_, l)| l.as_str()).collect()
    }
}

/// Reads every `--checksums` value for `plan`'s asset; two that disagree
/// are an error naming both.
fn listed_hashes(
    sources: &mut Sources,
    values: &[String],
    plan: &plan::Plan,
) -> Result<Listed, Error> {
    let mut listed = Listed {
        found: Vec::new(),
        read: Vec::new(),
    };
    for value in values {
        let sums = sources.read(value, plan)?;
        for sha in sums.hashes_for(&plan.asset_name) {
            if let Some((other, label)) = listed.found.iter().find(|(h, _)| *h != sha) {
                return Err(disagreement(
                    plan,
                    (other, format!("in {label}")),
                    (&sha, format!("in {}", sums.label)),
                ));
            }
            if !listed.found.iter().any(|(_, l)| *l == sums.label) {
                listed.found.push((sha, sums.label.clone()));
            }
        }
        listed.read.push(sums.label.clone());
    }
    Ok(listed)
}

/// `--download`: the hash of the bytes (checked to hold the declared bins)
/// and its size, which must match what the sources list; a target that
/// cannot be downloaded or checked is reported unpinned.
fn pin_downloaded(
    client: &Client<'_>,
    plan: &plan::Plan,
    listed: &Listed,
    report: &mut Report,
) -> Result<Option<(Sha256Hash, String)>, Error> {
    let (sha, size, url, chunks) = match download_checked(client, plan) {
        Ok(done) => done,
        Err(why) => {
            report.unpinned.push((plan.target.clone(), why));
            return Ok(None);
        }
    };
    if let Some((listed, label)) = listed.found.first().filter(|(h, _)| *h != sha) {
        return Err(disagreement(
            plan,
            (listed, format!("in {label}")),
            (&sha, format!("downloaded from {url}")),
        ));
    }
    report.sizes.push((plan.target.clone(), size));
    report.chunks.push((plan.target.clone(), chunks));
    let mut how = format!("downloaded {url}");
    let labels = listed.labels();
    if !labels.is_empty() {
        how.push_str(&format!(", matching {}", labels.join(", ")));
    }
    Ok(Some((sha, how)))
}

/// Each target's plan as if it were pinned (its asset, sources, format and
/// bins): the hash is what pin is about to fill in, so a missing or
/// malformed one must not stop it.
fn plans(manifest: &Manifest, settings: &Settings) -> Result<Vec<Plan>, Error> {
    let mut as_pinned = manifest.clone();
    for entry in as_pinned.postbin.targets.values_mut() {
        entry.sha256 = Some("0".repeat(64));
    }
    manifest
        .postbin
        .targets
        .keys()
        .map(|target| {
            let mut plan = plan::resolve(&as_pinned, settings, target)?;
            // The release's own URLs only: a wrapper package on the npm
            // registry holds the archive as it was when last packed.
            plan.sources.retain(|s| s.wrapped.is_none());
            Ok(plan)
        })
        .collect()
}

/// Writes `postbin-chunks/<target>` into the package; returns the section's
/// `chunks` entry for it.
fn write_chunks(package_dir: &Path, target: &str, chunks: &Chunks) -> Result<Value, Error> {
    let file = crate::chunks::file_for(target);
    let path = package_dir.join(&file);
    let text = chunks.to_text();
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(path.parent().expect("a file in a directory"))?;
        std::fs::write(&path, &text)
    };
    write().map_err(|e| Error::Usage(format!("cannot write {}: {e}", path.display())))?;
    Ok(serde_json::json!({"file": file, "sha256": crate::hash::hash_bytes(text.as_bytes()).hex()}))
}

/// With a `files` list, npm packs only what it names: the chunk files must
/// be among it.
fn ship_chunk_files(root: &mut Value) {
    const DIR: &str = "postbin-chunks";
    if let Some(files) = root.get_mut("files").and_then(Value::as_array_mut)
        && !files
            .iter()
            .any(|f| f.as_str().is_some_and(|f| f.trim_end_matches('/') == DIR))
    {
        files.push(Value::String(DIR.into()));
    }
}

/// Two hashes for one asset, each with where it came from (`in FILE`,
/// `downloaded from URL`): exit 6.
fn disagreement(plan: &Plan, a: (&Sha256Hash, String), b: (&Sha256Hash, String)) -> Error {
    Error::Checksums {
        detail: format!(
            "the sources disagree on the sha256 of {} ({}):\n  {} {}\n  {} {}\n\
             Nothing was written. Find out which one is stale (an asset re-uploaded after its \
             checksums were published?) before pinning.",
            plan.asset_name, plan.target, a.0, a.1, b.0, b.1,
        ),
    }
}

/// One checksums source, read.
struct Sums {
    /// The file or URL (credentials redacted), as messages name it.
    label: String,
    entries: Vec<Entry>,
    /// The asset a bare hash in it is for: the one it was rendered for (a
    /// per-asset template), else the file's name without its extension
    /// (`hello.tar.gz.sha256` → `hello.tar.gz`).
    own_asset: String,
}

impl Sums {
    fn hashes_for<'a>(&'a self, asset: &'a str) -> impl Iterator<Item = Sha256Hash> + 'a {
        self.entries
            .iter()
            .filter_map(move |(name, sha)| match name {
                Some(name) => (name == asset).then_some(*sha),
                None => (self.own_asset == asset).then_some(*sha),
            })
    }
}

/// The `--checksums` sources read so far, by location, so that a file named
/// by every target is read once.
struct Sources {
    /// The user's settings (mirrors, proxy, CA, retries).
    settings: Settings,
    read: Vec<(String, Sums)>,
}

impl Sources {
    fn new(settings: &Settings) -> Self {
        Sources {
            settings: settings.clone(),
            read: Vec::new(),
        }
    }

    /// `value` for `plan`'s asset: its location, and whether it is a
    /// per-asset template.
    fn locate(value: &str, plan: &Plan) -> Result<(String, bool), Error> {
        let vars = [
            ("url", plan.origin_url.as_str()),
            ("asset", &plan.asset_name),
        ];
        let location =
            crate::template::render(value, &vars).map_err(|e| unusable(value, &e.to_string()))?;
        let per_asset = value.contains("{url}") || value.contains("{asset}");
        Ok((location, per_asset))
    }

    fn read(&mut self, value: &str, plan: &Plan) -> Result<&Sums, Error> {
        let (location, per_asset) = Self::locate(value, plan)?;
        let key = format!("{per_asset} {location}");
        if let Some(i) = self.read.iter().position(|(k, _)| *k == key) {
            return Ok(&self.read[i].1);
        }
        let (label, text) = self.fetch(&location)?;
        let entries = checksums::read(&text).map_err(|why| unusable(&label, why))?;
        let own_asset = if per_asset {
            plan.asset_name.clone()
        } else {
            let name = label.rsplit(['/', '\\']).next().unwrap_or(&label);
            name.rsplit_once('.')
                .map_or(name, |(stem, _)| stem)
                .to_string()
        };
        self.read.push((
            key,
            Sums {
                label,
                entries,
                own_asset,
            },
        ));
        Ok(&self.read.last().expect("just pushed").1)
    }

    /// The text at `location` and its label, read through the user's
    /// network settings (`probe::read_text`); what cannot be read is a
    /// `--checksums` value that cannot be used (exit 3), except a failed
    /// fetch (exit 5).
    fn fetch(&self, location: &str) -> Result<(String, String), Error> {
        probe::read_text(&self.settings, location, MAX_SUMS).map_err(|e| match e {
            TextError::Local(e) => unusable(location, &format!("cannot read it ({e})")),
            TextError::TooLarge => unusable(location, TOO_LARGE),
            TextError::Location(why) => unusable(location, &why),
            TextError::Fetch(e) => e.into(),
        })
    }
}

const TOO_LARGE: &str = "it is larger than 8 MiB, too large for a checksums file";

/// A `--checksums` value that cannot be used: exit 3, naming it.
fn unusable(value: &str, problem: &str) -> Error {
    Error::Setting(Invalid {
        name: "--checksums".into(),
        origin: Origin::Flag("--checksums"),
        value: redact(value),
        problem: problem.to_string(),
    })
}

/// Downloads the asset, hashes it, and unpacks it to check that it holds
/// every declared executable: its hash, size and URL, or why not.
fn download_checked(
    client: &Client<'_>,
    plan: &Plan,
) -> Result<(Sha256Hash, u64, Url, Chunks), String> {
    let dir = tempfile::tempdir().map_err(|e| {
        format!("cannot create a temp dir: {e}; set TMPDIR to a writable directory")
    })?;
    let raw_name = &plan.bins[0].archive_path;
    let probed = probe::probe(
        client,
        &plan.sources,
        None,
        &plan.asset_name,
        plan.format,
        raw_name,
        dir.path(),
    );
    let from = |url: Option<String>| url.map_or_else(String::new, |u| format!(" from {u}"));
    let probed = match probed {
        Ok(probed) => probed,
        Err(ProbeError::Fetch(e)) => return Err(e.to_string()),
        Err(ProbeError::Io(e)) => {
            return Err(format!(
                "cannot use a temp file: {e}; set TMPDIR to a writable directory"
            ));
        }
        Err(ProbeError::Unpack {
            url,
            error,
            looks_like,
        }) => {
            let what =
                looks_like.map_or_else(String::new, |w| format!(" (it is {w}: is the URL right?)"));
            return Err(format!(
                "{}{} is not a {} archive postbin can unpack{what}: {}",
                plan.asset_name,
                from(url),
                plan.format.as_str(),
                one_line(&error)
            ));
        }
        Err(ProbeError::NotAnExecutable { url, looks_like }) => {
            return Err(format!(
                "{}{} is no executable (it is {looks_like}: is the URL right?)",
                plan.asset_name,
                from(url)
            ));
        }
    };
    let url = probed.url.expect("downloaded, not local");
    let missing: Vec<String> = plan
        .bins
        .iter()
        .filter(|b| !probed.listing.contains_key(&b.archive_path))
        .map(|b| format!("`{}`", b.archive_path))
        .collect();
    if !missing.is_empty() {
        let executables: Vec<&str> = probed
            .listing
            .iter()
            .filter(|(_, r)| r.executable)
            .map(|(k, _)| k.as_str())
            .take(10)
            .collect();
        return Err(format!(
            "{}{} has no {}, which `postbin.bin` declares; executables in it: {}",
            plan.asset_name,
            from(Some(url.to_string())),
            missing.join(", "),
            if executables.is_empty() {
                "none".to_string()
            } else {
                executables.join(", ")
            }
        ));
    }
    Ok((probed.sha256, probed.size, url, probed.chunks))
}

/// Rewrites only `postbin.targets.<t>.sha256`, `.size` and `.chunks`
/// (writing each chunk file), keeping everything else. A size and chunk
/// digests are written only for bytes downloaded here; a hash that changes
/// without them drops the old ones, which described other bytes, and the
/// integrity of a wrapper package around them.
fn write_hashes(package_dir: &Path, report: &Report) -> Result<(), Error> {
    if report.pinned.is_empty() {
        return Ok(());
    }
    let path = package_dir.join("package.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
    let mut root: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    for (target, sha, _) in &report.pinned {
        let chunks = match report.chunks.iter().find(|(t, _)| t == target) {
            Some((_, chunks)) => Some(write_chunks(package_dir, target, chunks)?),
            None => None,
        };
        if let Some(entry) = crate::json_edit::target_entry_mut(&mut root, target) {
            let same = entry
                .get("sha256")
                .and_then(Value::as_str)
                .and_then(Sha256Hash::parse)
                == Some(*sha);
            entry.insert("sha256".into(), Value::String(sha.hex()));
            if !same {
                // The wrapper package holds the old archive: pack it again.
                entry.remove("integrity");
            }
            match report.sizes.iter().find(|(t, _)| t == target) {
                Some((_, size)) => {
                    entry.insert("size".into(), Value::from(*size));
                }
                None if !same => {
                    entry.remove("size");
                }
                None => {}
            }
            match chunks {
                Some(chunks) => {
                    entry.insert("chunks".into(), chunks);
                }
                None if !same => {
                    entry.remove("chunks");
                }
                None => {}
            }
        }
    }
    if !report.chunks.is_empty() {
        ship_chunk_files(&mut root);
    }
    let mut out = serde_json::to_string_pretty(&root).expect("a Value always serializes");
    out.push('\n');
    if out != text {
        std::fs::write(&path, out)
            .map_err(|e| Error::Usage(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
