//! What can go wrong on the network, said once: each failure's fact and
//! advice, whether it is worth another attempt, and how a ureq error is
//! classified into one.

use super::proxy;
use super::tls;
use super::url::{self, Url};
use std::fmt;
use std::time::Duration;

/// How many redirects one request follows; the error for more names it.
pub const MAX_REDIRECTS: u32 = 10;

#[derive(Debug)]
pub enum Error {
    /// Offline mode forbids opening a socket.
    Offline {
        url: String,
    },
    /// Plain HTTP to a host nobody configured, or an HTTPS→HTTP redirect.
    Insecure {
        url: String,
        reason: &'static str,
    },
    TooManyRedirects {
        url: String,
    },
    BadUrl {
        source: url::ParseError,
    },
    Status {
        url: String,
        status: u16,
        retry_after: Option<Duration>,
        /// The URL is a mirror the user configured (the advice differs).
        mirror: bool,
    },
    Connect {
        url: String,
        via_proxy: Option<String>,
        source: ureq::Error,
        /// The URL is a mirror the user configured (the advice differs).
        mirror: bool,
    },
    /// The proxy refused the tunnel for want of (valid) credentials.
    ProxyAuth {
        url: String,
        /// The redacted proxy URL and the setting it came from.
        proxy: String,
        source: ureq::Error,
    },
    Tls {
        url: String,
        source: ureq::Error,
    },
    /// No byte arrived for the stall timeout.
    Stalled {
        url: String,
        after: Duration,
    },
    /// The connection broke (reset, truncated body, protocol error).
    Transfer {
        url: String,
        source: std::io::Error,
    },
    TlsSetup(tls::Error),
}

