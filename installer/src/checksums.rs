//! Checksums as release tools publish them, recognised by content:
//! `<hex>  <name>` lines (sha256sum, goreleaser's checksums.txt, cargo-dist's
//! sha256.sum and per-asset `.sha256`; `*name` for binary mode, paths matched
//! by their base name), BSD/OpenSSL style `SHA256 (name) = <hex>`, a bare
//! `<hex>` (an older per-asset `.sha256`), and JSON: cargo-dist's
//! dist-manifest.json (`artifacts.<id>.checksums.sha256`), GitHub's release
//! API (`assets[].digest`, `"sha256:<hex>"`) and goreleaser's artifacts.json
//! (`extra.Digest`/`extra.Checksum`, same spelling).

use crate::hash::Sha256Hash;
use crate::net::Client;
use crate::plan::Source;
use crate::url::Url;

/// Why no hash came from a checksums file: one detail (every source tried,
/// each failure on its line, then the advice once). An integrity failure
/// for the install (exit 6).
#[derive(Debug)]
pub struct Unavailable {
    pub detail: String,
}

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
) -> Result<(Sha256Hash, String, Url), Unavailable> {
    let mut failures: Vec<(String, Option<String>)> = Vec::new();
    for source in sources {
        let text = match source.url.to_file_path() {
            Some(path) => std::fs::read_to_string(&path)
                .map_err(|e| (format!("cannot read {}: {e}", path.display()), None)),
            // Retried like the archive (POSTBIN_RETRIES): an install needs it as much.
            None => crate::fetch::small_file(
                client,
                std::slice::from_ref(source),
                MAX_LEN,
                source.url.file_name(),
            )
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .map_err(|e| {
                if crate::fetch::is_too_large(&e) {
                    // Not POSTBIN_MAX_DOWNLOAD_SIZE's advice: no checksums file is this large.
                    let fact = format!(
                        "{} is larger than 4 MiB, which no checksums file is",
                        source.url
                    );
                    return (fact, Some("check the package's `checksums` URL".into()));
                }
                let mut fact = e.fact();
                if let Some(cause) = std::error::Error::source(&e) {
                    fact.push_str(&format!(": {cause}"));
                }
                (fact, e.advice())
            }),
        };
        match text {
            Ok(text) => {
                let sha = find(&text, asset).ok_or_else(|| Unavailable {
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
    Err(Unavailable { detail })
}

/// A hash read from a checksums source and the file it is for: `None` for
/// a bare hash, which names no file (it is for the asset whose checksum file
/// it is).
pub type Entry = (Option<String>, Sha256Hash);

/// Every hash in `text`, in whichever format it is written; `Err` says why
/// none was found. Unlike `parse` (lines only), this reads JSON too.
pub fn read(text: &str) -> Result<Vec<Entry>, &'static str> {
    let trimmed = text.trim();
    if let Some(hash) = Sha256Hash::parse(trimmed) {
        return Ok(vec![(None, hash)]);
    }
    let json = trimmed
        .starts_with(['{', '['])
        .then(|| serde_json::from_str::<serde_json::Value>(trimmed).ok())
        .flatten();
    let named = match &json {
        Some(json) => {
            let mut named = Vec::new();
            from_json(json, &mut named);
            if named.is_empty() {
                return Err(json_without_hashes(json));
            }
            named
        }
        None => parse(text),
    };
    if named.is_empty() {
        return Err(
            "it holds no SHA-256 in a known format (`<hex>  <name>` or `SHA256 (<name>) = <hex>` lines, \
             a bare hash, a cargo-dist dist-manifest.json, a GitHub release or goreleaser artifacts.json)",
        );
    }
    Ok(named.into_iter().map(|(n, h)| (Some(n), h)).collect())
}

/// Collects (name, hash) from the JSON documents release tools write.
fn from_json(value: &serde_json::Value, out: &mut Vec<(String, Sha256Hash)>) {
    use serde_json::Value;
    match value {
        // A list of releases, of GitHub assets, or goreleaser's artifacts.json.
        Value::Array(items) => items.iter().for_each(|item| from_json(item, out)),
        Value::Object(map) => {
            // cargo-dist: `"artifacts": {"<id>": {"name", "checksums": {"sha256"}}}`.
            if let Some(Value::Object(artifacts)) = map.get("artifacts") {
                for (id, artifact) in artifacts {
                    let name = artifact["name"].as_str().unwrap_or(id);
                    if let Some(hash) = artifact
                        .pointer("/checksums/sha256")
                        .and_then(Value::as_str)
                        .and_then(Sha256Hash::parse)
                    {
                        out.push((base_name(name), hash));
                    }
                }
            }
            // A GitHub release: its assets.
            if let Some(assets) = map.get("assets").filter(|a| a.is_array()) {
                from_json(assets, out);
            }
            // One GitHub asset or goreleaser artifact.
            let digest = ["/digest", "/extra/Digest", "/extra/Checksum"]
                .iter()
                .find_map(|p| value.pointer(p)?.as_str()?.strip_prefix("sha256:"))
                .and_then(Sha256Hash::parse);
            if let (Some(name), Some(hash)) = (map.get("name").and_then(Value::as_str), digest) {
                out.push((base_name(name), hash));
            }
        }
        _ => {}
    }
}

/// Why a JSON document gave no hash, for the formats that can lack them.
fn json_without_hashes(json: &serde_json::Value) -> &'static str {
    if json.get("artifacts").is_some_and(|a| a.is_object()) {
        "this dist-manifest.json holds no sha256 values (older cargo-dist publishes them as \
         `<asset>.sha256` beside each asset: pass --checksums '{url}.sha256')"
    } else if json.get("assets").is_some() {
        "this release lists no sha256 digest (GitHub records one for assets uploaded since June 2025)"
    } else {
        "this JSON is no dist-manifest.json, GitHub release or goreleaser artifacts.json with sha256 digests"
    }
}

/// Every (file name, hash) pair found, in file order: the line formats only
/// (sha256sum and BSD style).
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
    // BSD `SHA256 (name) = hex`; OpenSSL `SHA256(name)= hex`, `SHA2-256(name)= hex`.
    if let Some(rest) = ["SHA256", "SHA2-256"]
        .iter()
        .find_map(|tag| line.strip_prefix(tag)?.trim_start().strip_prefix('('))
    {
        let (name, hex) = rest.rsplit_once(')')?;
        let hash = Sha256Hash::parse(hex.trim_start().strip_prefix('=')?)?;
        return Some((base_name(name), hash));
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

    fn named(text: &str) -> Vec<(String, String)> {
        read(text)
            .unwrap()
            .into_iter()
            .map(|(n, h)| (n.expect("named"), h.hex()))
            .collect()
    }

    fn pair(name: &str, hex: &str) -> (String, String) {
        (name.to_string(), hex.to_string())
    }

    #[test]
    fn reads_openssl_lines_and_a_bare_hash() {
        let text = format!("SHA256(a.zip)= {A}\nSHA2-256(./d/b.tgz)= {B}\n");
        assert_eq!(named(&text), [pair("a.zip", A), pair("b.tgz", B)]);
        let bare = read(&format!("{B}\r\n")).unwrap();
        assert_eq!(bare, [(None, Sha256Hash::parse(B).unwrap())]);
    }

    #[test]
    fn reads_dist_manifests_and_says_when_they_hold_no_values() {
        let manifest = format!(
            r#"{{"dist_version":"0.28.0","artifacts":{{
                "t-x86_64-unknown-linux-musl.tar.xz":{{"name":"t-x86_64-unknown-linux-musl.tar.xz",
                  "kind":"executable-zip","checksum":"t-x86_64-unknown-linux-musl.tar.xz.sha256",
                  "checksums":{{"sha256":"{A}","sha512":"ff"}}}},
                "t-x86_64-unknown-linux-musl.tar.xz.sha256":{{"kind":"checksum"}},
                "source.tar.gz":{{"checksums":{{"sha256":"{B}"}}}}}}}}"#
        );
        assert_eq!(
            named(&manifest),
            [
                pair("t-x86_64-unknown-linux-musl.tar.xz", A),
                pair("source.tar.gz", B)
            ]
        );
        let old = r#"{"artifacts":{"t.tar.xz":{"name":"t.tar.xz","checksum":"t.tar.xz.sha256"}}}"#;
        assert!(read(old).unwrap_err().contains("'{url}.sha256'"));
    }

    #[test]
    fn reads_github_releases_and_goreleaser_artifacts() {
        let release = format!(
            r#"{{"name":"v1","assets":[{{"name":"a.zip","digest":"sha256:{A}"}},
                {{"name":"old.zip","digest":null}},{{"name":"c.zip","digest":"sha512:{A}"}}]}}"#
        );
        assert_eq!(named(&release), [pair("a.zip", A)]);
        // A list of releases, or of assets, reads the same.
        assert_eq!(named(&format!("[{release}]")), [pair("a.zip", A)]);
        let artifacts = format!(
            r#"[{{"name":"t_linux_amd64.tar.gz","type":"Archive","extra":{{"Checksum":"sha256:{A}"}}}},
                {{"name":"t_darwin_all.tar.gz","extra":{{"Digest":"sha256:{B}"}}}},
                {{"name":"checksums.txt","type":"Checksum","extra":{{}}}}]"#
        );
        assert_eq!(
            named(&artifacts),
            [
                pair("t_linux_amd64.tar.gz", A),
                pair("t_darwin_all.tar.gz", B)
            ]
        );
        let undigested = r#"{"assets":[{"name":"a.zip"}]}"#;
        assert!(read(undigested).unwrap_err().contains("June 2025"));
    }

    #[test]
    fn text_in_no_known_format_is_refused() {
        for text in ["<!DOCTYPE html><html></html>", "", "{\"a\":1}", "[1, 2]"] {
            assert!(read(text).is_err(), "{text}");
        }
    }
}
