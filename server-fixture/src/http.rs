//! The HTTP/1.1 wire format, by hand: reading and parsing a request head,
//! percent-decoding and path sanitising, `Range` parsing, and writing a
//! response head. Nothing here knows about hosts, faults or the file tree;
//! it only turns bytes into values and back, so it is easy to unit-test.

use std::io::{self, Read, Write};

/// Largest request head (request line plus headers) we accept. Real clients
/// send well under 1 KiB; the cap keeps a misbehaving client from making a
/// connection thread buffer without bound.
pub(crate) const MAX_HEAD: usize = 16 * 1024;

/// A parsed request head. A body, if any, is not read here: every response
/// closes the connection, and `Conn::finish` discards unread input first.
#[derive(Debug)]
pub(crate) struct Request {
    pub method: String,
    /// The request target in origin form (`/path?query`), as sent.
    pub target: String,
    /// The path part of `target`, still percent-encoded.
    pub raw_path: String,
    /// The query part of `target`, without the `?`.
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
}

/// The value of the first header with this name in a request's or a
/// response's headers (names compare case-insensitively).
pub fn header_in<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Request {
    /// The first header with this name.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed (or never spoke) before sending a single byte.
    Closed,
    /// The head grew past [`MAX_HEAD`].
    TooLarge,
    /// Not HTTP/1.x as we understand it.
    Malformed(&'static str),
    /// A read failed (timeout, reset, TLS handshake failure).
    Io,
}

/// Reads one request head. Reads in chunks rather than byte by byte; any
/// bytes of a body read along with the head are dropped.
pub(crate) fn read_request(r: &mut impl Read) -> Result<Request, ReadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(head_len) = find_head_end(&buf) {
            if head_len > MAX_HEAD {
                return Err(ReadError::TooLarge);
            }
            return parse_head(&buf[..head_len]);
        }
        if buf.len() >= MAX_HEAD {
            return Err(ReadError::TooLarge);
        }
        let n = match r.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(ReadError::Io),
        };
        if n == 0 {
            return Err(if buf.is_empty() {
                ReadError::Closed
            } else {
                ReadError::Malformed("connection closed in the middle of the request head")
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Finds the blank line ending the head. Accepts bare `\n` line ends as well
/// as `\r\n`, as lenient servers do. Returns the head's length.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    (0..buf.len()).find(|&i| {
        buf[i] == b'\n' && (buf[i + 1..].starts_with(b"\n") || buf[i + 1..].starts_with(b"\r\n"))
    })
}

fn parse_head(head: &[u8]) -> Result<Request, ReadError> {
    // Header values are not guaranteed to be UTF-8; a lossy conversion is fine
    // for a test server that only records and compares them.
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));

    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed("bad request line"));
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(ReadError::Malformed("bad method"));
    }
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Malformed("unsupported HTTP version"));
    }
    let target = origin_form(target).ok_or(ReadError::Malformed("bad request target"))?;

    let mut headers = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            return Err(ReadError::Malformed("obsolete header line folding"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(ReadError::Malformed("header line without a colon"))?;
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(ReadError::Malformed("bad header name"));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }

    let (raw_path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.clone(), None),
    };
    Ok(Request {
        method: method.to_string(),
        target,
        raw_path,
        query,
        headers,
    })
}

