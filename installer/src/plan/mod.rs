//! Turns what the publisher wrote (package.json) and what the consumer set
//! (env, .npmrc) into a `Plan`: one target, one archive with its pinned hash,
//! the URLs to try in order, and the executables to expose. Pure: no I/O.

use crate::hash::Sha256Hash;
use crate::manifest::{Manifest, TargetEntry, unscoped};
use crate::npm::integrity::Sha512Integrity;
use crate::npm::wrapper;
use crate::platform::{self, Candidates, Unrunnable};
use crate::settings::Settings;
use crate::settings::registry::Credential;
use crate::template::{self, UnknownVariable};
use crate::url::{Url, redact};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

mod error;
mod sources;

pub use crate::format::Format;
pub use error::{Error, Unsupported};
pub use sources::{Content, MirrorError, sources_for, sources_for_content};
use sources::{add_registry_source, locate};

/// Where the bytes may come from, in the order they are tried.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// Printed without credentials (`Url`'s `Display`), wherever it goes.
    pub url: Url,
    /// True when the user configured this URL (a mirror, their npm
    /// registry): `http://` is then allowed, since the pinned hash still
    /// guards the bytes.
    pub explicit: bool,
    /// The URL serves the asset wrapped in an npm package.
    pub wrapped: Option<Box<Wrapped>>,
}

impl Source {
    /// A URL that serves the asset itself.
    pub fn direct(url: Url, explicit: bool) -> Self {
        Source {
            url,
            explicit,
            wrapped: None,
        }
    }
}

