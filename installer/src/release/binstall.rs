//! `init --from Cargo.toml`: the URL templates the Rust ecosystem already
//! writes for cargo-binstall (`[package.metadata.binstall]` `pkg-url`,
//! `bin-dir`, `pkg-fmt`, and `overrides` by target or by `cfg(...)`), made
//! into a `Release`. binstall's templates are rendered for every target
//! postbin installs; an archive that exists at the rendered URL (a HEAD
//! request, through the mirrors, or a file) is an asset for that target,
//! and `bin-dir` says where each command is inside it.
//!
//! A crate without a `pkg-url` leaves binstall to guess names from the
//! release; postbin asks for the release instead (`--from owner/repo@tag`
//! reads its real asset list), rather than guess.

use super::toml_lite::{self, Value};
use super::{Asset, Error, Release};
use crate::net::{Client, Request};
use crate::plan::Format;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Clone, Debug, Default, PartialEq)]
struct Fields {
    pkg_url: Option<String>,
    bin_dir: Option<String>,
    pkg_fmt: Option<String>,
}

impl Fields {
    fn set(&mut self, key: &str, value: &str) {
        let slot = match key {
            "pkg-url" => &mut self.pkg_url,
            "bin-dir" => &mut self.bin_dir,
            "pkg-fmt" => &mut self.pkg_fmt,
            _ => return,
        };
        *slot = Some(value.to_string());
    }

    /// `over` on top of these.
    fn with(&self, over: &Fields) -> Fields {
        Fields {
            pkg_url: over.pkg_url.clone().or(self.pkg_url.clone()),
            bin_dir: over.bin_dir.clone().or(self.bin_dir.clone()),
            pkg_fmt: over.pkg_fmt.clone().or(self.pkg_fmt.clone()),
        }
    }
}

/// What a Cargo.toml says, as far as binstall goes.
#[derive(Debug, Default, PartialEq)]
struct Crate {
    name: String,
    version: Option<String>,
    repository: Option<String>,
    bins: Vec<String>,
    base: Fields,
    /// By target triple or `cfg(...)` expression, in the file's order.
    overrides: Vec<(String, Fields)>,
}

pub fn is_cargo_toml(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "Cargo.toml")
}

fn parse(text: &str) -> Result<Crate, String> {
    let mut krate = Crate::default();
    let mut overrides: Vec<(String, Fields)> = Vec::new();
    let binstall = ["package", "metadata", "binstall"];
    for e in toml_lite::parse(text)? {
        let table: Vec<&str> = e.table.iter().map(String::as_str).collect();
        let key: Vec<&str> = e.key.iter().map(String::as_str).collect();
        // Dotted keys put a value into a deeper table.
        let full: Vec<&str> = table.iter().chain(&key[..key.len() - 1]).copied().collect();
        let last = key[key.len() - 1];
        match (&full[..], &e.value) {
            (["package"], Value::Str(v)) => match last {
                "name" => krate.name = v.clone(),
                "version" => krate.version = Some(v.clone()),
                "repository" => krate.repository = Some(v.clone()),
                _ => {}
            },
            (["bin", _], Value::Str(v)) if last == "name" => krate.bins.push(v.clone()),
            (f, Value::Str(v)) if f == binstall => krate.base.set(last, v),
            (f, Value::Table(fields))
                if f.len() == 4 && f[..3] == binstall && f[3] == "overrides" =>
            {
                let i = override_of(&mut overrides, last);
                for (k, v) in fields {
                    overrides[i].1.set(k, v);
                }
            }
            (f, Value::Str(v)) if f.len() == 5 && f[..3] == binstall && f[3] == "overrides" => {
                let i = override_of(&mut overrides, f[4]);
                overrides[i].1.set(last, v);
            }
            _ => {}
        }
    }
    krate.overrides = overrides;
    Ok(krate)
}

/// The index of `key`'s override, added when new.
fn override_of(overrides: &mut Vec<(String, Fields)>, key: &str) -> usize {
    match overrides.iter().position(|(k, _)| k == key) {
        Some(i) => i,
        None => {
            overrides.push((key.to_string(), Fields::default()));
            overrides.len() - 1
        }
    }
}

impl Crate {
    /// The fields for `target`: the crate's, then every matching `cfg(...)`
    /// override in order, then the target's own (exact names win).
    fn fields_for(&self, target: &str) -> Result<Fields, String> {
        let mut fields = self.base.clone();
        for (key, over) in &self.overrides {
            if key.starts_with("cfg(") && cfg_matches(key, target)? {
                fields = fields.with(over);
            }
        }
        if let Some((_, over)) = self.overrides.iter().find(|(k, _)| k == target) {
            fields = fields.with(over);
        }
        Ok(fields)
    }
}