/// Reduces a request target to origin form (`/path?query`). Absolute form
/// (`http://host/path`, what proxies receive) is accepted for leniency.
fn origin_form(target: &str) -> Option<String> {
    let target = target.split('#').next().unwrap_or("");
    if target.starts_with('/') {
        return Some(target.to_string());
    }
    let rest = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))?;
    match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => Some(rest[i..].to_string()),
        Some(i) => Some(format!("/{}", &rest[i..])),
        None => Some("/".to_string()),
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Percent-decodes `s`. With `plus_as_space` (query strings, form encoding)
/// `+` means a space. Returns None for a malformed escape or non-UTF-8.
pub(crate) fn percent_decode(s: &str, plus_as_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Splits a raw (percent-encoded) URL path into decoded segments that are
/// safe to join onto the root directory. Empty and `.` segments are dropped;
/// `..`, an encoded `/`, a NUL byte or a bad escape is an error, because
/// the fixture must never be talked into serving outside its root.
pub(crate) fn sanitize_path(raw_path: &str) -> Result<Vec<String>, &'static str> {
    let mut segments = Vec::new();
    for raw in raw_path.split('/') {
        let seg = percent_decode(raw, false).ok_or("malformed percent-encoding in path")?;
        if seg.is_empty() || seg == "." {
            continue;
        }
        if seg == ".." {
            return Err("path traversal is not allowed");
        }
        if seg.contains(['/', '\0']) {
            return Err("encoded slash or NUL in path");
        }
        segments.push(seg);
    }
    Ok(segments)
}

/// The canonical form of a path used as a fault key: decoded segments joined
/// by single slashes, no query. Used both for incoming requests and for the
/// keys tests pass to `set_fault`, so `a%20b` and `a b` name the same asset.
pub(crate) fn fault_key(path: &str) -> String {
    let path = path.split('?').next().unwrap_or("");
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .map(|s| percent_decode(s, false).unwrap_or_else(|| s.to_string()))
        .collect();
    format!("/{}", segments.join("/"))
}

/// Parses `a=b&c=d` into decoded pairs. Malformed escapes are kept verbatim.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| percent_decode(s, true).unwrap_or_else(|| s.to_string());
            (dec(k), dec(v))
        })
        .collect()
}

/// What a `Range` header asks for, against a body of known length.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RangeRequest {
    /// No usable Range header: send the whole body with 200.
    Full,
    /// Inclusive byte positions: send them with 206.
    Partial { start: u64, end: u64 },
    /// Syntactically fine but outside the body: 416.
    Unsatisfiable,
}

