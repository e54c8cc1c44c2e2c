//! The install pipeline, below the commands: config → plan (`load`,
//! `plan_for`) → the hash to trust (`archive_hash`) → cache, fetch, verify,
//! unpack, publish (`tree::ensure_tree`). `install` and `prefill` both run
//! it; no command calls another.

mod partial;
mod stream;
mod tree;

pub use tree::{Ensured, HitCheck, TEMP_MAX_AGE, ensure_tree};

use crate::checksums;
use crate::error::Error;
use crate::hash::Sha256Hash;
use crate::manifest::Manifest;
use crate::net::Client;
use crate::plan::{self, Integrity, Plan};
use crate::platform;
use crate::settings::{Origin, Setting, Settings};
use crate::url::Url;
use std::path::Path;

/// Everything known about one package before any I/O beyond reading config.
pub struct Loaded {
    pub manifest: Manifest,
    pub settings: Settings,
    pub plan: Plan,
}

/// What the command line says on top of the consumer's settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags<'a> {
    /// `--offline`.
    pub offline: bool,
    /// `--target TRIPLE`.
    pub target: Option<&'a str>,
}

/// Reads package.json and the consumer's settings (with `flags` on top),
/// and resolves the plan for the host (or forced) target.
pub fn load(package_dir: &Path, flags: Flags<'_>) -> Result<Loaded, Error> {
    let manifest = Manifest::load(package_dir)?;
    let settings = settings_for(&manifest, flags)?;
    let target = host_target(&manifest, &settings)?;
    let plan = plan::resolve(&manifest, &settings, &target)?;
    Ok(Loaded {
        manifest,
        settings,
        plan,
    })
}

/// The consumer's settings for `manifest` (its env prefix decides which
/// `<PREFIX>_*` variables apply), with `flags` on top. A setting that
/// cannot be used stops here (exit 3).
pub fn settings_for(manifest: &Manifest, flags: Flags<'_>) -> Result<Settings, Error> {
    let prefix = plan::env_prefix(manifest);
    let mut settings =
        Settings::load_for(Some(&prefix), scope(&manifest.name), Some(&manifest.dir));
    if flags.offline {
        settings.offline = Setting {
            value: true,
            origin: Origin::Flag("--offline"),
        };
    }
    if let Some(t) = flags.target {
        settings.target = Some(Setting {
            value: t.to_string(),
            origin: Origin::Flag("--target"),
        });
    }
    settings.check()?;
    Ok(settings)
}

/// The npm scope of a package name: `@acme` of `@acme/tool`.
pub fn scope(name: &str) -> Option<&str> {
    name.starts_with('@')
        .then(|| name.split('/').next())
        .flatten()
}

/// Which targets a command works on (`--targets`).
pub enum Targets {
    /// The one this host would install (the default, or `host`).
    Host,
    /// Every target the package offers (`all`).
    All,
    /// These (`T,T`).
    List(Vec<String>),
}

impl Targets {
    pub fn parse(flag: Option<&str>) -> Targets {
        match flag.map(str::trim) {
            None | Some("") | Some("host") => Targets::Host,
            Some("all") => Targets::All,
            Some(list) => Targets::List(crate::settings::split_list(list)),
        }
    }
}

/// The target to install for this host: the forced one (`--target`,
/// `POSTBIN_TARGET`) if any, else the best one the package offers for this
/// host, or for the machine an install script was asked to install for
/// (npm `--os`/`--cpu`/`--libc`).
pub fn host_target(manifest: &Manifest, settings: &Settings) -> Result<String, Error> {
    let forced = settings.target.as_ref().map(|s| s.value.as_str());
    // The glibc version is read only where a build declares a minimum.
    let judged = manifest.postbin.targets.values().any(|e| e.glibc.is_some());
    let this = if judged {
        platform::Host::detect()
    } else {
        platform::Host::detect_without_glibc_version()
    };
    let host = platform::target_host(&settings.requested_platform, &this);
    let candidates = platform::Candidates::for_host(host);
    let target = plan::choose_target(manifest, &candidates, forced)?;
    if forced.is_none()
        && let Some(asked) = &candidates.host.for_another_machine
    {
        crate::info!("installing {target}, for another machine ({asked})");
    }
    Ok(target)
}

/// The archive's hash as the plan vouches for it: the pinned one, or, for a
/// target the publisher did not pin, the one in the declared checksums file
/// (weaker: served by the release host), with that file's text and URL.
pub fn archive_hash(
    client: &Client<'_>,
    plan: &Plan,
) -> Result<(Sha256Hash, Option<(String, Url)>), Error> {
    match &plan.integrity {
        Integrity::Pinned(sha) => Ok((*sha, None)),
        Integrity::ChecksumsFile(sources) => {
            let (sha, text, url) = checksums::fetch(client, sources, &plan.asset_name)?;
            Ok((sha, Some((text, url))))
        }
    }
}
