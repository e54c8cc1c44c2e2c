//! A GitHub-REST-API-like view of the release tree, for `postbin init
//! --from owner/repo@tag`:
//!
//! - `GET /repos/{owner}/{repo}/releases/tags/{tag}`: the release, with
//!   `id`, `tag_name`, `assets_url` and its first page of `assets`;
//! - `GET /repos/{owner}/{repo}/releases/{id}/assets?per_page=N&page=P`:
//!   one page of assets, with a `Link` header (`rel="next"`, `rel="last"`)
//!   as GitHub sends.
//!
//! Each asset has `name`, `size`, `browser_download_url` (the main host's
//! release download URL) and `digest` (`sha256:<hex>`, as GitHub reports
//! for assets uploaded since mid-2025), for the files of
//! `{owner}/{repo}/releases/download/{tag}/` in the tree. Pages hold
//! `per_page` assets (30 by default, as GitHub), at most the page size set
//! with `Fixture::set_api_page_size` (100 by default, as GitHub).

use crate::log::json_string;
use crate::state::Shared;
use std::fs;

/// An answer: status, extra headers, JSON body.
pub(crate) type Answer = (u16, Vec<(&'static str, String)>, String);

/// Answers `segments` (the sanitised path under `/repos/`) if it is an API route.
pub(crate) fn handle(shared: &Shared, segments: &[String], query: Option<&str>) -> Option<Answer> {
    let [owner, repo, releases, rest @ ..] = segments else {
        return None;
    };
    if releases != "releases" {
        return None;
    }
    let params = crate::http::parse_query(query.unwrap_or(""));
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let per_page = param("per_page")
        .unwrap_or(30)
        .clamp(1, shared.api_page_size());
    let page = param("page").unwrap_or(1).max(1);
    match rest {
        [tags, tag] if tags == "tags" => {
            let assets = list(shared, owner, repo, tag)?;
            let id = shared.release_id(&format!("{owner}/{repo}/{tag}"));
            let assets_url = format!(
                "{}/repos/{owner}/{repo}/releases/{id}/assets",
                shared.main_url
            );
            let first: Vec<String> = assets.iter().take(per_page).cloned().collect();
            let body = format!(
                "{{\"id\":{id},\"tag_name\":{},\"name\":{},\"assets_url\":{},\"assets\":[{}]}}",
                json_string(tag),
                json_string(tag),
                json_string(&assets_url),
                first.join(",")
            );
            Some((200, Vec::new(), body))
        }
        [id, assets] if assets == "assets" => {
            let key = shared.release_by_id(id.parse().ok()?)?;
            let mut parts = key.splitn(3, '/');
            let (o, r, tag) = (parts.next()?, parts.next()?, parts.next()?);
            let all = list(shared, o, r, tag)?;
            let last = all.len().div_ceil(per_page).max(1);
            let items: Vec<String> = all
                .into_iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .collect();
            let url = format!(
                "{}/repos/{owner}/{repo}/releases/{id}/assets",
                shared.main_url
            );
            let link = |p: usize, rel: &str| {
                format!("<{url}?per_page={per_page}&page={p}>; rel=\"{rel}\"")
            };
            let mut links = Vec::new();
            if page < last {
                links.push(link(page + 1, "next"));
                links.push(link(last, "last"));
            }
            if page > 1 {
                links.push(link(1, "first"));
                links.push(link(page - 1, "prev"));
            }
            let headers = if links.is_empty() {
                Vec::new()
            } else {
                vec![("Link", links.join(", "))]
            };
            Some((200, headers, format!("[{}]", items.join(","))))
        }
        _ => None,
    }
}

/// The release's assets as JSON objects, by name; None when there is no
/// such release directory.
fn list(shared: &Shared, owner: &str, repo: &str, tag: &str) -> Option<Vec<String>> {
    let dir = shared
        .root
        .join(owner)
        .join(repo)
        .join("releases")
        .join("download")
        .join(tag);
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| Some((e.file_name().into_string().ok()?, fs::read(e.path()).ok()?)))
        .collect();
    files.sort();
    let assets = files
        .iter()
        .map(|(name, bytes)| {
            let url = format!(
                "{}/{owner}/{repo}/releases/download/{tag}/{name}",
                shared.main_url
            );
            format!(
                "{{\"name\":{},\"size\":{},\"browser_download_url\":{},\"digest\":\"sha256:{}\",\"state\":\"uploaded\"}}",
                json_string(name),
                bytes.len(),
                json_string(&url),
                sha256_hex(bytes)
            )
        })
        .collect();
    Some(assets)
}

/// SHA-256 through the TLS stack's own hash (no crate of its own).
#[allow(irrefutable_let_patterns)] // without rustls' `tls12` feature there is no other kind
fn sha256_hex(bytes: &[u8]) -> String {
    let rustls::SupportedCipherSuite::Tls13(suite) =
        rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256
    else {
        unreachable!("a TLS 1.3 suite")
    };
    let digest = suite.common.hash_provider.hash(bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_sha256() {
        assert_eq!(
            super::sha256_hex(b"hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }
}
