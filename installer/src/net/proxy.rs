//! Which proxy, if any, a URL goes through: `HTTPS_PROXY`/`HTTP_PROXY` (and
//! npm's keys, resolved in `settings`), minus the `NO_PROXY` list. ureq reads
//! only the environment and matches `NO_PROXY` more narrowly than npm and
//! curl do, so postbin decides per request and hands ureq the result.

use crate::settings::{Setting, Settings};
use crate::url::Url;

#[derive(Clone, Debug, PartialEq)]
pub struct ProxyChoice {
    /// As configured (may carry credentials; never printed as is).
    pub url: String,
    pub origin: crate::settings::Origin,
}

/// The proxy for `url`, or `None` to connect directly.
pub fn choose(url: &Url, settings: &Settings) -> Option<ProxyChoice> {
    if url.is_loopback() && !settings.proxy_loopback {
        // Nobody proxies their own machine; npm and curl agree.
        return None;
    }
    let setting: &Setting<String> = match url.scheme.as_str() {
        "https" => settings.https_proxy.as_ref()?,
        "http" => settings.http_proxy.as_ref()?,
        _ => return None,
    };
    if let Some(no_proxy) = &settings.no_proxy
        && bypasses(&no_proxy.value, url)
    {
        return None;
    }
    Some(ProxyChoice {
        url: normalize_proxy_url(&setting.value),
        origin: setting.origin.clone(),
    })
}

/// `proxy.corp:3128` → `http://proxy.corp:3128`.
fn normalize_proxy_url(value: &str) -> String {
    if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    }
}

/// True if `NO_PROXY` lists the URL's host. Entries: `*` (everything),
/// a domain (matching itself and its subdomains, with or without a leading
/// `.` or `*.`), `host:port`, an IP literal, or an IPv4 CIDR block.
fn bypasses(no_proxy: &str, url: &Url) -> bool {
    let host = url.host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_or_default();
    no_proxy
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| entry_matches(&entry.to_ascii_lowercase(), host, port))
}

fn entry_matches(entry: &str, host: &str, port: Option<u16>) -> bool {
    if entry == "*" {
        return true;
    }
    if let Some((net, bits)) = entry.split_once('/') {
        return cidr_contains(net, bits, host);
    }
    // `[::1]:8080`, `host:8080`; a bare IPv6 literal has several colons.
    let (name, entry_port) = if let Some(rest) = entry.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => (rest, None),
        }
    } else if entry.matches(':').count() == 1 {
        let (h, p) = entry.split_once(':').unwrap();
        (h, Some(p))
    } else {
        (entry, None)
    };
    if let Some(p) = entry_port
        && p.parse::<u16>().ok() != port
    {
        return false;
    }
    let name = name.trim_start_matches("*.").trim_start_matches('.');
    host == name || host.ends_with(&format!(".{name}"))
}

fn cidr_contains(net: &str, bits: &str, host: &str) -> bool {
    let (Ok(net), Ok(bits), Ok(ip)) = (
        net.parse::<std::net::Ipv4Addr>(),
        bits.parse::<u32>(),
        host.parse::<std::net::Ipv4Addr>(),
    ) else {
        return false;
    };
    if bits > 32 {
        return false;
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from(net) & mask == u32::from(ip) & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn no_proxy_table() {
        let cases = [
            ("*", "https://github.com/x", true),
            ("github.com", "https://github.com/x", true),
            ("github.com", "https://api.github.com/x", true),
            (".github.com", "https://github.com/x", true),
            ("*.github.com", "https://objects.github.com/x", true),
            ("hub.com", "https://github.com/x", false),
            ("corp:8443", "https://corp:8443/x", true),
            ("corp:8443", "https://corp/x", false),
            ("corp:443", "https://corp/x", true),
            ("10.1.2.3", "http://10.1.2.3/x", true),
            ("10.0.0.0/8", "http://10.200.0.1/x", true),
            ("10.0.0.0/8", "http://11.0.0.1/x", false),
            ("[::2]:80", "http://[::2]/x", true),
            ("::2", "http://[::2]/x", true),
            ("a.corp, GITHUB.COM", "https://github.com/x", true),
            ("", "https://github.com/x", false),
        ];
        for (list, u, want) in cases {
            assert_eq!(bypasses(list, &url(u)), want, "{list} vs {u}");
        }
    }

    #[test]
    fn chooses_by_scheme_and_never_for_loopback() {
        let env = [
            ("HTTPS_PROXY", "proxy:1"),
            ("HTTP_PROXY", "http://p2:2"),
            ("NO_PROXY", "internal"),
        ];
        let s = Settings::resolve(
            &|n: &str| {
                env.iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            },
            &crate::npmrc::Npmrc::default(),
            None,
        );
        assert_eq!(
            choose(&url("https://github.com/"), &s).unwrap().url,
            "http://proxy:1"
        );
        assert_eq!(
            choose(&url("http://example.org/"), &s).unwrap().url,
            "http://p2:2"
        );
        assert_eq!(choose(&url("https://a.internal/"), &s), None);
        assert_eq!(choose(&url("http://127.0.0.1:9/"), &s), None);
        assert_eq!(choose(&url("file:///x"), &s), None);
    }

    #[test]
    fn the_test_knob_proxies_loopback_but_no_proxy_still_wins() {
        let env = [
            ("HTTP_PROXY", "http://p:1"),
            ("POSTBIN_TEST_PROXY_LOOPBACK", "1"),
        ];
        let lookup = |n: &str| {
            env.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        };
        let s = Settings::resolve(&lookup, &crate::npmrc::Npmrc::default(), None);
        assert_eq!(
            choose(&url("http://127.0.0.1:9/"), &s).unwrap().url,
            "http://p:1"
        );
        let mut s = s;
        s.no_proxy = Some(Setting {
            value: "127.0.0.1".into(),
            origin: crate::settings::Origin::Default,
        });
        assert_eq!(choose(&url("http://127.0.0.1:9/"), &s), None);
    }
}
