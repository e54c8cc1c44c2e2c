//! The `postbin` section `init --from` writes from the settled picks: one
//! url template (and format, and bin map) shared by most targets, with
//! per-target overrides only where a target's names break it, each
//! template checked by rendering it exactly as install will.

use super::report::Pick;
use crate::manifest::unscoped;
use crate::plan::Format;
use crate::platform;
use crate::release::Release;
use crate::template;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The section: one url template (and format, and bin map) for most
/// targets, overrides where a target breaks it.
pub(super) fn section(
    release: &Release,
    picks: &[Pick<'_>],
    version: &str,
    own_version: Option<&String>,
    root: &Value,
) -> Map<String, Value> {
    let r = Renderer {
        version,
        name: unscoped(root["name"].as_str().unwrap_or_default()).to_string(),
    };
    let urls: Vec<String> = picks.iter().map(|p| url_template(p, version)).collect();
    let bin_maps: Vec<BTreeMap<String, String>> = picks
        .iter()
        .map(|p| {
            p.bins
                .iter()
                .map(|(c, path)| (c.clone(), path_template(path, p, version)))
                .collect()
        })
        .collect();
    let shared = Shared {
        url: most(picks, &urls, |t, p| r.renders(t, p, "", &p.asset.url)),
        format: most(
            picks,
            &picks.iter().map(|p| p.format).collect::<Vec<_>>(),
            |f, p| *f == p.format,
        ),
        bin: shared_bin(&r, picks, &bin_maps),
    };
    let mut section = Map::new();
    section.insert("url".into(), Value::String(shared.url.clone()));
    if shared.format != Format::TarGz {
        section.insert("format".into(), shared.format.as_str().into());
    }
    if let Some(v) = own_version {
        section.insert("version".into(), v.clone().into());
    }
    if !shared.bin.is_empty() {
        section.insert("bin".into(), string_map(&shared.bin));
    }
    let mut targets = Map::new();
    for (i, p) in picks.iter().enumerate() {
        let entry = target_entry(&r, &shared, p, &urls[i], &bin_maps[i], release);
        targets.insert(p.target.clone(), Value::Object(entry));
    }
    section.insert("targets".into(), Value::Object(targets));
    section
}

/// What the section states once for most targets.
struct Shared {
    url: String,
    format: Format,
    bin: BTreeMap<String, String>,
}

/// Renders templates for a pick exactly as install will.
struct Renderer<'a> {
    version: &'a str,
    /// The unscoped package name (`{name}` in a url).
    name: String,
}

impl Renderer<'_> {
    /// Whether `template` renders to `want` for `p` (`command` is `{name}`
    /// in a bin path; empty in a url).
    fn renders(&self, template: &str, p: &Pick<'_>, command: &str, want: &str) -> bool {
        let name = if command.is_empty() {
            &self.name
        } else {
            command
        };
        let vars = crate::plan::template_vars(self.version, &p.target, p.format.as_str(), name);
        template::render(template, &vars).is_ok_and(|r| r == want)
    }

    /// Whether `map` (command → path template; absent: `{name}{exe}`) finds
    /// every executable of `p`.
    fn bins_fit(&self, map: &BTreeMap<String, String>, p: &Pick<'_>) -> bool {
        p.format == Format::Raw
            || p.bins.iter().all(|(c, path)| {
                let t = map.get(c).map_or("{name}{exe}", String::as_str);
                self.renders(t, p, c, path)
            })
    }
}

