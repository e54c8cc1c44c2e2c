//! For the `cache_layout` target: a cache layout built from fuzz input, a
//! decoy tree standing for the user's home, and a snapshot to compare it by.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Names the cache uses, relative to the cache directory; `{sha}` is the
/// archive's hash. The input picks among them.
const NAMES: &[&str] = &[
    "v1",
    "v1/tmp",
    "v1/archives",
    "v1/trees",
    "v1/meta",
    "v1/locks",
    "v1/tmp/{sha}.partial",
    "v1/tmp/download-{sha}-x",
    "v1/tmp/tree-{sha}-x",
    "v1/tmp/discard-x",
    "v1/tmp/junk",
    "v1/locks/{sha}.lock",
    "v1/archives/{sha}",
    "v1/trees/{sha}",
    "v1/trees/{sha}/listing.json",
    "v1/trees/{sha}/seal",
    "v1/trees/{sha}/files",
    "v1/trees/{sha}/files/hello",
    "v1/meta/{sha}.json",
];

/// The home the cache must never touch: a few old files in a subdirectory.
pub fn make_decoy(dir: &Path) {
    let _ = fs::create_dir_all(dir.join(".ssh"));
    let _ = fs::write(dir.join(".bashrc"), b"export PATH=$HOME/bin:$PATH\n");
    let _ = fs::write(dir.join(".ssh/id"), b"secret\n");
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 3600);
    for f in [".bashrc", ".ssh/id"] {
        if let Ok(file) = fs::File::options().append(true).open(dir.join(f)) {
            let _ = file.set_modified(old);
        }
    }
}

/// Path → (kind, bytes, mtime) of everything under `dir`, links not followed.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (char, Vec<u8>, Option<std::time::SystemTime>)> {
    let mut seen = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(path) = todo.pop() {
        let Ok(meta) = fs::symlink_metadata(&path) else { continue };
        let kind = if meta.is_dir() {
            if let Ok(entries) = fs::read_dir(&path) {
                todo.extend(entries.flatten().map(|e| e.path()));
            }
            'd'
        } else if meta.file_type().is_symlink() {
            'l'
        } else {
            'f'
        };
        let bytes = if kind == 'f' { fs::read(&path).unwrap_or_default() } else { Vec::new() };
        let modified = (kind != 'd').then(|| meta.modified().ok()).flatten();
        seen.insert(path, (kind, bytes, modified));
    }
    seen
}

/// Builds a layout under `cache` from `data`, two bytes a step: which name,
/// and what to put there (a directory, a file, a symlink to the decoy or to
/// a file in it or to a new name in it, a hard link to a decoy file).
/// Whatever a step cannot make (its parent is not a directory) is skipped.
pub fn poison(cache: &Path, decoy: &Path, sha: &str, data: &[u8]) {
    let _ = fs::create_dir_all(cache);
    for step in data.chunks_exact(2).take(24) {
        let name = NAMES[step[0] as usize % NAMES.len()].replace("{sha}", sha);
        let at = cache.join(name);
        if fs::symlink_metadata(&at).is_ok() {
            continue;
        }
        let _ = match step[1] % 6 {
            0 => fs::create_dir_all(&at),
            1 => fs::write(&at, &step[..]),
            2 => std::os::unix::fs::symlink(decoy, &at),
            3 => std::os::unix::fs::symlink(decoy.join(".bashrc"), &at),
            4 => std::os::unix::fs::symlink(decoy.join("made-through-a-link"), &at),
            _ => fs::hard_link(decoy.join(".bashrc"), &at),
        };
    }
}
