//! The consumer's configuration: environment variables and `.npmrc` keys,
//! resolved once, each value remembering where it came from (for `doctor` and
//! for error messages that say which setting to change).
//!
//! Precedence, highest first: package-specific env (`<PREFIX>_*`), generic env
//! (`POSTBIN_*`, `HTTPS_PROXY`...), `npm_config_*` env, `.npmrc` files.

mod limits;
pub mod registry;

use crate::env_vars as ev;
use crate::npmrc::Npmrc;
use limits::Limits;
pub use limits::parse_size;
use registry::Registry;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a setting came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    Env(String),
    Npmrc(PathBuf),
    Flag(&'static str),
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::Npmrc(path) => write!(f, "{}", path.display()),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
            Origin::Default => f.write_str("default"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    fn new(value: T, origin: Origin) -> Self {
        Self { value, origin }
    }
}

/// A secret that never prints.
#[derive(Clone, PartialEq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A setting whose value cannot be used. Nothing falls back to a default
/// behind the user's back: every command that reads settings stops with
/// exit 3 naming the first one (`Settings::check`), and `doctor` lists them
/// all. The bad setting's own value is left at its default meanwhile, so
/// `doctor` can go on and report the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    /// The variable, or the `.npmrc` key.
    pub name: String,
    pub origin: Origin,
    /// The value as set (credentials in URLs redacted).
    pub value: String,
    /// What is wrong and what is expected.
    pub problem: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Invalid {
            name,
            origin,
            value,
            problem,
        } = self;
        match origin {
            Origin::Npmrc(file) => write!(f, "`{name}` in {}", file.display())?,
            Origin::Flag(flag) => write!(f, "{flag}")?,
            Origin::Env(_) | Origin::Default => write!(f, "{name}")?,
        }
        write!(f, " is `{value}`: {problem}; fix it or unset it")
    }
}

impl std::error::Error for Invalid {}

#[derive(Clone, Debug)]
pub struct Settings {
    pub mirrors: Option<Setting<Vec<String>>>,
    pub binary_path: Option<Setting<PathBuf>>,
    pub cache_dir: Setting<PathBuf>,
    pub offline: Setting<bool>,
    pub target: Option<Setting<String>>,
    /// The machine an install script installs for, when npm was asked for
    /// another (`--os`, `--cpu`, `--libc`); empty otherwise.
    pub requested_platform: crate::platform::Requested,
    pub https_proxy: Option<Setting<String>>,
    pub http_proxy: Option<Setting<String>>,
    pub no_proxy: Option<Setting<String>>,
    /// PEM files with extra CA certificates, all of them used.
    pub ca_files: Vec<Setting<PathBuf>>,
    /// Inline PEM from `.npmrc` `ca=`.
    pub ca_inline: Option<Setting<String>>,
    pub strict_ssl: Setting<bool>,
    pub github_token: Option<Setting<Secret>>,
    /// Hosts that count as GitHub for the token (github.com, api.github.com).
    pub github_hosts: Vec<String>,
    /// Test-only: proxy loopback URLs too (`POSTBIN_TEST_PROXY_LOOPBACK`).
    pub proxy_loopback: bool,
    /// The npm registry for the package's scope, with its credentials.
    pub registry: Registry,
    /// `POSTBIN_SOURCE=npm`: the registry before the release URL and mirrors.
    pub registry_first: Setting<bool>,
    /// npm's cache directory, whose content store may hold wrapper packages.
    pub npm_cache: Option<PathBuf>,
    pub retries: u32,
    pub stall_timeout: Duration,
    pub connect_timeout: Duration,
    pub max_unpacked_size: u64,
    /// Cap on an archive's download when its size is not pinned.
    pub max_download_size: u64,
    /// Settings that were set to a value that cannot be used, in the order
    /// read; empty when all is well (see `check`).
    pub invalid: Vec<Invalid>,
}

/// Reads variables; tests pass a map instead of the process environment.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub fn process_env(name: &str) -> Option<String> {
    ev::get(name)
}

