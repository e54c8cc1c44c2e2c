//! `postbin prefill`: fills the cache, or a portable mirror tree, ahead of
//! time, for installs with no network (air-gapped machines, `--offline` CI).
//!
//! Inputs are package directories, packed npm tarballs (`.tgz`, only their
//! `package.json` is read) and installed trees (`--node-modules DIR`, scanned
//! for packages with a `postbin` section). Each (package, target) is resolved
//! exactly as `install` would, downloaded through the same mirrors and
//! proxies, and verified against its pinned hash. Then either
//! - the cache gets the archive and its unpacked tree (`install::ensure_tree`), or
//! - with `--out DIR`, the archive is written at its origin URL's path under
//!   DIR (the mirror layout), which serves as `POSTBIN_MIRROR=file:///DIR` and
//!   as input to `postbin cache import DIR`. DIR also gets an index
//!   (`postbin-prefill.json`) that `cache import` uses to label entries.

use super::cache_cmd::{PREFILL_INDEX, Status, human_size};
use super::install::{HitCheck, ensure_tree};
use crate::cache::Cache;
use crate::checksums;
use crate::error::{Error, exit};
use crate::fetch::{self, Expect};
use crate::hash::{self, Sha256Hash};
use crate::manifest::Manifest;
use crate::net::Client;
use crate::net::url::{Url, apply_mirror, file_url_to_path};
use crate::plan::{self, Integrity, Plan, Source};
use crate::platform;
use crate::settings::{Origin, Setting, Settings};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

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
}

/// How deep `--node-modules` follows nested `node_modules` directories.
const MAX_NESTING: usize = 32;
/// How many package directories one scan looks at, at most.
const MAX_SCANNED: usize = 100_000;
/// package.json files bigger than this are not package manifests we want.
const MAX_MANIFEST: u64 = 4 << 20;

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

/// One thing that went wrong, for the list printed at the end.
struct Failure {
    what: String,
    message: String,
    code: i32,
}

impl Failure {
    fn new(what: impl Into<String>, e: &Error) -> Failure {
        Failure {
            what: what.into(),
            message: one_line(e),
            code: e.exit_code(),
        }
    }
}

enum Targets {
    Host,
    All,
    List(Vec<String>),
}

/// Totals for the summary line.
#[derive(Default)]
struct Tally {
    written: usize,
    bytes: u64,
    already: usize,
    packages: BTreeSet<(String, String)>,
    not_offered: usize,
}

