//! The one network stack: a lazily built ureq `Agent` per proxy route, with
//! explicit connect and stall timeouts, postbin's own redirect policy (bounded,
//! never HTTPS→HTTP, plain HTTP only to loopback or a configured mirror, the
//! GitHub token only to GitHub over HTTPS and re-decided at every hop), and
//! errors classified once as retryable or not.

mod crypto;
pub mod proxy;
pub mod tls;

use crate::settings::Settings;
use crate::settings::registry::Credential;
use crate::url::{self, Url};
use std::cell::RefCell;
use std::fmt;
use std::time::Duration;

pub const MAX_REDIRECTS: u32 = 10;
const USER_AGENT: &str = concat!("postbin/", env!("CARGO_PKG_VERSION"));

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

/// A response that is not a redirect.
pub struct Response {
    pub url: Url,
    pub status: u16,
    pub content_length: Option<u64>,
    /// For 206: where the returned range starts.
    pub range_start: Option<u64>,
    pub body: ureq::Body,
}

/// What `ureq` answers one hop with.
type HttpResponse = ureq::http::Response<ureq::Body>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    /// Headers only (`doctor` checks that a source answers).
    Head,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
        }
    }
}

/// One request for `Client::request`.
#[derive(Clone, Copy, Debug)]
pub struct Request<'u> {
    pub url: &'u Url,
    /// The user configured this URL (a mirror): plain HTTP is then allowed
    /// to its origin, and the GitHub token is never sent, at any hop.
    pub explicit: bool,
    /// Ask for the bytes from this offset on (`Range: bytes=N-`).
    pub range_from: Option<u64>,
    pub method: Method,
    /// npm registry credentials: sent on each hop whose URL is under their
    /// scope (`Credential::applies_to`), on no other.
    pub credential: Option<&'u Credential>,
    /// The URL is the user's npm registry (a wrapper package): explicit, but
    /// no mirror, so failures advise about the registry, not POSTBIN_MIRROR.
    pub to_registry: bool,
}

impl<'u> Request<'u> {
    /// A GET of the whole of `url`.
    pub fn get(url: &'u Url, explicit: bool) -> Self {
        Request {
            url,
            explicit,
            range_from: None,
            method: Method::Get,
            credential: None,
            to_registry: false,
        }
    }

    /// A mirror the user configured: its failures get a mirror's advice.
    fn is_mirror(&self) -> bool {
        self.explicit && !self.to_registry
    }

    /// A HEAD of `url`.
    pub fn head(url: &'u Url, explicit: bool) -> Self {
        Request {
            method: Method::Head,
            ..Request::get(url, explicit)
        }
    }
}

/// An agent per (proxy URL, TLS needed).
type AgentKey = (Option<String>, bool);

/// Builds and reuses agents; opens no connection until asked to.
pub struct Client<'s> {
    settings: &'s Settings,
    offline: bool,
    /// Keyed by (proxy, whether TLS is needed): a plain-HTTP hop (loopback, an
    /// `http://` mirror) never pays for loading and parsing the trust store.
    agents: RefCell<Vec<(AgentKey, ureq::Agent)>>,
    tls: RefCell<Option<ureq::tls::TlsConfig>>,
    /// Plain-HTTP mirror origins already noted (one line each per run).
    noted_http: RefCell<Vec<String>>,
}

impl<'s> Client<'s> {
    pub fn new(settings: &'s Settings) -> Self {
        Self {
            settings,
            offline: settings.offline.value,
            agents: RefCell::new(Vec::new()),
            tls: RefCell::new(None),
            noted_http: RefCell::new(Vec::new()),
        }
    }

    pub fn settings(&self) -> &Settings {
        self.settings
    }

    /// GET (or HEAD) `req.url`, following redirects under postbin's rules.
    pub fn request(&self, req: Request<'_>) -> Result<Response, Error> {
        let mut url = req.url.clone();
        // Fixed at the first hop: a mirror's redirect may not widen plain
        // HTTP to another origin.
        let trusted_http_origin = (req.explicit && url.scheme == "http").then(|| url.origin());
        check_scheme(&url, trusted_http_origin.as_deref())?;
        self.note_plain_http_once(&url, req.explicit);
        for _ in 0..=MAX_REDIRECTS {
            let response = self.send(&url, &req)?;
            match redirect_target(&response, &url, req.is_mirror())? {
                Some(next) => {
                    check_redirect(&url, &next, trusted_http_origin.as_deref())?;
                    crate::debug!("redirected to {next}");
                    url = next;
                }
                None => return final_response(url, response, req.is_mirror()),
            }
        }
        Err(Error::TooManyRedirects {
            url: url.to_string(),
        })
    }

