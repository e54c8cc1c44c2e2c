//! The one network stack: a lazily built ureq `Agent` per proxy route, with
//! explicit connect and stall timeouts, postbin's own redirect policy (bounded,
//! never HTTPS→HTTP, plain HTTP only to loopback or a configured mirror, the
//! GitHub token only to GitHub over HTTPS and re-decided at every hop), and
//! errors classified once as retryable or not.

mod crypto;
pub mod proxy;
pub mod tls;

mod error;

pub use error::{Error, MAX_REDIRECTS};

use crate::settings::Settings;
use crate::settings::registry::Credential;
use crate::url::{self, Url};
use error::classify;
use std::cell::RefCell;
use std::time::Duration;

const USER_AGENT: &str = concat!("postbin/", env!("CARGO_PKG_VERSION"));

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
    fn content_range_start() {
        assert_eq!(parse_content_range_start("bytes 100-199/1000"), Some(100));
        assert_eq!(parse_content_range_start("items 1-2/3"), None);
    }
}
