//! The control endpoint under `/__fixture/` on both hosts, for tests written
//! in JS or shell that cannot call the Rust API: read the request log as
//! JSON, reset the log and faults, and script a fault from query parameters.
//! Control requests are deliberately not logged, so polling the log does not
//! change it.
//!
//! - `GET /__fixture/requests`: the log as a JSON array of records.
//! - `POST /__fixture/reset`: clear the log and all faults.
//! - `POST /__fixture/fault?path=<urlencoded asset path>&kind=<kind>[&times=N]`
//!   with kind `status` (`status=N`), `429` (`retry_after=N`), `stall`
//!   (`after_bytes=N&secs=N`), `reset` (`after_bytes=N`), `truncate`
//!   (`after_bytes=N`), `wrong-bytes`, `redirect-loop`, `redirect-to`
//!   (`to=<urlencoded absolute URL>`), `slow` (`bytes_per_sec=N`) or
//!   `no-range`. Missing or bad parameters get a 400 saying which.
//! - `POST /__fixture/api-page-size?size=N`: the most assets the GitHub-like
//!   API puts on one page.

use crate::conn::Conn;
use crate::faults::Fault;
use crate::http::{self, Request};
use crate::state::Shared;

const TEXT: &str = "text/plain; charset=utf-8";

/// Answers one control request; `action` is the path after `/__fixture/`.
pub(crate) fn handle(mut conn: Conn, req: &Request, action: &str, shared: &Shared) {
    let (status, content_type, body) = match (req.method.as_str(), action) {
        ("GET" | "HEAD", "requests") => (
            200,
            "application/json",
            crate::log::to_json(&shared.log.snapshot()),
        ),
        ("POST", "reset") => {
            shared.log.clear();
            shared.faults.clear();
            (200, TEXT, "ok\n".to_string())
        }
        ("POST", "api-page-size") => {
            let size = http::parse_query(req.query.as_deref().unwrap_or(""))
                .into_iter()
                .find(|(k, _)| k == "size")
                .and_then(|(_, v)| v.parse::<usize>().ok().filter(|n| *n > 0));
            match size {
                Some(size) => {
                    shared.set_api_page_size(size);
                    (200, TEXT, "ok\n".to_string())
                }
                None => (400, TEXT, "parameter `size` must be a whole number above 0\n".to_string()),
            }
        }
        ("POST", "fault") => match parse_fault(req.query.as_deref().unwrap_or("")) {
            Ok((key, fault, times)) => {
                shared.faults.set(key, fault, times);
                (200, TEXT, "ok\n".to_string())
            }
            Err(msg) => (400, TEXT, format!("{msg}\n")),
        },
        (_, "requests" | "reset" | "fault" | "api-page-size") => (405, TEXT, "method not allowed\n".to_string()),
        _ => (
            404,
            TEXT,
            "unknown control endpoint; try /__fixture/requests, /__fixture/reset or /__fixture/fault\n"
                .to_string(),
        ),
    };
    let headers = [("Cache-Control", "no-store".to_string())];
    let _ = http::write_simple(
        &mut conn,
        status,
        &headers,
        content_type,
        body.as_bytes(),
        req.is_head(),
    );
    conn.finish();
}

