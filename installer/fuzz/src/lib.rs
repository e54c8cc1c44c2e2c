//! Shared by the archive fuzz targets: unpack one input through the
//! installer's own entry point (`postbin::extract::unpack`) into a fresh
//! directory and check what the extractor promises, whatever the input:
//!
//! - nothing is created, changed or removed outside the destination (the
//!   archive file and an empty sibling directory stay as they were);
//! - the destination holds only directories, regular files and symlinks;
//!   every symlink is relative, stays inside, and reaches a regular file;
//! - the regular files on disk add up to at most `max_unpacked` bytes
//!   (the decompression-bomb limit) and number at most `max_entries`;
//! - on success the returned listing is exactly the files and links on
//!   disk, with their real size, SHA-256 and exec bit;
//! - the tree can always be removed (the installer drops its staging
//!   directory when an unpack fails, so nothing is left behind).

pub mod cache;

use postbin::extract::{self, Limits, Listing};
use postbin::plan::Format;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

/// Small limits, so that bombs are cut short and runs stay fast.
pub const LIMITS: Limits = Limits {
    max_unpacked: 1 << 20,
    max_entries: 200,
};

/// A directory of this process's own under `$TMPDIR` (scripts/fuzz points
/// it at a scratch directory it removes afterwards).
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("postbin-fuzz-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the scratch directory");
        dir
    })
}

/// Unpacks `archive` (bytes in `format`) and checks the invariants above.
pub fn unpack_and_check(format: Format, archive: &[u8]) {
    let jail = scratch().join("run");
    if jail.exists() {
        fs::remove_dir_all(&jail).expect("remove the previous run");
    }
    let dest = jail.join("dest");
    let sibling = jail.join("sibling");
    let archive_path = jail.join("archive");
    fs::create_dir_all(&dest).unwrap();
    fs::create_dir_all(&sibling).unwrap();
    fs::File::create(&archive_path)
        .and_then(|mut f| f.write_all(archive))
        .unwrap();

    let result = extract::unpack(format, &archive_path, &dest, LIMITS, "tool");

    // Nothing outside the destination appeared, changed or went away.
    let mut around: Vec<String> = fs::read_dir(&jail)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    around.sort();
    assert_eq!(
        around,
        ["archive", "dest", "sibling"],
        "written beside the destination"
    );
    assert_eq!(
        fs::read_dir(&sibling).unwrap().count(),
        0,
        "written into a sibling"
    );
    assert_eq!(
        fs::read(&archive_path).unwrap(),
        archive,
        "the archive was changed"
    );
    assert!(
        fs::symlink_metadata(&dest).unwrap().is_dir(),
        "the destination is no longer a directory"
    );

    let tree = walk(&dest);
    let file_bytes: u64 = tree
        .values()
        .filter_map(|n| match n {
            Node::File { size, .. } => Some(*size),
            _ => None,
        })
        .sum();
    assert!(
        file_bytes <= LIMITS.max_unpacked,
        "{file_bytes} bytes of files on disk, over the {} byte limit (result: {result:?})",
        LIMITS.max_unpacked
    );
    let non_dirs = tree.values().filter(|n| !matches!(n, Node::Dir)).count() as u64;
    assert!(
        non_dirs <= LIMITS.max_entries,
        "{non_dirs} files and links, over the entry limit"
    );
    for (rel, node) in &tree {
        if let Node::Link { target } = node {
            check_link(&dest, rel, target, &tree);
        }
    }
    if let Ok(listing) = &result {
        check_listing(listing, &tree);
    }
    drop(result);
    fs::remove_dir_all(&jail).expect("the unpacked tree cannot be removed");
}

#[derive(Debug)]
enum Node {
    Dir,
    File {
        size: u64,
        sha256: String,
        executable: bool,
    },
    Link {
        target: PathBuf,
    },
}