    /// Says once per run and origin that a configured mirror is plain HTTP.
    fn note_plain_http_once(&self, url: &Url, explicit: bool) {
        if let Some(note) = plain_http_note(url, explicit)
            && !self.noted_http.borrow().contains(&url.origin())
        {
            crate::info!("{note}");
            self.noted_http.borrow_mut().push(url.origin());
        }
    }

    /// One hop: `url` through the route and agent chosen for it alone, since
    /// a redirect may cross into or out of NO_PROXY or from HTTPS to a
    /// loopback HTTP host.
    fn send(&self, url: &Url, req: &Request<'_>) -> Result<HttpResponse, Error> {
        // Checked at every hop, so that no redirect opens a socket either.
        if self.offline {
            return Err(Error::Offline {
                url: url.to_string(),
            });
        }
        let route = proxy::choose(url, self.settings);
        let proxy_url = route.as_ref().map(|r| r.url.as_str());
        let tls = url.scheme == "https" || proxy_url.is_some_and(|p| p.starts_with("https:"));
        let agent = self.agent(proxy_url, tls)?;
        let target = url.to_string_with_credentials();
        let mut call = match req.method {
            Method::Head => agent.head(&target),
            Method::Get => agent.get(&target),
        };
        if let Some(from) = req.range_from {
            call = call.header("Range", format!("bytes={from}-"));
        }
        // Re-decided per hop: a redirect off GitHub, or off the registry,
        // must not carry the token.
        if let Some(token) = self.token_for(url, req.explicit) {
            call = call.header("Authorization", format!("Bearer {token}"));
        } else if let Some(credential) = req.credential.filter(|c| c.applies_to(url)) {
            call = call.header("Authorization", credential.header.0.as_str());
        }
        crate::debug!(
            "{} {url}{}",
            req.method.as_str(),
            route
                .as_ref()
                .map(|r| format!(" via proxy {}", url::redact(&r.url)))
                .unwrap_or_default()
        );
        call.call().map_err(|e| {
            classify(
                e,
                url,
                route.as_ref(),
                self.settings.stall_timeout,
                req.is_mirror(),
            )
        })
    }

    /// The GitHub token, only for HTTPS requests to GitHub's own hosts, and
    /// never on the way to or from a mirror (`explicit`), whatever its host.
    fn token_for(&self, url: &Url, explicit: bool) -> Option<&str> {
        if explicit {
            return None;
        }
        let token = self.settings.github_token.as_ref()?;
        let github = self
            .settings
            .github_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&url.host));
        (url.scheme == "https" && github && url.userinfo.is_none())
            .then_some(token.value.0.as_str())
    }

    fn agent(&self, proxy: Option<&str>, tls: bool) -> Result<ureq::Agent, Error> {
        let key = (proxy.map(str::to_string), tls);
        if let Some((_, agent)) = self.agents.borrow().iter().find(|(k, _)| *k == key) {
            return Ok(agent.clone());
        }
        if tls && self.tls.borrow().is_none() {
            install_crypto_provider();
            *self.tls.borrow_mut() = Some(tls::config(self.settings).map_err(Error::TlsSetup)?);
        }
        let proxy = match proxy {
            Some(p) => Some(ureq::Proxy::new(p).map_err(|source| Error::Connect {
                url: url::redact(p),
                via_proxy: Some(url::redact(p)),
                source,
                mirror: false,
            })?),
            None => None,
        };
        let s = self.settings;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            // None disables ureq's own reading of the proxy env: routing is ours.
            .proxy(proxy)
            .timeout_resolve(Some(s.connect_timeout))
            .timeout_connect(Some(s.connect_timeout))
            .timeout_recv_response(Some(s.stall_timeout + s.connect_timeout))
            .timeout_per_read(Some(s.stall_timeout))
            .user_agent(USER_AGENT)
            // A plain-HTTP agent gets ureq's default TLS settings, never used:
            // redirects are followed hop by hop, each hop choosing its agent.
            .tls_config(match tls {
                true => self.tls.borrow().clone().expect("built above"),
                false => ureq::tls::TlsConfig::default(),
            })
            .build()
            .into();
        self.agents.borrow_mut().push((key, agent.clone()));
        Ok(agent)
    }
}

