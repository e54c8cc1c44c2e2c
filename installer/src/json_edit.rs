//! Writes an edited package.json the way it was written: the original's
//! indentation (spaces or a tab), line ending (LF or CRLF) and final
//! newline. Key order is kept by `serde_json`'s `preserve_order`. So an
//! edit by `postbin init` or `pin` shows in a diff as the lines it changed.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct Style {
    /// One level of indentation; empty: the original was on one line.
    pub indent: String,
    pub crlf: bool,
    pub final_newline: bool,
}

impl Style {
    /// The style of `text`; npm's own (two spaces, LF, final newline) where
    /// the text does not say.
    pub fn of(text: &str) -> Style {
        let body = text.trim_end();
        let indent = match body.split('\n').nth(1) {
            None => String::new(),
            Some(line) => {
                let ws: String = line
                    .chars()
                    .take_while(|c| *c == ' ' || *c == '\t')
                    .collect();
                match ws.chars().next() {
                    Some('\t') => "\t".into(),
                    Some(_) if ws.len() <= 8 => ws,
                    _ => "  ".into(),
                }
            }
        };
        Style {
            indent,
            crlf: text.contains("\r\n"),
            final_newline: text.is_empty() || text.ends_with('\n'),
        }
    }
}

/// `value` as JSON text in `style`.
pub fn to_string(value: &Value, style: &Style) -> String {
    let mut out = if style.indent.is_empty() {
        value.to_string()
    } else {
        let mut out = String::new();
        pretty(value, &style.indent, 0, &mut out);
        out
    };
    if style.final_newline {
        out.push('\n');
    }
    if style.crlf {
        out = out.replace('\n', "\r\n");
    }
    out
}

/// `JSON.stringify(value, null, indent)`: what npm writes.
fn pretty(value: &Value, indent: &str, depth: usize, out: &mut String) {
    let (open, close, items): (char, char, Vec<(Option<&String>, &Value)>) = match value {
        Value::Array(a) if !a.is_empty() => ('[', ']', a.iter().map(|v| (None, v)).collect()),
        Value::Object(o) if !o.is_empty() => {
            ('{', '}', o.iter().map(|(k, v)| (Some(k), v)).collect())
        }
        scalar => return out.push_str(&scalar.to_string()),
    };
    out.push(open);
    for (i, (key, item)) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('\n');
        out.push_str(&indent.repeat(depth + 1));
        if let Some(key) = key {
            out.push_str(&Value::String(key.clone()).to_string());
            out.push_str(": ");
        }
        pretty(item, indent, depth + 1, out);
    }
    out.push('\n');
    out.push_str(&indent.repeat(depth));
    out.push(close);
}

/// `postbin.targets.<target>` of a parsed package.json, if it is an object.
pub fn target_entry_mut<'v>(
    root: &'v mut Value,
    target: &str,
) -> Option<&'v mut serde_json::Map<String, Value>> {
    let escaped = target.replace('~', "~0").replace('/', "~1");
    root.pointer_mut(&format!("/postbin/targets/{escaped}"))?
        .as_object_mut()
}

/// Re-serializes `value` in the style of `original`.
pub fn like(original: &str, value: &Value) -> String {
    to_string(value, &Style::of(original))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) {
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(like(text, &v), text);
    }

    #[test]
    fn keeps_indentation_line_endings_and_order() {
        round_trip("{\n  \"name\": \"x\",\n  \"a\": [\n    1\n  ]\n}\n");
        round_trip("{\n    \"z\": 1,\n    \"a\": {\n        \"b\": true\n    }\n}\n");
        round_trip("{\n\t\"z\": 1,\n\t\"a\": {\n\t\t\"b\": []\n\t}\n}");
        round_trip("{\r\n  \"z\": \"é\",\r\n  \"a\": 2\r\n}\r\n");
        round_trip("{\"z\":1,\"a\":[1,2]}");
    }

    #[test]
    fn an_edit_is_written_in_the_same_style() {
        let text = "{\r\n\t\"name\": \"x\"\r\n}";
        let mut v: Value = serde_json::from_str(text).unwrap();
        v["bin"] = serde_json::json!({"x": "bin/x"});
        assert_eq!(
            like(text, &v),
            "{\r\n\t\"name\": \"x\",\r\n\t\"bin\": {\r\n\t\t\"x\": \"bin/x\"\r\n\t}\r\n}"
        );
    }
}
