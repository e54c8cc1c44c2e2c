//! `postbin install`: config → plan → cache (lock, re-check) → fetch, verify,
//! unpack → place the executables in the package.

use super::{Loaded, load};
use crate::cache::{Cache, Tree};
use crate::checksums;
use crate::error::Error;
use crate::extract::{self, Limits};
use crate::fetch::{self, Expect};
use crate::hash::Sha256Hash;
use crate::link;
use crate::net::Client;
use crate::plan::{Integrity, Plan};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct Options {
    pub package_dir: PathBuf,
    pub target: Option<String>,
    pub offline: bool,
    /// Make sure the executables are in the cache, place nothing, report
    /// their cache paths (the launcher's way out of a read-only package).
    pub cache_only: bool,
}

#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// The package already held verified copies; nothing was touched.
    AlreadyInstalled,
    /// Placed from the cache without a download.
    FromCache,
    Downloaded {
        bytes: u64,
    },
    /// `<PREFIX>_BINARY_PATH` is set: nothing to install.
    Override(PathBuf),
}

pub struct Report {
    pub outcome: Outcome,
    pub plan: Plan,
    pub placed: Vec<PathBuf>,
    /// Launchers replaced by the native executable (the speed path).
    pub exposed: Vec<PathBuf>,
    pub elapsed: Duration,
}

pub fn run(options: &Options) -> Result<Report, Error> {
    let started = Instant::now();
    let Loaded {
        settings,
        plan,
        manifest,
    } = load(
        &options.package_dir,
        options.target.as_deref(),
        options.offline,
    )?;
    if let Some(path) = &settings.binary_path {
        let ok = std::fs::metadata(&path.value).is_ok_and(|m| m.is_file());
        if !ok {
            return Err(Error::BinaryOverride {
                variable: format!("{}_BINARY_PATH", plan.env_prefix),
                path: path.value.clone(),
            });
        }
        crate::info!(
            "using {} ({}); nothing downloaded",
            path.value.display(),
            path.origin
        );
        return Ok(Report {
            outcome: Outcome::Override(path.value.clone()),
            plan,
            placed: vec![],
            exposed: vec![],
            elapsed: started.elapsed(),
        });
    }
    let client = Client::new(&settings);

    let receipt = link::read_receipt(&plan.package_dir);
    if let Some(r) = &receipt
        && r.target != plan.target
        && !options.cache_only
    {
        crate::info!(
            "{} holds executables for {}, not {} (node_modules copied from another machine?); \
             installing for {}",
            plan.package_dir.display(),
            r.target,
            plan.target,
            plan.target
        );
    }
    // Found before anything is placed: placing gives the executable's path
    // a new file, and these launchers must follow it (a foreign executable
    // left as the `.bin` entry would fail with "exec format error").
    let exposed_before = if options.cache_only {
        vec![]
    } else {
        previously_exposed(&manifest, &plan, receipt.as_ref())
    };

    // A pinned hash, or the one the previous install recorded, lets a
    // re-install finish with no cache access and no connection at all.
    // A receipt for another target (a package moved from another platform)
    // fails `is_current`, so everything is installed again for this host.
    let known = match &plan.integrity {
        Integrity::Pinned(sha) => Some(*sha),
        Integrity::ChecksumsFile(_) => receipt.as_ref().map(|r| r.archive),
    };
    if let Some(sha) = known
        && !options.cache_only
        && link::is_current(&plan, &sha)
    {
        // Nothing is placed, but executables set aside on Windows by an
        // earlier placement (they were running) can go now.
        link::sweep_set_aside(&plan.package_dir);
        let placed = plan
            .bins
            .iter()
            .map(|b| link::installed_path(&plan.package_dir, &b.file_name))
            .collect();
        return Ok(Report {
            exposed: expose(&manifest, &plan, &exposed_before)?,
            outcome: Outcome::AlreadyInstalled,
            plan,
            placed,
            elapsed: started.elapsed(),
        });
    }

    let cache = Cache::open_or_temp(&settings.cache_dir.value, options.cache_only)?;
    // Temp files of installs that were killed: one directory read when
    // there are none.
    cache.sweep_temp(TEMP_MAX_AGE);
    let sha = match known.filter(|_| matches!(plan.integrity, Integrity::Pinned(_))) {
        Some(sha) => sha,
        None => hash_from_checksums_file(&client, &plan)?,
    };
    // Paths handed out of the cache are verified first; a placement verifies
    // a cache hit while copying it, reading the file once instead of twice.
    let hits = if options.cache_only {
        HitCheck::Hash
    } else {
        HitCheck::WhileCopying
    };
    let ensured = ensure_tree(&cache, &client, &plan, &sha, hits)?;
    cache.touch(&sha);
    let outcome = match ensured.downloaded {
        Some(bytes) => Outcome::Downloaded { bytes },
        None => Outcome::FromCache,
    };
    if options.cache_only {
        let placed = plan
            .bins
            .iter()
            .map(|b| ensured.tree.path_of(&b.archive_path))
            .collect();
        return Ok(Report {
            outcome,
            plan,
            placed,
            exposed: vec![],
            elapsed: started.elapsed(),
        });
    }
    let placed = {
        // Held while copying out of the tree, so a concurrent `cache prune`
        // or `clean` skips this entry instead of deleting it mid-copy.
        let _reading = cache.read_hold(&sha);
        link::place(&plan, &ensured.tree, ensured.source())
    };
    let receipt = match placed {
        Err(e @ (link::Error::CorruptCache { .. } | link::Error::GoneFromCache { .. })) => {
            crate::warn!("{e}; unpacking {} again", plan.asset_name);
            {
                let _lock = cache.lock(&sha)?;
                cache.discard_tree(&sha);
            }
            let again = ensure_tree(&cache, &client, &plan, &sha, HitCheck::Hash)?;
            let _reading = cache.read_hold(&sha);
            link::place(&plan, &again.tree, link::Source::Fresh)?
        }
        placed => placed?,
    };
    let exposed = expose(&manifest, &plan, &exposed_before)?;
    Ok(Report {
        outcome,
        placed: receipt.bins.into_iter().map(|b| b.path).collect(),
        exposed,
        plan,
        elapsed: started.elapsed(),
    })
}