/// Parses a single-range `bytes=` header (`N-`, `N-M`, `-SUFFIX`). Headers we
/// do not understand (other units, several ranges, `M < N`) are ignored, as
/// RFC 9110 allows, so the client just gets the full body.
pub(crate) fn parse_range(value: Option<&str>, total: u64) -> RangeRequest {
    let Some(value) = value else {
        return RangeRequest::Full;
    };
    let value = value.trim();
    let Some(spec) = value
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .map(|_| &value[6..])
    else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeRequest::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // Suffix range: the last N bytes.
        let Ok(n) = last.parse::<u64>() else {
            return RangeRequest::Full;
        };
        if n == 0 || total == 0 {
            return RangeRequest::Unsatisfiable;
        }
        return RangeRequest::Partial {
            start: total.saturating_sub(n),
            end: total - 1,
        };
    }
    let Ok(start) = first.parse::<u64>() else {
        return RangeRequest::Full;
    };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        match last.parse::<u64>() {
            Ok(end) if end >= start => end,
            _ => return RangeRequest::Full,
        }
    };
    if start >= total {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Partial {
        start,
        end: end.min(total - 1),
    }
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Renders a response head. Every response carries `Connection: close`: the
/// fixture answers one request per connection, which keeps the server simple
/// and is all our clients need.
pub(crate) fn response_head(status: u16, headers: &[(&str, String)]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    head.into_bytes()
}

/// Writes a complete small response (head and body in one write, so it goes
/// out in as few packets as possible). For HEAD the body is left off but its
/// Content-Length still describes it.
pub(crate) fn write_simple(
    w: &mut impl Write,
    status: u16,
    headers: &[(&str, String)],
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let mut all: Vec<(&str, String)> = vec![
        ("Content-Type", content_type.to_string()),
        ("Content-Length", body.len().to_string()),
    ];
    all.extend(headers.iter().cloned());
    let mut out = response_head(status, &all);
    if !head_only {
        out.extend_from_slice(body);
    }
    w.write_all(&out)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Request, ReadError> {
        read_request(&mut raw.as_bytes())
    }

    #[test]
    fn parses_request_line_headers_and_query() {
        let req = parse("GET /a/b%20c?x=1 HTTP/1.1\r\nHost: h\r\nRange:  bytes=0-1 \r\n\r\nBODY")
            .unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(req.target, "/a/b%20c?x=1");
        assert_eq!(req.raw_path, "/a/b%20c");
        assert_eq!(req.query.as_deref(), Some("x=1"));
        assert_eq!(req.header("range"), Some("bytes=0-1"));
        assert_eq!(req.header("HOST"), Some("h"));
    }

    #[test]
    fn accepts_bare_newlines_and_absolute_form() {
        let req = parse("HEAD http://127.0.0.1:1/x?y HTTP/1.0\n\n").unwrap();
        assert_eq!(req.target, "/x?y");
        assert!(req.is_head());
        let req = parse("GET http://127.0.0.1:1 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(req.target, "/");
    }

    #[test]
    fn rejects_malformed_heads() {
        assert!(matches!(parse(""), Err(ReadError::Closed)));
        assert!(matches!(parse("GET /"), Err(ReadError::Malformed(_))));
        assert!(matches!(
            parse("GET / HTTP/2\r\n\r\n"),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            parse("GET * HTTP/1.1\r\n\r\n"),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            parse("GET / HTTP/1.1\r\nnocolon\r\n\r\n"),
            Err(ReadError::Malformed(_))
        ));
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert!(matches!(parse(&huge), Err(ReadError::TooLarge)));
    }

    #[test]
    fn sanitizes_paths() {
        assert_eq!(sanitize_path("/a//b/./c%20d").unwrap(), ["a", "b", "c d"]);
        assert!(sanitize_path("/a/../b").is_err());
        assert!(sanitize_path("/a/%2e%2E/b").is_err());
        assert!(sanitize_path("/a/..%2fb").is_err());
        assert!(sanitize_path("/a/%00").is_err());
        assert!(sanitize_path("/a/%zz").is_err());
        assert_eq!(sanitize_path("/").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn fault_keys_are_normalised() {
        assert_eq!(fault_key("/a/b%20c?sig=1"), "/a/b c");
        assert_eq!(fault_key("a//b c"), "/a/b c");
        assert_eq!(fault_key("/"), "/");
    }

    #[test]
    fn parses_query_strings() {
        assert_eq!(
            parse_query("path=%2Fa%2Fb&kind=status&x&to=http%3A%2F%2Fh%2Fp+q"),
            [
                ("path".to_string(), "/a/b".to_string()),
                ("kind".to_string(), "status".to_string()),
                ("x".to_string(), String::new()),
                ("to".to_string(), "http://h/p q".to_string()),
            ]
        );
    }

    #[test]
    fn parses_ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 10), Full);
        for (header, len, want) in [
            ("bytes=2-", 10, Partial { start: 2, end: 9 }),
            ("bytes=2-4", 10, Partial { start: 2, end: 4 }),
            ("bytes=2-400", 10, Partial { start: 2, end: 9 }),
            ("Bytes=-3", 10, Partial { start: 7, end: 9 }),
            ("bytes=-30", 10, Partial { start: 0, end: 9 }),
            ("bytes=10-", 10, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=-0", 10, Unsatisfiable),
            ("bytes=5-2", 10, Full),
            ("bytes=0-1,3-4", 10, Full),
            ("items=0-1", 10, Full),
            ("bytes=x-", 10, Full),
        ] {
            assert_eq!(
                parse_range(Some(header), len),
                want,
                "{header} of {len} bytes"
            );
        }
    }

    #[test]
    fn renders_heads() {
        let head = response_head(206, &[("Content-Range", "bytes 0-1/2".into())]);
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-1/2\r\nConnection: close\r\n\r\n"
        );
        let mut out = Vec::new();
        write_simple(&mut out, 404, &[], "text/plain", b"nope", true).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("Content-Length: 4\r\n"));
        assert!(out.ends_with("\r\n\r\n"));
    }
}