/// Where a redirect points, or `None` when `response` is the answer. A
/// redirect without a usable `Location` is reported as its status.
fn redirect_target(response: &HttpResponse, url: &Url, mirror: bool) -> Result<Option<Url>, Error> {
    let status = response.status().as_u16();
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let location = header(response, "location").ok_or_else(|| Error::Status {
        url: url.to_string(),
        status,
        retry_after: None,
        mirror,
    })?;
    url.join(&location)
        .map(Some)
        .map_err(|source| Error::BadUrl { source })
}

/// A redirect may never downgrade HTTPS, and lands only where a first
/// request could have gone.
fn check_redirect(from: &Url, next: &Url, trusted_http_origin: Option<&str>) -> Result<(), Error> {
    if from.scheme == "https" && next.scheme != "https" {
        return Err(Error::Insecure {
            url: next.to_string(),
            reason: "an HTTPS download redirected to plain HTTP",
        });
    }
    check_scheme(next, trusted_http_origin)
}

/// The last hop's answer: an error unless 2xx, else its body and what its
/// headers say about length and range.
fn final_response(url: Url, response: HttpResponse, mirror: bool) -> Result<Response, Error> {
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let retry_after = header(&response, "retry-after")
            .and_then(|v| parse_retry_after(&v, std::time::SystemTime::now()));
        return Err(Error::Status {
            url: url.to_string(),
            status,
            retry_after,
            mirror,
        });
    }
    let content_length = header(&response, "content-length").and_then(|v| v.trim().parse().ok());
    let range_start = (status == 206)
        .then(|| header(&response, "content-range"))
        .flatten()
        .and_then(|v| parse_content_range_start(&v));
    Ok(Response {
        url,
        status,
        content_length,
        range_start,
        body: response.into_body(),
    })
}

