//! Decides, without touching the file system, whether an archive entry's
//! path or a link's target stays inside the destination, and whether the
//! host can create the name faithfully (`check_for_host`: Windows drops
//! trailing dots, opens devices for `CON` or `aux.txt`, reads `a:b` as an
//! alternate data stream; Windows and macOS ignore letter case). The host's
//! rules are a parameter, so every table runs on any host.

use std::borrow::Cow;
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
    /// Longer than `MAX_COMPONENT_BYTES`.
    ComponentTooLong,
    /// Longer than `MAX_WINDOWS_PATH_UNITS` (Windows only).
    PathTooLong,
    /// A `:` (Windows: an NTFS alternate data stream).
    StreamName,
    /// A control character or one of `<>"|?*` (Windows).
    WindowsCharacter,
    /// A component ending in `.` or ` ` (Windows drops them).
    TrailingDotOrSpace,
    /// `CON`, `aux.txt`, `COM1`... (Windows opens a device instead).
    DeviceName,
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
            Refusal::ComponentTooLong => {
                "a name in its path is longer than 255 bytes, which file systems do not allow"
            }
            Refusal::PathTooLong => {
                "its path is longer than 1024 characters, the most postbin unpacks on Windows"
            }
            Refusal::StreamName => {
                "its name contains `:`, which Windows reads as an alternate data stream \
                 (hidden data attached to another file)"
            }
            Refusal::WindowsCharacter => {
                "its name contains a character Windows does not allow in file names \
                 (a control character or one of < > \" | ? *)"
            }
            Refusal::TrailingDotOrSpace => {
                "a name in its path ends with a dot or a space, which Windows drops \
                 (the file would land under another name)"
            }
            Refusal::DeviceName => {
                "a name in its path is a Windows device name (CON, PRN, AUX, NUL, COM0-9 or LPT0-9, \
                 with or without an extension), which Windows opens instead of a file"
            }
        }
    }
}

/// Splits an entry name into normal components. Both `/` and `\` separate
/// (zips made on Windows use `\`); `.` and empty components are dropped.
/// `..` anywhere is refused outright: no legitimate release archive needs it.
fn enclosed_components(name: &str) -> Result<Vec<&str>, Refusal> {
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

/// What the host's file system makes of names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostRules {
    /// Windows' naming rules apply (see `check_for_host`).
    pub windows_names: bool,
    /// Names that differ only in letter case are one file.
    pub case_insensitive: bool,
}

impl HostRules {
    pub const LINUX: HostRules = HostRules {
        windows_names: false,
        case_insensitive: false,
    };
    /// APFS and HFS+ as macOS formats them: case-insensitive.
    pub const MACOS: HostRules = HostRules {
        windows_names: false,
        case_insensitive: true,
    };
    pub const WINDOWS: HostRules = HostRules {
        windows_names: true,
        case_insensitive: true,
    };

    /// The rules of the host this installer runs on.
    pub fn current() -> HostRules {
        if cfg!(windows) {
            HostRules::WINDOWS
        } else if cfg!(target_os = "macos") {
            HostRules::MACOS
        } else {
            HostRules::LINUX
        }
    }
}

/// The longest name (one path component) accepted on any host: ext4, APFS
/// and NTFS all stop at 255.
const MAX_COMPONENT_BYTES: usize = 255;

/// The longest entry path accepted on Windows, in UTF-16 units, not counting
/// the cache directory. Not MAX_PATH (260): Rust's std turns long paths
/// into `\\?\` paths itself, so the installer creates, reads and deletes
/// files beyond it, and counting the cache directory in would refuse real
/// archives. The cap keeps every path far below the 32,767 units of a
/// `\\?\` path whatever the cache directory; no release archive comes near it.
const MAX_WINDOWS_PATH_UNITS: usize = 1024;

/// Checks a normalized entry path (`normalize`) against the host's rules:
/// on every host no name over 255 bytes; on Windows (`windows_names`) no
/// `:`, no control character or `<>"|?*`, no name ending in `.` or ` `, no
/// device name, at most `MAX_WINDOWS_PATH_UNITS` in all.
pub fn check_for_host(rel: &str, rules: HostRules) -> Result<(), Refusal> {
    for part in rel.split('/') {
        if part.len() > MAX_COMPONENT_BYTES {
            return Err(Refusal::ComponentTooLong);
        }
        if rules.windows_names {
            check_windows_name(part)?;
        }
    }
    if rules.windows_names && rel.encode_utf16().count() > MAX_WINDOWS_PATH_UNITS {
        return Err(Refusal::PathTooLong);
    }
    Ok(())
}

fn check_windows_name(part: &str) -> Result<(), Refusal> {
    if part.contains(':') {
        return Err(Refusal::StreamName);
    }
    if part.chars().any(|c| c < ' ' || "<>\"|?*".contains(c)) {
        return Err(Refusal::WindowsCharacter);
    }
    if part.ends_with(['.', ' ']) {
        return Err(Refusal::TrailingDotOrSpace);
    }
    if crate::names::is_device_name(part) {
        return Err(Refusal::DeviceName);
    }
    Ok(())
}

