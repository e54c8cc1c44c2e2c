//! Just enough TOML to read a crate's `Cargo.toml` for `init --from
//! Cargo.toml`: tables (`[a.b."c"]`, `[[bin]]`), keys (bare, quoted,
//! dotted), strings (basic with escapes, literal, and the multi-line forms)
//! and inline tables of strings. Every other value (numbers, booleans,
//! dates, arrays) is recognised and passed over. A TOML crate would cost
//! the installer far more than this file, for one publisher command.

/// A value postbin reads; anything else is `Other`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    /// An inline table: its string values by key (others left out).
    Table(Vec<(String, String)>),
    Other,
}

/// One `key = value` line: the table it is in (`[[bin]]` tables get their
/// index as a last segment: `bin`, `0`), its dotted key, the value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub table: Vec<String>,
    pub key: Vec<String>,
    pub value: Value,
}

/// Every entry of the document, in order; an error says the line.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    let mut table: Vec<String> = Vec::new();
    let mut arrays: Vec<(Vec<String>, usize)> = Vec::new();
    loop {
        p.skip_blank_lines();
        let Some(c) = p.peek() else { break };
        if c == b'[' {
            let array = p.s.get(p.i + 1) == Some(&b'[');
            p.i += if array { 2 } else { 1 };
            let path = p.key()?;
            p.expect(b']')?;
            if array {
                p.expect(b']')?;
                let n = match arrays.iter_mut().find(|(k, _)| *k == path) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        arrays.push((path.clone(), 0));
                        0
                    }
                };
                table = path;
                table.push(n.to_string());
            } else {
                table = path;
            }
        } else {
            let key = p.key()?;
            p.expect(b'=')?;
            let value = p.value()?;
            out.push(Entry {
                table: table.clone(),
                key,
                value,
            });
        }
        p.end_of_line()?;
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn line(&self) -> usize {
        1 + self.s[..self.i.min(self.s.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    fn error(&self, what: &str) -> String {
        format!("line {}: {what}", self.line())
    }

    fn spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn comment(&mut self) {
        if self.peek() == Some(b'#') {
            while !matches!(self.peek(), None | Some(b'\n')) {
                self.i += 1;
            }
        }
    }

    /// Spaces, comments and newlines.
    fn skip_blank_lines(&mut self) {
        loop {
            self.spaces();
            self.comment();
            match self.peek() {
                Some(b'\n' | b'\r') => self.i += 1,
                _ => return,
            }
        }
    }

    fn end_of_line(&mut self) -> Result<(), String> {
        self.spaces();
        self.comment();
        match self.peek() {
            None | Some(b'\n' | b'\r') => Ok(()),
            Some(_) => Err(self.error("unexpected text after a value")),
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), String> {
        self.spaces();
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", b as char)))
        }
    }

    /// A dotted key: `a`, `a.b`, `"a.b".c`, `'x'`.
    fn key(&mut self) -> Result<Vec<String>, String> {
        let mut parts = Vec::new();
        loop {
            self.spaces();
            let part = match self.peek() {
                Some(b'"') => self.basic_string()?,
                Some(b'\'') => self.literal_string()?,
                _ => {
                    let start = self.i;
                    while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                    {
                        self.i += 1;
                    }
                    if start == self.i {
                        return Err(self.error("expected a key"));
                    }
                    String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
                }
            };
            parts.push(part);
            self.spaces();
            if self.peek() != Some(b'.') {
                return Ok(parts);
            }
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.spaces();
        match self.peek() {
            Some(b'"') if self.s[self.i..].starts_with(b"\"\"\"") => {
                self.multi_line(b"\"\"\"")?;
                Ok(Value::Other)
            }
            Some(b'\'') if self.s[self.i..].starts_with(b"'''") => {
                self.multi_line(b"'''")?;
                Ok(Value::Other)
            }
            Some(b'"') => Ok(Value::Str(self.basic_string()?)),
            Some(b'\'') => Ok(Value::Str(self.literal_string()?)),
            Some(b'{') => self.inline_table(),
            Some(b'[') => {
                self.array()?;
                Ok(Value::Other)
            }
            Some(_) => {
                // A number, boolean or date: up to a separator.
                while !matches!(
                    self.peek(),
                    None | Some(b'\n' | b'\r' | b',' | b'}' | b']' | b'#' | b' ' | b'\t')
                ) {
                    self.i += 1;
                }
                Ok(Value::Other)
            }
            None => Err(self.error("expected a value")),
        }
    }

    fn basic_string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\n') => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return String::from_utf8(out).map_err(|_| self.error("invalid UTF-8"));
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self
                        .peek()
                        .ok_or_else(|| self.error("unterminated string"))?;
                    self.i += 1;
                    match c {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'"' | b'\\' => out.push(c),
                        b'u' | b'U' => {
                            let n = if c == b'u' { 4 } else { 8 };
                            let hex = self.s.get(self.i..self.i + n).unwrap_or_default();
                            let ch = std::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.error("bad \\u escape"))?;
                            self.i += n;
                            out.extend(ch.to_string().as_bytes());
                        }
                        _ => return Err(self.error("unknown escape in a string")),
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn literal_string(&mut self) -> Result<String, String> {
        self.i += 1;
        let start = self.i;
        while !matches!(self.peek(), None | Some(b'\'' | b'\n')) {
            self.i += 1;
        }
        if self.peek() != Some(b'\'') {
            return Err(self.error("unterminated string"));
        }
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        self.i += 1;
        Ok(text)
    }

    fn multi_line(&mut self, delimiter: &[u8]) -> Result<(), String> {
        self.i += delimiter.len();
        while self.i < self.s.len() {
            if self.s[self.i] == b'\\' && delimiter[0] == b'"' {
                self.i += 2;
                continue;
            }
            if self.s[self.i..].starts_with(delimiter) {
                self.i += delimiter.len();
                // Up to two more quotes belong to the content.
                while self.peek() == Some(delimiter[0]) {
                    self.i += 1;
                }
                return Ok(());
            }
            self.i += 1;
        }
        Err(self.error("unterminated multi-line string"))
    }

    fn inline_table(&mut self) -> Result<Value, String> {
        self.i += 1;
        let mut fields = Vec::new();
        loop {
            self.spaces();
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(Value::Table(fields));
            }
            let key = self.key()?;
            self.expect(b'=')?;
            if let Value::Str(v) = self.value()? {
                fields.push((key.join("."), v));
            }
            self.spaces();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return Err(self.error("expected `,` or `}` in an inline table")),
            }
        }
    }

    /// An array, possibly over several lines, with comments: passed over.
    fn array(&mut self) -> Result<(), String> {
        self.i += 1;
        loop {
            self.skip_blank_lines();
            match self.peek() {
                None => return Err(self.error("unterminated array")),
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b',') => self.i += 1,
                Some(_) => {
                    self.value()?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(text: &str) -> Vec<(String, String)> {
        parse(text)
            .unwrap()
            .into_iter()
            .filter_map(|e| match e.value {
                Value::Str(v) => Some((format!("{}:{}", e.table.join("."), e.key.join(".")), v)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn reads_the_parts_of_a_cargo_toml_postbin_needs() {
        let text = r#"
# a comment
[package]
name = "cargo-llvm-cov" # trailing comment
version = "0.6.15"
description = """
Multi-line, with "quotes" and a ] bracket
"""
keywords = [
  "coverage", # why
  "llvm",
]
edition.workspace = true
repository = 'https://github.com/taiki-e/cargo-llvm-cov'

[package.metadata.binstall]
pkg-url = "{ repo }/releases/download/v{ version }/{ name }-{ target }{ archive-suffix }"
bin-dir = "{ bin }{ binary-ext }"
pkg-fmt = "tgz"

[package.metadata.binstall.overrides.'cfg(windows)']
pkg-fmt = "zip"

[package.metadata.binstall.overrides]
x86_64-apple-darwin = { pkg-fmt = "zip", bin-dir = "a\u00e9/{ bin }" }

[[bin]]
name = "one"
[[bin]]
name = "two"
path = "src/two.rs"
"#;
        let got = strings(text);
        let want = [
            ("package:name", "cargo-llvm-cov"),
            ("package:version", "0.6.15"),
            (
                "package:repository",
                "https://github.com/taiki-e/cargo-llvm-cov",
            ),
            (
                "package.metadata.binstall:pkg-url",
                "{ repo }/releases/download/v{ version }/{ name }-{ target }{ archive-suffix }",
            ),
            ("package.metadata.binstall:bin-dir", "{ bin }{ binary-ext }"),
            ("package.metadata.binstall:pkg-fmt", "tgz"),
            (
                "package.metadata.binstall.overrides.cfg(windows):pkg-fmt",
                "zip",
            ),
            ("bin.0:name", "one"),
            ("bin.1:name", "two"),
            ("bin.1:path", "src/two.rs"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
        let inline = parse(text)
            .unwrap()
            .into_iter()
            .find(|e| e.key == ["x86_64-apple-darwin"])
            .unwrap();
        assert_eq!(
            inline.value,
            Value::Table(vec![
                ("pkg-fmt".into(), "zip".into()),
                ("bin-dir".into(), "aé/{ bin }".into())
            ])
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            parse("[package]\nname = \"x\nversion = 1").unwrap_err(),
            "line 2: unterminated string"
        );
        assert!(parse("a = 1 2").unwrap_err().starts_with("line 1:"));
    }
}
