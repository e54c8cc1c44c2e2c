//! Just enough URL handling for downloads: split into parts, print without
//! credentials, swap the origin for a mirror, resolve a redirect's Location.

use std::fmt;

/// A URL. Printed (`Display` and `Debug` alike) with any `user:password@`
/// shown as `***@`; only the HTTP client gets the credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Url {
    /// Lowercase: `https`, `http`, `file`.
    pub scheme: String,
    pub userinfo: Option<String>,
    /// Lowercase host; IPv6 literals keep their brackets.
    pub host: String,
    pub port: Option<u16>,
    /// Path plus query, always starting with `/`.
    pub path: String,
}

#[derive(Debug, PartialEq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not an absolute URL (expected scheme://host/path)",
            redact(&self.0)
        )
    }
}

impl std::error::Error for ParseError {}

impl Url {
    pub fn parse(text: &str) -> Result<Url, ParseError> {
        let err = || ParseError(text.to_string());
        let (scheme, rest) = split_scheme(text).ok_or_else(err)?;
        // A `file:` URL's path is a local path, `?` and `#` included.
        let file = scheme == "file";
        let (authority, path) = split_authority(rest, file);
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(authority[..i].to_string()), &authority[i + 1..]),
            None => (None, authority),
        };
        let (host, port) = if file {
            // `file://C:/x` puts a drive where the host goes: no port here.
            (hostport.to_string(), None)
        } else {
            split_host_port(hostport).ok_or_else(err)?
        };
        Ok(Url {
            scheme,
            userinfo,
            host,
            port,
            path,
        })
    }

    pub fn default_port(&self) -> Option<u16> {
        match self.scheme.as_str() {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        }
    }

    pub fn port_or_default(&self) -> Option<u16> {
        self.port.or_else(|| self.default_port())
    }

    /// `scheme://host[:port]`, no credentials.
    pub fn origin(&self) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{p}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// The origin split at `://`: (`https`, `host:port`).
    fn origin_parts(&self) -> (String, String) {
        let origin = self.origin();
        let (scheme, rest) = origin.split_once("://").unwrap_or(("", &origin));
        (scheme.to_string(), rest.to_string())
    }

    /// True for 127.0.0.0/8, ::1 and `localhost`.
    pub fn is_loopback(&self) -> bool {
        let h = self.host.trim_start_matches('[').trim_end_matches(']');
        h == "localhost"
            || h == "::1"
            || h.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The path without query string.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("/")
    }

    /// The last path segment (the asset's file name).
    pub fn file_name(&self) -> &str {
        self.path_only().rsplit('/').next().unwrap_or("")
    }

    /// Resolves a redirect's `Location` against this URL.
    pub fn join(&self, location: &str) -> Result<Url, ParseError> {
        if location.contains("://") {
            return Url::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            return Url::parse(&format!("{}://{rest}", self.scheme));
        }
        let path = if location.starts_with('/') {
            location.to_string()
        } else {
            let dir = match self.path_only().rfind('/') {
                Some(i) => &self.path_only()[..=i],
                None => "/",
            };
            format!("{dir}{location}")
        };
        Ok(Url {
            path,
            ..self.clone()
        })
    }
}

/// `scheme://rest` → (lowercased scheme, `rest`); `None` unless the scheme
/// is made of the characters RFC 3986 allows.
fn split_scheme(text: &str) -> Option<(String, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), rest))
}

