//! Decides, without touching the file system, whether an archive entry's
//! path or a link's target stays inside the destination.

use std::path::PathBuf;

/// Why an entry path was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Absolute,
    ParentComponent,
    Empty,
    NulByte,
    LinkEscapes,
    AbsoluteLinkTarget,
}

impl Refusal {
    pub fn describe(&self) -> &'static str {
        match self {
            Refusal::Absolute => "its path is absolute",
            Refusal::ParentComponent => "its path contains `..`",
            Refusal::Empty => "its path is empty",
            Refusal::NulByte => "its path contains a NUL byte",
            Refusal::LinkEscapes => "it is a link that points outside the archive",
            Refusal::AbsoluteLinkTarget => "it is a link to an absolute path",
        }
    }
}

/// Splits an entry name into normal components. Both `/` and `\` separate
/// (zips made on Windows use `\`); `.` and empty components are dropped.
/// `..` anywhere is refused outright: no legitimate release archive needs it.
pub fn enclosed_components(name: &str) -> Result<Vec<&str>, Refusal> {
    if name.contains('\0') {
        return Err(Refusal::NulByte);
    }
    if name.starts_with('/') || name.starts_with('\\') || has_drive_prefix(name) {
        return Err(Refusal::Absolute);
    }
    let mut parts = Vec::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err(Refusal::ParentComponent),
            p => parts.push(p),
        }
    }
    Ok(parts)
}

/// The relative path of an entry, `/`-joined (the key used for duplicates and
/// for looking up the declared executables).
pub fn normalize(name: &str) -> Result<String, Refusal> {
    let parts = enclosed_components(name)?;
    if parts.is_empty() {
        return Err(Refusal::Empty);
    }
    Ok(parts.join("/"))
}

pub fn to_path(normalized: &str) -> PathBuf {
    normalized.split('/').collect()
}

/// Resolves a symlink's target lexically from the link's own directory and
/// returns the enclosed, normalized path it points at.
pub fn resolve_link_target(link: &str, target: &str) -> Result<String, Refusal> {
    if target.contains('\0') {
        return Err(Refusal::NulByte);
    }
    if target.starts_with('/') || target.starts_with('\\') || has_drive_prefix(target) {
        return Err(Refusal::AbsoluteLinkTarget);
    }
    let mut stack: Vec<&str> = link.split('/').collect();
    stack.pop(); // the link's own name
    for part in target.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if stack.pop().is_none() {
                    return Err(Refusal::LinkEscapes);
                }
            }
            p => stack.push(p),
        }
    }
    if stack.is_empty() {
        return Err(Refusal::LinkEscapes);
    }
    Ok(stack.join("/"))
}

fn has_drive_prefix(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_paths_table() {
        let ok = [
            ("a/b", "a/b"),
            ("./a//b/", "a/b"),
            ("a\\b.exe", "a/b.exe"),
            ("a/./b", "a/b"),
            ("..a/b..", "..a/b.."),
        ];
        for (name, want) in ok {
            assert_eq!(normalize(name).as_deref(), Ok(want), "{name}");
        }
        let bad = [
            ("/etc/passwd", Refusal::Absolute),
            ("\\x", Refusal::Absolute),
            ("C:/x", Refusal::Absolute),
            ("../x", Refusal::ParentComponent),
            ("a/../../x", Refusal::ParentComponent),
            ("a\\..\\x", Refusal::ParentComponent),
            ("./", Refusal::Empty),
            ("a\0b", Refusal::NulByte),
        ];
        for (name, why) in bad {
            assert_eq!(normalize(name), Err(why), "{name}");
        }
    }

    #[test]
    fn link_targets_table() {
        assert_eq!(
            resolve_link_target("bin/tool", "../lib/tool").as_deref(),
            Ok("lib/tool")
        );
        assert_eq!(resolve_link_target("tool", "real").as_deref(), Ok("real"));
        assert_eq!(
            resolve_link_target("bin/tool", "../../etc/passwd"),
            Err(Refusal::LinkEscapes)
        );
        assert_eq!(resolve_link_target("tool", ".."), Err(Refusal::LinkEscapes));
        assert_eq!(
            resolve_link_target("tool", "/etc/passwd"),
            Err(Refusal::AbsoluteLinkTarget)
        );
        assert_eq!(resolve_link_target("a/b", "."), Ok("a".into()));
    }

    /// Property: whatever the input, an accepted path has no `..`, no root
    /// and no empty component.
    #[test]
    fn accepted_paths_never_escape() {
        let pieces = ["a", "..", ".", "", "/", "\\", "b.c", "C:", "\0"];
        let mut seed: u64 = 0x9E3779B97F4A7C15;
        for _ in 0..20_000 {
            let mut name = String::new();
            for _ in 0..(seed % 6) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                name.push_str(pieces[(seed % pieces.len() as u64) as usize]);
                if seed & 1 == 0 {
                    name.push('/');
                }
            }
            seed = seed.wrapping_add(0x9E3779B97F4A7C15);
            if let Ok(n) = normalize(&name) {
                assert!(!n.starts_with('/'), "{name:?} -> {n}");
                assert!(
                    n.split('/').all(|c| !c.is_empty() && c != ".." && c != "."),
                    "{name:?} -> {n}"
                );
                assert!(!n.contains('\\') && !n.contains('\0'), "{name:?} -> {n}");
            }
        }
    }
}
