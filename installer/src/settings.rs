//! The consumer's configuration: environment variables and `.npmrc` keys,
//! resolved once, each value remembering where it came from (for `doctor` and
//! for error messages that say which setting to change).
//!
//! Precedence, highest first: package-specific env (`<PREFIX>_*`), generic env
//! (`POSTBIN_*`, `HTTPS_PROXY`...), `npm_config_*` env, `.npmrc` files.

use crate::env_vars as ev;
use crate::npmrc::Npmrc;
use std::fmt;
use std::path::PathBuf;
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

#[derive(Clone, Debug)]
pub struct Settings {
    pub mirrors: Option<Setting<Vec<String>>>,
    pub binary_path: Option<Setting<PathBuf>>,
    pub cache_dir: Setting<PathBuf>,
    pub offline: Setting<bool>,
    pub target: Option<Setting<String>>,
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
    pub retries: u32,
    pub stall_timeout: Duration,
    pub connect_timeout: Duration,
    pub max_unpacked_size: u64,
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
        Self::resolve(&process_env, &Npmrc::load(), prefix)
    }

    pub fn resolve(env: EnvLookup<'_>, npmrc: &Npmrc, prefix: Option<&str>) -> Self {
        let look = Lookup { env, npmrc };
        let prefixed = |suffix: &str| prefix.map(|p| format!("{p}{suffix}"));

        let mut mirror_env: Vec<String> = prefixed(ev::SUFFIX_MIRROR).into_iter().collect();
        mirror_env.push(ev::POSTBIN_MIRROR.into());
        let mirrors = look
            .first(&mirror_env, Some("postbin-mirror"))
            .map(|s| Setting::new(split_list(&s.value), s.origin))
            .filter(|s| !s.value.is_empty());

        let binary_path = prefixed(ev::SUFFIX_BINARY_PATH)
            .and_then(|name| look.first(&[name], None))
            .map(|s| Setting::new(PathBuf::from(s.value), s.origin));

        let cache_dir = look
            .first(&[ev::POSTBIN_CACHE_DIR.into()], Some("postbin-cache-dir"))
            .map(|s| Setting::new(PathBuf::from(s.value), s.origin))
            .unwrap_or_else(|| Setting::new(default_cache_dir(), Origin::Default));

        let offline = look
            .first(&[ev::POSTBIN_OFFLINE.into()], Some("offline"))
            .map(|s| Setting::new(ev::is_truthy(&s.value), s.origin))
            .unwrap_or_else(|| Setting::new(false, Origin::Default));

        let target = look.first(&[ev::POSTBIN_TARGET.into()], None);

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

        let number = |name: &str, default: u64| -> u64 {
            (env)(name)
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(default)
        };
        Settings {
            mirrors,
            binary_path,
            cache_dir,
            offline,
            target,
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
            retries: number(ev::POSTBIN_RETRIES, 3).min(20) as u32,
            stall_timeout: Duration::from_secs_f64(
                (env)(ev::POSTBIN_STALL_TIMEOUT)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|s| *s > 0.0)
                    .unwrap_or(30.0),
            ),
            connect_timeout: Duration::from_secs(number(ev::POSTBIN_CONNECT_TIMEOUT, 15).max(1)),
            max_unpacked_size: number(ev::POSTBIN_MAX_UNPACKED_SIZE, 4 << 30),
        }
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
/// not copied around with a roaming profile).
pub fn default_cache_dir() -> PathBuf {
    directories::BaseDirs::new()
        .map(|d| d.cache_dir().join("postbin"))
        .unwrap_or_else(|| std::env::temp_dir().join("postbin-cache"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npmrc::Entry;
    use std::collections::HashMap;

    fn resolve(env: &[(&str, &str)], rc: &[(&str, &str)], prefix: Option<&str>) -> Settings {
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
        let s = resolve(
            &[("POSTBIN_MIRROR", "https://a, https://b\nfile:///c")],
            &[],
            None,
        );
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
        let s = resolve(&[("npm_config_https_proxy", "http://npm:3")], &[], None);
        assert_eq!(
            s.https_proxy.unwrap().origin,
            Origin::Env("npm_config_https_proxy".into())
        );
        let s = resolve(&[("npm_config_noproxy", "corp")], &[], None);
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
        let d = resolve(&[], &[], None);
        assert!(d.strict_ssl.value && !d.offline.value && d.github_token.is_none());
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
            resolve(&[("HELLO_BINARY_PATH", "/x")], &[], None)
                .binary_path
                .is_none()
        );
    }
}