/// Every entry under `dest` by `/`-joined relative path, links not followed.
fn walk(dest: &Path) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dest.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(dest)
                .unwrap()
                .components()
                .map(|c| c.as_os_str().to_str().expect("a non-UTF-8 name on disk"))
                .collect::<Vec<_>>()
                .join("/");
            let meta = fs::symlink_metadata(&path).unwrap();
            let ft = meta.file_type();
            let node = if ft.is_dir() {
                stack.push(path.clone());
                Node::Dir
            } else if ft.is_file() {
                let bytes = fs::read(&path).unwrap();
                Node::File {
                    size: bytes.len() as u64,
                    sha256: postbin::hash::hash_bytes(&bytes).hex(),
                    executable: is_executable(&meta),
                }
            } else if ft.is_symlink() {
                Node::Link {
                    target: fs::read_link(&path).unwrap(),
                }
            } else {
                panic!("`{rel}` is neither a directory, a regular file nor a symlink: {ft:?}");
            };
            out.insert(rel, node);
        }
    }
    out
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o100 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &fs::Metadata) -> bool {
    false
}

/// A symlink is relative, resolves lexically inside the tree, and reaches a
/// regular file (possibly through other links) without leaving it.
fn check_link(dest: &Path, rel: &str, target: &Path, tree: &BTreeMap<String, Node>) {
    let mut seen = 0;
    let (mut rel, mut target) = (rel.to_string(), target.to_path_buf());
    loop {
        assert!(target.is_relative(), "link `{rel}` is absolute: {target:?}");
        let mut stack: Vec<String> = rel.split('/').map(str::to_string).collect();
        stack.pop();
        for c in target.components() {
            match c {
                Component::Normal(p) => stack.push(p.to_str().unwrap().to_string()),
                Component::CurDir => {}
                Component::ParentDir => {
                    assert!(stack.pop().is_some(), "link `{rel}` -> {target:?} escapes")
                }
                other => panic!("link `{rel}` -> {target:?} has {other:?}"),
            }
        }
        let reached = stack.join("/");
        match tree.get(&reached) {
            Some(Node::File { .. }) => break,
            Some(Node::Link { target: next }) if seen < 40 => {
                seen += 1;
                rel = reached;
                target = next.clone();
            }
            other => panic!("link `{rel}` -> {target:?} reaches {reached:?}: {other:?}"),
        }
    }
    // And the OS agrees: the link resolves to a file inside `dest`.
    let real = fs::canonicalize(dest.join(&rel)).expect("the link resolves");
    assert!(
        real.starts_with(fs::canonicalize(dest).unwrap()),
        "{real:?} is outside"
    );
    assert!(real.is_file());
}

/// The listing is exactly the files and links on disk, with their content.
fn check_listing(listing: &Listing, tree: &BTreeMap<String, Node>) {
    let on_disk: Vec<&String> = tree
        .iter()
        .filter(|(_, n)| !matches!(n, Node::Dir))
        .map(|(k, _)| k)
        .collect();
    let listed: Vec<&String> = listing.keys().collect();
    assert_eq!(listed, on_disk, "the listing differs from the tree on disk");
    for (rel, record) in listing {
        let file = resolve(rel, tree);
        let Node::File {
            size,
            sha256,
            executable,
        } = file
        else {
            unreachable!()
        };
        assert_eq!(record.size, *size, "size of `{rel}`");
        assert_eq!(&record.sha256.hex(), sha256, "SHA-256 of `{rel}`");
        if cfg!(unix) {
            assert_eq!(record.executable, *executable, "exec bit of `{rel}`");
        }
    }
}

/// The regular file a path reaches (checked to exist by `check_link`).
fn resolve<'a>(rel: &str, tree: &'a BTreeMap<String, Node>) -> &'a Node {
    let mut rel = rel.to_string();
    for _ in 0..50 {
        match &tree[&rel] {
            Node::Link { target } => {
                let mut stack: Vec<String> = rel.split('/').map(str::to_string).collect();
                stack.pop();
                for c in target.components() {
                    match c {
                        Component::Normal(p) => stack.push(p.to_str().unwrap().to_string()),
                        Component::ParentDir => {
                            stack.pop();
                        }
                        _ => {}
                    }
                }
                rel = stack.join("/");
            }
            file => return file,
        }
    }
    panic!("link loop at `{rel}`");
}

/// Wraps a plain tar stream in a gzip member of stored (uncompressed)
/// blocks: the installer has no plain-tar format, and this way every byte
/// the fuzzer mutates reaches the tar reader unchanged.
pub fn stored_gzip(tar: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(tar.len() + 64),
        flate2::Compression::none(),
    );
    enc.write_all(tar).unwrap();
    enc.finish().unwrap()
}