/// Turns `path=..&kind=..&...` into a fault key, fault and count, or a
/// message saying what is wrong.
pub(crate) fn parse_fault(query: &str) -> Result<(String, Fault, Option<u32>), String> {
    let params = http::parse_query(query);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let required = |name: &str| get(name).ok_or_else(|| format!("missing parameter `{name}`"));
    fn int<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
        value.parse().map_err(|_| {
            format!("parameter `{name}` must be a non-negative integer, got {value:?}")
        })
    }
    let num_u64 = |name: &str| required(name).and_then(|v| int::<u64>(name, v));
    let num_u32 = |name: &str| required(name).and_then(|v| int::<u32>(name, v));

    let path = required("path")?;
    if !path.starts_with('/') {
        return Err(format!(
            "parameter `path` must be an absolute URL path, got {path:?}"
        ));
    }
    let fault = match required("kind")? {
        "status" => {
            let status: u16 = required("status").and_then(|v| int("status", v))?;
            if !(100..=599).contains(&status) {
                return Err(format!(
                    "parameter `status` must be 100..=599, got {status}"
                ));
            }
            Fault::Status(status)
        }
        "429" => Fault::TooManyRequests {
            retry_after_secs: num_u32("retry_after")?,
        },
        "stall" => Fault::Stall {
            after_bytes: num_u64("after_bytes")?,
            secs: num_u32("secs")?,
        },
        "reset" => Fault::ResetMidBody {
            after_bytes: num_u64("after_bytes")?,
        },
        "truncate" => Fault::Truncate {
            after_bytes: num_u64("after_bytes")?,
        },
        "wrong-bytes" => Fault::WrongBytes,
        "latency" => Fault::Latency { ms: num_u64("ms")? },
        "flip-byte" => Fault::FlipByteAt {
            offset: num_u64("offset")?,
        },
        "redirect-loop" => Fault::RedirectLoop,
        "redirect-to" => {
            let to = required("to")?;
            if !(to.starts_with("http://") || to.starts_with("https://")) {
                return Err(format!(
                    "parameter `to` must be an absolute http(s) URL, got {to:?}"
                ));
            }
            Fault::RedirectTo(to.to_string())
        }
        "slow" => {
            let bytes_per_sec = num_u64("bytes_per_sec")?;
            if bytes_per_sec == 0 {
                return Err("parameter `bytes_per_sec` must be at least 1".to_string());
            }
            Fault::Slow { bytes_per_sec }
        }
        "no-range" => Fault::NoRange,
        "endless" => Fault::Endless,
        other => {
            return Err(format!(
                "unknown fault kind {other:?}; expected status, 429, stall, reset, truncate, \
                 wrong-bytes, redirect-loop, redirect-to, slow, no-range or endless"
            ));
        }
    };
    let times = match get("times") {
        None | Some("") => None,
        Some(v) => Some(int::<u32>("times", v)?),
    };
    Ok((http::fault_key(path), fault, times))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let p = "path=%2Fa%2Fb";
        let cases = [
            ("kind=status&status=503", Fault::Status(503)),
            (
                "kind=429&retry_after=7",
                Fault::TooManyRequests {
                    retry_after_secs: 7,
                },
            ),
            (
                "kind=stall&after_bytes=5&secs=1",
                Fault::Stall {
                    after_bytes: 5,
                    secs: 1,
                },
            ),
            (
                "kind=reset&after_bytes=0",
                Fault::ResetMidBody { after_bytes: 0 },
            ),
            (
                "kind=truncate&after_bytes=9",
                Fault::Truncate { after_bytes: 9 },
            ),
            ("kind=wrong-bytes", Fault::WrongBytes),
            ("kind=redirect-loop", Fault::RedirectLoop),
            (
                "kind=redirect-to&to=http%3A%2F%2F127.0.0.1%3A1%2Fx%3Fy%3D1",
                Fault::RedirectTo("http://127.0.0.1:1/x?y=1".into()),
            ),
            (
                "kind=slow&bytes_per_sec=100",
                Fault::Slow { bytes_per_sec: 100 },
            ),
            ("kind=no-range", Fault::NoRange),
            ("kind=latency&ms=50", Fault::Latency { ms: 50 }),
            ("kind=flip-byte&offset=7", Fault::FlipByteAt { offset: 7 }),
        ];
        for (q, want) in cases {
            let (key, fault, times) = parse_fault(&format!("{p}&{q}")).unwrap();
            assert_eq!((key.as_str(), fault, times), ("/a/b", want, None), "{q}");
        }
        let (_, _, times) = parse_fault("path=/a&kind=no-range&times=2").unwrap();
        assert_eq!(times, Some(2));
    }

    #[test]
    fn rejects_bad_parameters() {
        for q in [
            "",
            "kind=status&status=500",
            "path=a&kind=status&status=500",
            "path=/a",
            "path=/a&kind=bogus",
            "path=/a&kind=status",
            "path=/a&kind=status&status=99",
            "path=/a&kind=status&status=abc",
            "path=/a&kind=429",
            "path=/a&kind=stall&after_bytes=1",
            "path=/a&kind=truncate&after_bytes=-1",
            "path=/a&kind=redirect-to&to=ftp://x",
            "path=/a&kind=slow&bytes_per_sec=0",
            "path=/a&kind=no-range&times=x",
        ] {
            let err = parse_fault(q).unwrap_err();
            assert!(!err.is_empty(), "{q}");
        }
    }
}
