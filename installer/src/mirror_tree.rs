//! The tree `postbin prefill --out DIR` writes and `postbin cache import DIR`
//! reads: each archive at its origin URL's path under DIR (the mirror
//! layout, usable as `POSTBIN_MIRROR=file:///DIR`), and an index
//! (`postbin-prefill.json`) pinning each archive's sha256, which labels what
//! `import` stores and decides what it may take.

use crate::cache::EntryMeta;
use crate::fs_retry;
use crate::hash::{self, Sha256Hash};
use crate::io_error::io_err;
use crate::plan;
use crate::url::{apply_mirror, file_url_to_path};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The index `postbin prefill --out` writes at the top of its tree; `import`
/// reads it to label what it stores and does not store it.
pub const PREFILL_INDEX: &str = "postbin-prefill.json";

/// A file or directory of the tree that could not be written; the message
/// names `--out`, where the tree goes.
#[derive(Debug)]
pub struct Error {
    pub op: &'static str,
    pub path: PathBuf,
    pub source: io::Error,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} {} in the --out tree; choose an --out directory you can write to",
            self.op,
            self.path.display()
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl crate::io_error::FromIo for Error {
    fn from_io(op: &'static str, path: PathBuf, source: io::Error) -> Self {
        Error { op, path, source }
    }
}

/// Where `url` lives in a mirror tree rooted at `out`: exactly the file an
/// install with `POSTBIN_MIRROR=file://<out>` reads. Refuses URL paths that
/// would leave `out` (`..`, encoded or not).
pub fn mirror_path(out: &Path, url: &str, target: &str) -> Result<PathBuf, plan::Error> {
    let bad = |problem: String| plan::Error::Invalid {
        field: format!("postbin url of {target}"),
        problem,
    };
    let mirrored = apply_mirror(url, &file_url(out)).map_err(|e| bad(e.to_string()))?;
    let path = file_url_to_path(&mirrored)
        .ok_or_else(|| bad(format!("`{url}` has no usable path for a mirror tree")))?;
    let rel = path
        .strip_prefix(out)
        .map_err(|_| bad(format!("`{url}` leads outside the mirror tree")))?;
    // `Path::components` already drops `.` segments (harmless: the OS
    // resolves them the same way for install), but keeps `..`.
    let safe =
        rel.components().count() > 0 && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !safe {
        return Err(bad(format!(
            "`{url}` has a path that would leave the mirror tree (`..` segments)"
        )));
    }
    Ok(path)
}

/// `file://` URL of a local path, as `file_url_to_path` reads it back.
pub fn file_url(path: &Path) -> String {
    let text = path.to_string_lossy().replace('%', "%25");
    if cfg!(windows) {
        format!("file:///{}", text.replace('\\', "/"))
    } else {
        format!("file://{text}")
    }
}

/// Writes one file of the tree, whole or not at all.
pub fn write_file(dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    let parent = dest.parent().expect("a file path has a parent");
    fs::create_dir_all(parent).map_err(io_err("create", parent))?;
    fs_retry::write_atomically(dest, parent, bytes).map_err(io_err("write", dest))
}

/// Merges `records` into DIR's index, one record per file and target
/// (two targets may share one archive, even one file), written by temp +
/// rename.
pub fn write_index(dir: &Path, records: Vec<Value>) -> Result<(), Error> {
    let path = dir.join(PREFILL_INDEX);
    let key = |r: &Value| -> Option<String> {
        let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
        let sha = r.get("sha256").and_then(Value::as_str)?;
        Some(
            [
                sha,
                field("path"),
                field("package"),
                field("version"),
                field("target"),
            ]
            .join("\n"),
        )
    };
    let mut by_key: BTreeMap<String, Value> = BTreeMap::new();
    if let Ok(text) = fs::read_to_string(&path)
        && let Ok(old) = serde_json::from_str::<Value>(&text)
    {
        for r in old
            .get("archives")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(k) = key(r) {
                by_key.insert(k, r.clone());
            }
        }
    }
    for r in records {
        if let Some(k) = key(&r) {
            by_key.insert(k, r);
        }
    }
    let text = serde_json::to_string_pretty(&json!({
        "about": "written by `postbin prefill --out`; read by `postbin cache import`",
        "archives": by_key.into_values().collect::<Vec<_>>(),
    }))
    .expect("JSON values serialize");
    write_file(&path, text.as_bytes())
}