/// Returns the exit code.
pub fn run(options: &Options) -> Result<i32, Error> {
    let targets = match options.targets.as_deref().map(str::trim) {
        None | Some("") | Some("host") => Targets::Host,
        Some("all") => Targets::All,
        Some(list) => Targets::List(crate::settings::split_list(list)),
    };
    let out = match &options.out {
        Some(dir) => {
            fs::create_dir_all(dir).map_err(|source| crate::cache::Error::Io {
                op: "create",
                path: dir.clone(),
                source,
            })?;
            Some(std::path::absolute(dir).unwrap_or_else(|_| dir.clone()))
        }
        None => None,
    };

    let mut failures = Vec::new();
    let packages = collect(options, &mut failures);
    if packages.is_empty() && failures.is_empty() {
        eprintln!(
            "postbin: nothing to prefill: found no package with a `postbin` section; \
             pass package directories, .tgz files or --node-modules DIR"
        );
        return Ok(exit::FAILURE);
    }

    let mut tally = Tally::default();
    let mut caches: HashMap<PathBuf, Cache> = HashMap::new();
    let mut index: Vec<Value> = Vec::new();
    let mut seen = Seen::default();
    let mut status = Status::new("prefilling", packages.len());
    for manifest in &packages {
        status.step(&format!("{} {}", manifest.name, manifest.version));
        let mut settings = Settings::load(Some(&plan::env_prefix(manifest)));
        // A setting that cannot be used stops everything (exit 3), as for install.
        if let Err(e) = settings.check() {
            status.finish();
            return Err(e);
        }
        if options.offline {
            settings.offline = Setting {
                value: true,
                origin: Origin::Flag("--offline"),
            };
        }
        let label = |t: &str| format!("{} {} ({t})", manifest.name, manifest.version);
        let chosen: Vec<String> = match &targets {
            Targets::Host => {
                let forced = settings.target.as_ref().map(|s| s.value.as_str());
                match plan::choose_target(manifest, &platform::host_candidates(), forced) {
                    Ok(t) => vec![t],
                    Err(e) => {
                        failures.push(Failure::new(
                            format!("{} {}", manifest.name, manifest.version),
                            &e.into(),
                        ));
                        continue;
                    }
                }
            }
            Targets::All => manifest.postbin.targets.keys().cloned().collect(),
            Targets::List(list) => {
                let (offered, missing): (Vec<_>, Vec<_>) = list
                    .iter()
                    .cloned()
                    .partition(|t| manifest.postbin.targets.contains_key(t));
                for t in missing {
                    status.note(&format!(
                        "skipped {}: the package offers no binary for it",
                        label(&t)
                    ));
                    tally.not_offered += 1;
                }
                offered
            }
        };
        let client = Client::new(&settings);
        for target in chosen {
            let result = prefill_one(
                manifest,
                &settings,
                &client,
                &target,
                out.as_deref(),
                &mut caches,
                &mut seen,
            );
            match result {
                Ok(Done::Skipped(record)) => index.extend(record),
                Ok(Done::Present(record)) => {
                    tally.already += 1;
                    index.extend(record);
                }
                Ok(Done::Written(bytes, record)) => {
                    tally.written += 1;
                    tally.bytes += bytes;
                    index.extend(record);
                }
                Err(e) => {
                    failures.push(Failure::new(label(&target), &e));
                    continue;
                }
            }
            tally
                .packages
                .insert((manifest.name.clone(), manifest.version.clone()));
        }
    }
    status.finish();

    if let Some(dir) = &out
        && let Err(e) = write_index(dir, index)
    {
        failures.push(Failure::new(
            format!("the index {}", dir.join(PREFILL_INDEX).display()),
            &e,
        ));
    }
    if !packages.is_empty() {
        print_summary(&tally, out.as_deref());
    }
    if failures.is_empty() {
        if let Some(dir) = &out {
            crate::info!(
                "carry {} over, then install with POSTBIN_MIRROR={} (and POSTBIN_OFFLINE=1), \
                 or run `postbin cache import {}` there",
                dir.display(),
                file_url(dir),
                dir.display()
            );
        }
        return Ok(exit::OK);
    }
    for f in &failures {
        eprintln!("postbin: failed: {}: {}", f.what, f.message);
    }
    eprintln!(
        "postbin: error: {} {} could not be prefilled (listed above)",
        failures.len(),
        if failures.len() == 1 { "item" } else { "items" }
    );
    // One kind of failure keeps its own exit code (9 for offline misses...).
    let codes: BTreeSet<i32> = failures.iter().map(|f| f.code).collect();
    Ok(match codes.len() {
        1 => *codes.first().expect("one code"),
        _ => exit::FAILURE,
    })
}