impl Settings {
    /// Resolves everything from the process environment and `.npmrc` files.
    /// `prefix` is the package's env prefix (e.g. `HELLO_TOOL`), if known.
    pub fn load(prefix: Option<&str>) -> Self {
        Self::load_for(prefix, None, None)
    }

    /// `load` for one package: its npm scope (`@acme`) picks its registry,
    /// and the project it is installed in has a `.npmrc` of its own.
    pub fn load_for(prefix: Option<&str>, scope: Option<&str>, package_dir: Option<&Path>) -> Self {
        let project = package_dir.and_then(crate::npmrc::project_of);
        let npmrc = Npmrc::load_for(project.as_deref());
        Self::resolve_for(&process_env, &npmrc, prefix, scope)
    }

    pub fn resolve(env: EnvLookup<'_>, npmrc: &Npmrc, prefix: Option<&str>) -> Self {
        Self::resolve_for(env, npmrc, prefix, None)
    }

    fn resolve_for(
        env: EnvLookup<'_>,
        npmrc: &Npmrc,
        prefix: Option<&str>,
        scope: Option<&str>,
    ) -> Self {
        let look = Lookup { env, npmrc };
        let mut invalid = Vec::new();
        let mirrors = mirrors(&look, prefix, &mut invalid);
        let binary_path = binary_path(&look, prefix, &mut invalid);
        let cache_dir = look
            .first(&[ev::POSTBIN_CACHE_DIR.into()], Some("postbin-cache-dir"))
            .map(|s| Setting::new(PathBuf::from(s.value), s.origin))
            .unwrap_or_else(|| Setting::new(default_cache_dir(), Origin::Default));
        let offline = look
            .first(&[ev::POSTBIN_OFFLINE.into()], Some("offline"))
            .map(|s| Setting::new(ev::is_truthy(&s.value), s.origin))
            .unwrap_or_else(|| Setting::new(false, Origin::Default));
        let target = look.first(&[ev::POSTBIN_TARGET.into()], None);
        let requested_platform = requested_platform(env);
        let (https_proxy, http_proxy, no_proxy) = proxies(&look);
        let (ca_files, ca_inline) = certificates(&look);
        let strict_ssl = look
            .first(&[], Some("strict-ssl"))
            .map(|s| Setting::new(!is_false(&s.value), s.origin))
            .unwrap_or_else(|| Setting::new(true, Origin::Default));
        let github_token = look
            .first(&[ev::GITHUB_TOKEN.into(), ev::GH_TOKEN.into()], None)
            .map(|s| Setting::new(Secret(s.value), s.origin));
        let github_hosts = match (env)(ev::POSTBIN_TEST_GITHUB_HOSTS) {
            Some(list) => split_list(&list),
            None => vec!["github.com".into(), "api.github.com".into()],
        };
        let limits = Limits::resolve(env, &mut invalid);
        let npm_key = |key: &str| look.first(&[], Some(key));
        let registry = registry::resolve(&npm_key, scope, &mut invalid);
        let registry_first = source_order(&look, &mut invalid);
        let home = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
        let npm_cache = registry::npm_cache_dir(&npm_key, cfg!(windows), home);
        Settings {
            mirrors,
            binary_path,
            cache_dir,
            offline,
            target,
            requested_platform,
            https_proxy,
            http_proxy,
            no_proxy,
            ca_files,
            ca_inline,
            strict_ssl,
            github_token,
            github_hosts,
            proxy_loopback: (env)(ev::POSTBIN_TEST_PROXY_LOOPBACK)
                .is_some_and(|v| ev::is_truthy(&v)),
            registry,
            registry_first,
            npm_cache,
            retries: limits.retries,
            stall_timeout: limits.stall_timeout,
            connect_timeout: limits.connect_timeout,
            max_unpacked_size: limits.max_unpacked_size,
            max_download_size: limits.max_download_size,
            invalid,
        }
    }