/// What follows `scheme://` → (authority, path): the path keeps its query,
/// loses any fragment (never sent), and always starts with `/`.
fn split_authority(rest: &str, file: bool) -> (&str, String) {
    let end = if file {
        rest.find('/')
    } else {
        rest.find(['/', '?', '#'])
    };
    let (authority, path) = match end {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = if file {
        path
    } else {
        path.split('#').next().unwrap_or("")
    };
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    (authority, path)
}

/// A network URL's `host[:port]` → (lowercased host, port); IPv6 literals
/// keep their brackets. `None` when either part is malformed.
fn split_host_port(hostport: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        let port = hostport[end + 1..].strip_prefix(':');
        (&hostport[..=end], port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let port = match port {
        Some("") | None => None,
        Some(p) => Some(p.parse::<u16>().ok()?),
    };
    // A `:` left in a host (`http://a:b:/`) is no host at all; a URL
    // that would not print back as itself is refused (found by fuzzing).
    if host.is_empty() || host.contains(':') && !host.starts_with('[') {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

impl fmt::Display for Url {
    /// Shown without credentials, always: `user:password@` becomes `***@`.
    /// The only way to print a URL (`to_string_with_credentials` is for the
    /// HTTP client).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.userinfo {
            Some(_) => {
                let (scheme, rest) = self.origin_parts();
                write!(f, "{scheme}://***@{rest}{}", self.path)
            }
            None => write!(f, "{}{}", self.origin(), self.path),
        }
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({self})")
    }
}

impl Url {
    /// The local path of a `file:` URL (`file_url_to_path`); `None` for
    /// other schemes.
    pub fn to_file_path(&self) -> Option<std::path::PathBuf> {
        file_url_to_path(&self.to_string_with_credentials())
    }

    /// Whether the URL carries `user:password@`.
    pub fn has_credentials(&self) -> bool {
        self.userinfo.is_some()
    }

    /// Replaces the origin with `mirror` (which may carry a path prefix and
    /// credentials), keeping this URL's path: see [`apply_mirror`].
    pub fn with_mirror(&self, mirror: &str) -> Result<Url, ParseError> {
        Url::parse(&format!("{}{}", mirror.trim_end_matches('/'), self.path))
    }

    /// The full URL including credentials, for the HTTP client only: never
    /// put it in a message (`Display` is the only way to print a URL).
    pub fn to_string_with_credentials(&self) -> String {
        match &self.userinfo {
            Some(u) => {
                let (scheme, rest) = self.origin_parts();
                format!("{scheme}://{u}@{rest}{}", self.path)
            }
            None => format!("{}{}", self.origin(), self.path),
        }
    }
}

/// A URL string with any `user:password@` replaced by `***@`.
pub fn redact(text: &str) -> String {
    match text.split_once("://") {
        Some((scheme, rest)) => {
            // `file:` authorities run to the first `/` (`parse` reads them so);
            // others end at `/`, `?` or `#` as well.
            let end = if scheme.eq_ignore_ascii_case("file") {
                rest.find('/')
            } else {
                rest.find(['/', '?', '#'])
            }
            .unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
                None => text.to_string(),
            }
        }
        None => text.to_string(),
    }
}

/// Replaces the origin of `url` with `mirror` (which may carry a path
/// prefix): `https://github.com/o/r/releases/download/v1/a.tgz` with mirror
/// `https://m.corp/gh` becomes `https://m.corp/gh/o/r/releases/download/v1/a.tgz`.
pub fn apply_mirror(url: &str, mirror: &str) -> Result<String, ParseError> {
    let parsed = Url::parse(url)?;
    Ok(format!("{}{}", mirror.trim_end_matches('/'), parsed.path))
}

/// The local path of a `file:` URL, as this host reads it
/// (`file_url_path_for`); `None` for other schemes or undecodable paths.
pub fn file_url_to_path(url: &str) -> Option<std::path::PathBuf> {
    file_url_path_for(url, cfg!(windows)).map(std::path::PathBuf::from)
}

/// The path of a `file:` URL for Windows or for Unix, `%XX` decoded:
///
/// | URL                                   | Unix               | Windows              |
/// |---------------------------------------|--------------------|----------------------|
/// | `file:///tmp/x`, `file://localhost/tmp/x` | `/tmp/x`       | `\tmp\x`             |
/// | `file:///C:/x`, `file:///c\|/x`       | `/C:/x`            | `C:\x`               |
/// | `file://server/share/x`, `file:////server/share/x` | `//server/share/x` | `\\server\share\x` |
///
/// On Windows a path without a drive letter stays rooted: it is on the
/// current drive, as Windows programs read `\tmp\x` (under wine, with the
/// current directory on a Unix path, that drive is `Z:`, the Unix root).
pub fn file_url_path_for(url: &str, windows: bool) -> Option<String> {
    let scheme = url.get(..7)?;
    if !scheme.eq_ignore_ascii_case("file://") {
        return None;
    }
    let rest = &url[7..];
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = percent_decode(host)?;
    let path = percent_decode(path)?;
    let local = host.is_empty() || host.eq_ignore_ascii_case("localhost");
    if !windows {
        return Some(match (local, path.is_empty()) {
            (true, true) => "/".to_string(),
            (true, false) => path,
            (false, _) => format!("//{host}{path}"),
        });
    }
    let path = if local {
        windows_local_path(&path)
    } else if let Some(drive) = drive_letter(&host) {
        // `file://C:/x`: a drive written where the host goes.
        format!("{drive}{}", if path.is_empty() { "/" } else { &path })
    } else {
        format!("//{host}{path}")
    };
    Some(path.replace('/', "\\"))
}

/// A Windows path from the path part of a local `file:` URL (`/`-separated).
fn windows_local_path(path: &str) -> String {
    let after_slash = path.strip_prefix('/').unwrap_or(path);
    let (head, tail) = after_slash.split_at(after_slash.find('/').unwrap_or(after_slash.len()));
    if let Some(drive) = drive_letter(head) {
        // `C:` alone is the current directory of drive C; `C:/` its root.
        return format!("{drive}{}", if tail.is_empty() { "/" } else { tail });
    }
    if path.starts_with("//") {
        // `file:////server/share/x` (or more slashes): a UNC path.
        return format!("//{}", path.trim_start_matches('/'));
    }
    if path.is_empty() {
        return "/".to_string();
    }
    path.to_string()
}

/// `C:` or `c|` (the old URL spelling) as `C:`.
fn drive_letter(text: &str) -> Option<String> {
    match text.as_bytes() {
        [letter, b':' | b'|'] if letter.is_ascii_alphabetic() => {
            Some(format!("{}:", letter.to_ascii_uppercase() as char))
        }
        _ => None,
    }
}

/// `%XX` decoded; `None` if the result is not UTF-8. A `%` not followed by
/// two hex digits stays as it is.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_with_a_colon_of_its_own_is_refused() {
        // Found by fuzzing: these parsed with hosts `a:b` and `user:`.
        for text in ["http://a:b:/", "http://user::/", "https://a:b:443/x"] {
            assert!(Url::parse(text).is_err(), "{text}");
        }
        assert_eq!(Url::parse("http://[::1]:8080/").unwrap().host, "[::1]");
    }

    #[test]
    fn parses_parts() {
        let u = Url::parse("HTTPS://user:pw@Example.COM:8443/a/b.tgz?x=1#frag").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.userinfo.as_deref(), Some("user:pw"));
        assert_eq!(u.host, "example.com");
        assert_eq!(u.port, Some(8443));
        assert_eq!(u.path, "/a/b.tgz?x=1");
        assert_eq!(u.file_name(), "b.tgz");
        assert_eq!(u.to_string(), "https://***@example.com:8443/a/b.tgz?x=1");
        let v6 = Url::parse("http://[::1]:80/").unwrap();
        assert_eq!(v6.host, "[::1]");
        assert!(v6.is_loopback());
        assert!(Url::parse("no-scheme").is_err());
        assert!(Url::parse("http://h:notaport/").is_err());
    }

    #[test]
    fn file_urls_round_trip_through_the_type() {
        for text in [
            "file:///tmp/a%20b/c?d#e",
            "file:///C:/x/y.tgz",
            "file://C:/x",
            "file://Server/share/x",
            "file:////server/share/x",
        ] {
            let url = Url::parse(text).unwrap();
            assert_eq!(url.to_string_with_credentials(), text);
            assert_eq!(url.to_file_path(), file_url_to_path(text), "{text}");
        }
    }

    #[test]
    fn loopback_detection() {
        for (u, l) in [
            ("http://127.0.0.1:1/", true),
            ("http://127.8.9.10/", true),
            ("http://localhost/", true),
            ("http://10.0.0.1/", false),
            ("http://localhost.evil.com/", false),
        ] {
            assert_eq!(Url::parse(u).unwrap().is_loopback(), l, "{u}");
        }
    }

    #[test]
    fn redacts_credentials() {
        assert_eq!(redact("http://u:p@proxy:3128"), "http://***@proxy:3128");
        // Found by fuzzing: a file: authority runs to the first `/` only.
        assert_eq!(redact("file://u:p?x@h/a"), "file://***@h/a");
        assert_eq!(redact("https://h/p@x"), "https://h/p@x");
        assert_eq!(
            Url::parse("http://u:p@h/x").unwrap().to_string(),
            "http://***@h/x"
        );
        assert!(!format!("{:?}", Url::parse("http://u:p@h/").unwrap()).contains("u:p"));
        assert_eq!(
            Url::parse("http://u:p@h:1/x")
                .unwrap()
                .to_string_with_credentials(),
            "http://u:p@h:1/x"
        );
    }

    #[test]
    fn mirrors_replace_the_origin() {
        let url = "https://github.com/o/r/releases/download/v1/a.tgz";
        assert_eq!(
            apply_mirror(url, "https://m.corp/gh/").unwrap(),
            "https://m.corp/gh/o/r/releases/download/v1/a.tgz"
        );
        assert_eq!(
            apply_mirror(url, "file:///srv/mirror").unwrap(),
            "file:///srv/mirror/o/r/releases/download/v1/a.tgz"
        );
    }

    #[test]
    fn joins_redirect_locations() {
        let base = Url::parse("https://h:1/a/b/c?q").unwrap();
        assert_eq!(base.join("/x").unwrap().to_string(), "https://h:1/x");
        assert_eq!(base.join("d").unwrap().to_string(), "https://h:1/a/b/d");
        assert_eq!(base.join("//o/p").unwrap().to_string(), "https://o/p");
        assert_eq!(base.join("http://e/f").unwrap().to_string(), "http://e/f");
    }

    #[test]
    fn file_urls_decode() {
        assert_eq!(
            file_url_to_path("file:///tmp/a%20b/c").map(|p| p.to_string_lossy().into_owned()),
            file_url_path_for("file:///tmp/a%20b/c", cfg!(windows))
        );
        assert_eq!(file_url_to_path("http://x"), None);
        // A `%` before a multi-byte character, or at the end, stays literal.
        assert_eq!(
            file_url_path_for("file:///a%\u{e9}%4", false).as_deref(),
            Some("/a%\u{e9}%4")
        );
        assert_eq!(file_url_path_for("file:///%ff", false), None);
    }

    #[test]
    fn file_url_paths_for_unix_and_windows() {
        let table = [
            // (url, unix, windows)
            ("file:///tmp/x", "/tmp/x", "\\tmp\\x"),
            ("file://localhost/tmp/x", "/tmp/x", "\\tmp\\x"),
            ("FILE://LocalHost/tmp/x", "/tmp/x", "\\tmp\\x"),
            ("file:///tmp/a%20b/c", "/tmp/a b/c", "\\tmp\\a b\\c"),
            ("file:///", "/", "\\"),
            ("file://", "/", "\\"),
            ("file:///C:/x", "/C:/x", "C:\\x"),
            ("file:///c:/x/y.tgz", "/c:/x/y.tgz", "C:\\x\\y.tgz"),
            ("file:///c|/x", "/c|/x", "C:\\x"),
            ("file:///C:", "/C:", "C:\\"),
            ("file:///C:/", "/C:/", "C:\\"),
            ("file://localhost/D:/m", "/D:/m", "D:\\m"),
            ("file://C:/x", "//C:/x", "C:\\x"),
            (
                "file://server/share/x",
                "//server/share/x",
                "\\\\server\\share\\x",
            ),
            (
                "file:////server/share/x",
                "//server/share/x",
                "\\\\server\\share\\x",
            ),
            (
                "file://///server/share/x",
                "///server/share/x",
                "\\\\server\\share\\x",
            ),
            ("file:///CON/x", "/CON/x", "\\CON\\x"),
        ];
        for (url, unix, windows) in table {
            assert_eq!(
                file_url_path_for(url, false).as_deref(),
                Some(unix),
                "{url}"
            );
            assert_eq!(
                file_url_path_for(url, true).as_deref(),
                Some(windows),
                "{url}"
            );
        }
        for url in ["http://h/x", "file:/x", "fil", ""] {
            assert_eq!(file_url_path_for(url, true), None, "{url}");
            assert_eq!(file_url_path_for(url, false), None, "{url}");
        }
    }
}