fn print_summary(tally: &Tally, out: Option<&Path>) {
    let archives = if tally.written == 1 {
        "archive"
    } else {
        "archives"
    };
    let packages = if tally.packages.len() == 1 {
        "package"
    } else {
        "packages"
    };
    let not_offered = match tally.not_offered {
        0 => String::new(),
        n => format!("; {n} not offered by the package"),
    };
    match out {
        None => println!(
            "prefilled {} {archives} ({}) for {} {packages}; {} already cached{not_offered}",
            tally.written,
            human_size(tally.bytes),
            tally.packages.len(),
            tally.already
        ),
        Some(dir) => println!(
            "prefilled {} {archives} ({}) for {} {packages} into {}; {} already there{not_offered}",
            tally.written,
            human_size(tally.bytes),
            tally.packages.len(),
            dir.display(),
            tally.already
        ),
    }
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

fn prefill_one(
    manifest: &Manifest,
    settings: &Settings,
    client: &Client<'_>,
    target: &str,
    out: Option<&Path>,
    caches: &mut HashMap<PathBuf, Cache>,
    seen: &mut Seen,
) -> Result<Done, Error> {
    let plan = plan::resolve(manifest, settings, target)?;
    let (sha, sums) = match &plan.integrity {
        Integrity::Pinned(sha) => (*sha, None),
        Integrity::ChecksumsFile(sources) => {
            let (sha, text) = hash_from_checksums(client, &plan, sources)?;
            (sha, Some(text))
        }
    };
    let Some(out) = out else {
        if !seen.hashes.insert(sha) {
            return Ok(Done::Skipped(None));
        }
        let dir = &settings.cache_dir.value;
        let cache = match caches.get(dir) {
            Some(c) => c.clone(),
            None => {
                let c = Cache::open(dir)?;
                caches.insert(dir.clone(), c.clone());
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
        let downloaded = ensure_tree(&cache, client, &plan, &sha, HitCheck::Hash)?.downloaded;
        cache.touch(&sha);
        return Ok(match downloaded {
            Some(bytes) => Done::Written(bytes, None),
            None => Done::Present(None),
        });
    };

    // An unpinned target is verified against its checksums file, so the
    // mirror must serve that file too, at its own origin path.
    if let Some(text) = sums {
        let mut bare = settings.clone();
        bare.mirrors = None;
        if let Integrity::ChecksumsFile(origin) = plan::resolve(manifest, &bare, target)?.integrity
            && let Some(first) = origin.first()
        {
            let dest = mirror_path(out, &first.url.to_string(), &plan)?;
            write_atomically(&dest, text.as_bytes())?;
        }
    }

    let dest = mirror_path(out, &plan.origin_url, &plan)?;
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
    if seen.paths.contains(&dest) {
        return Ok(Done::Skipped(record));
    }
    if dest.is_file() && hash::hash_file(&dest).is_ok_and(|(h, _)| h == sha) {
        seen.paths.insert(dest.clone());
        seen.written.entry(sha).or_insert(dest);
        return Ok(Done::Present(record));
    }
    let parent = dest.parent().expect("a mirror path has a parent");
    let io = |op, path: &Path| {
        let path = path.to_path_buf();
        move |source| crate::cache::Error::Io { op, path, source }
    };
    fs::create_dir_all(parent).map_err(io("create", parent))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".postbin-")
        .tempfile_in(parent)
        .map_err(io("create a temp file in", parent))?;
    // The same bytes already written under another name in this tree, or
    // a verified copy in the local cache, save a download (and work
    // offline); the copy is verified against the pinned hash all the same.
    let mut sources = Vec::new();
    let cached = Cache::open_existing(&settings.cache_dir.value).map(|c| c.archive_path(&sha));
    for local in seen.written.get(&sha).cloned().into_iter().chain(cached) {
        if local.is_file() {
            sources.push(Source {
                url: Url::parse(&file_url(&local)).map_err(|e| {
                    Error::Plan(plan::Error::Invalid {
                        field: "cache dir".into(),
                        problem: e.to_string(),
                    })
                })?,
                explicit: true,
            });
        }
    }
    sources.extend(plan.sources.iter().cloned());
    let want = fetch::Want {
        size: plan.size,
        dir: Some(parent),
        ..fetch::Want::new(Expect::Sha256(sha))
    };
    let done = fetch::download(
        client,
        &sources,
        &want,
        temp.as_file_mut(),
        &plan.asset_name,
    )?;
    temp.persist(&dest)
        .map_err(|e| io("write", &dest)(e.error))?;
    crate::debug!("wrote {} from {}", dest.display(), done.url);
    seen.paths.insert(dest.clone());
    seen.written.entry(sha).or_insert(dest);
    Ok(Done::Written(done.size, record))
}

/// Where `url` lives in a mirror tree rooted at `out`: exactly the file an
/// install with `POSTBIN_MIRROR=file://<out>` reads. Refuses URL paths that
/// would leave `out` (`..`, encoded or not).
fn mirror_path(out: &Path, url: &str, plan: &Plan) -> Result<PathBuf, Error> {
    let bad = |problem: String| {
        Error::Plan(plan::Error::Invalid {
            field: format!("postbin url of {}", plan.target),
            problem,
        })
    };
    let mirrored = apply_mirror(url, &file_url(out)).map_err(|e| bad(e.to_string()))?;
    let path = file_url_to_path(&mirrored)
        .ok_or_else(|| bad(format!("`{url}` has no usable path for a mirror tree")))?;
    let rel = path
        .strip_prefix(out)
        .map_err(|_| bad(format!("`{url}` leads outside the mirror tree")))?;
    // `Path::components` already drops `.` segments (harmless: the OS
    // resolves them the same way for install), but keeps `..`.
    let safe =
        rel.components().count() > 0 && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !safe {
        return Err(bad(format!(
            "`{url}` has a path that would leave the mirror tree (`..` segments)"
        )));
    }
    Ok(path)
}

/// `file://` URL of a local path, as `file_url_to_path` reads it back.
fn file_url(path: &Path) -> String {
    let text = path.to_string_lossy().replace('%', "%25");
    if cfg!(windows) {
        format!("file:///{}", text.replace('\\', "/"))
    } else {
        format!("file://{text}")
    }
}

fn write_atomically(dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    let parent = dest.parent().expect("a file path has a parent");
    let io = |op, path: &Path| {
        let path = path.to_path_buf();
        move |source| crate::cache::Error::Io { op, path, source }
    };
    fs::create_dir_all(parent).map_err(io("create", parent))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".postbin-")
        .tempfile_in(parent)
        .map_err(io("create a temp file in", parent))?;
    temp.write_all(bytes).map_err(io("write", temp.path()))?;
    temp.persist(dest).map_err(|e| io("write", dest)(e.error))?;
    Ok(())
}

/// Merges `records` into DIR's index, one record per file and target
/// (two targets may share one archive, even one file), written by temp +
/// rename.
fn write_index(dir: &Path, records: Vec<Value>) -> Result<(), Error> {
    let path = dir.join(PREFILL_INDEX);
    let key = |r: &Value| -> Option<String> {
        let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
        let sha = r.get("sha256").and_then(Value::as_str)?;
        Some(
            [
                sha,
                field("path"),
                field("package"),
                field("version"),
                field("target"),
            ]
            .join("\n"),
        )
    };
    let mut by_key: BTreeMap<String, Value> = BTreeMap::new();
    if let Ok(text) = fs::read_to_string(&path)
        && let Ok(old) = serde_json::from_str::<Value>(&text)
    {
        for r in old
            .get("archives")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(k) = key(r) {
                by_key.insert(k, r.clone());
            }
        }
    }
    for r in records {
        if let Some(k) = key(&r) {
            by_key.insert(k, r);
        }
    }
    let text = serde_json::to_string_pretty(&json!({
        "about": "written by `postbin prefill --out`; read by `postbin cache import`",
        "archives": by_key.into_values().collect::<Vec<_>>(),
    }))
    .expect("JSON values serialize");
    write_atomically(&path, text.as_bytes())
}