/// The key under which entry paths clash: the path itself, or, where the
/// host ignores case, the path with ASCII letters lowercased. Only ASCII:
/// Unicode's case tables cost 14 KiB of the size budget, and a clash they
/// would catch still fails safely (files are created with `create_new`, so
/// the second one fails as a file-system error instead of being refused).
pub fn clash_key(rel: &str, rules: HostRules) -> Cow<'_, str> {
    if rules.case_insensitive && rel.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(rel.to_ascii_lowercase())
    } else {
        Cow::Borrowed(rel)
    }
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

    #[test]
    fn windows_names_table() {
        use HostRules as H;
        let refused = [
            ("tool.exe:evil", Refusal::StreamName),
            ("tool.exe::$DATA", Refusal::StreamName),
            ("dir/a:b/tool", Refusal::StreamName),
            ("CON", Refusal::DeviceName),
            ("con", Refusal::DeviceName),
            ("aux.txt", Refusal::DeviceName),
            ("bin/Nul.tar.gz", Refusal::DeviceName),
            ("prn/tool", Refusal::DeviceName),
            ("COM1", Refusal::DeviceName),
            ("com0.log", Refusal::DeviceName),
            ("LPT9", Refusal::DeviceName),
            ("lpt\u{b9}", Refusal::DeviceName),
            ("COM\u{b2}.txt", Refusal::DeviceName),
            ("LPT\u{b3}", Refusal::DeviceName),
            ("CON .txt", Refusal::DeviceName),
            ("conin$", Refusal::DeviceName),
            ("CONOUT$.x", Refusal::DeviceName),
            ("tool.exe.", Refusal::TrailingDotOrSpace),
            ("tool.exe ", Refusal::TrailingDotOrSpace),
            ("dir./tool", Refusal::TrailingDotOrSpace),
            ("...", Refusal::TrailingDotOrSpace),
            ("a<b", Refusal::WindowsCharacter),
            ("a>b", Refusal::WindowsCharacter),
            ("a\"b", Refusal::WindowsCharacter),
            ("a|b", Refusal::WindowsCharacter),
            ("a?b", Refusal::WindowsCharacter),
            ("a*b", Refusal::WindowsCharacter),
            ("a\u{1}b", Refusal::WindowsCharacter),
            ("a\tb", Refusal::WindowsCharacter),
        ];
        for (rel, why) in refused {
            assert_eq!(check_for_host(rel, H::WINDOWS), Err(why), "{rel:?}");
            // Linux and macOS create all of these faithfully.
            assert_eq!(check_for_host(rel, H::LINUX), Ok(()), "{rel:?}");
            assert_eq!(check_for_host(rel, H::MACOS), Ok(()), "{rel:?}");
        }
        let accepted = [
            "tool.exe",
            "hello-x86_64-pc-windows-msvc/hello.exe",
            "console",
            "CONFIG.txt",
            "auxiliary/tool",
            "com10",
            "COM",
            "lpt",
            "nul_device",
            "a.con",
            ".aux",
            "x/.hidden",
            "..a/b..c",
            "caf\u{e9}/\u{e9}t\u{e9}",
            "a b/c d.txt",
        ];
        for rel in accepted {
            assert_eq!(check_for_host(rel, H::WINDOWS), Ok(()), "{rel:?}");
        }
    }

    #[test]
    fn long_names_and_paths() {
        let name = "n".repeat(MAX_COMPONENT_BYTES);
        let too_long = format!("{name}x");
        for rules in [HostRules::LINUX, HostRules::MACOS, HostRules::WINDOWS] {
            assert_eq!(check_for_host(&name, rules), Ok(()));
            let nested = format!("dir/{too_long}/tool");
            assert_eq!(
                check_for_host(&nested, rules),
                Err(Refusal::ComponentTooLong)
            );
        }
        // 128 UTF-8 bytes but 64 characters: the cap counts bytes.
        let wide = "\u{e9}".repeat(128);
        assert_eq!(
            check_for_host(&wide, HostRules::LINUX),
            Err(Refusal::ComponentTooLong)
        );
        // Deep paths: refused beyond 1024 UTF-16 units on Windows only.
        let deep = vec!["d".repeat(99); 10].join("/");
        assert_eq!(deep.len(), 999);
        assert_eq!(check_for_host(&deep, HostRules::WINDOWS), Ok(()));
        let deeper = format!("{deep}/{}", "d".repeat(30));
        assert_eq!(
            check_for_host(&deeper, HostRules::WINDOWS),
            Err(Refusal::PathTooLong)
        );
        assert_eq!(check_for_host(&deeper, HostRules::LINUX), Ok(()));
    }

    #[test]
    fn clash_keys_ignore_case_where_the_host_does() {
        let key = |rel, rules| clash_key(rel, rules).into_owned();
        assert_eq!(key("TOOL.EXE", HostRules::WINDOWS), "tool.exe");
        assert_eq!(key("Bin/Tool", HostRules::MACOS), "bin/tool");
        assert_eq!(key("Bin/Tool", HostRules::LINUX), "Bin/Tool");
        assert_eq!(
            key("tool.exe", HostRules::WINDOWS),
            key("Tool.Exe", HostRules::WINDOWS)
        );
    }

    /// Backslashes separate on every host (zips made on Windows use them),
    /// so `a\b` is the file `b` in the directory `a` everywhere, and a
    /// backslash can neither climb nor reach a root or a share.
    #[test]
    fn backslashes_are_separators_everywhere() {
        let ok = [
            ("a\\b", "a/b"),
            ("a\\\\b\\", "a/b"),
            (".\\a", "a"),
            ("a/b\\c.exe", "a/b/c.exe"),
        ];
        for (name, want) in ok {
            assert_eq!(normalize(name).as_deref(), Ok(want), "{name}");
        }
        let bad = [
            ("a\\..\\..\\x", Refusal::ParentComponent),
            ("..\\x", Refusal::ParentComponent),
            ("\\\\server\\share\\x", Refusal::Absolute),
            ("\\\\?\\C:\\x", Refusal::Absolute),
            ("c:\\x", Refusal::Absolute),
            ("C:x", Refusal::Absolute),
        ];
        for (name, why) in bad {
            assert_eq!(normalize(name), Err(why), "{name}");
        }
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