impl Error {
    /// The single place that decides what is worth another attempt.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Error::Connect { .. } | Error::Stalled { .. } | Error::Transfer { .. } => true,
            Error::Offline { .. }
            | Error::ProxyAuth { .. }
            | Error::Insecure { .. }
            | Error::TooManyRedirects { .. }
            | Error::BadUrl { .. }
            | Error::Tls { .. }
            | Error::TlsSetup(_) => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl Error {
    /// What went wrong, without advice; every URL in it is redacted.
    pub fn fact(&self) -> String {
        match self {
            Error::Offline { url } => format!("offline mode forbids downloading {url}"),
            Error::Insecure { url, reason } => format!("refusing {url}: {reason}"),
            Error::TooManyRedirects { url } => {
                format!("{url} redirected more than {MAX_REDIRECTS} times (a redirect loop?)")
            }
            Error::BadUrl { source } => source.to_string(),
            Error::Status { url, status, .. } => match status {
                404 => format!("{url} answered 404 Not Found"),
                401 | 403 => format!("{url} answered {status}: access denied"),
                429 => format!("{url} answered 429 Too Many Requests: rate limited"),
                _ => format!("{url} answered HTTP {status}"),
            },
            Error::Connect {
                url,
                via_proxy: Some(proxy),
                ..
            } => format!("cannot reach {url} through the proxy {proxy}"),
            Error::Connect {
                url,
                via_proxy: None,
                ..
            } => format!("cannot connect to {url}"),
            Error::ProxyAuth { url, proxy, .. } => format!(
                "the proxy {proxy} refused to tunnel to {url}: it wants credentials, \
                 or rejected the ones given"
            ),
            Error::Tls { url, .. } => format!("TLS failed for {url}"),
            Error::Stalled { url, after } => format!(
                "the download from {url} stalled: no data for {}s",
                after.as_secs_f32()
            ),
            Error::Transfer { url, .. } => {
                format!("the connection to {url} broke off mid-transfer")
            }
            Error::TlsSetup(e) => e.to_string(),
        }
    }

    /// What to do about it, when there is a specific fix. For a mirror the
    /// user configured the fix is that mirror, not a proxy or another mirror.
    pub fn advice(&self) -> Option<String> {
        let mirror = matches!(
            self,
            Error::Status { mirror: true, .. } | Error::Connect { mirror: true, .. }
        );
        Some(match self {
            Error::Status { status: 404, .. } if mirror => {
                "the mirror lacks this release asset; check that it holds the file at that path"
                    .into()
            }
            Error::Status { status: 404, .. } => {
                "the release asset does not exist (a wrong `url` template?)".into()
            }
            Error::Status {
                status: 401 | 403, ..
            } if mirror => "check the credentials in the mirror URL (POSTBIN_MIRROR)".into(),
            Error::Status {
                status: 401 | 403, ..
            } => "a private repository needs GITHUB_TOKEN; GitHub rate limits too".into(),
            Error::Status { status: 429, .. } if mirror => "retry later".into(),
            Error::Status { status: 429, .. } => {
                "set GITHUB_TOKEN for GitHub's higher limit, or retry later".into()
            }
            Error::Status {
                status: 500..=599, ..
            } if mirror => "the mirror is failing; retry later or raise POSTBIN_RETRIES".into(),
            Error::Status {
                status: 500..=599, ..
            } => "the server is failing; retry later, raise POSTBIN_RETRIES, or use a mirror (POSTBIN_MIRROR)"
                .into(),
            Error::Connect {
                via_proxy: Some(_), ..
            } => "check that the proxy is up, or list the host in NO_PROXY".into(),
            Error::Connect { .. } if mirror => {
                "check that the mirror (POSTBIN_MIRROR) is up and reachable from here".into()
            }
            Error::Connect { .. } => {
                "behind a firewall set HTTPS_PROXY, or point POSTBIN_MIRROR at a mirror you can reach"
                    .into()
            }
            Error::ProxyAuth { .. } => "put them in that setting: http://USER:PASSWORD@HOST:PORT \
                 (percent-encode special characters)"
                .into(),
            Error::Tls { .. } => "if a corporate proxy inspects TLS, give postbin its CA certificate: \
                 POSTBIN_CA_FILE=/path/ca.pem (or NODE_EXTRA_CA_CERTS, or cafile= in .npmrc)"
                .into(),
            Error::Stalled { .. } => "raise POSTBIN_STALL_TIMEOUT on slow links".into(),
            _ => return None,
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.fact())?;
        match self.advice() {
            Some(advice) => write!(f, "; {advice}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect { source, .. }
            | Error::ProxyAuth { source, .. }
            | Error::Tls { source, .. } => Some(source),
            Error::Transfer { source, .. } => Some(source),
            Error::BadUrl { source } => Some(source),
            Error::TlsSetup(e) => e.source(),
            _ => None,
        }
    }
}

pub(super) fn classify(
    error: ureq::Error,
    url: &Url,
    route: Option<&proxy::ProxyChoice>,
    stall: Duration,
    mirror: bool,
) -> Error {
    let url_text = url.to_string();
    let via_proxy = route.map(|r| url::redact(&r.url));
    if let (ureq::Error::ConnectProxyFailed(reason), Some(route)) = (&error, route)
        && refuses_credentials(reason)
    {
        return Error::ProxyAuth {
            url: url_text,
            proxy: format!("{} (set by {})", url::redact(&route.url), route.origin),
            source: error,
        };
    }
    if is_tls_error(&error) {
        return Error::Tls {
            url: url_text,
            source: error,
        };
    }
    match error {
        ureq::Error::Timeout(
            ureq::Timeout::RecvResponse | ureq::Timeout::RecvBody | ureq::Timeout::PerRead,
        ) => Error::Stalled {
            url: url_text,
            after: stall,
        },
        ureq::Error::Io(e) if is_midstream(&e) => Error::Transfer {
            url: url_text,
            source: e,
        },
        other => Error::Connect {
            url: url_text,
            via_proxy,
            source: other,
            mirror,
        },
    }
}

/// ureq's "proxy server responded 407/..." (tinyproxy answers 401).
fn refuses_credentials(reason: &str) -> bool {
    reason.contains("responded 407") || reason.contains("responded 401")
}

fn is_midstream(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::ConnectionReset | K::ConnectionAborted | K::UnexpectedEof | K::BrokenPipe
    )
}

fn is_tls_error(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Tls(_) => true,
        ureq::Error::Io(e) => e
            .get_ref()
            .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_refusing_credentials_is_told_apart() {
        assert!(refuses_credentials("proxy server responded 407/407"));
        assert!(refuses_credentials("proxy server responded 401/401"));
        assert!(!refuses_credentials("proxy server responded 502/502"));
        assert!(!refuses_credentials("proxy server did not respond"));
    }

    #[test]
    fn retryable_errors_are_named() {
        let status = |s| Error::Status {
            url: "u".into(),
            status: s,
            retry_after: None,
            mirror: false,
        };
        assert!(status(503).is_retryable());
        assert!(status(429).is_retryable());
        assert!(!status(404).is_retryable());
        assert!(!status(403).is_retryable());
        assert!(!Error::Offline { url: "u".into() }.is_retryable());
        assert!(
            !Error::Insecure {
                url: "u".into(),
                reason: "r"
            }
            .is_retryable()
        );
    }

    #[test]
    fn a_failing_mirror_is_not_told_to_use_a_mirror_or_proxy() {
        let error = |status, mirror| Error::Status {
            url: "http://m.corp/x".into(),
            status,
            retry_after: None,
            mirror,
        };
        for status in [404, 403, 429, 503] {
            let advice = error(status, true).advice().unwrap();
            assert!(!advice.contains("GITHUB_TOKEN"), "{advice}");
            assert!(!advice.contains("use a mirror"), "{advice}");
        }
        assert!(error(503, false).to_string().contains("POSTBIN_MIRROR"));
        let connect = Error::Connect {
            url: "http://m.corp:81/x".into(),
            via_proxy: None,
            source: ureq::Error::HostNotFound,
            mirror: true,
        };
        let advice = connect.advice().unwrap();
        assert!(advice.contains("mirror"), "{advice}");
        assert!(!advice.contains("PROXY"), "{advice}");
    }
}