/// The speed path: where it is safe, the JS launchers become the native
/// executable so `node_modules/.bin/<tool>` starts no Node. `previous`:
/// launchers an earlier speed path replaced (`previously_exposed`).
fn expose(
    manifest: &crate::manifest::Manifest,
    plan: &Plan,
    previous: &[PathBuf],
) -> Result<Vec<PathBuf>, Error> {
    if let Some(why) = link::speed_path_blocker(&crate::settings::process_env) {
        crate::debug!("keeping the JS launcher: {why}");
        return Ok(vec![]);
    }
    Ok(link::expose_native(
        &plan.package_dir,
        &launcher_pairs(manifest, plan),
        previous,
    )?)
}

/// The launchers that the speed path would replace and were replaced before,
/// or none when the speed path is off now.
fn previously_exposed(
    manifest: &crate::manifest::Manifest,
    plan: &Plan,
    receipt: Option<&link::Receipt>,
) -> Vec<PathBuf> {
    if link::speed_path_blocker(&crate::settings::process_env).is_some() {
        return vec![];
    }
    link::previously_exposed(&plan.package_dir, &launcher_pairs(manifest, plan), receipt)
}

/// (package.json `bin` path, placed executable) for each command.
fn launcher_pairs(manifest: &crate::manifest::Manifest, plan: &Plan) -> Vec<(PathBuf, PathBuf)> {
    plan.bins
        .iter()
        .filter_map(|b| {
            let launcher = manifest.bin.get(&b.name)?;
            Some((
                PathBuf::from(launcher),
                link::installed_path(&plan.package_dir, &b.file_name),
            ))
        })
        .collect()
}

/// How a cache hit's executables are verified.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HitCheck {
    /// Re-hashed now, before the tree is returned.
    Hash,
    /// By the caller, as it copies them out (`link::place` with
    /// `link::Source::Cached`); only their presence is checked here.
    WhileCopying,
}

pub struct Ensured {
    pub tree: Tree,
    /// Unpacked by this call (hashed as it was written) rather than found.
    pub made: bool,
    /// Bytes downloaded, if a download happened.
    pub downloaded: Option<u64>,
}