/// An asset inside an npm package on the consumer's registry (`postbin
/// pack-targets` wrote it): the tarball is checked against `integrity`
/// before anything reads it, then the archive inside against its sha256.
#[derive(Clone, Debug, PartialEq)]
pub struct Wrapped {
    pub integrity: Sha512Integrity,
    /// The archive's path inside the tarball (`package/<asset>`).
    pub member: String,
    /// The registry (for messages) and what it gets sent, and only it.
    pub registry: Url,
    pub credential: Option<Credential>,
    /// Where npm's own cache would hold this tarball, if npm has one.
    pub npm_cache_file: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Integrity {
    /// The publisher pinned the hash in package.json (end-to-end integrity).
    Pinned(Sha256Hash),
    /// No pinned hash; the publisher declared a checksums file, fetched from
    /// these URLs. Weaker: the hash comes from the same server as the bytes.
    ChecksumsFile(Vec<Source>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct BinPlan {
    /// The command name (`hello`).
    pub name: String,
    /// Path of the executable inside the archive, `/`-separated.
    pub archive_path: String,
    /// File name when placed in the package (`hello` or `hello.exe`).
    pub file_name: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub package_dir: PathBuf,
    pub name: String,
    pub version: String,
    pub env_prefix: String,
    pub target: String,
    pub format: Format,
    /// The publisher's URL, before mirrors.
    pub origin_url: String,
    pub sources: Vec<Source>,
    pub integrity: Integrity,
    /// The archive's size in bytes, when the publisher pinned it
    /// (`postbin.targets.<t>.size`): checked against `Content-Length` and
    /// never downloaded past.
    pub size: Option<u64>,
    /// The asset's file name (for mirror trees and messages).
    pub asset_name: String,
    pub bins: Vec<BinPlan>,
    /// The archive's chunk digests, when the publisher pinned them: the
    /// download is then checked and unpacked chunk by chunk as it arrives.
    pub chunks: Option<ChunksRef>,
}

/// A chunk-digest file in the package and its pinned sha256.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunksRef {
    pub path: PathBuf,
    pub sha256: Sha256Hash,
}

/// An offered target the host was found unable to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub target: String,
    pub reason: Unrunnable,
}

/// `@acme/hello-tool` → `HELLO_TOOL`, unless `postbin.envPrefix` says otherwise.
pub fn env_prefix(manifest: &Manifest) -> String {
    match &manifest.postbin.env_prefix {
        Some(p) => p.clone(),
        None => unscoped(&manifest.name)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect(),
    }
}

/// Picks the target: the forced one if any (the user's word beats
/// detection, which can be wrong), else the first host candidate the
/// package offers and the host can run: a `-gnu` build is passed over when
/// the host lacks glibc's loader or has an older glibc than the build
/// declares, so the `-musl` build is taken instead.
pub fn choose_target(
    manifest: &Manifest,
    candidates: &Candidates,
    forced: Option<&str>,
) -> Result<String, Error> {
    let available: Vec<String> = manifest.postbin.targets.keys().cloned().collect();
    if let Some(forced) = forced {
        return if manifest.postbin.targets.contains_key(forced) {
            Ok(forced.to_string())
        } else {
            Err(Error::ForcedTargetNotOffered {
                package: manifest.name.clone(),
                target: forced.to_string(),
                available,
            })
        };
    }
    let mut skipped = Vec::new();
    for candidate in candidates.iter() {
        let Some(entry) = manifest.postbin.targets.get(candidate) else {
            continue;
        };
        match candidates.host.cannot_run(candidate, entry.glibc) {
            None => return Ok(candidate.clone()),
            Some(reason) => skipped.push(Skipped {
                target: candidate.clone(),
                reason,
            }),
        }
    }
    Err(Error::UnsupportedPlatform(Box::new(Unsupported {
        package: manifest.name.clone(),
        detected: candidates.to_vec(),
        host: candidates.host.description(),
        available,
        env_prefix: env_prefix(manifest),
        skipped,
    })))
}

/// Where one target's asset lives, before any hash is considered (what
/// `postbin pin` needs to find or download it).
#[derive(Clone, Debug, PartialEq)]
pub struct Asset {
    pub target: String,
    pub format: Format,
    pub origin_url: String,
    pub sources: Vec<Source>,
    pub asset_name: String,
}

pub fn asset(manifest: &Manifest, settings: &Settings, target: &str) -> Result<Asset, Error> {
    let plan = resolve_inner(manifest, settings, target, false)?;
    Ok(Asset {
        target: plan.target,
        format: plan.format,
        origin_url: plan.origin_url,
        sources: plan.sources,
        asset_name: plan.asset_name,
    })
}

/// Builds the plan for one target.
pub fn resolve(manifest: &Manifest, settings: &Settings, target: &str) -> Result<Plan, Error> {
    resolve_inner(manifest, settings, target, true)
}

fn resolve_inner(
    manifest: &Manifest,
    settings: &Settings,
    target: &str,
    need_hash: bool,
) -> Result<Plan, Error> {
    let entry = manifest
        .postbin
        .targets
        .get(target)
        .expect("choose_target returns an offered target");
    let format = format_of(manifest, entry, target)?;
    let version = manifest
        .postbin
        .version
        .clone()
        .unwrap_or_else(|| manifest.version.clone());
    let exe = exe_suffix(target);
    let vars = template_vars(&version, target, format.as_str(), unscoped(&manifest.name));
    let asset = locate(manifest, entry, settings, target, format, &vars)?;
    let integrity = integrity(manifest, entry, settings, target, &vars, need_hash)?;
    let mut sources = asset.sources;
    if need_hash && let Integrity::Pinned(_) = integrity {
        add_registry_source(
            &mut sources,
            manifest,
            entry,
            settings,
            target,
            &asset.asset_name,
        )?;
    }
    let bins = bin_plans(manifest, entry, &vars, exe)?;
    if format == Format::Raw && bins.len() != 1 {
        return Err(Error::Invalid {
            field: "bin".into(),
            problem: "declares several commands, but a `raw` asset is one executable".into(),
        });
    }
    Ok(Plan {
        package_dir: manifest.dir.clone(),
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        env_prefix: env_prefix(manifest),
        target: asset.target,
        format,
        origin_url: asset.origin_url,
        sources,
        integrity,
        size: entry.size,
        asset_name: asset.asset_name,
        bins,
        chunks: chunks_ref(manifest, entry, target)?,
    })
}

/// `targets.<t>.chunks`, checked: a relative path inside the package and a
/// sha256.
fn chunks_ref(
    manifest: &Manifest,
    entry: &TargetEntry,
    target: &str,
) -> Result<Option<ChunksRef>, Error> {
    let Some(pin) = &entry.chunks else {
        return Ok(None);
    };
    let field = format!("{}.chunks", target_field(target));
    let inside = std::path::Path::new(&pin.file)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !inside {
        return Err(Error::Invalid {
            field: format!("{field}.file"),
            problem: "must be a path inside the package, such as `postbin-chunks/<target>`".into(),
        });
    }
    let sha256 = Sha256Hash::parse(&pin.sha256).ok_or_else(|| Error::Invalid {
        field: format!("{field}.sha256"),
        problem: "must be 64 hex digits; run `postbin pin --download` to write it".into(),
    })?;
    Ok(Some(ChunksRef {
        path: manifest.dir.join(&pin.file),
        sha256,
    }))
}

/// The values templates may name, `{name}` being the package's (unscoped)
/// until a bin template names the command instead (`with_name`).
pub type Vars<'a> = [(&'static str, &'a str); 9];

/// The one list of template variables and their values, for install and
/// for the publisher commands that write or check templates.
pub fn template_vars<'a>(
    version: &'a str,
    target: &'a str,
    format: &'a str,
    package_name: &'a str,
) -> Vars<'a> {
    let exe = exe_suffix(target);
    let (os, arch) = platform::go_os_arch(target);
    let (title_os, goreleaser_arch) = platform::goreleaser_os_arch(target);
    [
        ("version", version),
        ("target", target),
        ("format", format),
        ("exe", exe),
        ("name", package_name),
        ("os", os),
        ("arch", arch),
        ("Os", title_os),
        ("Arch", goreleaser_arch),
    ]
}