/// The parts of a triple binstall's templates and `cfg` name.
struct Parts<'a> {
    arch: &'a str,
    vendor: &'a str,
    /// rustc's `target_os`: `linux`, `macos`, `windows`, `freebsd`.
    os: &'static str,
    env: &'a str,
}

fn parts(target: &str) -> Parts<'_> {
    let pieces: Vec<&str> = target.split('-').collect();
    Parts {
        arch: pieces[0],
        vendor: pieces.get(1).copied().unwrap_or("unknown"),
        os: crate::platform::target_os(target),
        env: pieces.get(3).copied().unwrap_or(""),
    }
}

/// Whether a Cargo-style `cfg(...)` holds for `target`: `unix`, `windows`,
/// `key = "value"` (`target_os`, `target_arch`, `target_env`,
/// `target_vendor`, `target_family`), `all(..)`, `any(..)`, `not(..)`.
fn cfg_matches(expr: &str, target: &str) -> Result<bool, String> {
    let inner = expr
        .strip_prefix("cfg(")
        .and_then(|e| e.strip_suffix(')'))
        .ok_or_else(|| format!("`{expr}` is no cfg(...) expression"))?;
    let (value, rest) = cfg_expr(inner.trim(), target)?;
    if !rest.trim().is_empty() {
        return Err(format!("`{expr}`: unexpected `{}`", rest.trim()));
    }
    Ok(value)
}

fn cfg_expr<'e>(e: &'e str, target: &str) -> Result<(bool, &'e str), String> {
    let p = parts(target);
    let family = if p.os == "windows" { "windows" } else { "unix" };
    let arch = match p.arch {
        "i686" | "i586" => "x86",
        a if a.starts_with("armv7") => "arm",
        "universal2" => "universal",
        a => a,
    };
    let word_end = e
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(e.len());
    let (word, rest) = e.split_at(word_end);
    let rest = rest.trim_start();
    if matches!(word, "all" | "any" | "not") {
        let mut rest = rest
            .strip_prefix('(')
            .ok_or_else(|| format!("`{word}` without `(`"))?;
        let mut values = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix(')') {
                rest = r;
                break;
            }
            let (v, r) = cfg_expr(rest, target)?;
            values.push(v);
            rest = r.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
        let value = match word {
            "all" => values.iter().all(|v| *v),
            "any" => values.iter().any(|v| *v),
            _ => !values.first().copied().unwrap_or(false),
        };
        return Ok((value, rest));
    }
    if let Some(r) = rest.strip_prefix('=') {
        let r = r
            .trim_start()
            .strip_prefix('"')
            .ok_or("expected a quoted value")?;
        let end = r.find('"').ok_or("unterminated value")?;
        let want = &r[..end];
        let have = match word {
            "target_os" => p.os,
            "target_arch" => arch,
            "target_env" => p.env.trim_end_matches("eabihf"),
            "target_vendor" => p.vendor,
            "target_family" => family,
            other => return Err(format!("unknown cfg key `{other}`")),
        };
        return Ok((have == want, &r[end + 1..]));
    }
    match word {
        "unix" | "windows" => Ok((family == word, rest)),
        other => Err(format!("unknown cfg predicate `{other}`")),
    }
}

/// binstall's `{ var }` templates: spaces inside the braces allowed, `\{`,
/// `\}` and `\\` literal.
fn render(template: &str, vars: &[(&str, &str)]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '{' => {
                let mut name = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    name.push(c);
                }
                let name = name.trim();
                let value = vars
                    .iter()
                    .find(|(k, _)| *k == name)
                    .ok_or_else(|| format!("unknown variable `{{ {name} }}` in `{template}`"))?;
                out.push_str(value.1);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The file name endings binstall tries for a `pkg-fmt`, best first, and
/// postbin's format for them; `None` for a format postbin does not unpack.
fn suffixes(pkg_fmt: &str, windows: bool) -> Option<(Format, &'static [&'static str])> {
    Some(match pkg_fmt {
        "tgz" => (Format::TarGz, &[".tgz", ".tar.gz"]),
        "txz" => (Format::TarXz, &[".txz", ".tar.xz"]),
        "tzstd" => (Format::TarZst, &[".tzstd", ".tzst", ".tar.zst"]),
        "zip" => (Format::Zip, &[".zip"]),
        "bin" if windows => (Format::Raw, &[".bin", "", ".exe"]),
        "bin" => (Format::Raw, &[".bin", ""]),
        _ => return None,
    })
}

