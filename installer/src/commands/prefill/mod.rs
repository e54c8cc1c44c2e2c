//! `postbin prefill`: fills the cache, or a portable mirror tree, ahead of
//! time, for installs with no network (air-gapped machines, `--offline` CI).
//!
//! Inputs are package directories, packed npm tarballs (`.tgz`, only their
//! `package.json` is read) and installed trees (`--node-modules DIR`, scanned
//! for packages with a `postbin` section). Each (package, target) is resolved
//! exactly as `install` would, downloaded through the same mirrors and
//! proxies, and verified against its pinned hash. Then either
//! - the cache gets the archive and its unpacked tree (`pipeline::ensure_tree`), or
//! - with `--out DIR`, the archive is written at its origin URL's path under
//!   DIR (the mirror layout), which serves as `POSTBIN_MIRROR=file:///DIR` and
//!   as input to `postbin cache import DIR`. DIR also gets an index
//!   (`postbin-prefill.json`) that `cache import` uses to label entries.

mod report;
mod scan;

use super::package_dir;
use crate::cache::Cache;
use crate::error::{Error, exit, io_err};
use crate::fetch::{self, Expect};
use crate::hash::{self, Sha256Hash};
use crate::manifest::Manifest;
use crate::mirror_tree::{self, PREFILL_INDEX, file_url, mirror_path};
use crate::net::Client;
use crate::npm::wrapper::{self, ReadError};
use crate::pipeline::{self, Flags, HitCheck, Targets, ensure_tree};
use crate::plan::{self, Integrity, Plan, Source};
use crate::progress::{Status, human_size};
use crate::settings::Settings;
use crate::url::Url;
use report::{Failure, Report, Tally};
use scan::{MAX_MANIFEST, MAX_SCANNED, Scan};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// Package directories or packed `.tgz` files.
    pub inputs: Vec<PathBuf>,
    /// Installed trees to scan for packages with a `postbin` section.
    pub node_modules: Vec<PathBuf>,
    /// `None` = the host; `Some("all")`; or a comma-separated list.
    pub targets: Option<String>,
    /// Write a mirror-layout tree here instead of filling the cache.
    pub out: Option<PathBuf>,
    /// `--offline`: never open a socket (file:// mirrors still work).
    pub offline: bool,
    /// `--layout`: how `--out` arranges the archives.
    pub layout: Layout,
}

/// How a `--out` tree is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Layout {
    /// At each archive's origin URL path (`POSTBIN_MIRROR=file:///DIR`).
    #[default]
    Path,
    /// By content, `DIR/sha256/<hex>`: what a generic blob store serves
    /// (`POSTBIN_MIRROR=file:///DIR/sha256/{sha256}`).
    Sha256,
}

/// What this run has handled already.
#[derive(Default)]
struct Seen {
    /// Archives put in the cache.
    hashes: HashSet<Sha256Hash>,
    /// Files of the `--out` tree.
    paths: HashSet<PathBuf>,
    /// Where in the `--out` tree each archive was first written.
    written: HashMap<Sha256Hash, PathBuf>,
}

pub fn run(options: &Options) -> Result<Report, Error> {
    let targets = Targets::parse(options.targets.as_deref());
    let out = match &options.out {
        Some(dir) => Some(create_out_dir(dir)?),
        None => None,
    };
    let mut failures = Vec::new();
    let packages = collect(options, &mut failures);
    let mut run = Run {
        layout: options.layout,
        out,
        failures,
        tally: Tally::default(),
        caches: HashMap::new(),
        index: Vec::new(),
        seen: Seen::default(),
    };
    let mut status = Status::new("prefilling", packages.len());
    for manifest in &packages {
        status.step(&format!("{} {}", manifest.name, manifest.version));
        let flags = Flags {
            offline: options.offline,
            target: None,
        };
        // A setting that cannot be used stops everything (exit 3), as for install.
        let settings = match pipeline::settings_for(manifest, flags) {
            Ok(settings) => settings,
            Err(e) => {
                status.finish();
                return Err(e);
            }
        };
        if let Some(chosen) = run.targets_of(manifest, &settings, &targets, &status) {
            let client = Client::new(&settings);
            for target in chosen {
                run.prefill(manifest, &settings, &client, &target);
            }
        }
    }
    status.finish();
    Ok(run.finish(!packages.is_empty()))
}

/// `--out DIR`, created, as an absolute path.
fn create_out_dir(dir: &Path) -> Result<PathBuf, Error> {
    fs::create_dir_all(dir).map_err(io_err::<mirror_tree::Error>("create", dir))?;
    Ok(package_dir(Some(dir)))
}