fn with_name<'a>(vars: &Vars<'a>, name: &'a str) -> Vars<'a> {
    vars.map(|(key, value)| (key, if key == "name" { name } else { value }))
}

fn exe_suffix(target: &str) -> &'static str {
    if platform::is_windows(target) {
        ".exe"
    } else {
        ""
    }
}

/// `postbin.targets.<target>`, the prefix of a per-target field's name.
fn target_field(target: &str) -> String {
    format!("postbin.targets.{target}")
}

/// The archive format: the target's own, else the section's, else tar.gz.
fn format_of(manifest: &Manifest, entry: &TargetEntry, target: &str) -> Result<Format, Error> {
    let (format_text, format_field) = match (&entry.format, &manifest.postbin.format) {
        (Some(f), _) => (f.as_str(), format!("{}.format", target_field(target))),
        (None, Some(f)) => (f.as_str(), "postbin.format".to_string()),
        (None, None) => ("tar.gz", "postbin.format".to_string()),
    };
    Format::parse(format_text).ok_or_else(|| Error::Invalid {
        field: format_field,
        problem: format!("is `{format_text}`; use one of {}", Format::spellings()),
    })
}

/// How the download is verified: the pinned hash, else the declared
/// checksums file. Without `need_hash` (`postbin pin`, which is about to
/// fill the hash in) a missing or malformed hash is no error.
fn integrity(
    manifest: &Manifest,
    entry: &TargetEntry,
    settings: &Settings,
    target: &str,
    vars: &Vars<'_>,
    need_hash: bool,
) -> Result<Integrity, Error> {
    match &entry.sha256 {
        Some(text) if !need_hash && Sha256Hash::parse(text).is_none() => {
            Ok(Integrity::ChecksumsFile(vec![]))
        }
        Some(text) => Sha256Hash::parse(text)
            .map(Integrity::Pinned)
            .ok_or_else(|| Error::Invalid {
                field: format!("{}.sha256", target_field(target)),
                problem: "must be 64 hex digits (a SHA-256); run `postbin pin` to fill it".into(),
            }),
        None => match &manifest.postbin.checksums {
            Some(template) => checksums_sources(template, vars, settings),
            None if !need_hash => Ok(Integrity::ChecksumsFile(vec![])),
            None => Err(Error::MissingHash {
                package: manifest.name.clone(),
                target: target.to_string(),
                env_prefix: env_prefix(manifest),
            }),
        },
    }
}