/// The files `postbin cache import DIR` may take from a prefill tree: each
/// archive DIR's index (`postbin-prefill.json`) lists, at its `path` inside
/// DIR, reached without following any symlink, a regular file whose bytes
/// hash to the `sha256` the index pins for it. Anything else in DIR is not
/// looked at; an index entry that fails is reported on stderr and skipped.
/// Archives only: nothing inside a carried cache's trees or bookkeeping.
/// No index: `Err` says what to do instead (a usage error: a plain mirror
/// tree is used as `POSTBIN_MIRROR=file:///DIR`).
pub fn import_list(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let index = dir.join(PREFILL_INDEX);
    let text = match fs::symlink_metadata(&index) {
        Ok(m) if m.is_file() => fs::read_to_string(&index).ok(),
        _ => None,
    };
    let Some(archives) = text
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("archives").and_then(Value::as_array).cloned())
    else {
        // A carried cache directory pins its archives by their names.
        if let Some(files) = carried_cache_archives(dir) {
            return Ok(files);
        }
        return Err(format!(
            "{} has no readable {PREFILL_INDEX}: `cache import` takes only the archives pinned by the index \
             `postbin prefill --out DIR` writes (or a cache directory's own archives); \
             use a plain mirror tree as POSTBIN_MIRROR=file:///DIR instead",
            dir.display()
        ));
    };
    let mut files = Vec::new();
    let mut done = HashSet::new();
    for record in &archives {
        let rel = record.get("path").and_then(Value::as_str).unwrap_or("");
        let sha = record
            .get("sha256")
            .and_then(Value::as_str)
            .and_then(Sha256Hash::parse);
        if !done.insert(rel.to_string()) {
            continue;
        }
        match sha
            .ok_or("the index pins no valid sha256 for it".to_string())
            .and_then(|sha| pinned_file(dir, rel, &sha))
        {
            Ok(path) if !in_cache_layout(dir, &path) => files.push(path),
            Ok(_) => {}
            Err(why) => eprintln!("postbin: not imported: {rel}: {why}"),
        }
    }
    Ok(files)
}

/// A carried cache directory (`DIR/v1/archives/<sha256>`): each archive is
/// pinned by its own name, so each regular file there named by a SHA-256
/// that its bytes hash to (no symlink followed); `None` if DIR is no cache.
fn carried_cache_archives(dir: &Path) -> Option<Vec<PathBuf>> {
    let rel_dir = format!("{}/archives", crate::cache::LAYOUT);
    let archives = dir.join(&rel_dir);
    let real_dir = |p: &Path| fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
    if !real_dir(&dir.join(crate::cache::LAYOUT)) || !real_dir(&archives) {
        return None;
    }
    let mut files = Vec::new();
    for name in read_sorted(&archives)
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
    {
        let Some(sha) = Sha256Hash::parse(&name).filter(|_| name.len() == 64) else {
            continue;
        };
        match pinned_file(dir, &format!("{rel_dir}/{name}"), &sha) {
            Ok(path) => files.push(path),
            Err(why) => eprintln!("postbin: not imported: {rel_dir}/{name}: {why}"),
        }
    }
    Some(files)
}