    /// The first setting whose value cannot be used, as a configuration
    /// error (exit 3). Every command that reads settings calls it before
    /// doing anything.
    pub fn check(&self) -> Result<(), Invalid> {
        match self.invalid.first() {
            Some(bad) => Err(bad.clone()),
            None => Ok(()),
        }
    }
}

/// The mirrors, package-specific first. A list with a value that is no
/// mirror base is reported in `invalid` and left unset, not trimmed to its
/// good entries: nothing is quietly worked around (see `Invalid`).
fn mirrors(
    look: &Lookup<'_>,
    prefix: Option<&str>,
    invalid: &mut Vec<Invalid>,
) -> Option<Setting<Vec<String>>> {
    let mut names: Vec<String> = prefix
        .map(|p| format!("{p}{}", ev::SUFFIX_MIRROR))
        .into_iter()
        .collect();
    names.push(ev::POSTBIN_MIRROR.into());
    let mirrors = look
        .first(&names, Some("postbin-mirror"))
        .map(|s| Setting::new(split_list(&s.value), s.origin))
        .filter(|s| !s.value.is_empty())?;
    let Some(first_bad) = mirrors.value.iter().find(|m| !is_mirror_url(m)) else {
        return Some(mirrors);
    };
    invalid.push(Invalid {
        name: origin_name(&mirrors.origin, "postbin-mirror"),
        origin: mirrors.origin.clone(),
        value: crate::url::redact(first_bad),
        problem: "a mirror is a base URL: https://host[/prefix], http://host[/prefix] \
                  or file:///DIR, or one that names files by content with {sha256}, {file} \
                  or {name} (several: comma-separated)"
            .into(),
    });
    None
}

/// `POSTBIN_SOURCE` / `postbin-source`: `npm` puts the registry first;
/// `origin` (the default) last.
fn source_order(look: &Lookup<'_>, invalid: &mut Vec<Invalid>) -> Setting<bool> {
    let Some(set) = look.first(&[ev::POSTBIN_SOURCE.into()], Some("postbin-source")) else {
        return Setting::new(false, Origin::Default);
    };
    match set.value.trim().to_ascii_lowercase().as_str() {
        "npm" => Setting::new(true, set.origin),
        "origin" => Setting::new(false, set.origin),
        _ => {
            invalid.push(Invalid {
                name: origin_name(&set.origin, "postbin-source"),
                origin: set.origin,
                value: set.value,
                problem: "it is `npm` (the npm registry first) or `origin` (the release URL and mirrors first)".into(),
            });
            Setting::new(false, Origin::Default)
        }
    }
}

/// `<PREFIX>_BINARY_PATH`, with no generic form: an executable stands in
/// for one package's.
fn binary_path(
    look: &Lookup<'_>,
    prefix: Option<&str>,
    invalid: &mut Vec<Invalid>,
) -> Option<Setting<PathBuf>> {
    let name = format!("{}{}", prefix?, ev::SUFFIX_BINARY_PATH);
    let path = look
        .first(&[name], None)
        .map(|s| Setting::new(PathBuf::from(s.value), s.origin))?;
    if let Err(problem) = usable_binary_path(&path.value) {
        invalid.push(Invalid {
            name: origin_name(&path.origin, ""),
            origin: path.origin.clone(),
            value: path.value.display().to_string(),
            problem: problem.into(),
        });
    }
    Some(path)
}

/// A text setting, when set.
type Found = Option<Setting<String>>;

/// `(https, http, no_proxy)`: the conventional variables in either case,
/// then npm's keys; `ALL_PROXY` and npm's `proxy` serve both schemes.
fn proxies(look: &Lookup<'_>) -> (Found, Found, Found) {
    let https_proxy = look
        .first_either_case(&[ev::HTTPS_PROXY, ev::ALL_PROXY])
        .or_else(|| look.first(&[], Some("https-proxy")))
        .or_else(|| look.first(&[], Some("proxy")));
    let http_proxy = look
        .first_either_case(&[ev::HTTP_PROXY, ev::ALL_PROXY])
        .or_else(|| look.first(&[], Some("proxy")));
    let no_proxy = look
        .first_either_case(&[ev::NO_PROXY])
        .or_else(|| look.first(&[], Some("noproxy")));
    (https_proxy, http_proxy, no_proxy)
}