/// One prefill run's state, across packages and targets.
struct Run {
    layout: Layout,
    out: Option<PathBuf>,
    failures: Vec<Failure>,
    tally: Tally,
    /// One open cache per cache dir (a package's env prefix may move it).
    caches: HashMap<PathBuf, Cache>,
    /// `--out`: the index records of this run.
    index: Vec<Value>,
    seen: Seen,
}

impl Run {
    /// The targets to prefill for `manifest`; `None` (and a failure
    /// recorded) when the host's target cannot be chosen.
    fn targets_of(
        &mut self,
        manifest: &Manifest,
        settings: &Settings,
        targets: &Targets,
        status: &Status,
    ) -> Option<Vec<String>> {
        match targets {
            Targets::Host => match pipeline::host_target(manifest, settings) {
                Ok(t) => Some(vec![t]),
                Err(e) => {
                    let what = format!("{} {}", manifest.name, manifest.version);
                    self.failures.push(Failure::new(what, &e));
                    None
                }
            },
            Targets::All => Some(manifest.postbin.targets.keys().cloned().collect()),
            Targets::List(list) => {
                let (offered, missing): (Vec<_>, Vec<_>) = list
                    .iter()
                    .cloned()
                    .partition(|t| manifest.postbin.targets.contains_key(t));
                for t in missing {
                    status.note(&format!(
                        "skipped {}: the package offers no binary for it",
                        label(manifest, &t)
                    ));
                    self.tally.not_offered += 1;
                }
                Some(offered)
            }
        }
    }

    /// One (package, target): into the cache or the `--out` tree; a failure
    /// is recorded and the run goes on.
    fn prefill(
        &mut self,
        manifest: &Manifest,
        settings: &Settings,
        client: &Client<'_>,
        target: &str,
    ) {
        let result = plan::resolve(manifest, settings, target)
            .map_err(Error::from)
            .and_then(|plan| {
                let (sha, sums) = pipeline::archive_hash(client, &plan)?;
                let found = Found { plan, sha, sums };
                match self.out.clone() {
                    None => self.fill_cache(&found, settings, client),
                    Some(out) => self.fill_tree(&out, &found, manifest, settings, client),
                }
            });
        let (record, written) = match result {
            Ok(Done::Skipped(record)) => (record, None),
            Ok(Done::Present(record)) => {
                self.tally.already += 1;
                (record, None)
            }
            Ok(Done::Written(bytes, record)) => (record, Some(bytes)),
            Err(e) => {
                self.failures
                    .push(Failure::new(label(manifest, target), &e));
                return;
            }
        };
        if let Some(bytes) = written {
            self.tally.written += 1;
            self.tally.bytes += bytes;
        }
        self.index.extend(record);
        self.tally
            .packages
            .insert((manifest.name.clone(), manifest.version.clone()));
    }

    fn fill_cache(
        &mut self,
        found: &Found,
        settings: &Settings,
        client: &Client<'_>,
    ) -> Result<Done, Error> {
        let Found { plan, sha, sums } = found;
        let target = &plan.target;
        if !self.seen.hashes.insert(*sha) {
            return Ok(Done::Skipped(None));
        }
        let dir = &settings.cache_dir.value;
        let cache = match self.caches.get(dir) {
            Some(c) => c.clone(),
            None => {
                let c = Cache::open(dir)?;
                self.caches.insert(dir.clone(), c.clone());
                c
            }
        };
        if sums.is_some() {
            crate::warn!(
                "{} pins no sha256 for {target}: installing it offline also needs its checksums file; \
                 prefill with --out and install through POSTBIN_MIRROR instead",
                plan.name
            );
        }
        let downloaded = ensure_tree(&cache, client, plan, sha, HitCheck::Hash, None)?.downloaded;
        cache.touch(sha);
        Ok(match downloaded {
            Some(bytes) => Done::Written(bytes, None),
            None => Done::Present(None),
        })
    }

