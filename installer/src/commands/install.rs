//! `postbin install`: config → plan → cache (lock, re-check) → fetch, verify,
//! unpack (all in `crate::pipeline`) → place the executables in the package.

use crate::cache::Cache;
use crate::error::Error;
use crate::hash::Sha256Hash;
use crate::link;
use crate::manifest::Manifest;
use crate::net::Client;
use crate::pipeline::{self, Ensured, Flags, HitCheck, Loaded, TEMP_MAX_AGE, ensure_tree};
use crate::plan::{Integrity, Plan};
use crate::settings::Settings;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// `--package DIR`.
    pub package: Option<PathBuf>,
    /// `--target TRIPLE`.
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
    /// The package is not inside a `node_modules` tree (the tool's own
    /// repository): nothing placed in it. `true`: the executables were
    /// verified into the cache (an explicit `postbin install`); `false`:
    /// nothing at all was done (the repository's own install script).
    Checkout {
        cached: bool,
    },
}

pub struct Report {
    pub outcome: Outcome,
    /// `None` when nothing was even read (`Outcome::Checkout` in a script).
    pub plan: Option<Plan>,
    pub package_dir: PathBuf,
    pub placed: Vec<PathBuf>,
    pub elapsed: Duration,
    /// `--cache-only`: the placed paths are the report (for the launcher).
    pub cache_only: bool,
}

impl Report {
    /// The one line `install` logs when it is done.
    pub fn summary(&self) -> String {
        let what = match &self.outcome {
            Outcome::AlreadyInstalled => "already installed".to_string(),
            Outcome::FromCache => "installed from the cache".to_string(),
            Outcome::Downloaded { bytes } => format!(
                "downloaded {} and installed",
                crate::progress::human_size(*bytes)
            ),
            Outcome::Override(p) => format!("using {}", p.display()),
            Outcome::Checkout { cached } => {
                let done = if *cached {
                    "verified in the postbin cache; "
                } else {
                    ""
                };
                format!(
                    "{done}nothing installed in {}: it is not inside node_modules (the tool's own \
                     repository?); its launchers run the tool from the postbin cache",
                    self.package_dir.display()
                )
            }
        };
        let Some(plan) = &self.plan else {
            return what;
        };
        format!(
            "{} {} ({}): {what} in {:.2}s",
            plan.name,
            plan.version,
            plan.target,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Stdout carries only `--cache-only`'s paths, one per line: the launcher
/// reads them. Everything else goes to the log.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cache_only {
            for path in &self.placed {
                writeln!(f, "{}", path.display())?;
            }
        }
        Ok(())
    }
}

impl super::Report for Report {}

/// What was done, before it becomes a `Report`.
struct Done {
    outcome: Outcome,
    placed: Vec<PathBuf>,
    /// Launchers replaced by the native executable (the speed path).
    exposed: Vec<PathBuf>,
}

pub fn run(options: &Options) -> Result<Report, Error> {
    let started = Instant::now();
    let flags = Flags {
        offline: options.offline,
        target: options.target.as_deref(),
    };
    let package_dir = super::package_dir(options.package.as_deref());
    // A package outside node_modules is a checkout, most often the tool's
    // own repository, where `npm install` runs this as the root project's
    // postinstall: placing executables there (and replacing the launchers)
    // would be packed by the next `npm pack`. Its own install does nothing
    // at all (no download, which could fail before the release exists);
    // `postbin install` run by hand verifies into the cache only.
    let checkout = !options.cache_only && !link::inside_node_modules(&package_dir);
    if checkout && in_install_script() {
        return Ok(Report {
            outcome: Outcome::Checkout { cached: false },
            plan: None,
            package_dir,
            placed: vec![],
            elapsed: started.elapsed(),
            cache_only: false,
        });
    }
    let loaded = pipeline::load(&package_dir, flags)?;
    let done = if let Some(path) = binary_override(&loaded)? {
        Done {
            outcome: Outcome::Override(path),
            placed: vec![],
            exposed: vec![],
        }
    } else if options.cache_only {
        into_cache(&loaded)?
    } else if checkout {
        Done {
            outcome: Outcome::Checkout { cached: true },
            ..into_cache(&loaded)?
        }
    } else {
        into_package(&loaded)?
    };
    for launcher in &done.exposed {
        crate::debug!("{} now is the native executable", launcher.display());
    }
    Ok(Report {
        outcome: done.outcome,
        placed: done.placed,
        plan: Some(loaded.plan),
        package_dir,
        elapsed: started.elapsed(),
        cache_only: options.cache_only,
    })
}

