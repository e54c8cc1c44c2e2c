//! A GitHub release through the REST API: `GET /repos/{o}/{r}/releases/tags/{tag}`,
//! then its assets page by page (`/releases/{id}/assets?per_page=100&page=N`).
//! The token (`GITHUB_TOKEN`/`GH_TOKEN`) goes with the requests only over
//! HTTPS to GitHub's hosts (`net::Client`); proxy and CA apply as for downloads.

use super::Error;
use super::{Asset, Release};
use crate::hash::Sha256Hash;
use crate::net::{self, Client};
use crate::url::Url;
use serde_json::Value;

const DEFAULT_API: &str = "https://api.github.com";
const PER_PAGE: usize = 100;

pub fn read(client: &Client<'_>, owner: &str, repo: &str, tag: &str) -> Result<Release, Error> {
    let api = crate::env_vars::get(crate::env_vars::POSTBIN_GITHUB_API)
        .unwrap_or_else(|| DEFAULT_API.into());
    let api = api.trim_end_matches('/');
    let release = get_json(
        client,
        &format!("{api}/repos/{owner}/{repo}/releases/tags/{}", encode(tag)),
        &format!("{owner}/{repo} has no release {tag}"),
    )?;
    let assets_url = match (release["assets_url"].as_str(), &release["id"]) {
        (Some(url), _) => url.to_string(),
        (None, id) => format!("{api}/repos/{owner}/{repo}/releases/{id}/assets"),
    };
    let mut assets = Vec::new();
    let mut first = 0;
    // Paged until a page comes back empty or shorter than the first one.
    for page in 1..=100 {
        let url = format!("{assets_url}?per_page={PER_PAGE}&page={page}");
        let list = get_json(client, &url, "the release's assets are gone")?;
        let list = list.as_array().map(Vec::as_slice).unwrap_or_default();
        assets.extend(list.iter().filter_map(asset));
        if page == 1 {
            first = list.len();
        }
        if list.is_empty() || list.len() < first {
            break;
        }
    }
    Ok(Release {
        origin: format!("GitHub release {owner}/{repo}@{tag}"),
        version: Some(super::version_of_tag(tag)),
        assets,
        ..Release::default()
    })
}

/// Is this JSON the API's answer for one release (as `gh api
/// repos/O/R/releases/tags/T` saves it)?
pub fn is_release(v: &Value) -> bool {
    v["tag_name"].is_string() && v["assets"].is_array()
}

/// A release saved from the API: its assets as listed (the first page the
/// API embeds holds up to 100 assets, which a saved answer keeps).
pub fn from_json(v: &Value, what: &str) -> Release {
    let tag = v["tag_name"].as_str().unwrap_or_default();
    Release {
        origin: format!("GitHub release {tag} ({what})"),
        version: Some(super::version_of_tag(tag)),
        assets: v["assets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(asset)
            .collect(),
        ..Release::default()
    }
}

fn asset(v: &Value) -> Option<Asset> {
    let digest = v["digest"].as_str().and_then(|d| d.strip_prefix("sha256:"));
    Some(Asset {
        name: v["name"].as_str()?.to_string(),
        url: v["browser_download_url"].as_str()?.to_string(),
        hashes: digest
            .and_then(Sha256Hash::parse)
            .map(|h| (h, "GitHub API digest".to_string()))
            .into_iter()
            .collect(),
        ..Asset::default()
    })
}

fn get_json(client: &Client<'_>, url: &str, not_found: &str) -> Result<Value, Error> {
    let parsed = Url::parse(url).map_err(|e| Error::Release(format!("{url}: {e}")))?;
    let text = match super::get(client, &parsed, false) {
        Err(e)
            if matches!(
                e.last(),
                crate::fetch::Error::Net(net::Error::Status { status: 404, .. })
            ) =>
        {
            return Err(Error::Release(format!(
                "{not_found} ({parsed} answered 404; a private repository needs GITHUB_TOKEN)"
            )));
        }
        Err(e) if crate::fetch::is_too_large(&e) => {
            return Err(Error::Release(format!(
                "{parsed} answered more than 16 MiB, which no GitHub API page is; check POSTBIN_GITHUB_API, if it is set"
            )));
        }
        other => other?,
    };
    serde_json::from_str(&text).map_err(|e| {
        Error::Release(format!(
            "{parsed} answered no JSON the GitHub API would: {e}"
        ))
    })
}

/// Percent-encodes what a tag may hold beyond a path segment's safe bytes.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