/// The files `postbin cache import DIR` may take from a prefill tree: each
/// archive DIR's index (`postbin-prefill.json`) lists, at its `path` inside
/// DIR, reached without following any symlink, a regular file whose bytes
/// hash to the `sha256` the index pins for it. Anything else in DIR is not
/// looked at; an index entry that fails is reported on stderr and skipped.
/// No index: a usage error (a plain mirror tree is used as
/// `POSTBIN_MIRROR=file:///DIR` instead).
pub fn import_list(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let index = dir.join(PREFILL_INDEX);
    let text = match fs::symlink_metadata(&index) {
        Ok(m) if m.is_file() => fs::read_to_string(&index).ok(),
        _ => None,
    };
    let Some(archives) = text
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("archives").and_then(Value::as_array).cloned())
    else {
        // A carried cache directory pins its archives by their names.
        if let Some(files) = carried_cache_archives(dir) {
            return Ok(files);
        }
        return Err(Error::Usage(format!(
            "{} has no readable {PREFILL_INDEX}: `cache import` takes only the archives pinned by the index \
             `postbin prefill --out DIR` writes (or a cache directory's own archives); \
             use a plain mirror tree as POSTBIN_MIRROR=file:///DIR instead",
            dir.display()
        )));
    };
    let mut files = Vec::new();
    let mut done = HashSet::new();
    for record in &archives {
        let rel = record.get("path").and_then(Value::as_str).unwrap_or("");
        let sha = record
            .get("sha256")
            .and_then(Value::as_str)
            .and_then(Sha256Hash::parse);
        if !done.insert(rel.to_string()) {
            continue;
        }
        match sha
            .ok_or("the index pins no valid sha256 for it".to_string())
            .and_then(|sha| pinned_file(dir, rel, &sha))
        {
            Ok(path) => files.push(path),
            Err(why) => eprintln!("postbin: not imported: {rel}: {why}"),
        }
    }
    Ok(files)
}

