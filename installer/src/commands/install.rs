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
use crate::net::{Client, url::file_url_to_path};
use crate::plan::{Integrity, Plan};
use std::io::Read;
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

    // A pinned hash, or the one the previous install recorded, lets a
    // re-install finish with no cache access and no connection at all.
    let known = match &plan.integrity {
        Integrity::Pinned(sha) => Some(*sha),
        Integrity::ChecksumsFile(_) => link::read_receipt(&plan.package_dir).map(|r| r.archive),
    };
    if let Some(sha) = known
        && !options.cache_only
        && link::is_current(&plan, &sha)
    {
        let placed = plan
            .bins
            .iter()
            .map(|b| link::installed_path(&plan.package_dir, &b.file_name))
            .collect();
        return Ok(Report {
            exposed: expose(&manifest, &plan)?,
            outcome: Outcome::AlreadyInstalled,
            plan,
            placed,
            elapsed: started.elapsed(),
        });
    }

    let cache = Cache::open_or_temp(&settings.cache_dir.value, options.cache_only)?;
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
    let exposed = expose(&manifest, &plan)?;
    Ok(Report {
        outcome,
        placed: receipt.bins.into_iter().map(|b| b.path).collect(),
        exposed,
        plan,
        elapsed: started.elapsed(),
    })
}

/// The speed path: where it is safe, the JS launchers become the native
/// executable so `node_modules/.bin/<tool>` starts no Node.
fn expose(manifest: &crate::manifest::Manifest, plan: &Plan) -> Result<Vec<PathBuf>, Error> {
    if let Some(why) = link::speed_path_blocker(&crate::settings::process_env) {
        crate::debug!("keeping the JS launcher: {why}");
        return Ok(vec![]);
    }
    let launchers: Vec<(PathBuf, PathBuf)> = plan
        .bins
        .iter()
        .filter_map(|b| {
            let launcher = manifest.bin.get(&b.name)?;
            Some((
                PathBuf::from(launcher),
                link::installed_path(&plan.package_dir, &b.file_name),
            ))
        })
        .collect();
    Ok(link::expose_native(&plan.package_dir, &launchers)?)
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

/// The unpacked tree for `sha`, from the cache or made now.
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
    let staging = cache.temp_dir()?;
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
                .filter_map(|s| file_url_to_path(&s.url))
                .map(|p| p.display().to_string())
                .collect(),
        };
        if offline
            && plan
                .sources
                .iter()
                .all(|s| file_url_to_path(&s.url).is_none())
        {
            return Err(offline_miss());
        }
        cache.sweep_temp(Duration::from_secs(3600));
        let mut temp = cache.temp_file()?;
        let (done, listing) =
            match download_and_unpack(client, plan, sha, &mut temp, &files, limits) {
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
/// before it is verified (DESIGN, security rules): a decompressor and a tar
/// parser never see bytes an attacker could have chosen.
fn download_and_unpack(
    client: &Client<'_>,
    plan: &Plan,
    sha: &Sha256Hash,
    temp: &mut tempfile::NamedTempFile,
    files: &Path,
    limits: Limits,
) -> Result<(fetch::Downloaded, extract::Listing), Error> {
    let done = fetch::download(
        client,
        &plan.sources,
        Expect::Sha256(*sha),
        temp.as_file_mut(),
        &plan.asset_name,
    )?;
    let raw_name = &plan.bins[0].archive_path;
    let listing = extract::unpack(plan.format, temp.path(), files, limits, raw_name)?;
    Ok((done, listing))
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
        // A tree dir without a readable listing is debris; clear it so the
        // fresh tree can be published in its place.
        if locked && cache.has_tree_dir(sha) {
            crate::warn!(
                "cached files of {} are incomplete; unpacking again",
                plan.asset_name
            );
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
    let mut last_error = None;
    for source in sources {
        let text = match file_url_to_path(&source.url) {
            Some(path) => std::fs::read_to_string(&path).map_err(|e| e.to_string()),
            None => client
                .request(&source.url, source.explicit, None, false)
                .map_err(|e| e.to_string())
                .and_then(|r| {
                    let mut text = String::new();
                    r.body
                        .into_reader()
                        .take(4 << 20)
                        .read_to_string(&mut text)
                        .map(|_| text)
                        .map_err(|e| e.to_string())
                }),
        };
        match text {
            Ok(text) => {
                let sha =
                    checksums::find(&text, &plan.asset_name).ok_or_else(|| Error::Checksums {
                        detail: format!(
                            "the checksums file {} lists no {}",
                            source.url, plan.asset_name
                        ),
                    })?;
                crate::warn!(
                    "{} pins no sha256 for {}; using the hash from {} (served by the release host, not pinned by the publisher)",
                    plan.name,
                    plan.target,
                    source.url
                );
                return Ok(sha);
            }
            Err(e) => last_error = Some(format!("{}: {e}", source.url)),
        }
    }
    Err(Error::Checksums {
        detail: format!(
            "cannot fetch the checksums file: {}",
            last_error.unwrap_or_default()
        ),
    })
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