/// Extra CA certificates: every file named, not the first one found (each
/// may hold a CA the network needs), and npm's inline `ca`.
fn certificates(look: &Lookup<'_>) -> (Vec<Setting<PathBuf>>, Option<Setting<String>>) {
    let mut ca_files = Vec::new();
    for name in [
        ev::POSTBIN_CA_FILE,
        ev::NODE_EXTRA_CA_CERTS,
        ev::SSL_CERT_FILE,
    ] {
        if let Some(s) = look.first(&[name.into()], None) {
            ca_files.push(Setting::new(PathBuf::from(s.value), s.origin));
        }
    }
    if let Some(s) = look.first(&[], Some("cafile")) {
        ca_files.push(Setting::new(PathBuf::from(s.value), s.origin));
    }
    // npm writes a multi-line `ca` as `\n`-escaped text.
    let ca_inline = look
        .first(&[], Some("ca"))
        .map(|s| Setting::new(s.value.replace("\\n", "\n"), s.origin));
    (ca_files, ca_inline)
}

/// `<PREFIX>_BINARY_PATH` must name an existing file by an absolute path:
/// a relative one would mean something else in each directory a tool or
/// its launcher runs from.
pub fn usable_binary_path(path: &std::path::Path) -> Result<(), &'static str> {
    if !path.is_absolute() {
        return Err(
            "it must be the absolute path of an executable (a relative path means something else in every directory)",
        );
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err("it is not a file; point it at the executable to use"),
        Err(_) => Err("no such file; point it at the executable to use"),
    }
}

/// The variable a value came from, else the `.npmrc` key.
fn origin_name(origin: &Origin, npm_key: &str) -> String {
    match origin {
        Origin::Env(name) => name.clone(),
        _ => npm_key.to_string(),
    }
}

/// A mirror base: an `https://` or `http://` URL with a host, or a
/// `file://` URL of a local directory; or such a URL naming files by their
/// content, with only `{sha256}`, `{file}` and `{name}` in it.
fn is_mirror_url(text: &str) -> bool {
    let text = if text.contains('{') {
        let vars = [("sha256", "0"), ("file", "f"), ("name", "n")];
        match crate::template::render(text, &vars) {
            Ok(rendered) => rendered,
            Err(_) => return false,
        }
    } else {
        text.to_string()
    };
    let text = text.as_str();
    match crate::url::Url::parse(text) {
        Ok(url) if url.scheme == "file" => crate::url::file_url_to_path(text).is_some(),
        Ok(url) => matches!(url.scheme.as_str(), "https" | "http"),
        Err(_) => false,
    }
}

struct Lookup<'a> {
    env: EnvLookup<'a>,
    npmrc: &'a Npmrc,
}

impl Lookup<'_> {
    /// The first of: each env name in order, `npm_config_<key>`, `.npmrc` key.
    fn first(&self, env_names: &[String], npm_key: Option<&str>) -> Option<Setting<String>> {
        for name in env_names {
            if let Some(v) = (self.env)(name) {
                return Some(Setting::new(v, Origin::Env(name.clone())));
            }
        }
        let key = npm_key?;
        let npm_env = format!("{}{}", ev::NPM_CONFIG_PREFIX, key.replace('-', "_"));
        if let Some(v) = (self.env)(&npm_env) {
            return Some(Setting::new(v, Origin::Env(npm_env)));
        }
        self.npmrc
            .get(key)
            .filter(|e| !e.value.trim().is_empty())
            .map(|e| Setting::new(e.value.clone(), Origin::Npmrc(e.file.clone())))
    }

    /// Each name in upper then lower case (proxy variables come in both).
    fn first_either_case(&self, names: &[&str]) -> Option<Setting<String>> {
        let both: Vec<String> = names
            .iter()
            .flat_map(|n| [n.to_string(), n.to_ascii_lowercase()])
            .collect();
        self.first(&both, None)
    }
}