/// Whether a package manager runs this as an install script.
fn in_install_script() -> bool {
    matches!(
        crate::settings::process_env(crate::env_vars::NPM_LIFECYCLE_EVENT).as_deref(),
        Some("preinstall" | "install" | "postinstall")
    )
}

/// `<PREFIX>_BINARY_PATH`, if set: it must name an existing file.
fn binary_override(loaded: &Loaded) -> Result<Option<PathBuf>, Error> {
    let Some(path) = &loaded.settings.binary_path else {
        return Ok(None);
    };
    if !std::fs::metadata(&path.value).is_ok_and(|m| m.is_file()) {
        return Err(Error::BinaryOverride {
            variable: format!("{}_BINARY_PATH", loaded.plan.env_prefix),
            path: path.value.clone(),
        });
    }
    crate::info!(
        "using {} ({}); nothing downloaded",
        path.value.display(),
        path.origin
    );
    Ok(Some(path.value.clone()))
}

/// A checkout's executables as its launchers find them: in the cache,
/// verified, with no download (offline), by command name; `None` when the
/// cache does not hold them. What `postbin which` reports in a checkout.
pub(crate) fn cached_executables(package_dir: &std::path::Path) -> Option<Vec<(String, PathBuf)>> {
    let flags = Flags {
        offline: true,
        target: None,
    };
    let loaded = pipeline::load(package_dir, flags).ok()?;
    let done = into_cache(&loaded).ok()?;
    let names = loaded.plan.bins.iter().map(|b| b.name.clone());
    Some(names.zip(done.placed).collect())
}

/// `--cache-only`: the executables verified in the cache (a temp one if the
/// cache dir cannot be written), nothing placed.
fn into_cache(loaded: &Loaded) -> Result<Done, Error> {
    let Loaded { settings, plan, .. } = loaded;
    // Paths handed out of the cache are verified first.
    let (_, _, _, ensured) = in_cache(settings, plan, true, HitCheck::Hash, None)?;
    Ok(Done {
        outcome: outcome_of(&ensured),
        placed: plan
            .bins
            .iter()
            .map(|b| ensured.tree.path_of(&b.archive_path))
            .collect(),
        exposed: vec![],
    })
}

/// The executables placed in the package (and, where safe, exposed as the
/// `.bin` entries), unless the package already holds verified copies.
fn into_package(loaded: &Loaded) -> Result<Done, Error> {
    let Loaded {
        manifest,
        settings,
        plan,
    } = loaded;
    let receipt = link::read_receipt(&plan.package_dir);
    if let Some(r) = &receipt
        && r.target != plan.target
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
    let exposed_before = previously_exposed(manifest, plan, receipt.as_ref());

    // A pinned hash, or the one the previous install recorded, lets a
    // re-install finish with no cache access and no connection at all.
    // A receipt for another target (a package moved from another platform)
    // fails `is_current`, so everything is installed again for this host.
    let known = match &plan.integrity {
        Integrity::Pinned(sha) => Some(*sha),
        Integrity::ChecksumsFile(_) => receipt.as_ref().map(|r| r.archive),
    };
    if let Some(sha) = known
        && link::is_current(plan, &sha)
    {
        // Nothing is placed, but executables set aside on Windows by an
        // earlier placement (they were running) can go now.
        link::sweep_set_aside(&plan.package_dir);
        return Ok(Done {
            outcome: Outcome::AlreadyInstalled,
            placed: plan
                .bins
                .iter()
                .map(|b| link::installed_path(&plan.package_dir, &b.file_name))
                .collect(),
            exposed: expose(manifest, plan, &exposed_before)?,
        });
    }

    // A placement verifies a cache hit while copying it, reading the file
    // once instead of twice; a tree made now writes the package's copies as
    // it unpacks.
    let mut precopies = link::Precopies::default();
    let (client, cache, sha, ensured) = in_cache(
        settings,
        plan,
        false,
        HitCheck::WhileCopying,
        Some(&mut precopies),
    )?;
    let receipt = place(&cache, &client, plan, &sha, &ensured, precopies)?;
    Ok(Done {
        outcome: outcome_of(&ensured),
        placed: receipt.bins.into_iter().map(|b| b.path).collect(),
        exposed: expose(manifest, plan, &exposed_before)?,
    })
}