/// `dir/rel`, if `rel` is a relative `/`-separated path with no `..`, every
/// directory on the way is a real directory (not a symlink), and the file
/// is a regular file (not a symlink) that hashes to `sha`.
fn pinned_file(dir: &Path, rel: &str, sha: &Sha256Hash) -> Result<PathBuf, String> {
    let parts: Vec<&str> = rel.split('/').collect();
    let plain = |c: &&str| {
        !c.is_empty()
            && *c != "."
            && *c != ".."
            && !c.contains(['\\', ':'])
            && Path::new(c).components().count() == 1
            && matches!(Path::new(c).components().next(), Some(Component::Normal(_)))
    };
    if rel.is_empty() || !parts.iter().all(plain) {
        return Err("its path is not a plain relative path inside the tree".into());
    }
    let mut path = dir.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let meta = fs::symlink_metadata(&path).map_err(|e| format!("{e}"))?;
        let last = i + 1 == parts.len();
        if meta.file_type().is_symlink() {
            return Err(format!(
                "{} is a symlink, which import never follows",
                path.display()
            ));
        }
        if !last && !meta.is_dir() {
            return Err(format!("{} is not a directory", path.display()));
        }
        if last && !meta.is_file() {
            return Err("it is not a regular file".into());
        }
    }
    match hash::hash_file(&path) {
        Ok((actual, _)) if actual == *sha => Ok(path),
        Ok(_) => Err(format!(
            "its bytes do not match the sha256 the index pins ({sha})"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Whether `path` is part of a carried cache's unpacked trees or
/// bookkeeping (`.../v1/trees/...`, `tmp`, `locks`, `meta`): `import` stores
/// archives only, never trees (a tree is trusted only when this user's
/// postbin unpacked it), so importing a whole cache directory takes its
/// `v1/archives` and nothing else.
fn in_cache_layout(from: &Path, path: &Path) -> bool {
    let rel: Vec<_> = path
        .strip_prefix(from)
        .unwrap_or(path)
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    rel.windows(2)
        .any(|w| w[0] == crate::cache::LAYOUT && matches!(w[1], "trees" | "tmp" | "locks" | "meta"))
}

/// `sha256 → what it is`, from a prefill index at the top of `dir` (absent
/// or unreadable: no labels; the archives import all the same).
pub fn labels(dir: &Path) -> HashMap<Sha256Hash, EntryMeta> {
    let Ok(text) = std::fs::read_to_string(dir.join(PREFILL_INDEX)) else {
        return HashMap::new();
    };
    let Ok(value) = serde_json::from_str::<Value>(&text) else {
        return HashMap::new();
    };
    let mut out = HashMap::new();
    for item in value
        .get("archives")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let field = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
        if let (Some(sha), Some(package), Some(version), Some(target), Some(asset)) = (
            field("sha256").as_deref().and_then(Sha256Hash::parse),
            field("package"),
            field("version"),
            field("target"),
            field("asset"),
        ) {
            out.insert(
                sha,
                EntryMeta {
                    package,
                    version,
                    target,
                    asset,
                },
            );
        }
    }
    out
}

pub fn read_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<_> = fs::read_dir(dir)
        .map(|e| e.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_paths_follow_the_url_and_stay_inside() {
        let out = Path::new("/srv/mirror");
        let url = "https://github.com/acme/hello/releases/download/v1.0.0/hello.tar.gz";
        assert_eq!(
            mirror_path(out, url, "t").unwrap(),
            Path::new("/srv/mirror/acme/hello/releases/download/v1.0.0/hello.tar.gz")
        );
        for evil in [
            "https://h/a/../../../etc/passwd",
            "https://h/a/%2e%2e/%2E%2E/x",
            "https://h/",
        ] {
            let e = mirror_path(out, evil, "t").unwrap_err();
            assert!(matches!(e, plan::Error::Invalid { .. }), "{evil}: {e}");
        }
    }

    #[test]
    fn file_urls_round_trip() {
        let p = Path::new("/tmp/a b/50%/c");
        assert_eq!(file_url_to_path(&file_url(p)).unwrap(), p);
    }
}