/// Where the declared checksums file is fetched from. A URL that does not
/// parse is left for `sources_for` to report.
fn checksums_sources(
    template: &str,
    vars: &Vars<'_>,
    settings: &Settings,
) -> Result<Integrity, Error> {
    let url = render(template, vars, "postbin.checksums")?;
    if let Ok(parsed) = Url::parse(&url) {
        publisher_scheme(&parsed, "postbin.checksums")?;
    }
    let sources = sources_for(&url, settings).map_err(|e| Error::Invalid {
        field: "postbin.checksums".into(),
        problem: e.to_string(),
    })?;
    Ok(Integrity::ChecksumsFile(sources))
}

/// One `BinPlan` per command in `bin`, in its order.
fn bin_plans(
    manifest: &Manifest,
    entry: &TargetEntry,
    vars: &Vars<'_>,
    exe: &str,
) -> Result<Vec<BinPlan>, Error> {
    if manifest.bin.is_empty() {
        return Err(Error::Invalid {
            field: "bin".into(),
            problem: "is missing: declare the commands this package exposes".into(),
        });
    }
    let templates = entry.bin.as_ref().or(manifest.postbin.bin.as_ref());
    manifest
        .bin
        .keys()
        .map(|name| bin_plan(name, templates, vars, exe))
        .collect()
}

/// Where command `name` sits in the archive, from its template: always a
/// relative path inside it, never one that climbs out.
fn bin_plan(
    name: &str,
    templates: Option<&BTreeMap<String, String>>,
    vars: &Vars<'_>,
    exe: &str,
) -> Result<BinPlan, Error> {
    let (template, field) = match templates {
        Some(map) => match map.get(name) {
            Some(t) => (t.clone(), format!("postbin.bin.{name}")),
            None => {
                return Err(Error::Invalid {
                    field: "postbin.bin".into(),
                    problem: format!("has no entry for the command `{name}` declared in `bin`"),
                });
            }
        },
        // By default the executable sits at the archive's top level.
        None => ("{name}{exe}".to_string(), format!("bin.{name}")),
    };
    let archive_path = render(&template, &with_name(vars, name), &field)?;
    if archive_path.starts_with('/') || archive_path.split('/').any(|c| c == "..") {
        return Err(Error::Invalid {
            field,
            problem: format!("is `{archive_path}`: it must be a relative path inside the archive"),
        });
    }
    Ok(BinPlan {
        name: name.to_string(),
        archive_path: archive_path.trim_start_matches("./").to_string(),
        file_name: format!("{name}{exe}"),
    })
}

/// A publisher's URL is fetched over the network: `https://` (`http://`
/// only reaches loopback, for tests). `file://` is for mirrors the user
/// sets (`POSTBIN_MIRROR`), never for the package itself: a published
/// package must not read whatever its URL names on the installing machine.
fn publisher_scheme(url: &Url, field: &str) -> Result<(), Error> {
    if matches!(url.scheme.as_str(), "https" | "http") {
        return Ok(());
    }
    Err(Error::Invalid {
        field: field.to_string(),
        problem: format!(
            "is a {}:// URL: the publisher's URL must be https:// (file:// is only for mirrors the user sets, POSTBIN_MIRROR=file:///DIR)",
            url.scheme
        ),
    })
}

