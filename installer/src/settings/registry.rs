//! The consumer's npm registry, for the packages that wrap release archives
//! (`postbin pack-targets`): which registry serves the package's scope, the
//! credentials npm would send it, and npm's own cache directory. Read the way
//! npm reads them, from `npm_config_*` env and `.npmrc` keys:
//!
//! - `@scope:registry`, else `registry`, else `https://registry.npmjs.org/`;
//! - credentials under the registry's "nerf dart" (`//host[:port]/path/`),
//!   the longest path that has any, as npm looks them up: `:_authToken`
//!   (Bearer), else `:_auth` (Basic, already base64), else `:username` with
//!   `:_password` (base64 of the password; Basic). They are sent to URLs
//!   under that nerf dart only, re-decided at every redirect hop (net).
//!   npm 9+ sends configured credentials always, so `always-auth` changes
//!   nothing here either; credentials without a nerf dart (a bare
//!   `_authToken=`) are refused by npm 9+ and ignored here.
//! - `cache` (npm's cache directory): `~/.npm`, on Windows
//!   `%LocalAppData%\npm-cache`.

use super::{Invalid, Origin, Secret, Setting};
use crate::npm::integrity::{decode_base64, encode_base64};
use crate::url::Url;
use std::path::PathBuf;

const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org/";

/// The registry that serves one scope, and what to send it.
#[derive(Clone, Debug, PartialEq)]
pub struct Registry {
    /// Always ends with `/`.
    pub url: Setting<Url>,
    pub credential: Option<Credential>,
}

/// An `Authorization` header for the URLs under one nerf dart.
#[derive(Clone, Debug, PartialEq)]
pub struct Credential {
    /// `//host[:port]/path/`: the requests that get the header.
    pub scope: String,
    pub header: Secret,
    /// The key that set it and where, as messages name it.
    pub key: String,
}

impl Credential {
    /// Whether a request to `url` carries this credential: its nerf dart
    /// starts with ours (same host and port, a path below ours), whatever
    /// the scheme, as npm decides.
    pub fn applies_to(&self, url: &Url) -> bool {
        url.userinfo.is_none() && path_dart(url).starts_with(&self.scope)
    }
}

/// Looks up one npm key: `npm_config_<key>` env, then `.npmrc` files.
pub type KeyLookup<'a> = &'a dyn Fn(&str) -> Option<Setting<String>>;

/// The registry for packages of `scope` (`@acme`, or none), with its
/// credentials. A registry URL or password that cannot be used is reported
/// in `invalid`, and the default registry is used meanwhile (see `Invalid`).
pub fn resolve(key: KeyLookup<'_>, scope: Option<&str>, invalid: &mut Vec<Invalid>) -> Registry {
    let scoped =
        scope.and_then(|s| key(&format!("{s}:registry")).map(|v| (format!("{s}:registry"), v)));
    let (name, set) = match scoped.or_else(|| key("registry").map(|v| ("registry".into(), v))) {
        Some(found) => found,
        None => {
            let url = Url::parse(DEFAULT_REGISTRY).expect("a valid URL");
            let credential = credential_for(key, &url, invalid);
            return Registry {
                url: Setting::new(url, Origin::Default),
                credential,
            };
        }
    };
    let url = match registry_url(&set.value) {
        Some(url) => url,
        None => {
            invalid.push(Invalid {
                name,
                origin: set.origin.clone(),
                value: crate::url::redact(&set.value),
                problem: "an npm registry is an http:// or https:// URL".into(),
            });
            Url::parse(DEFAULT_REGISTRY).expect("a valid URL")
        }
    };
    let credential = credential_for(key, &url, invalid);
    Registry {
        url: Setting::new(url, set.origin),
        credential,
    }
}

/// npm's cache directory (`cache`), where its content-addressed store is.
pub fn npm_cache_dir(key: KeyLookup<'_>, windows: bool, home: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(set) = key("cache") {
        return Some(PathBuf::from(set.value));
    }
    if windows {
        let local = crate::env_vars::get(crate::env_vars::LOCALAPPDATA)?;
        return Some(PathBuf::from(local).join("npm-cache"));
    }
    Some(home?.join(".npm"))
}

fn registry_url(text: &str) -> Option<Url> {
    let mut url = Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme.as_str(), "http" | "https") {
        return None;
    }
    if !url.path.ends_with('/') {
        url.path.push('/');
    }
    Some(url)
}

/// npm's "nerf dart" of a URL's directory: `//host[:port]/path/`, the port
/// only when it is not the scheme's default.
pub fn nerf_dart(url: &Url) -> String {
    let path = url.path_only();
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    format!(
        "//{}{}",
        host_port(url),
        if dir.is_empty() { "/" } else { dir }
    )
}