/// npm's `--os`/`--cpu`/`--libc`, read only while an install script runs:
/// npm passes them to install scripts, and the same keys in an `.npmrc`
/// must not make a tool's first run (the launcher, outside any install)
/// install a build this machine cannot run.
fn requested_platform(env: EnvLookup<'_>) -> crate::platform::Requested {
    let installing = matches!(
        (env)(ev::NPM_LIFECYCLE_EVENT).as_deref(),
        Some("preinstall" | "install" | "postinstall")
    );
    let read = |name: &str| {
        (env)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| installing && !v.is_empty())
    };
    crate::platform::Requested {
        os: read(ev::NPM_CONFIG_OS),
        cpu: read(ev::NPM_CONFIG_CPU),
        libc: read(ev::NPM_CONFIG_LIBC),
    }
}

/// Comma- or whitespace-separated list, empty items dropped.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn is_false(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "false" | "0" | "no" | "off"
    )
}

/// `<OS cache dir>/postbin`: `$XDG_CACHE_HOME` or `~/.cache` on Linux,
/// `~/Library/Caches` on macOS, and on Windows the Local AppData known
/// folder (`%LOCALAPPDATA%`, where npm keeps its own cache too: machine-local,
/// not copied around with a roaming profile). With no home directory, a
/// private directory of this user's in the temp dir (`safe_fs`): a shared
/// `/tmp/postbin-cache` could be made first by another user.
fn default_cache_dir() -> PathBuf {
    directories::BaseDirs::new()
        .map(|d| d.cache_dir().join("postbin"))
        .unwrap_or_else(|| crate::safe_fs::private_fallback_dir(&std::env::temp_dir()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::npmrc::Entry;
    use std::collections::HashMap;

    /// Settings from these variables and `.npmrc` keys (as if in
    /// `/proj/.npmrc`), for a package with this env prefix.
    pub(crate) fn resolve(
        env: &[(&str, &str)],
        rc: &[(&str, &str)],
        prefix: Option<&str>,
    ) -> Settings {
        let map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |name: &str| map.get(name).cloned();
        let npmrc = Npmrc::from_entries(
            rc.iter()
                .map(|(k, v)| Entry {
                    key: k.to_string(),
                    value: v.to_string(),
                    file: "/proj/.npmrc".into(),
                })
                .collect(),
        );
        Settings::resolve(&lookup, &npmrc, prefix)
    }

    /// Settings from these variables alone.
    fn from_env(env: &[(&str, &str)]) -> Settings {
        resolve(env, &[], None)
    }

    #[test]
    fn npm_os_cpu_libc_count_only_while_an_install_script_runs() {
        let asked = [
            ("npm_config_os", "linux"),
            ("npm_config_cpu", "arm64"),
            ("npm_config_libc", " musl "),
        ];
        let mut installing = asked.to_vec();
        installing.push(("npm_lifecycle_event", "postinstall"));
        let s = resolve(&installing, &[], None);
        assert_eq!(s.requested_platform.os.as_deref(), Some("linux"));
        assert_eq!(s.requested_platform.cpu.as_deref(), Some("arm64"));
        assert_eq!(s.requested_platform.libc.as_deref(), Some("musl"));
        // A tool's first run (the launcher) or `npx`: this machine.
        assert!(resolve(&asked, &[], None).requested_platform.is_empty());
        let mut npx = asked.to_vec();
        npx.push(("npm_lifecycle_event", "npx"));
        assert!(resolve(&npx, &[], None).requested_platform.is_empty());
        // The same keys in an .npmrc are never read for this.
        let rc = [("os", "linux"), ("cpu", "arm64")];
        let s = resolve(&[("npm_lifecycle_event", "postinstall")], &rc, None);
        assert!(s.requested_platform.is_empty());
    }

    #[test]
    fn package_mirror_beats_generic_beats_npm_config_beats_npmrc() {
        let all = [
            ("HELLO_MIRROR", "https://pkg"),
            ("POSTBIN_MIRROR", "https://generic"),
            ("npm_config_postbin_mirror", "https://npmenv"),
        ];
        let rc = [("postbin-mirror", "https://rc")];
        for skip in 0..=all.len() {
            let s = resolve(&all[skip..], &rc, Some("HELLO"));
            let m = s.mirrors.unwrap();
            let expected = [
                "https://pkg",
                "https://generic",
                "https://npmenv",
                "https://rc",
            ][skip];
            assert_eq!(m.value, vec![expected.to_string()]);
        }
    }

    #[test]
    fn mirror_lists_split_on_commas_and_spaces() {
        let s = from_env(&[("POSTBIN_MIRROR", "https://a, https://b\nfile:///c")]);
        assert_eq!(
            s.mirrors.unwrap().value,
            ["https://a", "https://b", "file:///c"]
        );
    }

    #[test]
    fn proxies_in_either_case_then_npm_keys() {
        let s = resolve(
            &[("https_proxy", "http://lower:1")],
            &[("proxy", "http://rc:2")],
            None,
        );
        assert_eq!(s.https_proxy.unwrap().value, "http://lower:1");
        assert_eq!(s.http_proxy.as_ref().unwrap().value, "http://rc:2");
        assert_eq!(
            s.http_proxy.unwrap().origin,
            Origin::Npmrc("/proj/.npmrc".into())
        );
        let s = from_env(&[("npm_config_https_proxy", "http://npm:3")]);
        assert_eq!(
            s.https_proxy.unwrap().origin,
            Origin::Env("npm_config_https_proxy".into())
        );
        let s = from_env(&[("npm_config_noproxy", "corp")]);
        assert_eq!(s.no_proxy.unwrap().value, "corp");
    }

    #[test]
    fn strict_ssl_offline_ca_and_token() {
        let s = resolve(
            &[
                ("npm_config_offline", "true"),
                ("GH_TOKEN", "t0k"),
                ("NODE_EXTRA_CA_CERTS", "/ca.pem"),
            ],
            &[
                ("strict-ssl", "false"),
                ("cafile", "/rc.pem"),
                ("ca", "-----BEGIN\\nX"),
            ],
            None,
        );
        assert!(s.offline.value);
        assert!(!s.strict_ssl.value);
        assert_eq!(s.ca_files.len(), 2);
        assert_eq!(s.ca_inline.unwrap().value, "-----BEGIN\nX");
        assert!(!format!("{:?}", s.github_token).contains("t0k"));
        let d = from_env(&[]);
        assert!(d.strict_ssl.value && !d.offline.value && d.github_token.is_none());
    }

    #[test]
    fn unusable_numbers_are_reported_by_name_not_replaced() {
        for (name, value) in [
            ("POSTBIN_RETRIES", "abc"),
            ("POSTBIN_RETRIES", "-1"),
            ("POSTBIN_RETRIES", "21"),
            ("POSTBIN_RETRIES", "2.5"),
            ("POSTBIN_STALL_TIMEOUT", "0"),
            ("POSTBIN_STALL_TIMEOUT", "-3"),
            ("POSTBIN_STALL_TIMEOUT", "inf"),
            ("POSTBIN_STALL_TIMEOUT", "NaN"),
            ("POSTBIN_CONNECT_TIMEOUT", "abc"),
            ("POSTBIN_CONNECT_TIMEOUT", "0"),
            ("POSTBIN_CONNECT_TIMEOUT", "1e9"),
            ("POSTBIN_MAX_UNPACKED_SIZE", "lots"),
            ("POSTBIN_MAX_UNPACKED_SIZE", "0"),
            ("POSTBIN_MAX_UNPACKED_SIZE", "-1G"),
            ("POSTBIN_MAX_UNPACKED_SIZE", "1X"),
            ("POSTBIN_MAX_UNPACKED_SIZE", "1e3"),
        ] {
            let s = from_env(&[(name, value)]);
            assert_eq!(s.invalid.len(), 1, "{name}={value}");
            let bad = &s.invalid[0];
            assert_eq!(bad.name, name);
            assert_eq!(bad.origin, Origin::Env(name.into()));
            let err = s.check().unwrap_err();
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("{name} is `{value}`: ")),
                "{text}"
            );
        }
        let d = from_env(&[]);
        assert!(d.invalid.is_empty() && d.check().is_ok());
        assert_eq!((d.retries, d.max_unpacked_size), (3, 4 << 30));
        assert_eq!(d.stall_timeout, Duration::from_secs(30));
        assert_eq!(d.connect_timeout, Duration::from_secs(15));
    }

    #[test]
    fn good_numbers_and_sizes_are_taken() {
        let s = from_env(&[
            ("POSTBIN_RETRIES", " 0 "),
            ("POSTBIN_STALL_TIMEOUT", "2.5"),
            ("POSTBIN_CONNECT_TIMEOUT", "1"),
            ("POSTBIN_MAX_UNPACKED_SIZE", "1G"),
        ]);
        assert!(s.invalid.is_empty(), "{:?}", s.invalid);
        assert_eq!(s.retries, 0);
        assert_eq!(s.stall_timeout, Duration::from_millis(2500));
        assert_eq!(s.connect_timeout, Duration::from_secs(1));
        assert_eq!(s.max_unpacked_size, 1 << 30);
    }

    #[test]
    fn a_mirror_that_is_no_url_names_its_setting_and_file() {
        let s = from_env(&[("POSTBIN_MIRROR", "https://ok.corp,not-a-url")]);
        assert!(s.mirrors.is_none());
        assert_eq!(s.invalid[0].name, "POSTBIN_MIRROR");
        assert!(s.invalid[0].to_string().contains("`not-a-url`"));
        let s = resolve(&[], &[("postbin-mirror", "ftp://x.corp")], None);
        let text = s.check().unwrap_err().to_string();
        assert!(
            text.starts_with("`postbin-mirror` in /proj/.npmrc is `ftp://x.corp`"),
            "{text}"
        );
        let s = resolve(
            &[("HELLO_MIRROR", "https://u:pw@x.corp nope")],
            &[],
            Some("HELLO"),
        );
        assert_eq!(s.invalid[0].name, "HELLO_MIRROR");
        for good in ["https://m.corp/gh", "http://m.corp", "file:///srv/mirror"] {
            let s = from_env(&[("POSTBIN_MIRROR", good)]);
            assert!(s.invalid.is_empty(), "{good}: {:?}", s.invalid);
        }
    }

    #[test]
    fn a_binary_path_must_be_an_absolute_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tool");
        std::fs::write(&file, b"x").unwrap();
        let file = file.to_str().unwrap();
        let ok = resolve(&[("HELLO_BINARY_PATH", file)], &[], Some("HELLO"));
        assert!(ok.invalid.is_empty());
        let missing = dir.path().join("nope");
        for bad in [
            "relative/tool",
            missing.to_str().unwrap(),
            dir.path().to_str().unwrap(),
        ] {
            let s = resolve(&[("HELLO_BINARY_PATH", bad)], &[], Some("HELLO"));
            assert_eq!(s.invalid[0].name, "HELLO_BINARY_PATH", "{bad}");
        }
    }

    #[test]
    fn binary_path_needs_the_package_prefix() {
        let s = resolve(
            &[("HELLO_BINARY_PATH", "/usr/bin/hello")],
            &[],
            Some("HELLO"),
        );
        assert_eq!(
            s.binary_path.unwrap().value,
            PathBuf::from("/usr/bin/hello")
        );
        assert!(
            from_env(&[("HELLO_BINARY_PATH", "/x")])
                .binary_path
                .is_none()
        );
    }
}