/// A carried cache directory (`DIR/v1/archives/<sha256>`): each archive is
/// pinned by its own name, so each regular file there named by a SHA-256
/// that its bytes hash to (no symlink followed); `None` if DIR is no cache.
fn carried_cache_archives(dir: &Path) -> Option<Vec<PathBuf>> {
    let rel_dir = format!("{}/archives", crate::cache::LAYOUT);
    let archives = dir.join(&rel_dir);
    let real_dir = |p: &Path| fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
    if !real_dir(&dir.join(crate::cache::LAYOUT)) || !real_dir(&archives) {
        return None;
    }
    let mut files = Vec::new();
    for name in read_sorted(&archives)
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
    {
        let Some(sha) = Sha256Hash::parse(&name).filter(|_| name.len() == 64) else {
            continue;
        };
        match pinned_file(dir, &format!("{rel_dir}/{name}"), &sha) {
            Ok(path) => files.push(path),
            Err(why) => eprintln!("postbin: not imported: {rel_dir}/{name}: {why}"),
        }
    }
    Some(files)
}

/// `dir/rel`, if `rel` is a relative `/`-separated path with no `..`, every
/// directory on the way is a real directory (not a symlink), and the file
/// is a regular file (not a symlink) that hashes to `sha`.
fn pinned_file(dir: &Path, rel: &str, sha: &Sha256Hash) -> Result<PathBuf, String> {
    let parts: Vec<&str> = rel.split('/').collect();
    let plain = |c: &&str| {
        !c.is_empty()
            && *c != "."
            && *c != ".."
            && !c.contains(['\\', ':'])
            && Path::new(c).components().count() == 1
            && matches!(Path::new(c).components().next(), Some(Component::Normal(_)))
    };
    if rel.is_empty() || !parts.iter().all(plain) {
        return Err("its path is not a plain relative path inside the tree".into());
    }
    let mut path = dir.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let meta = fs::symlink_metadata(&path).map_err(|e| format!("{e}"))?;
        let last = i + 1 == parts.len();
        if meta.file_type().is_symlink() {
            return Err(format!(
                "{} is a symlink, which import never follows",
                path.display()
            ));
        }
        if !last && !meta.is_dir() {
            return Err(format!("{} is not a directory", path.display()));
        }
        if last && !meta.is_file() {
            return Err("it is not a regular file".into());
        }
    }
    match hash::hash_file(&path) {
        Ok((actual, _)) if actual == *sha => Ok(path),
        Ok(_) => Err(format!(
            "its bytes do not match the sha256 the index pins ({sha})"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// For a target with no pinned hash: its hash from the publisher's
/// checksums file (file:// or through the client), and the file's text.
fn hash_from_checksums(
    client: &Client<'_>,
    plan: &Plan,
    sources: &[Source],
) -> Result<(Sha256Hash, String), Error> {
    let (sha, text, _) = checksums::fetch(client, sources, &plan.asset_name)?;
    Ok((sha, text))
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

/// Reads `<top>/package.json` out of a packed npm tarball (npm puts
/// everything under `package/`) without unpacking anything else.
fn manifest_from_tgz(path: &Path) -> Result<Manifest, Failure> {
    let unreadable = |why: String| Failure {
        what: String::new(),
        message: format!(
            "cannot read package/package.json from {}: {why} (is it a tarball made by `npm pack`?)",
            path.display()
        ),
        code: exit::CONFIG,
    };
    let file = fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
    let mut archive = tar::Archive::new(gz);
    let entries = archive.entries().map_err(|e| unreadable(e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| unreadable(e.to_string()))?;
        let is_manifest = {
            let p = entry.path().map_err(|e| unreadable(e.to_string()))?;
            let parts: Vec<_> = p.components().collect();
            parts.len() == 2
                && matches!(parts[0], Component::Normal(_))
                && parts[1].as_os_str() == "package.json"
        };
        if !is_manifest || !entry.header().entry_type().is_file() {
            continue;
        }
        let mut text = String::new();
        entry
            .take(MAX_MANIFEST)
            .read_to_string(&mut text)
            .map_err(|e| unreadable(e.to_string()))?;
        let shown = path.join("package").join("package.json");
        return Manifest::parse(&text, &shown).map_err(|e| Failure::new("", &e.into()));
    }
    Err(unreadable("it holds no package/package.json".into()))
}

/// A walk of an installed tree: a package dir may hold `node_modules`, whose
/// entries are packages, `@scope` dirs of packages, or pnpm's `.pnpm` store.
/// Every directory is visited once by its canonical path, so symlink loops
/// end; nesting and the number of directories are bounded.
struct Scan<'a> {
    seen: &'a mut HashSet<PathBuf>,
    found: &'a mut Vec<PathBuf>,
    budget: usize,
}

impl Scan<'_> {
    fn package(&mut self, dir: &Path, depth: usize) {
        if depth > MAX_NESTING || self.budget == 0 {
            return;
        }
        let Ok(real) = fs::canonicalize(dir) else {
            return;
        };
        if !self.seen.insert(real.clone()) {
            return;
        }
        self.budget -= 1;
        if has_postbin_section(&real) {
            self.found.push(real.clone());
        }
        let nested = real.join("node_modules");
        if nested.is_dir() {
            self.node_modules(&nested, depth + 1);
        }
    }

    fn node_modules(&mut self, dir: &Path, depth: usize) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let mut names: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        for path in names {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !path.is_dir() {
                continue;
            }
            if name == ".pnpm" {
                // pnpm's store: .pnpm/<name>@<version>/node_modules/<name>
                for store in read_sorted(&path) {
                    let inner = store.join("node_modules");
                    if inner.is_dir() {
                        self.node_modules(&inner, depth + 1);
                    }
                }
            } else if name.starts_with('.') {
                // .bin, .cache, .package-lock.json's friends.
            } else if name.starts_with('@') {
                for scoped in read_sorted(&path) {
                    if scoped.is_dir() {
                        self.package(&scoped, depth);
                    }
                }
            } else {
                self.package(&path, depth);
            }
        }
    }
}

fn read_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<_> = fs::read_dir(dir)
        .map(|e| e.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

fn has_postbin_section(dir: &Path) -> bool {
    let path = dir.join("package.json");
    let small = fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= MAX_MANIFEST);
    small
        && fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .is_some_and(|v| v.get("postbin").is_some_and(Value::is_object))
}

fn one_line(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_for(url: &str) -> Plan {
        let manifest = Manifest::parse(
            &format!(
                r#"{{"name":"x","version":"1.0.0","bin":{{"x":"bin/x"}},
                   "postbin":{{"url":"{url}","targets":{{"t":{{"sha256":"{}"}}}}}}}}"#,
                "0".repeat(64)
            ),
            Path::new("package.json"),
        )
        .unwrap();
        let settings = Settings::resolve(&|_| None, &crate::npmrc::Npmrc::default(), None);
        plan::resolve(&manifest, &settings, "t").unwrap()
    }

    #[test]
    fn mirror_paths_follow_the_url_and_stay_inside() {
        let out = Path::new("/srv/mirror");
        let url = "https://github.com/acme/hello/releases/download/v1.0.0/hello.tar.gz";
        assert_eq!(
            mirror_path(out, url, &plan_for(url)).unwrap(),
            Path::new("/srv/mirror/acme/hello/releases/download/v1.0.0/hello.tar.gz")
        );
        for evil in [
            "https://h/a/../../../etc/passwd",
            "https://h/a/%2e%2e/%2E%2E/x",
            "https://h/",
        ] {
            assert!(mirror_path(out, evil, &plan_for(url)).is_err(), "{evil}");
        }
    }

    #[test]
    fn file_urls_round_trip() {
        let p = Path::new("/tmp/a b/50%/c");
        assert_eq!(file_url_to_path(&file_url(p)).unwrap(), p);
    }
}
