//! `postbin doctor`: what postbin would do here, and why. The host's targets;
//! the package's plan (target, every URL in the order it would be tried and
//! the route to it, where the hash comes from); every setting in force with
//! where it came from; the cache state. With `--check`, one HEAD per source.
//!
//! Reads only: it creates no cache directory and installs nothing. It prints
//! no secret: URLs lose their credentials and the token is only "set".

use crate::cache::{Cache, LAYOUT};
use crate::error::{Error, exit, one_line};
use crate::hash::Sha256Hash;
use crate::link;
use crate::manifest::Manifest;
use crate::net::{Client, Request, proxy};
use crate::plan::{self, Integrity, Plan, Source};
use crate::platform;
use crate::settings::{Origin, Setting, Settings};
use crate::url::redact;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// `--package DIR`.
    pub package: Option<PathBuf>,
    /// `--check`: one HEAD request per source.
    pub check: bool,
}

/// Doctor's product is its text (`Report`), one fact per line. The exit
/// code: 0, or 5
/// when `--check` found a source that did not answer 2xx, or the code of the
/// error that stopped the package's plan (e.g. 4 for an unsupported
/// platform), or 3 when a setting has a value that cannot be used (each one
/// is listed as a `problem:`).
pub type Report = super::Lines;

pub fn run(options: &Options) -> Result<Report, Error> {
    let mut out = Report::default();
    let dir = super::package_dir(options.package.as_deref());
    // Without --package, a directory that is not a postbin package is fine:
    // doctor then reports the host and the settings only.
    let manifest = if options.package.is_some() || declares_postbin(&dir) {
        Some(Manifest::load(&dir)?)
    } else {
        None
    };
    let prefix = manifest.as_ref().map(plan::env_prefix);
    let scope = manifest
        .as_ref()
        .and_then(|m| crate::pipeline::scope(&m.name));
    let settings = Settings::load_for(
        prefix.as_deref(),
        scope,
        manifest.as_ref().map(|m| m.dir.as_path()),
    );

    out.line(format!("postbin {}", env!("CARGO_PKG_VERSION")));
    let candidates = platform::host_candidates();
    out.line(format!("host: {}", platform::host_description()));
    if let Some(line) = candidates.host.summary() {
        out.line(line.to_string());
    }
    out.line(format!(
        "host targets: {}",
        list_or(&candidates, "none known")
    ));
    if let Some(t) = &settings.target {
        out.line(format!("forced target: {} {}", t.value, from(&t.origin)));
    }

    let mut plan = None;
    out.line(String::new());
    match &manifest {
        None => out.line(format!(
            "package: none ({} has no package.json with a postbin section; pass --package DIR)",
            dir.display()
        )),
        Some(m) => match resolve(m, &settings, &candidates) {
            Ok(p) => {
                print_plan(&mut out, &p, &settings);
                plan = Some(p);
            }
            Err(e) => {
                out.line(format!("package: {} {}", m.name, m.version));
                out.line(format!("package dir: {}", dir.display()));
                out.line(format!("env prefix: {}", plan::env_prefix(m)));
                out.line(format!("problem: {}", one_line(&e)));
                out.code = e.exit_code();
            }
        },
    }

    out.line(String::new());
    print_settings(&mut out, &settings);
    // A setting that cannot be used stops install (exit 3); doctor names
    // each one and goes on to report the rest.
    for bad in &settings.invalid {
        out.line(format!("problem: {bad}"));
    }
    if !settings.invalid.is_empty() && out.code == exit::OK {
        out.code = exit::CONFIG;
    }
    print_cache(&mut out, &settings, plan.as_ref());

    if options.check
        && let Some(plan) = &plan
    {
        out.line(String::new());
        if !check(&mut out, &settings, plan) && out.code == exit::OK {
            out.code = exit::NETWORK;
        }
    }
    Ok(out)
}

/// True if `dir/package.json` exists and has a `postbin` key.
fn declares_postbin(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|v| v.get("postbin").is_some())
}

fn resolve(
    m: &Manifest,
    settings: &Settings,
    candidates: &platform::Candidates,
) -> Result<Plan, Error> {
    let forced = settings.target.as_ref().map(|s| s.value.as_str());
    let target = plan::choose_target(m, candidates, forced)?;
    Ok(plan::resolve(m, settings, &target)?)
}

