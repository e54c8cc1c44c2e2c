//! Checksums files as release tools write them: `<hex>  <name>` (sha256sum,
//! goreleaser's checksums.txt, cargo-dist's sha256.sum; `*name` for binary
//! mode) and BSD style `SHA256 (name) = <hex>`.

use crate::hash::Sha256Hash;

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