impl Ensured {
    /// What `link::place` must still verify.
    pub fn source(&self) -> link::Source {
        if self.made {
            link::Source::Fresh
        } else {
            link::Source::Cached
        }
    }
}

/// Temp entries of no known owner older than this are debris (`sweep_temp`;
/// those named after an archive go as soon as their owner is gone).
const TEMP_MAX_AGE: Duration = Duration::from_secs(3600);

/// The unpacked tree for `sha`, from the cache or made now. A published
/// tree is used only if sealed by this user's key (`cache::seal`); any other
/// (tampered, carried, copied from another cache, older than seals) is
/// rebuilt from the archive, itself re-hashed first, or is a miss.
pub fn ensure_tree(
    cache: &Cache,
    client: &Client<'_>,
    plan: &Plan,
    sha: &Sha256Hash,
    hits: HitCheck,
) -> Result<Ensured, Error> {
    let found = |tree| Ensured {
        tree,
        made: false,
        downloaded: None,
    };
    if let Some(tree) = usable_tree(cache, plan, sha, false, hits)? {
        return Ok(found(tree));
    }
    let _lock = cache.lock(sha)?;
    // Another process may have finished while we waited for the lock.
    if let Some(tree) = usable_tree(cache, plan, sha, true, hits)? {
        return Ok(found(tree));
    }
    let staging = cache.temp_dir_for(sha)?;
    let files = staging.path().join("files");
    create_dir(&files)?;
    let limits = Limits {
        max_unpacked: client.settings().max_unpacked_size,
        ..Limits::default()
    };
    let raw_name = &plan.bins[0].archive_path;

    let cached_archive = cache.archive_path(sha);
    let mut download = None;
    let mut downloaded_bytes = None;
    let listing = if cached_archive.is_file() && cache.verify_archive(sha) {
        crate::debug!("unpacking cached archive {}", sha.short());
        extract::unpack(plan.format, &cached_archive, &files, limits, raw_name)?
    } else {
        let offline = client.settings().offline.value;
        let offline_miss = || Error::OfflineMiss {
            package: plan.name.clone(),
            target: plan.target.clone(),
            asset: plan.asset_name.clone(),
            mirrors: plan
                .sources
                .iter()
                .filter_map(|s| s.url.to_file_path())
                .map(|p| p.display().to_string())
                .collect(),
        };
        if offline && plan.sources.iter().all(|s| s.url.to_file_path().is_none()) {
            return Err(offline_miss());
        }
        cache.sweep_temp(TEMP_MAX_AGE);
        // Hash-named, under the entry lock: an interrupted download is
        // continued by the next install, and never by two at once.
        let partial = fetch::Partial::open(&cache.tmp_dir(), sha)?;
        let (done, listing, temp) =
            match download_and_unpack(client, plan, sha, partial, cache.root(), &files, limits) {
                Err(Error::Fetch(e)) if offline && e.is_missing_local_file() => {
                    return Err(offline_miss());
                }
                result => result?,
            };
        crate::debug!("downloaded {} bytes from {}", done.size, done.url);
        downloaded_bytes = Some(done.size);
        download = Some(temp);
        listing
    };
    check_bins_present(plan, &listing)?;
    mark_executable(plan, &files)?;

    // Only a download that unpacked cleanly and holds the executables is kept.
    if let Some(temp) = download {
        cache.publish_archive(temp, sha)?;
    }
    let tree = cache.publish_tree(staging, sha, listing)?;
    cache.record_meta(
        sha,
        &crate::cache::EntryMeta {
            package: plan.name.clone(),
            version: plan.version.clone(),
            target: plan.target.clone(),
            asset: plan.asset_name.clone(),
        },
    );
    Ok(Ensured {
        tree,
        made: true,
        downloaded: downloaded_bytes,
    })
}