fn print_plan(out: &mut Report, plan: &Plan, settings: &Settings) {
    out.line(format!("package: {} {}", plan.name, plan.version));
    out.line(format!("package dir: {}", plan.package_dir.display()));
    out.line(format!("env prefix: {}", plan.env_prefix));
    out.line(format!("target: {}", plan.target));
    out.line(format!("format: {}", plan.format.as_str()));
    out.line(format!("url: {}", redact(&plan.origin_url)));
    out.line("sources (tried in order):".to_string());
    print_sources(out, &plan.sources, settings);
    match &plan.integrity {
        Integrity::Pinned(sha) => out.line(format!("hash: pinned in package.json (sha256 {sha})")),
        Integrity::ChecksumsFile(sources) => {
            out.line("hash: not pinned; taken from the checksums file, served by the release host (weaker than a pinned hash):".to_string());
            print_sources(out, sources, settings);
        }
    }
    let bins: Vec<String> = plan
        .bins
        .iter()
        .map(|b| format!("{} = {}", b.name, b.archive_path))
        .collect();
    out.line(format!("executables: {}", bins.join(", ")));
    if let Some(path) = &settings.binary_path {
        out.line(format!(
            "binary override: {} {}: nothing is downloaded",
            path.value.display(),
            from(&path.origin)
        ));
    }
}

fn print_sources(out: &mut Report, sources: &[Source], settings: &Settings) {
    for (i, source) in sources.iter().enumerate() {
        out.line(format!(
            "  {}. {} ({})",
            i + 1,
            source.url,
            route(source, settings)
        ));
    }
}

/// How a source is reached: a local directory, directly, or via which proxy.
fn route(source: &Source, settings: &Settings) -> String {
    if let Some(wrapped) = &source.wrapped {
        let direct = Source::direct(source.url.clone(), source.explicit);
        let credentials = match &wrapped.credential {
            Some(c) => format!("credentials from {}", c.key),
            None => "no credentials".into(),
        };
        return format!("npm package, {}, {credentials}", route(&direct, settings));
    }
    if source.url.to_file_path().is_some() {
        return "local file".into();
    }
    match proxy::choose(&source.url, settings) {
        Some(p) => format!("via proxy {} {}", redact(&p.url), from(&p.origin)),
        None => "direct".into(),
    }
}

fn print_settings(out: &mut Report, s: &Settings) {
    out.line("settings:".to_string());
    match &s.mirrors {
        Some(m) => {
            let list: Vec<String> = m.value.iter().map(|u| redact(u)).collect();
            out.line(format!("mirror: {} {}", list.join(", "), from(&m.origin)));
        }
        None => out.line("mirror: none (the publisher's URL)".to_string()),
    }
    let url = |s: &Option<Setting<String>>| {
        s.as_ref()
            .map(|p| format!("{} {}", redact(&p.value), from(&p.origin)))
            .unwrap_or_else(|| "none".into())
    };
    out.line(format!(
        "npm registry: {} {}{}",
        s.registry.url.value,
        from(&s.registry.url.origin),
        if s.registry_first.value {
            ", tried first"
        } else {
            ""
        }
    ));
    out.line(format!("https proxy: {}", url(&s.https_proxy)));
    out.line(format!("http proxy: {}", url(&s.http_proxy)));
    out.line(format!("no proxy: {}", url(&s.no_proxy)));
    if s.ca_files.is_empty() {
        out.line("ca file: none".to_string());
    }
    for file in &s.ca_files {
        let state = if file.value.is_file() {
            ""
        } else {
            " (missing!)"
        };
        out.line(format!(
            "ca file: {}{state} {}",
            file.value.display(),
            from(&file.origin)
        ));
    }
    match &s.ca_inline {
        Some(ca) => out.line(format!("ca inline: set {}", from(&ca.origin))),
        None => out.line("ca inline: none".to_string()),
    }
    out.line(format!(
        "strict-ssl: {} {}",
        s.strict_ssl.value,
        from(&s.strict_ssl.origin)
    ));
    out.line(format!(
        "offline: {} {}",
        s.offline.value,
        from(&s.offline.origin)
    ));
    match &s.github_token {
        Some(t) => out.line(format!(
            "github token: set {} (sent only over HTTPS to {})",
            from(&t.origin),
            s.github_hosts.join(", ")
        )),
        None => out.line("github token: not set".to_string()),
    }
    out.line(format!(
        "network: {} retries, connect timeout {}s, stall timeout {}s",
        s.retries,
        s.connect_timeout.as_secs_f32(),
        s.stall_timeout.as_secs_f32()
    ));
    out.line(format!(
        "cache dir: {} {}",
        s.cache_dir.value.display(),
        from(&s.cache_dir.origin)
    ));
}