/// The plan's tree in the cache (a temp cache if the cache dir cannot be
/// written, kept after this run if `keep`), fetched unless a hit passes
/// `hits`, and its use recorded. Temp files of installs that were killed
/// are swept first: one directory read when there are none. `precopies`
/// as in `ensure_tree`.
fn in_cache<'s>(
    settings: &'s Settings,
    plan: &Plan,
    keep: bool,
    hits: HitCheck,
    precopies: Option<&mut link::Precopies>,
) -> Result<(Client<'s>, Cache, Sha256Hash, Ensured), Error> {
    let client = Client::new(settings);
    let cache = Cache::open_or_temp(&settings.cache_dir.value, keep)?;
    cache.sweep_temp(TEMP_MAX_AGE);
    let sha = trusted_hash(&client, plan)?;
    let ensured = ensure_tree(&cache, &client, plan, &sha, hits, precopies)?;
    cache.touch(&sha);
    Ok((client, cache, sha, ensured))
}

fn outcome_of(ensured: &Ensured) -> Outcome {
    match ensured.downloaded {
        Some(bytes) => Outcome::Downloaded { bytes },
        None => Outcome::FromCache,
    }
}

/// The archive's hash; for a target with no pinned hash, the one from the
/// publisher's declared checksums file, which is weaker, and said so.
fn trusted_hash(client: &Client<'_>, plan: &Plan) -> Result<Sha256Hash, Error> {
    let (sha, from_file) = pipeline::archive_hash(client, plan)?;
    if let Some((_, url)) = from_file {
        crate::warn!(
            "{} pins no sha256 for {}; using the hash from {url} (served by the release host, not pinned by the publisher)",
            plan.name,
            plan.target,
        );
    }
    Ok(sha)
}

/// Copies the executables out of the tree into the package. A cached tree
/// that turns out corrupt (or vanishes) while copying is unpacked again,
/// once, from its re-verified archive.
fn place(
    cache: &Cache,
    client: &Client<'_>,
    plan: &Plan,
    sha: &crate::hash::Sha256Hash,
    ensured: &Ensured,
    precopies: link::Precopies,
) -> Result<link::Receipt, Error> {
    let placed = {
        // Held while copying out of the tree, so a concurrent `cache prune`
        // or `clean` skips this entry instead of deleting it mid-copy.
        let _reading = cache.read_hold(sha);
        link::place(plan, &ensured.tree, ensured.source(), precopies)
    };
    match placed {
        Err(e @ (link::Error::CorruptCache { .. } | link::Error::GoneFromCache { .. })) => {
            crate::warn!("{e}; unpacking {} again", plan.asset_name);
            {
                let _lock = cache.lock(sha)?;
                cache.discard_tree(sha);
            }
            let again = ensure_tree(cache, client, plan, sha, HitCheck::Hash, None)?;
            let _reading = cache.read_hold(sha);
            let none = link::Precopies::default();
            Ok(link::place(plan, &again.tree, link::Source::Fresh, none)?)
        }
        placed => Ok(placed?),
    }
}

/// The speed path: where it is safe, the JS launchers become the native
/// executable so `node_modules/.bin/<tool>` starts no Node. `previous`:
/// launchers an earlier speed path replaced (`previously_exposed`).
fn expose(manifest: &Manifest, plan: &Plan, previous: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
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
    manifest: &Manifest,
    plan: &Plan,
    receipt: Option<&link::Receipt>,
) -> Vec<PathBuf> {
    if link::speed_path_blocker(&crate::settings::process_env).is_some() {
        return vec![];
    }
    link::previously_exposed(&plan.package_dir, &launcher_pairs(manifest, plan), receipt)
}

/// (package.json `bin` path, placed executable) for each command.
fn launcher_pairs(manifest: &Manifest, plan: &Plan) -> Vec<(PathBuf, PathBuf)> {
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