    fn fill_tree(
        &mut self,
        out: &Path,
        found: &Found,
        manifest: &Manifest,
        settings: &Settings,
        client: &Client<'_>,
    ) -> Result<Done, Error> {
        let Found { plan, sha, sums } = found;
        let (sha, target) = (*sha, plan.target.as_str());
        let dest = match self.layout {
            Layout::Path => {
                // An unpinned target is verified against its checksums file,
                // so the mirror must serve that file too, at its origin path.
                if let Some((text, _)) = sums {
                    write_checksums_file(out, manifest, settings, target, text)?;
                }
                mirror_path(out, &plan.origin_url, target)?
            }
            // Found by a hash only the publisher can vouch for.
            Layout::Sha256 if sums.is_some() => {
                return Err(Error::Usage(format!(
                    "{} pins no sha256 for {target}, so a --layout sha256 tree cannot serve it; \
                     use --layout path",
                    plan.name
                )));
            }
            Layout::Sha256 => out.join("sha256").join(sha.hex()),
        };
        let record = Some(json!({
            "sha256": sha.hex(),
            "package": plan.name,
            "version": plan.version,
            "target": plan.target,
            "asset": plan.asset_name,
            "path": dest.strip_prefix(out).unwrap_or(&dest).to_string_lossy().replace('\\', "/"),
        }));
        // Every target's asset path is written, even when two targets share
        // one archive under two names (a universal macOS build): a mirror
        // install of either target reads its own path.
        if self.seen.paths.contains(&dest) {
            return Ok(Done::Skipped(record));
        }
        let present = dest.is_file() && hash::hash_file(&dest).is_ok_and(|(h, _)| h == sha);
        let written = if present {
            None
        } else {
            Some(self.download_to(&dest, plan, &sha, settings, client)?)
        };
        self.seen.paths.insert(dest.clone());
        self.seen.written.entry(sha).or_insert(dest);
        Ok(match written {
            Some(bytes) => Done::Written(bytes, record),
            None => Done::Present(record),
        })
    }

    /// Downloads the archive to `dest`, verified against `sha` before it
    /// takes that name. The same bytes already written under another name
    /// in this tree, or a verified copy in the local cache, save a download
    /// (and work offline); the copy is verified all the same.
    fn download_to(
        &self,
        dest: &Path,
        plan: &Plan,
        sha: &Sha256Hash,
        settings: &Settings,
        client: &Client<'_>,
    ) -> Result<u64, Error> {
        let parent = dest.parent().expect("a mirror path has a parent");
        fs::create_dir_all(parent).map_err(io_err::<mirror_tree::Error>("create", parent))?;
        let mut temp = tempfile::Builder::new()
            .prefix(".postbin-")
            .tempfile_in(parent)
            .map_err(io_err::<mirror_tree::Error>(
                "create a temp file in",
                parent,
            ))?;
        let cached = Cache::open_existing(&settings.cache_dir.value).map(|c| c.archive_path(sha));
        let mut sources = Vec::new();
        for local in self
            .seen
            .written
            .get(sha)
            .cloned()
            .into_iter()
            .chain(cached)
        {
            if local.is_file() {
                sources.push(local_source(&local)?);
            }
        }
        sources.extend(plan.sources.iter().cloned());
        let want = fetch::Want {
            size: plan.size,
            dir: Some(parent),
            ..fetch::Want::new(Expect::Sha256(*sha))
        };
        let done = fetch::download(
            client,
            &sources,
            &want,
            temp.as_file_mut(),
            &plan.asset_name,
        )?;
        crate::fs_retry::persist(temp, dest)
            .map_err(io_err::<mirror_tree::Error>("write", dest))?;
        crate::debug!("wrote {} from {}", dest.display(), done.url);
        Ok(done.size)
    }

    /// The index written, the report made.
    fn finish(mut self, found_any: bool) -> Report {
        if let Some(dir) = &self.out
            && let Err(e) = mirror_tree::write_index(dir, std::mem::take(&mut self.index))
        {
            let what = format!("the index {}", dir.join(PREFILL_INDEX).display());
            self.failures.push(Failure::new(what, &e.into()));
        }
        if self.failures.is_empty()
            && let Some(dir) = &self.out
        {
            let mirror = match self.layout {
                Layout::Path => file_url(dir),
                Layout::Sha256 => format!("{}/sha256/{{sha256}}", file_url(dir)),
            };
            crate::info!(
                "carry {} over, then install with POSTBIN_MIRROR={mirror} (and POSTBIN_OFFLINE=1), \
                 or run `postbin cache import {}` there",
                dir.display(),
                dir.display()
            );
        }
        Report {
            tally: self.tally,
            out: self.out,
            failures: self.failures,
            found_any,
        }
    }
}

fn label(manifest: &Manifest, target: &str) -> String {
    format!("{} {} ({target})", manifest.name, manifest.version)
}