/// Reads `path` (a Cargo.toml) into a release: one asset per target whose
/// rendered `pkg-url` exists.
pub fn read(
    client: &Client<'_>,
    path: &Path,
    package: &serde_json::Value,
) -> Result<Release, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Release(format!("cannot read {}: {e}", path.display())))?;
    let krate = parse(&text).map_err(|e| Error::Release(format!("{}: {e}", path.display())))?;
    let has_url =
        krate.base.pkg_url.is_some() || krate.overrides.iter().any(|(_, f)| f.pkg_url.is_some());
    if !has_url {
        return Err(Error::Release(format!(
            "{} has no [package.metadata.binstall] pkg-url: cargo-binstall would guess the archive \
             names. Give the release itself instead, so postbin reads its real asset list: \
             `postbin init --from owner/repo@tag`",
            path.display()
        )));
    }
    let name = if krate.name.is_empty() {
        package["name"].as_str().unwrap_or_default().to_string()
    } else {
        krate.name.clone()
    };
    let version = krate
        .version
        .clone()
        .or_else(|| package["version"].as_str().map(str::to_string))
        .ok_or_else(|| {
            Error::Release(format!(
                "{} says no version (`version.workspace`?), nor does package.json",
                path.display()
            ))
        })?;
    let repo = krate
        .repository
        .clone()
        .or_else(|| package["repository"].as_str().map(str::to_string))
        .or_else(|| package["repository"]["url"].as_str().map(str::to_string))
        .map(|r| {
            r.trim_start_matches("git+")
                .trim_end_matches('/')
                .trim_end_matches(".git")
                .to_string()
        })
        .unwrap_or_default();
    let bins = if krate.bins.is_empty() {
        vec![name.clone()]
    } else {
        krate.bins.clone()
    };
    // Every triple some host can run (the platform module's tables), and
    // any an override names.
    let mut targets = crate::platform::known_triples();
    for (key, _) in &krate.overrides {
        if !key.starts_with("cfg(") && crate::names::is_target_name(key) && !targets.contains(key) {
            targets.push(key.clone());
        }
    }
    let mut release = Release {
        origin: format!(
            "{} [package.metadata.binstall] of {name} {version}",
            path.display()
        ),
        version: Some(version.clone()),
        ..Release::default()
    };
    let mut tried = Vec::new();
    for target in &targets {
        let fields = krate
            .fields_for(target)
            .map_err(|e| Error::Release(format!("{}: {e}", path.display())))?;
        let Some(pkg_url) = &fields.pkg_url else {
            continue;
        };
        let pkg_fmt = fields.pkg_fmt.as_deref().unwrap_or("tgz");
        let windows = crate::platform::is_windows(target);
        let Some((format, endings)) = suffixes(pkg_fmt, windows) else {
            release.skipped.push((
                target.clone(),
                format!("pkg-fmt `{pkg_fmt}`: a format postbin does not unpack"),
            ));
            continue;
        };
        let p = parts(target);
        let binary_ext = if windows { ".exe" } else { "" };
        let family = match p.os {
            "macos" => "darwin",
            os => os,
        };
        let arch = if p.arch == "universal2" {
            "universal"
        } else {
            p.arch
        };
        for ending in endings.iter() {
            let vars = [
                ("name", name.as_str()),
                ("version", version.as_str()),
                ("repo", repo.as_str()),
                ("target", target.as_str()),
                ("archive-suffix", ending),
                ("archive-format", ending.trim_start_matches('.')),
                ("format", ending.trim_start_matches('.')),
                ("binary-ext", binary_ext),
                ("target-family", family),
                ("os-name", p.os),
                ("target-arch", arch),
                (
                    "target-libc",
                    if p.env.is_empty() { "unknown" } else { p.env },
                ),
                ("target-vendor", p.vendor),
            ];
            let url = render(pkg_url, &vars)
                .map_err(|e| Error::Release(format!("{}: pkg-url: {e}", path.display())))?;
            if !exists(client, &url)? {
                tried.push(url);
                continue;
            }
            let mut commands = BTreeMap::new();
            if let Some(bin_dir) = &fields.bin_dir {
                for bin in &bins {
                    let mut v = vars.to_vec();
                    v.push(("bin", bin.as_str()));
                    // In bin-dir, `format` is binstall's old name of binary-ext.
                    if let Some(slot) = v.iter_mut().find(|(k, _)| *k == "format") {
                        slot.1 = binary_ext;
                    }
                    let inside = render(bin_dir, &v)
                        .map_err(|e| Error::Release(format!("{}: bin-dir: {e}", path.display())))?;
                    // binstall names the executable itself; postbin's paths end in it.
                    let inside = if inside.ends_with(&format!("{bin}{binary_ext}")) {
                        inside
                    } else {
                        format!("{}/{bin}{binary_ext}", inside.trim_end_matches('/'))
                    };
                    commands.insert(bin.clone(), inside.trim_start_matches("./").to_string());
                }
            }
            let file = url.rsplit('/').next().unwrap_or(&url).to_string();
            release.assets.push(Asset {
                name: file,
                url,
                targets: vec![target.clone()],
                format: Some(format),
                bins: commands,
                ..Asset::default()
            });
            break;
        }
    }
    if release.assets.is_empty() {
        let sample: Vec<&str> = tried.iter().take(3).map(String::as_str).collect();
        return Err(Error::Release(format!(
            "no archive exists where {}'s pkg-url points, for any of {} targets (tried {}, ...): \
             check pkg-url against the release's asset names, and that version {version} is released",
            path.display(),
            targets.len(),
            sample.join(", ")
        )));
    }
    Ok(release)
}

