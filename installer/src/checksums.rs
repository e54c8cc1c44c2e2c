//! Checksums files as release tools write them: `<hex>  <name>` (sha256sum,
//! goreleaser's checksums.txt, cargo-dist's sha256.sum; `*name` for binary
//! mode) and BSD style `SHA256 (name) = <hex>`.

use crate::error::Error;
use crate::hash::Sha256Hash;
use crate::net::{Client, Request, url::Url};
use crate::plan::Source;
use std::io::Read;

/// The most of a checksums file that is read.
const MAX_LEN: u64 = 4 << 20;

/// The hash of `asset` from the first of `sources` that serves the
/// checksums file, the file's text, and where it came from. Messages name
/// every source through `Url`'s `Display`, so credentials never show; the
/// advice for a failure comes once, after the list.
pub fn fetch(
    client: &Client<'_>,
    sources: &[Source],
    asset: &str,
) -> Result<(Sha256Hash, String, Url), Error> {
    let mut failures: Vec<(String, Option<String>)> = Vec::new();
    for source in sources {
        let text = match source.url.to_file_path() {
            Some(path) => std::fs::read_to_string(&path)
                .map_err(|e| (format!("cannot read {}: {e}", path.display()), None)),
            None => client
                .request(Request::get(&source.url, source.explicit))
                .map_err(|e| {
                    let mut fact = e.fact();
                    if let Some(cause) = std::error::Error::source(&e) {
                        fact.push_str(&format!(": {cause}"));
                    }
                    (fact, e.advice())
                })
                .and_then(|r| {
                    let mut text = String::new();
                    r.body
                        .into_reader()
                        .take(MAX_LEN)
                        .read_to_string(&mut text)
                        .map(|_| text)
                        .map_err(|e| {
                            (
                                format!("the connection to {} broke off: {e}", source.url),
                                None,
                            )
                        })
                }),
        };
        match text {
            Ok(text) => {
                let sha = find(&text, asset).ok_or_else(|| Error::Checksums {
                    detail: format!("the checksums file {} lists no {asset}", source.url),
                })?;
                return Ok((sha, text, source.url.clone()));
            }
            Err(failure) => failures.push(failure),
        }
    }
    let mut detail = String::from("cannot fetch the checksums file:");
    let mut advice: Vec<String> = Vec::new();
    for (fact, hint) in failures {
        detail.push_str(&format!("\n  {fact}"));
        if let Some(hint) = hint.filter(|h| !advice.contains(h)) {
            advice.push(hint);
        }
    }
    for hint in advice {
        detail.push_str(&format!("\n{hint}"));
    }
    Err(Error::Checksums { detail })
}

/// Every (file name, hash) pair found, in file order.
pub fn parse(text: &str) -> Vec<(String, Sha256Hash)> {
    text.lines().filter_map(parse_line).collect()
}

pub fn find(text: &str, asset: &str) -> Option<Sha256Hash> {
    parse(text)
        .into_iter()
        .find(|(name, _)| name == asset)
        .map(|(_, h)| h)
}

fn parse_line(line: &str) -> Option<(String, Sha256Hash)> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("SHA256 (") {
        let (name, hex) = rest.split_once(") = ")?;
        return Some((base_name(name), Sha256Hash::parse(hex)?));
    }
    let (hex, name) = line.split_once(char::is_whitespace)?;
    let hash = Sha256Hash::parse(hex)?;
    let name = name.trim_start().trim_start_matches('*');
    (!name.is_empty()).then(|| (base_name(name), hash))
}

/// `./dist/a.tgz` → `a.tgz`: checksums files list paths relative to wherever
/// the release tool ran.
fn base_name(name: &str) -> String {
    name.trim().rsplit('/').next().unwrap_or(name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const B: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn reads_the_common_styles() {
        let text = format!(
            "{A}  hello-linux.tar.gz\n{B} *dist/hello.zip\nSHA256 (hello.tar.xz) = {A}\n# comment\n\nbad line\n"
        );
        let all = parse(&text);
        assert_eq!(all.len(), 3);
        assert_eq!(find(&text, "hello.zip").unwrap().hex(), B);
        assert_eq!(find(&text, "hello-linux.tar.gz").unwrap().hex(), A);
        assert_eq!(find(&text, "hello.tar.xz").unwrap().hex(), A);
        assert!(find(&text, "missing").is_none());
    }
}