/// A header's value, when present and text.
fn header(response: &HttpResponse, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `Retry-After`: delta-seconds, or an HTTP-date (IMF-fixdate, e.g.
/// `Wed, 21 Oct 2015 07:28:00 GMT`) turned into the wait from `now`.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_weekday, day, month, year, time, "GMT"] = parts[..] else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, sec] = hms[..] else { return None };
    // In range, as an IMF-fixdate is (and so the arithmetic cannot overflow).
    if !(1..=31).contains(&day)
        || !(1..=9999).contains(&year)
        || !(0..24).contains(&h)
        || !(0..60).contains(&m)
        || !(0..=60).contains(&sec)
    {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
    // days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let at = days * 86_400 + h * 3600 + m * 60 + sec;
    let now = now.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
    // A date in the past means "now".
    Some(Duration::from_secs(at.saturating_sub(now).max(0) as u64))
}

fn install_crypto_provider() {
    // ureq uses the process default provider.
    let _ = crypto::provider().install_default();
}

/// HTTPS anywhere; plain HTTP only to loopback or to the origin of a mirror
/// the user configured (the pinned hash still guards those bytes).
fn check_scheme(url: &Url, trusted_http_origin: Option<&str>) -> Result<(), Error> {
    match url.scheme.as_str() {
        "https" => Ok(()),
        "http" if url.is_loopback() || trusted_http_origin == Some(url.origin().as_str()) => Ok(()),
        "http" => Err(Error::Insecure {
            url: url.to_string(),
            reason: "plain HTTP is allowed only for loopback and for mirrors you configure (POSTBIN_MIRROR)",
        }),
        _ => Err(Error::Insecure {
            url: url.to_string(),
            reason: "only https:// (and file:// mirrors) can be downloaded from",
        }),
    }
}

/// The one note line for a plain-HTTP mirror the user configured (loopback
/// needs none): allowed, and said so.
fn plain_http_note(url: &Url, explicit: bool) -> Option<String> {
    (explicit && url.scheme == "http" && !url.is_loopback()).then(|| {
        format!(
            "note: downloading over plain HTTP from the mirror {} you configured; \
             the pinned SHA-256 still verifies every byte",
            url.origin()
        )
    })
}

/// `bytes 100-199/1000` → 100.
pub fn parse_content_range_start(value: &str) -> Option<u64> {
    value
        .trim()
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

fn classify(
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
    fn retry_after_takes_seconds_and_http_dates() {
        use std::time::UNIX_EPOCH;
        // 2015-10-21T07:28:00Z
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let at = |s: &str| parse_retry_after(s, now);
        assert_eq!(at(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            at("Wed, 21 Oct 2015 07:28:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            at("Thu, 22 Oct 2015 07:28:00 GMT"),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(
            at("Tue, 01 Mar 2016 00:00:00 GMT"),
            Some(Duration::from_secs(11_377_920))
        );
        assert_eq!(at("Wed, 21 Oct 2015 07:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(at("soon"), None);
        assert_eq!(at("Wed, 21 Foo 2015 07:28:30 GMT"), None);
    }

    #[test]
    fn scheme_rules() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(check_scheme(&u("https://github.com/x"), None).is_ok());
        assert!(check_scheme(&u("http://127.0.0.1:9/x"), None).is_ok());
        assert!(check_scheme(&u("http://github.com/x"), None).is_err());
        assert!(check_scheme(&u("http://m.corp/x"), Some("http://m.corp")).is_ok());
        assert!(check_scheme(&u("http://other.corp/x"), Some("http://m.corp")).is_err());
        assert!(check_scheme(&u("ftp://h/x"), None).is_err());
    }

    #[test]
    fn an_explicit_plain_http_mirror_gets_one_note_and_nothing_else_does() {
        let u = |s: &str| Url::parse(s).unwrap();
        let note = plain_http_note(&u("http://u:p@mirror.corp:8080/gh/a.tgz"), true).unwrap();
        assert!(note.contains("http://mirror.corp:8080"), "{note}");
        assert!(!note.contains("u:p"), "{note}");
        assert_eq!(plain_http_note(&u("http://mirror.corp/a"), false), None);
        assert_eq!(plain_http_note(&u("https://mirror.corp/a"), true), None);
        assert_eq!(plain_http_note(&u("http://127.0.0.1:8/a"), true), None);
    }

    #[test]
    fn an_explicit_http_mirror_may_not_redirect_to_another_plain_http_host() {
        let u = |s: &str| Url::parse(s).unwrap();
        let mirror = u("http://mirror.corp/gh/a.tgz");
        let trusted = Some(mirror.origin());
        assert!(check_scheme(&mirror, trusted.as_deref()).is_ok());
        assert!(check_scheme(&u("http://mirror.corp:81/a"), trusted.as_deref()).is_err());
        assert!(check_scheme(&u("http://cdn.corp/a"), trusted.as_deref()).is_err());
        assert!(check_scheme(&u("https://cdn.corp/a"), trusted.as_deref()).is_ok());
    }

    #[test]
    fn the_token_goes_only_to_github_over_https_and_never_to_a_mirror() {
        let env = |n: &str| (n == "GITHUB_TOKEN").then(|| "t0k".to_string());
        let settings = Settings::resolve(&env, &crate::npmrc::Npmrc::default(), None);
        let client = Client::new(&settings);
        let u = |s: &str| Url::parse(s).unwrap();
        let gh = u("https://github.com/o/r/releases/download/v1/a.tgz");
        assert_eq!(client.token_for(&gh, false), Some("t0k"));
        assert_eq!(
            client.token_for(&u("https://api.github.com/x"), false),
            Some("t0k")
        );
        assert_eq!(client.token_for(&gh, true), None, "a mirror");
        assert_eq!(client.token_for(&u("http://github.com/x"), false), None);
        assert_eq!(
            client.token_for(&u("https://objects.githubusercontent.com/x"), false),
            None
        );
        assert_eq!(
            client.token_for(&u("https://github.com.evil/x"), false),
            None
        );
        assert_eq!(
            client.token_for(&u("https://u:p@github.com/x"), false),
            None
        );
    }

    #[test]
    fn a_proxy_refusing_credentials_is_told_apart() {
        assert!(refuses_credentials("proxy server responded 407/407"));
        assert!(refuses_credentials("proxy server responded 401/401"));
        assert!(!refuses_credentials("proxy server responded 502/502"));
        assert!(!refuses_credentials("proxy server did not respond"));
    }

    #[test]
    fn content_range_start() {
        assert_eq!(parse_content_range_start("bytes 100-199/1000"), Some(100));
        assert_eq!(parse_content_range_start("items 1-2/3"), None);
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
