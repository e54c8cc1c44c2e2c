//! The request log: one [`RequestRecord`] per request answered on either
//! host (control requests excepted), readable from Rust and rendered as JSON
//! for the control endpoint.
//!
//! A record is added *before* its response is written, with the number of
//! body bytes the server plans to send, and corrected afterwards if fewer
//! went out. That ordering matters: a client that has just received a
//! response (say main's 302) and immediately asks the log, or makes its
//! next request, must find that response already recorded and in order.

use std::sync::Mutex;

/// Which listener answered a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// The github.com-like host: release download URLs redirect from here.
    Main,
    /// The objects.githubusercontent.com-like host that serves the bytes.
    Objects,
}

impl Host {
    pub fn as_str(self) -> &'static str {
        match self {
            Host::Main => "main",
            Host::Objects => "objects",
        }
    }
}

/// One answered request.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    /// 1-based, increasing in the order responses were started; never reset.
    pub seq: u64,
    pub host: Host,
    pub method: String,
    /// Path and query as sent by the client.
    pub path: String,
    pub range: Option<String>,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
    pub status: u16,
    /// Body bytes written to the connection. While a response is still being
    /// sent this is the planned count; it is corrected if the send fails.
    pub body_bytes_sent: u64,
}

#[derive(Default)]
pub(crate) struct RequestLog {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    last_seq: u64,
    records: Vec<RequestRecord>,
}

impl RequestLog {
    /// Appends a record, assigning its `seq` (the caller's value is ignored).
    pub fn push(&self, mut record: RequestRecord) -> u64 {
        let mut inner = self.inner.lock().unwrap();
        inner.last_seq += 1;
        record.seq = inner.last_seq;
        inner.records.push(record);
        inner.last_seq
    }

    /// Corrects the byte count of a record once its body is done. A record
    /// cleared in the meantime is simply gone.
    pub fn set_body_bytes(&self, seq: u64, bytes: u64) {
        let mut inner = self.inner.lock().unwrap();
        if let Some(r) = inner.records.iter_mut().rev().find(|r| r.seq == seq) {
            r.body_bytes_sent = bytes;
        }
    }

    pub fn snapshot(&self) -> Vec<RequestRecord> {
        self.inner.lock().unwrap().records.clone()
    }

    /// Forgets the records; sequence numbers keep counting up.
    pub fn clear(&self) {
        self.inner.lock().unwrap().records.clear();
    }
}

/// Renders records as a JSON array of objects, one field per struct field.
pub(crate) fn to_json(records: &[RequestRecord]) -> String {
    let mut out = String::from("[");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "\n  {{\"seq\":{},\"host\":{},\"method\":{},\"path\":{},\"range\":{},\
             \"authorization\":{},\"user_agent\":{},\"status\":{},\"body_bytes_sent\":{}}}",
            r.seq,
            json_string(r.host.as_str()),
            json_string(&r.method),
            json_string(&r.path),
            json_opt(r.range.as_deref()),
            json_opt(r.authorization.as_deref()),
            json_opt(r.user_agent.as_deref()),
            r.status,
            r.body_bytes_sent,
        ));
    }
    if !records.is_empty() {
        out.push('\n');
    }
    out.push_str("]\n");
    out
}

fn json_opt(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_string(), json_string)
}

/// A JSON string literal: quotes, backslashes and control characters escaped;
/// other characters (UTF-8 included) pass through, which JSON allows.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str) -> RequestRecord {
        RequestRecord {
            seq: 0,
            host: Host::Objects,
            method: "GET".into(),
            path: path.into(),
            range: Some("bytes=1-".into()),
            authorization: None,
            user_agent: Some("ua \"q\"".into()),
            status: 206,
            body_bytes_sent: 10,
        }
    }

    #[test]
    fn assigns_seq_and_corrects_bytes() {
        let log = RequestLog::default();
        assert_eq!(log.push(record("/a")), 1);
        assert_eq!(log.push(record("/b")), 2);
        log.set_body_bytes(2, 4);
        let all = log.snapshot();
        assert_eq!((all[0].seq, all[0].body_bytes_sent), (1, 10));
        assert_eq!((all[1].seq, all[1].body_bytes_sent), (2, 4));
        log.clear();
        assert!(log.snapshot().is_empty());
        assert_eq!(log.push(record("/c")), 3);
        log.set_body_bytes(99, 1);
    }

    #[test]
    fn escapes_json_strings() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}é"), r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn renders_records_as_json() {
        assert_eq!(to_json(&[]), "[]\n");
        let mut r = record("/p?q=1");
        r.seq = 7;
        assert_eq!(
            to_json(&[r]),
            "[\n  {\"seq\":7,\"host\":\"objects\",\"method\":\"GET\",\"path\":\"/p?q=1\",\
             \"range\":\"bytes=1-\",\"authorization\":null,\"user_agent\":\"ua \\\"q\\\"\",\
             \"status\":206,\"body_bytes_sent\":10}\n]\n"
        );
    }
}