/// Whether `url` exists: a HEAD through the mirrors (a `file://` mirror:
/// the file). A 404 from every source is `false`; any other failure is
/// the error it is (offline, unreachable).
fn exists(client: &Client<'_>, url: &str) -> Result<bool, Error> {
    let sources = crate::plan::sources_for(url, client.settings())
        .map_err(|e| Error::Release(format!("{url}: {e}")))?;
    for source in &sources {
        if let Some(path) = source.url.to_file_path() {
            if path.is_file() {
                return Ok(true);
            }
            continue;
        }
        match client.request(Request::head(&source.url, source.explicit)) {
            Ok(_) => return Ok(true),
            Err(crate::net::Error::Status { status: 404, .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARGO_TOML: &str = r#"
[package]
name = "tool"
version = "1.2.3"
repository = "https://github.com/acme/tool"

[package.metadata.binstall]
pkg-url = "{ repo }/releases/download/v{ version }/{ name }-{ target }{ archive-suffix }"
bin-dir = "{ name }-{ target }/{ bin }{ binary-ext }"

[package.metadata.binstall.overrides.'cfg(target_os = "windows")']
pkg-fmt = "zip"

[package.metadata.binstall.overrides.x86_64-pc-windows-gnu]
pkg-fmt = "txz"
"#;

    #[test]
    fn overrides_apply_in_order_and_exact_targets_win() {
        let krate = parse(CARGO_TOML).unwrap();
        assert_eq!(krate.name, "tool");
        let linux = krate.fields_for("x86_64-unknown-linux-musl").unwrap();
        assert_eq!(linux.pkg_fmt, None);
        let msvc = krate.fields_for("x86_64-pc-windows-msvc").unwrap();
        assert_eq!(msvc.pkg_fmt.as_deref(), Some("zip"));
        let gnu = krate.fields_for("x86_64-pc-windows-gnu").unwrap();
        assert_eq!(gnu.pkg_fmt.as_deref(), Some("txz"));
        assert_eq!(gnu.pkg_url, krate.base.pkg_url);
    }

    #[test]
    fn cfg_expressions() {
        let t = "aarch64-unknown-linux-gnu";
        for (expr, want) in [
            ("cfg(unix)", true),
            ("cfg(windows)", false),
            (r#"cfg(target_os = "linux")"#, true),
            (
                r#"cfg(all(target_os = "linux", target_arch = "aarch64", target_env = "gnu"))"#,
                true,
            ),
            (
                r#"cfg(any(target_os = "windows", target_env = "musl"))"#,
                false,
            ),
            (r#"cfg(not(target_os = "windows"))"#, true),
            (r#"cfg(target_family = "unix")"#, true),
        ] {
            assert_eq!(cfg_matches(expr, t).unwrap(), want, "{expr}");
        }
        assert!(cfg_matches(r#"cfg(target_arch = "x86")"#, "i686-pc-windows-msvc").unwrap());
        assert!(cfg_matches("cfg(feature = \"x\")", t).is_err());
    }

    #[test]
    fn templates_take_spaces_and_escapes() {
        let vars = [("name", "tool"), ("target", "x")];
        assert_eq!(
            render("{ name }-{target}\\{x\\}", &vars).unwrap(),
            "tool-x{x}"
        );
        assert!(render("{ nmae }", &vars).unwrap_err().contains("nmae"));
    }

    #[test]
    fn formats_postbin_cannot_unpack_are_named() {
        assert!(suffixes("tbz2", false).is_none());
        assert_eq!(suffixes("bin", true).unwrap().1, &[".bin", "", ".exe"]);
    }
}
