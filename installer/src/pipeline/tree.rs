//! The unpacked tree of one archive, from the cache or made now: lock,
//! re-check, fetch (or take the cached archive), verify, unpack, check the
//! declared executables, publish. Every command that installs comes here.

use super::stream::Staging;
use crate::cache::{Cache, Tree};
use crate::error::Error;
use crate::extract::{self, Limits};
use crate::fetch::{self, Expect};
use crate::hash::Sha256Hash;
use crate::io_error::io_err;
use crate::link;
use crate::net::Client;
use crate::plan::{self, Plan};
use std::io;
use std::path::Path;
use std::time::Duration;

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
    fn found(tree: Tree) -> Ensured {
        Ensured {
            tree,
            made: false,
            downloaded: None,
        }
    }

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
pub const TEMP_MAX_AGE: Duration = Duration::from_secs(3600);

/// The unpacked tree for `sha`, from the cache or made now. A published
/// tree is used only if sealed by this user's key (`cache::seal`); any other
/// (tampered, carried, copied from another cache, older than seals) is
/// rebuilt from the archive, itself re-hashed first, or is a miss. With
/// `precopies`, a tree made now also writes the package's copies of the
/// executables as it unpacks (`link::Precopies`).
pub fn ensure_tree(
    cache: &Cache,
    client: &Client<'_>,
    plan: &Plan,
    sha: &Sha256Hash,
    hits: HitCheck,
    precopies: Option<&mut link::Precopies>,
) -> Result<Ensured, Error> {
    if let Some(tree) = usable_tree(cache, plan, sha, false, hits)? {
        return Ok(Ensured::found(tree));
    }
    let _lock = cache.lock(sha)?;
    // Another process may have finished while we waited for the lock.
    if let Some(tree) = usable_tree(cache, plan, sha, true, hits)? {
        return Ok(Ensured::found(tree));
    }
    let tees = precopies.map(|p| p.start(plan, sha)).unwrap_or_default();
    make_tree(cache, client, plan, sha, tees)
}

/// Under the entry's lock: unpacks the cached archive, or downloads it,
/// into a staging dir, then publishes the tree (and a fresh archive).
fn make_tree(
    cache: &Cache,
    client: &Client<'_>,
    plan: &Plan,
    sha: &Sha256Hash,
    tees: Vec<extract::Tee>,
) -> Result<Ensured, Error> {
    let staging = cache.temp_dir_for(sha)?;
    let files = staging.path().join("files");
    create_dir(&files)?;
    let limits = Limits {
        max_unpacked: client.settings().max_unpacked_size,
        ..Limits::default()
    };
    let to = Staging {
        cache_dir: cache.root(),
        files: &files,
        limits,
    };
    let (listing, download) = match cache.checked_archive(sha) {
        Some(archive) => {
            crate::debug!("unpacking cached archive {}", sha.short());
            let raw_name = &plan.bins[0].archive_path;
            let listing =
                extract::unpack_file(plan.format, archive, &files, limits, raw_name, tees)?;
            (listing, None)
        }
        None => {
            let (listing, temp, bytes) = download_into_staging(cache, client, plan, sha, to, tees)?;
            (listing, Some((temp, bytes)))
        }
    };
    check_bins_present(plan, &listing)?;
    mark_executable(plan, &files)?;

    // Only a download that unpacked cleanly and holds the executables is kept.
    let downloaded = match download {
        Some((temp, bytes)) => {
            cache.publish_archive(temp, sha)?;
            Some(bytes)
        }
        None => None,
    };
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
        downloaded,
    })
}

/// Downloads the archive (continuing an interrupted download) and unpacks
/// it into `files`: the listing, the verified archive, its size. Offline,
/// only `file://` sources are tried, and a miss says how to prefill.
fn download_into_staging(
    cache: &Cache,
    client: &Client<'_>,
    plan: &Plan,
    sha: &Sha256Hash,
    to: Staging<'_>,
    tees: Vec<extract::Tee>,
) -> Result<(extract::Listing, tempfile::NamedTempFile, u64), Error> {
    let offline = client.settings().offline.value;
    // Offline, a source on disk can still serve: a `file://` mirror, or
    // npm's cache holding the wrapper package.
    let local = |s: &plan::Source| {
        s.url.to_file_path().is_some()
            || s.wrapped
                .as_ref()
                .is_some_and(|w| w.npm_cache_file.is_some())
    };
    if offline && !plan.sources.iter().any(local) {
        return Err(offline_miss(plan));
    }
    cache.sweep_temp(TEMP_MAX_AGE);
    // Hash-named, under the entry lock: an interrupted download is
    // continued by the next install, and never by two at once.
    let partial = fetch::Partial::open(&cache.tmp_dir(), sha)?;
    let (done, listing, temp) = match download_and_unpack(client, plan, sha, partial, to, tees) {
        Err(Error::Fetch(e)) if offline && e.is_missing_local_file() => {
            return Err(offline_miss(plan));
        }
        result => result?,
    };
    crate::debug!("downloaded {} bytes from {}", done.size, done.url);
    Ok((listing, temp, done.size))
}

fn offline_miss(plan: &Plan) -> Error {
    Error::OfflineMiss {
        package: plan.name.clone(),
        target: plan.target.clone(),
        asset: plan.asset_name.clone(),
        mirrors: plan
            .sources
            .iter()
            .filter_map(|s| s.url.to_file_path())
            .map(|p| p.display().to_string())
            .collect(),
    }
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
    to: Staging<'_>,
    tees: Vec<extract::Tee>,
) -> Result<(fetch::Downloaded, extract::Listing, tempfile::NamedTempFile), Error> {
    if let Some(chunks) = super::stream::chunks_for(plan)? {
        return super::stream::download_and_unpack(client, plan, sha, partial, to, chunks, tees);
    }
    let want = fetch::Want {
        size: plan.size,
        dir: Some(to.cache_dir),
        resume: true,
        ..fetch::Want::new(Expect::Sha256(*sha))
    };
    let result = fetch::download(
        client,
        &plan.sources,
        &want,
        partial.file_mut(),
        &plan.asset_name,
    );
    let (done, temp) = super::partial::verified_download(result, partial)?;
    // The very file just verified, through a handle of its own, from byte 0.
    let archive = (temp.as_file().try_clone())
        .and_then(|mut f| io::Seek::rewind(&mut f).map(|()| f))
        .map_err(io_err::<extract::Error>("read", temp.path()))?;
    let raw_name = &plan.bins[0].archive_path;
    let listing = extract::unpack_file(plan.format, archive, to.files, to.limits, raw_name, tees)?;
    Ok((done, listing, temp))
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir(dir)
        .map_err(io_err::<extract::Error>("create", dir))
        .map_err(Error::from)
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
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(io_err::<extract::Error>("chmod", &path))?;
    }
    #[cfg(not(unix))]
    let _ = (plan, files);
    Ok(())
}