/// The checksums file of an unpinned target, at its origin path in the tree.
fn write_checksums_file(
    out: &Path,
    manifest: &Manifest,
    settings: &Settings,
    target: &str,
    text: &str,
) -> Result<(), Error> {
    let mut bare = settings.clone();
    bare.mirrors = None;
    if let Integrity::ChecksumsFile(origin) = plan::resolve(manifest, &bare, target)?.integrity
        && let Some(first) = origin.first()
    {
        let dest = mirror_path(out, &first.url.to_string(), target)?;
        mirror_tree::write_file(&dest, text.as_bytes())?;
    }
    Ok(())
}

/// A `file://` source for a local copy of the archive.
fn local_source(path: &Path) -> Result<Source, Error> {
    let url = Url::parse(&file_url(path)).map_err(|e| {
        Error::Plan(plan::Error::Invalid {
            field: "cache dir".into(),
            problem: e.to_string(),
        })
    })?;
    Ok(Source::direct(url, true))
}

/// One (package, target) resolved: its plan and the hash it is verified
/// against (with the checksums file's text and URL when not pinned).
struct Found {
    plan: Plan,
    sha: Sha256Hash,
    sums: Option<(String, Url)>,
}

enum Done {
    /// The same archive (cache) or file (`--out`) was already handled for
    /// another package or target; the index record, for `--out`.
    Skipped(Option<Value>),
    /// Nothing to do; the index record, for `--out`.
    Present(Option<Value>),
    /// Downloaded (bytes).
    Written(u64, Option<Value>),
}

/// Every package named on the command line or found by scanning, each
/// once; what cannot be read is recorded as a failure.
fn collect(options: &Options, failures: &mut Vec<Failure>) -> Vec<Manifest> {
    let mut manifests = Vec::new();
    let mut seen_dirs = HashSet::new();
    let mut seen_names = HashSet::new();
    let mut add = |m: Manifest, manifests: &mut Vec<Manifest>| {
        // Two installed copies of one version need one prefill.
        if seen_names.insert((m.name.clone(), m.version.clone())) {
            manifests.push(m);
        }
    };
    for input in &options.inputs {
        let what = input.display().to_string();
        let result = if input.is_file() {
            manifest_from_tgz(input)
        } else {
            Manifest::load(input).map_err(|e| Failure::new(&what, &e.into()))
        };
        match result {
            Ok(m) => add(m, &mut manifests),
            Err(mut f) => {
                f.what = what;
                failures.push(f);
            }
        }
    }
    let mut roots: Vec<PathBuf> = options.node_modules.clone();
    if options.inputs.is_empty() && roots.is_empty() {
        roots.push(PathBuf::from("."));
    }
    for root in &roots {
        if !root.is_dir() {
            failures.push(Failure {
                what: root.display().to_string(),
                message: "is not a directory (--node-modules wants an installed tree)".into(),
                code: exit::USAGE,
            });
            continue;
        }
        let mut found = Vec::new();
        let mut scan = Scan {
            seen: &mut seen_dirs,
            found: &mut found,
            budget: MAX_SCANNED,
        };
        if root.file_name().is_some_and(|n| n == "node_modules") {
            scan.node_modules(root, 0);
        } else {
            scan.package(root, 0);
        }
        if scan.budget == 0 {
            crate::warn!(
                "stopped scanning {} after {MAX_SCANNED} package directories",
                root.display()
            );
        }
        for dir in found {
            match Manifest::load(&dir) {
                Ok(m) => add(m, &mut manifests),
                Err(e) => failures.push(Failure::new(dir.display().to_string(), &e.into())),
            }
        }
    }
    manifests
}

/// Reads `package/package.json` out of a packed npm tarball (npm puts
/// everything under `package/`) with the wrapper packages' reader, without
/// unpacking anything else.
fn manifest_from_tgz(path: &Path) -> Result<Manifest, Failure> {
    let unreadable = |why: String| Failure {
        what: String::new(),
        message: format!(
            "cannot read package/package.json from {}: {why} (is it a tarball made by `npm pack`?)",
            path.display()
        ),
        code: exit::CONFIG,
    };
    let mut file = fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let mut bytes = Vec::new();
    wrapper::read_member(&mut file, "package/package.json", &mut bytes, MAX_MANIFEST).map_err(
        |e| {
            unreadable(match e {
                ReadError::Missing => "it holds no package/package.json".into(),
                ReadError::TooLarge => {
                    format!("its package.json is over {}", human_size(MAX_MANIFEST))
                }
                ReadError::Io(e) => e.to_string(),
            })
        },
    )?;
    let text = String::from_utf8(bytes).map_err(|e| unreadable(e.to_string()))?;
    let shown = path.join("package").join("package.json");
    Manifest::parse(&text, &shown).map_err(|e| Failure::new("", &e.into()))
}