fn render(template: &str, vars: &[(&'static str, &str)], field: &str) -> Result<String, Error> {
    template::render(template, vars).map_err(|source| Error::Template {
        field: field.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npmrc::Npmrc;
    use crate::platform::{GlibcVersion, Host, Libc};
    use std::path::Path;

    const HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn manifest(postbin: &str) -> Manifest {
        Manifest::parse(
            &format!(r#"{{"name":"@acme/hello-tool","version":"1.2.3","bin":{{"hello":"bin/hello"}},"postbin":{postbin}}}"#),
            Path::new("package.json"),
        )
        .unwrap()
    }

    fn settings(env: &[(&str, &str)]) -> Settings {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Settings::resolve(
            &move |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()),
            &Npmrc::default(),
            Some("HELLO_TOOL"),
        )
    }

    fn section() -> String {
        format!(
            r#"{{"url":"https://github.com/acme/hello/releases/download/v{{version}}/hello-{{target}}.{{format}}",
            "bin":{{"hello":"hello-{{target}}/hello{{exe}}"}},
            "targets":{{"x86_64-unknown-linux-musl":{{"sha256":"{HASH}"}},
                        "x86_64-pc-windows-msvc":{{"sha256":"{HASH}","format":"zip"}}}}}}"#
        )
    }

    #[test]
    fn resolves_urls_bins_and_hash() {
        let m = manifest(&section());
        let plan = resolve(&m, &settings(&[]), "x86_64-unknown-linux-musl").unwrap();
        assert_eq!(
            plan.origin_url,
            "https://github.com/acme/hello/releases/download/v1.2.3/hello-x86_64-unknown-linux-musl.tar.gz"
        );
        assert_eq!(plan.sources.len(), 1);
        assert_eq!(
            plan.bins[0].archive_path,
            "hello-x86_64-unknown-linux-musl/hello"
        );
        assert_eq!(plan.env_prefix, "HELLO_TOOL");
        assert!(matches!(plan.integrity, Integrity::Pinned(_)));
    }

    #[test]
    fn windows_targets_get_exe_and_their_own_format() {
        let m = manifest(&section());
        let plan = resolve(&m, &settings(&[]), "x86_64-pc-windows-msvc").unwrap();
        assert_eq!(plan.format, Format::Zip);
        assert!(
            plan.origin_url
                .ends_with("hello-x86_64-pc-windows-msvc.zip")
        );
        assert_eq!(
            plan.bins[0].archive_path,
            "hello-x86_64-pc-windows-msvc/hello.exe"
        );
        assert_eq!(plan.bins[0].file_name, "hello.exe");
    }

    #[test]
    fn mirrors_replace_the_origin_in_order() {
        let m = manifest(&section());
        let s = settings(&[("HELLO_TOOL_MIRROR", "http://a.corp/gh,https://b.corp")]);
        let plan = resolve(&m, &s, "x86_64-unknown-linux-musl").unwrap();
        let urls: Vec<String> = plan
            .sources
            .iter()
            .map(|s| s.url.to_string_with_credentials())
            .collect();
        assert_eq!(
            urls[0],
            "http://a.corp/gh/acme/hello/releases/download/v1.2.3/hello-x86_64-unknown-linux-musl.tar.gz"
        );
        assert!(urls[1].starts_with("https://b.corp/acme/"));
        assert!(plan.sources.iter().all(|s| s.explicit));
    }

    /// A glibc Linux x86_64 host with this glibc (None: unknown).
    fn glibc_host(glibc: Option<(u32, u32)>) -> Host {
        Host {
            os: "linux",
            arch: "x86_64",
            libc: Some(Libc::Gnu),
            glibc: glibc.map(|(major, minor)| GlibcVersion::new(major, minor)),
            ..Host::default()
        }
    }

    fn choose(m: &Manifest, host: Host) -> Result<String, Error> {
        choose_target(m, &Candidates::for_host(host), None)
    }

    /// A section offering these targets, each `(triple, extra JSON fields)`.
    fn offering(targets: &[(&str, &str)]) -> Manifest {
        let entries: Vec<String> = targets
            .iter()
            .map(|(t, extra)| format!(r#""{t}":{{"sha256":"{HASH}"{extra}}}"#))
            .collect();
        manifest(&format!(
            r#"{{"url":"https://h/{{target}}","targets":{{{}}}}}"#,
            entries.join(",")
        ))
    }

    const GNU: &str = "x86_64-unknown-linux-gnu";
    const MUSL: &str = "x86_64-unknown-linux-musl";

    #[test]
    fn a_gnu_build_needing_a_newer_glibc_gives_way_to_musl() {
        let m = offering(&[(GNU, r#","glibc":"2.39""#), (MUSL, "")]);
        assert_eq!(choose(&m, glibc_host(Some((2, 31)))).unwrap(), MUSL);
        assert_eq!(choose(&m, glibc_host(Some((2, 39)))).unwrap(), GNU);
        assert_eq!(choose(&m, glibc_host(Some((2, 40)))).unwrap(), GNU);
        // Unknown version: a declared minimum cannot be trusted to hold.
        assert_eq!(choose(&m, glibc_host(None)).unwrap(), MUSL);
    }

    #[test]
    fn a_gnu_build_with_no_declared_minimum_is_taken_as_before() {
        let m = offering(&[(GNU, ""), (MUSL, "")]);
        assert_eq!(choose(&m, glibc_host(Some((2, 17)))).unwrap(), GNU);
        assert_eq!(choose(&m, glibc_host(None)).unwrap(), GNU);
    }

    #[test]
    fn without_the_standard_loader_no_gnu_build_is_taken() {
        let m = offering(&[(GNU, ""), (MUSL, "")]);
        let nixos = Host {
            gnu_loader_missing: true,
            ..glibc_host(Some((2, 40)))
        };
        assert_eq!(choose(&m, nixos.clone()).unwrap(), MUSL);

        let err = choose(&offering(&[(GNU, "")]), nixos)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "{GNU} cannot run here: this host has no /lib64/ld-linux-x86-64.so.2"
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "the publisher offers no -musl build for this host ({MUSL})."
            )),
            "{err}"
        );
    }

    #[test]
    fn with_nothing_left_the_error_says_why_each_build_was_passed_over() {
        let m = offering(&[(GNU, r#","glibc":"2.39""#)]);
        let err = choose(&m, glibc_host(Some((2, 31)))).unwrap_err();
        assert!(matches!(err, Error::UnsupportedPlatform { .. }));
        let text = err.to_string();
        assert_eq!(
            text.lines().take(2).collect::<Vec<_>>(),
            [
                format!(
                    "@acme/hello-tool has no prebuilt binary for this platform \
                     (linux x86_64, glibc 2.31; looked for {GNU}, {MUSL})."
                ),
                format!(
                    "{GNU} needs glibc 2.39, this host has 2.31; \
                     the publisher offers no -musl build for this host ({MUSL})."
                ),
            ]
        );
        assert!(text.contains("HELLO_TOOL_BINARY_PATH"), "{text}");

        let err = choose(&m, glibc_host(None)).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "{GNU} needs glibc 2.39, and this host's glibc version could not be read"
            )),
            "{err}"
        );
    }

    #[test]
    fn a_forced_target_is_taken_whatever_the_host_seems_to_lack() {
        let m = offering(&[(GNU, r#","glibc":"2.39""#)]);
        let c = Candidates::for_host(glibc_host(Some((2, 31))));
        assert_eq!(choose_target(&m, &c, Some(GNU)).unwrap(), GNU);
    }

    #[test]
    fn a_mac_under_rosetta_takes_the_arm64_build() {
        let m = offering(&[("x86_64-apple-darwin", ""), ("aarch64-apple-darwin", "")]);
        let mac = |translated| Host {
            os: "macos",
            arch: "x86_64",
            translated,
            ..Host::default()
        };
        assert_eq!(choose(&m, mac(true)).unwrap(), "aarch64-apple-darwin");
        assert_eq!(choose(&m, mac(false)).unwrap(), "x86_64-apple-darwin");
        let universal = offering(&[("x86_64-apple-darwin", ""), ("universal2-apple-darwin", "")]);
        assert_eq!(
            choose(&universal, mac(true)).unwrap(),
            "universal2-apple-darwin"
        );
    }

    #[test]
    fn unsupported_platform_lists_targets_and_the_binary_path_variable() {
        let m = manifest(&section());
        let host = Host {
            os: "linux",
            arch: "aarch64",
            libc: Some(Libc::Gnu),
            ..Host::default()
        };
        let err = choose(&m, host).unwrap_err().to_string();
        assert!(
            err.contains("x86_64-pc-windows-msvc, x86_64-unknown-linux-musl"),
            "{err}"
        );
        assert!(err.contains("HELLO_TOOL_BINARY_PATH"), "{err}");
    }

    #[test]
    fn picks_the_first_offered_candidate() {
        let m = manifest(&section());
        let c = Candidates::for_host(glibc_host(Some((2, 36))));
        assert_eq!(
            choose_target(&m, &c, None).unwrap(),
            "x86_64-unknown-linux-musl"
        );
        assert!(choose_target(&m, &c, Some("aarch64-apple-darwin")).is_err());
    }

    #[test]
    fn value_errors_name_the_field() {
        let cases = [
            (
                r#"{"url":"https://h/a","targets":{"t":{"sha256":"nothex"}}}"#,
                "postbin.targets.t.sha256",
            ),
            (
                r#"{"url":"https://h/a","format":"rar","targets":{"t":{"sha256":"HASH"}}}"#,
                "postbin.format",
            ),
            (
                r#"{"url":"https://h/{verison}","targets":{"t":{"sha256":"HASH"}}}"#,
                "postbin.url",
            ),
            (
                r#"{"url":"not a url","targets":{"t":{"sha256":"HASH"}}}"#,
                "postbin.url",
            ),
            (r#"{"targets":{"t":{"sha256":"HASH"}}}"#, "postbin.url"),
            (
                r#"{"url":"file:///srv/{target}","targets":{"t":{"sha256":"HASH"}}}"#,
                "postbin.url",
            ),
            (
                r#"{"url":"https://h/a","targets":{"t":{"sha256":"HASH","url":"FILE:///x"}}}"#,
                "postbin.targets.t.url",
            ),
            (
                r#"{"url":"https://h/a","checksums":"file:///sums","targets":{"t":{}}}"#,
                "postbin.checksums",
            ),
            (
                r#"{"url":"https://h/a","bin":{"other":"x"},"targets":{"t":{"sha256":"HASH"}}}"#,
                "postbin.bin",
            ),
            (
                r#"{"url":"https://h/a","bin":{"hello":"../x"},"targets":{"t":{"sha256":"HASH"}}}"#,
                "postbin.bin.hello",
            ),
        ];
        for (section, field) in cases {
            let m = manifest(&section.replace("HASH", HASH));
            let err = resolve(&m, &settings(&[]), "t").unwrap_err().to_string();
            assert!(err.contains(&format!("`{field}`")), "{section}: {err}");
        }
    }

    #[test]
    fn missing_hash_is_refused_unless_a_checksums_file_is_declared() {
        let m = manifest(r#"{"url":"https://h/a","targets":{"t":{}}}"#);
        let err = resolve(&m, &settings(&[]), "t").unwrap_err();
        assert!(matches!(err, Error::MissingHash { .. }));
        assert!(err.to_string().contains("postbin pin"));
        let m = manifest(
            r#"{"url":"https://h/a","checksums":"https://h/SHA256SUMS","targets":{"t":{}}}"#,
        );
        let plan = resolve(&m, &settings(&[]), "t").unwrap();
        assert!(matches!(plan.integrity, Integrity::ChecksumsFile(_)));
    }
}