/// The cache state, read only: nothing is created when the cache is absent.
fn print_cache(out: &mut Report, settings: &Settings, plan: Option<&Plan>) {
    let dir = &settings.cache_dir.value;
    if !dir.join(LAYOUT).is_dir() {
        out.line("cache: empty (not created yet)".to_string());
        return;
    }
    let Some(plan) = plan else {
        out.line("cache: present".to_string());
        return;
    };
    let sha: Option<Sha256Hash> = match &plan.integrity {
        Integrity::Pinned(sha) => Some(*sha),
        Integrity::ChecksumsFile(_) => link::read_receipt(&plan.package_dir).map(|r| r.archive),
    };
    let Some(sha) = sha else {
        out.line(
            "cache: the archive's hash is not known until the checksums file is read".to_string(),
        );
        return;
    };
    let Ok(cache) = Cache::open(dir) else {
        out.line("cache: cannot be opened".to_string());
        return;
    };
    let archive = cache.archive_path(&sha);
    out.line(format!(
        "cache archive: {} ({})",
        if archive.is_file() {
            "cached"
        } else {
            "not cached"
        },
        archive.display()
    ));
    out.line(format!(
        "cache tree: {}",
        if cache.tree(&sha).is_some() {
            "unpacked"
        } else {
            "not unpacked"
        }
    ));
    out.line(format!(
        "installed in the package: {}",
        if link::is_current(plan, &sha) {
            "yes"
        } else {
            "no"
        }
    ));
}

/// One HEAD per source (and per checksums-file source); true if every one
/// answered 2xx (a `file://` source: the file exists).
fn check(out: &mut Report, settings: &Settings, plan: &Plan) -> bool {
    let client = Client::new(settings);
    let mut sources: Vec<&Source> = plan.sources.iter().collect();
    if let Integrity::ChecksumsFile(more) = &plan.integrity {
        sources.extend(more);
    }
    out.line("check:".to_string());
    let mut ok = 0;
    // Each piece of advice once, after the lines (two mirrors failing alike
    // need one hint).
    let mut advice: Vec<String> = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let url = &source.url;
        let started = Instant::now();
        let outcome = match source.url.to_file_path() {
            Some(path) => match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => Ok(format!("present ({} bytes)", m.len())),
                _ => Err(format!("missing: {}", path.display())),
            },
            None => match client.request(Request::head(&source.url, source.explicit)) {
                Ok(r) => Ok(format!("HTTP {}", r.status)),
                Err(e) => {
                    if let Some(text) = e.advice()
                        && !advice.contains(&text)
                    {
                        advice.push(text);
                    }
                    let mut line = e.fact();
                    if let Some(cause) = std::error::Error::source(&e) {
                        line.push_str(": ");
                        line.push_str(&one_line(cause));
                    }
                    Err(line)
                }
            },
        };
        let ms = started.elapsed().as_millis();
        match outcome {
            Ok(what) => {
                ok += 1;
                out.line(format!("  {}. {url}: ok, {what} in {ms} ms", i + 1));
            }
            Err(why) => out.line(format!("  {}. {url}: FAILED in {ms} ms: {why}", i + 1)),
        }
    }
    for text in advice {
        out.line(format!("  hint: {text}"));
    }
    let all = ok == sources.len();
    out.line(format!(
        "check: {}",
        if all {
            "every source answered".to_string()
        } else {
            format!("{} of {} sources failed", sources.len() - ok, sources.len())
        }
    ));
    all
}

/// `(from env X)`, `(from /p/.npmrc)`, `(default)`.
fn from(origin: &Origin) -> String {
    match origin {
        Origin::Default => "(default)".into(),
        other => format!("(from {other})"),
    }
}

fn list_or(items: &[String], none: &str) -> String {
    if items.is_empty() {
        none.to_string()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(env: &[(&str, &str)], rc: &[(&str, &str)]) -> Settings {
        crate::settings::tests::resolve(env, rc, None)
    }

    #[test]
    fn origins_read_naturally() {
        assert_eq!(from(&Origin::Default), "(default)");
        assert_eq!(from(&Origin::Env("GH_TOKEN".into())), "(from env GH_TOKEN)");
        assert_eq!(from(&Origin::Npmrc("/p/.npmrc".into())), "(from /p/.npmrc)");
    }

    #[test]
    fn routes_name_the_redacted_proxy_or_say_direct() {
        let s = settings(
            &[("HTTPS_PROXY", "http://u:secret@proxy.corp:3128")],
            &[("noproxy", "internal.corp")],
        );
        let src = |url: &str| Source::direct(crate::url::Url::parse(url).unwrap(), false);
        let via = route(&src("https://github.com/a"), &s);
        assert_eq!(
            via,
            "via proxy http://***@proxy.corp:3128 (from env HTTPS_PROXY)"
        );
        assert_eq!(route(&src("https://m.internal.corp/a"), &s), "direct");
        assert_eq!(route(&src("file:///srv/m/a"), &s), "local file");
    }
}