/// The bin map most targets share; none (each command at the top,
/// `{name}{exe}`) when that fits at least as many.
fn shared_bin(
    r: &Renderer<'_>,
    picks: &[Pick<'_>],
    bin_maps: &[BTreeMap<String, String>],
) -> BTreeMap<String, String> {
    let bin = most(picks, bin_maps, |m, p| r.bins_fit(m, p));
    let default_fits = picks
        .iter()
        .filter(|p| r.bins_fit(&BTreeMap::new(), p))
        .count();
    let bin_fits = picks.iter().filter(|p| r.bins_fit(&bin, p)).count();
    if default_fits >= bin_fits {
        BTreeMap::new()
    } else {
        bin
    }
}

/// One target's entry: only what differs from the shared fields, then its
/// pins.
fn target_entry(
    r: &Renderer<'_>,
    shared: &Shared,
    p: &Pick<'_>,
    url: &str,
    bin_map: &BTreeMap<String, String>,
    release: &Release,
) -> Map<String, Value> {
    let mut entry = Map::new();
    if !r.renders(&shared.url, p, "", &p.asset.url) {
        entry.insert("url".into(), url.into());
    }
    if p.format != shared.format {
        entry.insert("format".into(), p.format.as_str().into());
    }
    if !r.bins_fit(&shared.bin, p) {
        entry.insert("bin".into(), string_map(bin_map));
    }
    entry.insert("sha256".into(), p.sha256.hex().into());
    if let Some(size) = p.size {
        entry.insert("size".into(), size.into());
    }
    if let Some(glibc) = &release.glibc
        && platform::is_gnu_linux(&p.target)
    {
        entry.insert("glibc".into(), glibc.clone().into());
    }
    entry
}

/// The candidate (one per pick) that fits the most picks; the first on ties.
fn most<T: Clone>(picks: &[Pick<'_>], candidates: &[T], fits: impl Fn(&T, &Pick<'_>) -> bool) -> T {
    let score = |c: &T| picks.iter().filter(|p| fits(c, p)).count();
    let mut best = &candidates[0];
    for c in candidates {
        if score(c) > score(best) {
            best = c;
        }
    }
    best.clone()
}

fn string_map(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect(),
    )
}

/// A pick's URL as a template: its target (or goreleaser's `{os}_{arch}`,
/// or its default name's `{Os}_{Arch}`), version and format made variables.
fn url_template(p: &Pick<'_>, version: &str) -> String {
    let url = &p.asset.url;
    let (dir, file) = url.rsplit_once('/').unwrap_or(("", url));
    let mut file = escape(file);
    if p.format != Format::Raw
        && let Some(stem) = file.strip_suffix(&format!(".{}", p.format.as_str()))
    {
        file = format!("{stem}.{{format}}");
    }
    let (os, arch) = platform::go_os_arch(&p.target);
    let (title_os, goreleaser_arch) = platform::goreleaser_os_arch(&p.target);
    if file.contains(p.target.as_str()) {
        file = file.replace(p.target.as_str(), "{target}");
    } else if file.contains(&format!("{os}_{arch}")) {
        file = file.replace(&format!("{os}_{arch}"), "{os}_{arch}");
    } else {
        file = file.replace(&format!("{title_os}_{goreleaser_arch}"), "{Os}_{Arch}");
    }
    if p.format == Format::Raw && platform::is_windows(&p.target) && file.ends_with(".exe") {
        file = format!("{}{{exe}}", &file[..file.len() - 4]);
    }
    // The version is looked for in the path only, never in the host.
    let path_at = dir.find("://").map_or(0, |i| {
        dir[i + 3..].find('/').map_or(dir.len(), |j| i + 3 + j)
    });
    let (host, path) = dir.split_at(path_at);
    format!(
        "{}{}/{}",
        escape(host),
        versioned(&escape(path), version),
        versioned(&file, version)
    )
}

/// A path inside the archive as a template.
fn path_template(path: &str, p: &Pick<'_>, version: &str) -> String {
    let mut t = escape(path).replace(p.target.as_str(), "{target}");
    if platform::is_windows(&p.target) && t.ends_with(".exe") {
        t = format!("{}{{exe}}", &t[..t.len() - 4]);
    }
    versioned(&t, version)
}

fn versioned(text: &str, version: &str) -> String {
    if version.is_empty() {
        return text.to_string();
    }
    text.replace(version, "{version}")
}

fn escape(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}