/// `//host[:port]/path` of a request URL, to compare with a nerf dart: its
/// path as a normalising server reads it (`without_dot_segments`), so a
/// redirect to `/team-a/../team-b/...` is judged as team-b's, as npm does.
fn path_dart(url: &Url) -> String {
    format!(
        "//{}{}",
        host_port(url),
        without_dot_segments(url.path_only())
    )
}

/// RFC 3986 §5.2.4 "remove dot segments", reading `%2e` as a dot and `\`
/// as a slash as WHATWG URL parsers (npm's) and many servers do.
fn without_dot_segments(path: &str) -> String {
    let unified = path.replace('\\', "/");
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = unified.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match segment.to_ascii_lowercase().replace("%2e", ".").as_str() {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            _ => out.push(segment),
        }
    }
    format!("/{}", out.join("/"))
}

fn host_port(url: &Url) -> String {
    match url.port.filter(|p| Some(*p) != url.default_port()) {
        Some(port) => format!("{}:{port}", url.host),
        None => url.host.clone(),
    }
}

/// The credentials configured for `registry`: its nerf dart, then each
/// parent path up to the host's, the first that has any.
fn credential_for(
    key: KeyLookup<'_>,
    registry: &Url,
    invalid: &mut Vec<Invalid>,
) -> Option<Credential> {
    let mut dart = nerf_dart(registry);
    loop {
        if let Some(found) = credential_at(key, &dart, invalid) {
            return Some(found);
        }
        // `//host/a/b/` → `//host/a/` → `//host/`.
        let trimmed = dart.trim_end_matches('/');
        match trimmed.rfind('/') {
            Some(i) if i > 1 => dart.truncate(i + 1),
            _ => return None,
        }
    }
}

fn credential_at(key: KeyLookup<'_>, dart: &str, invalid: &mut Vec<Invalid>) -> Option<Credential> {
    let named = |suffix: &str| {
        let name = format!("{dart}:{suffix}");
        key(&name).map(|set| (where_set(&name, &set.origin), set))
    };
    let credential = |header: String, key: String| Credential {
        scope: dart.to_string(),
        header: Secret(header),
        key,
    };
    if let Some((at, token)) = named("_authToken") {
        return Some(credential(format!("Bearer {}", token.value.trim()), at));
    }
    if let Some((at, auth)) = named("_auth") {
        return Some(credential(format!("Basic {}", auth.value.trim()), at));
    }
    let (user_at, user) = named("username")?;
    let (password_at, password) = named("_password")?;
    let Some(plain) = decode_base64(password.value.trim()).and_then(|p| String::from_utf8(p).ok())
    else {
        invalid.push(Invalid {
            name: format!("{dart}:_password"),
            origin: password.origin,
            value: "***".into(),
            problem: "npm keeps `_password` base64-encoded (`npm login` writes it so)".into(),
        });
        return None;
    };
    let basic = encode_base64(format!("{}:{plain}", user.value.trim()).as_bytes());
    Some(credential(
        format!("Basic {basic}"),
        format!("{user_at} and {password_at}"),
    ))
}