/// Downloads the archive into `temp`, verifying it against the pinned hash
/// as it arrives, then unpacks it into `files`. Nothing reads the archive
/// before it is verified (docs/design-notes.md, "Archives"): a decompressor and a tar
/// parser never see bytes an attacker could have chosen.
fn download_and_unpack(
    client: &Client<'_>,
    plan: &Plan,
    sha: &Sha256Hash,
    mut partial: fetch::Partial,
    cache_dir: &Path,
    files: &Path,
    limits: Limits,
) -> Result<(fetch::Downloaded, extract::Listing, tempfile::NamedTempFile), Error> {
    let want = fetch::Want {
        size: plan.size,
        dir: Some(cache_dir),
        resume: true,
        ..fetch::Want::new(Expect::Sha256(*sha))
    };
    let done = match fetch::download(
        client,
        &plan.sources,
        &want,
        partial.file_mut(),
        &plan.asset_name,
    ) {
        Ok(done) => done,
        Err(e) => {
            if e.is_filesystem() {
                partial.discard();
            }
            return Err(e.into());
        }
    };
    // Verified: from here on it is a temp file like any other (removed
    // unless published).
    let temp = partial.verified()?;
    let raw_name = &plan.bins[0].archive_path;
    let listing = extract::unpack(plan.format, temp.path(), files, limits, raw_name)?;
    Ok((done, listing, temp))
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir(dir).map_err(|source| {
        extract::Error::Io {
            op: "create",
            path: dir.to_path_buf(),
            source,
        }
        .into()
    })
}

/// The published tree if every declared executable in it verifies. A tree
/// that fails verification is discarded when we hold the lock.
fn usable_tree(
    cache: &Cache,
    plan: &Plan,
    sha: &Sha256Hash,
    locked: bool,
    hits: HitCheck,
) -> Result<Option<Tree>, Error> {
    let Some(tree) = cache.tree(sha) else {
        // A tree dir without a readable, sealed listing is debris or not
        // ours to trust; clear it so a fresh tree can take its place.
        if locked && cache.has_tree_dir(sha) {
            if cache.trusts_trees() {
                crate::info!(
                    "cached files of {} are incomplete or were not unpacked by postbin \
                     for this user (a carried or copied cache?); unpacking the archive again",
                    plan.asset_name
                );
            }
            cache.discard_tree(sha);
        }
        return Ok(None);
    };
    check_bins_present(plan, &tree.listing)?;
    let intact = hits == HitCheck::WhileCopying
        || plan
            .bins
            .iter()
            .all(|b| tree.verify_file(&b.archive_path).unwrap_or(false));
    if intact {
        crate::debug!("cache hit {}", sha.short());
        return Ok(Some(tree));
    }
    if locked {
        crate::warn!(
            "cached files of {} are corrupt; unpacking again",
            plan.asset_name
        );
        cache.discard_tree(sha);
    }
    Ok(None)
}

fn check_bins_present(plan: &Plan, listing: &extract::Listing) -> Result<(), Error> {
    for bin in &plan.bins {
        if !listing.contains_key(&bin.archive_path) {
            let found = listing
                .iter()
                .filter(|(_, r)| r.executable)
                .map(|(k, _)| k.clone())
                .take(10)
                .collect();
            return Err(Error::MissingBin {
                package: plan.name.clone(),
                target: plan.target.clone(),
                archive_path: bin.archive_path.clone(),
                found,
            });
        }
    }
    Ok(())
}

/// For a target with no pinned hash: the hash from the publisher's declared
/// checksums file. Weaker than a pinned hash, and said so.
fn hash_from_checksums_file(client: &Client<'_>, plan: &Plan) -> Result<Sha256Hash, Error> {
    let Integrity::ChecksumsFile(sources) = &plan.integrity else {
        unreachable!("pinned hashes never reach here")
    };
    let (sha, _, url) = checksums::fetch(client, sources, &plan.asset_name)?;
    crate::warn!(
        "{} pins no sha256 for {}; using the hash from {url} (served by the release host, not pinned by the publisher)",
        plan.name,
        plan.target,
    );
    Ok(sha)
}

/// The declared executables get the exec bit even when the archive lacked
/// it (zips made on Windows carry no mode), so they run straight from the cache.
fn mark_executable(plan: &Plan, files: &std::path::Path) -> Result<(), Error> {
    #[cfg(unix)]
    for bin in &plan.bins {
        use std::os::unix::fs::PermissionsExt;
        let path = bin
            .archive_path
            .split('/')
            .fold(files.to_path_buf(), |p, c| p.join(c));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(
            |source| extract::Error::Io {
                op: "chmod",
                path,
                source,
            },
        )?;
    }
    #[cfg(not(unix))]
    let _ = (plan, files);
    Ok(())
}