fn where_set(name: &str, origin: &Origin) -> String {
    match origin {
        Origin::Npmrc(file) => format!("`{name}` in {}", file.display()),
        other => format!("`{name}` ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(keys: &[(&str, &str)]) -> impl Fn(&str) -> Option<Setting<String>> {
        let keys: Vec<(String, String)> = keys
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| {
            keys.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Setting::new(v.clone(), Origin::Npmrc("/p/.npmrc".into())))
        }
    }

    fn u(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn nerf_darts_are_npms() {
        assert_eq!(nerf_dart(&u("http://127.0.0.1:4873/")), "//127.0.0.1:4873/");
        assert_eq!(
            nerf_dart(&u("https://registry.npmjs.org/")),
            "//registry.npmjs.org/"
        );
        assert_eq!(
            nerf_dart(&u("https://r.corp:443/api/npm/npm/")),
            "//r.corp/api/npm/npm/"
        );
        assert_eq!(
            nerf_dart(&u("https://r.corp/api/npm/npm")),
            "//r.corp/api/npm/"
        );
    }

    #[test]
    fn the_scope_registry_beats_the_default_and_gets_its_own_token() {
        let key = lookup(&[
            ("registry", "https://registry.npmjs.org/"),
            ("@acme:registry", "http://127.0.0.1:4873"),
            ("//127.0.0.1:4873/:_authToken", "tok"),
            ("//registry.npmjs.org/:_authToken", "public"),
        ]);
        let mut invalid = Vec::new();
        let r = resolve(&key, Some("@acme"), &mut invalid);
        assert_eq!(r.url.value.to_string(), "http://127.0.0.1:4873/");
        let c = r.credential.unwrap();
        assert_eq!(c.header, Secret("Bearer tok".into()));
        assert_eq!(c.key, "`//127.0.0.1:4873/:_authToken` in /p/.npmrc");
        let other = resolve(&key, Some("@other"), &mut invalid);
        assert_eq!(other.url.value.to_string(), "https://registry.npmjs.org/");
        assert_eq!(
            other.credential.unwrap().header,
            Secret("Bearer public".into())
        );
        assert!(invalid.is_empty());
    }

    #[test]
    fn credentials_go_only_under_their_nerf_dart() {
        let key = lookup(&[
            ("registry", "https://r.corp/api/npm/npm/"),
            ("//r.corp/api/npm/:_authToken", "t"),
        ]);
        let c = resolve(&key, None, &mut Vec::new()).credential.unwrap();
        assert_eq!(c.scope, "//r.corp/api/npm/", "found one level up");
        assert!(c.applies_to(&u("https://r.corp/api/npm/npm/@a/b/-/b-1.0.0.tgz")));
        assert!(
            c.applies_to(&u("http://r.corp/api/npm/x")),
            "npm decides by host and path"
        );
        assert!(!c.applies_to(&u("https://r.corp/other/x")));
        assert!(
            !c.applies_to(&u("https://r.corp:8443/api/npm/x")),
            "another port"
        );
        assert!(!c.applies_to(&u("https://cdn.corp/api/npm/x")));
        assert!(!c.applies_to(&u("https://r.corp.evil/api/npm/x")));
        // Dot segments, as a normalising server resolves them.
        for other in [
            "https://r.corp/api/npm/../../other/x",
            "https://r.corp/api/npm/%2e%2e/%2E%2e/other/x",
            "https://r.corp/api/npm/..\\..\\other/x",
            "https://r.corp/api/npm/./../x",
        ] {
            assert!(!c.applies_to(&u(other)), "{other}");
        }
        assert!(c.applies_to(&u("https://r.corp/api/npm/a/../b/./c")));
    }

    #[test]
    fn dot_segments_are_removed_as_rfc_3986_says() {
        for (path, want) in [
            ("/a/b/c/./../../g", "/a/g"),
            ("/team-a/../team-b/x", "/team-b/x"),
            ("/../x", "/x"),
            ("/a/..", "/"),
            ("/a/.", "/a/"),
            ("/a/b/", "/a/b/"),
            ("/", "/"),
        ] {
            assert_eq!(without_dot_segments(path), want, "{path}");
        }
    }

    #[test]
    fn basic_auth_from_auth_or_username_and_password() {
        let key = lookup(&[("registry", "http://h/"), ("//h/:_auth", "dTpw")]);
        assert_eq!(
            resolve(&key, None, &mut Vec::new())
                .credential
                .unwrap()
                .header,
            Secret("Basic dTpw".into())
        );
        // `_password` is base64("p@ss").
        let key = lookup(&[
            ("registry", "http://h/"),
            ("//h/:username", "user"),
            ("//h/:_password", "cEBzcw=="),
        ]);
        let c = resolve(&key, None, &mut Vec::new()).credential.unwrap();
        assert_eq!(
            c.header,
            Secret(format!("Basic {}", encode_base64(b"user:p@ss")))
        );
        let key = lookup(&[
            ("registry", "http://h/"),
            ("//h/:username", "user"),
            ("//h/:_password", "not base64!"),
        ]);
        let mut invalid = Vec::new();
        assert_eq!(resolve(&key, None, &mut invalid).credential, None);
        assert_eq!(invalid[0].name, "//h/:_password");
        assert_eq!(invalid[0].value, "***", "a password is never shown");
    }

    #[test]
    fn a_registry_that_is_no_http_url_is_reported() {
        let key = lookup(&[("registry", "ftp://r.corp/")]);
        let mut invalid = Vec::new();
        let r = resolve(&key, None, &mut invalid);
        assert_eq!(r.url.value.to_string(), DEFAULT_REGISTRY);
        assert_eq!(invalid[0].name, "registry");
    }

    #[test]
    fn npm_cache_dir_follows_the_cache_key() {
        assert_eq!(
            npm_cache_dir(&lookup(&[("cache", "/c")]), false, None),
            Some(PathBuf::from("/c"))
        );
        assert_eq!(
            npm_cache_dir(&lookup(&[]), false, Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.npm"))
        );
    }
}
