//! The host platform as an ordered list of Rust target triples the host can
//! run, best first: on glibc Linux the gnu build, then the static musl one;
//! on Apple silicon the native build, then x86_64 under Rosetta 2.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Libc {
    Gnu,
    Musl,
}

/// Triples this host can run, best first. Empty on a platform postbin does
/// not know, which the caller reports as unsupported.
pub fn host_candidates() -> Vec<String> {
    let libc = if cfg!(target_os = "linux") {
        Some(detect_libc())
    } else {
        None
    };
    candidates(std::env::consts::OS, std::env::consts::ARCH, libc)
}

pub fn candidates(os: &str, arch: &str, libc: Option<Libc>) -> Vec<String> {
    let list: Vec<&str> = match (os, arch) {
        ("linux", arch) => {
            let (gnu, musl): (&[&str], &[&str]) = match arch {
                "x86_64" => (
                    &["x86_64-unknown-linux-gnu"],
                    &["x86_64-unknown-linux-musl"],
                ),
                "aarch64" => (
                    &["aarch64-unknown-linux-gnu"],
                    &["aarch64-unknown-linux-musl"],
                ),
                "arm" => (
                    &[
                        "armv7-unknown-linux-gnueabihf",
                        "arm-unknown-linux-gnueabihf",
                    ],
                    &[
                        "armv7-unknown-linux-musleabihf",
                        "arm-unknown-linux-musleabihf",
                    ],
                ),
                "x86" => (&["i686-unknown-linux-gnu"], &["i686-unknown-linux-musl"]),
                "riscv64" => (
                    &["riscv64gc-unknown-linux-gnu"],
                    &["riscv64gc-unknown-linux-musl"],
                ),
                "powerpc64" => (&["powerpc64le-unknown-linux-gnu"], &[]),
                "s390x" => (&["s390x-unknown-linux-gnu"], &[]),
                "loongarch64" => (
                    &["loongarch64-unknown-linux-gnu"],
                    &["loongarch64-unknown-linux-musl"],
                ),
                _ => (&[], &[]),
            };
            match libc {
                // A static musl binary also runs on glibc; the reverse is not true.
                Some(Libc::Musl) => musl.to_vec(),
                _ => gnu.iter().chain(musl).copied().collect(),
            }
        }
        ("macos", "aarch64") => vec![
            "aarch64-apple-darwin",
            "universal2-apple-darwin",
            "x86_64-apple-darwin",
        ],
        ("macos", "x86_64") => vec!["x86_64-apple-darwin", "universal2-apple-darwin"],
        ("windows", "x86_64") => vec!["x86_64-pc-windows-msvc", "x86_64-pc-windows-gnu"],
        // Windows 11 on Arm runs x64 binaries under emulation.
        ("windows", "aarch64") => vec!["aarch64-pc-windows-msvc", "x86_64-pc-windows-msvc"],
        ("windows", "x86") => vec!["i686-pc-windows-msvc", "i686-pc-windows-gnu"],
        ("freebsd", "x86_64") => vec!["x86_64-unknown-freebsd"],
        ("freebsd", "aarch64") => vec!["aarch64-unknown-freebsd"],
        _ => vec![],
    };
    list.into_iter().map(str::to_string).collect()
}

pub fn is_windows(triple: &str) -> bool {
    triple.contains("-windows")
}

/// A short human name of the host, for messages.
pub fn host_description() -> String {
    format!("{} {}", std::env::consts::OS, std::env::consts::ARCH)
}

/// musl or glibc, from the ELF interpreter of `/bin/sh` (what the system's own
/// programs are linked against), not from `ldd` output, whose wording varies.
pub fn detect_libc() -> Libc {
    if let Some(interp) = elf_interpreter(Path::new("/bin/sh")) {
        if interp.contains("musl") {
            return Libc::Musl;
        }
        if interp.contains("ld-linux") || interp.contains("ld64.so") {
            return Libc::Gnu;
        }
    }
    // /bin/sh may be static (busybox); fall back on the musl loader's presence.
    let musl_loader = std::fs::read_dir("/lib")
        .map(|dir| {
            dir.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("ld-musl-"))
        })
        .unwrap_or(false);
    if musl_loader { Libc::Musl } else { Libc::Gnu }
}

/// The PT_INTERP path of an ELF file, if it has one.
pub fn elf_interpreter(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut ident = [0u8; 64];
    file.read_exact(&mut ident).ok()?;
    if &ident[..4] != b"\x7fELF" {
        return None;
    }
    let is64 = match ident[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let le = match ident[5] {
        1 => true,
        2 => false,
        _ => return None,
    };
    let u16_at = |b: &[u8], o: usize| -> u64 {
        let v = [b[o], b[o + 1]];
        (if le {
            u16::from_le_bytes(v)
        } else {
            u16::from_be_bytes(v)
        }) as u64
    };
    let u32_at = |b: &[u8], o: usize| -> u64 {
        let v = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        (if le {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        }) as u64
    };
    let u64_at = |b: &[u8], o: usize| -> u64 {
        let v: [u8; 8] = b[o..o + 8].try_into().unwrap();
        if le {
            u64::from_le_bytes(v)
        } else {
            u64::from_be_bytes(v)
        }
    };
    let (phoff, phentsize, phnum) = if is64 {
        (
            u64_at(&ident, 0x20),
            u16_at(&ident, 0x36),
            u16_at(&ident, 0x38),
        )
    } else {
        (
            u32_at(&ident, 0x1C),
            u16_at(&ident, 0x2A),
            u16_at(&ident, 0x2C),
        )
    };
    let min_entry = if is64 { 56 } else { 32 };
    if phentsize < min_entry || phnum > 512 {
        return None;
    }
    let mut header = vec![0u8; phentsize as usize];
    for i in 0..phnum {
        file.seek(SeekFrom::Start(phoff + i * phentsize)).ok()?;
        file.read_exact(&mut header).ok()?;
        const PT_INTERP: u64 = 3;
        if u32_at(&header, 0) != PT_INTERP {
            continue;
        }
        let (offset, size) = if is64 {
            (u64_at(&header, 0x08), u64_at(&header, 0x20))
        } else {
            (u32_at(&header, 0x04), u32_at(&header, 0x10))
        };
        if size == 0 || size > 4096 {
            return None;
        }
        let mut interp = vec![0u8; size as usize];
        file.seek(SeekFrom::Start(offset)).ok()?;
        file.read_exact(&mut interp).ok()?;
        let end = interp.iter().position(|&b| b == 0).unwrap_or(interp.len());
        return Some(String::from_utf8_lossy(&interp[..end]).into_owned());
    }
    None
}

/// Go's names for a triple's OS and arch (`linux`, `amd64`), for publishers
/// whose assets are named the goreleaser way.
pub fn go_os_arch(triple: &str) -> (&'static str, &'static str) {
    let os = if triple.contains("-linux") {
        "linux"
    } else if triple.contains("-darwin") {
        "darwin"
    } else if triple.contains("-windows") {
        "windows"
    } else if triple.contains("-freebsd") {
        "freebsd"
    } else {
        "unknown"
    };
    let arch = match triple.split('-').next().unwrap_or("") {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "i686" | "i586" => "386",
        a if a.starts_with("armv7") || a == "arm" => "arm",
        a if a.starts_with("riscv64") => "riscv64",
        "powerpc64le" => "ppc64le",
        "s390x" => "s390x",
        "loongarch64" => "loong64",
        "universal2" => "all",
        _ => "unknown",
    };
    (os, arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_linux_prefers_gnu_then_musl() {
        assert_eq!(
            candidates("linux", "x86_64", Some(Libc::Gnu)),
            ["x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"]
        );
    }

    #[test]
    fn musl_linux_offers_only_musl() {
        assert_eq!(
            candidates("linux", "aarch64", Some(Libc::Musl)),
            ["aarch64-unknown-linux-musl"]
        );
    }

    #[test]
    fn apple_silicon_falls_back_to_rosetta() {
        let c = candidates("macos", "aarch64", None);
        assert_eq!(c.first().unwrap(), "aarch64-apple-darwin");
        assert_eq!(c.last().unwrap(), "x86_64-apple-darwin");
    }

    #[test]
    fn unknown_platforms_have_no_candidates() {
        assert!(candidates("haiku", "x86_64", None).is_empty());
    }

    #[test]
    fn this_hosts_shell_has_a_readable_interpreter_or_none() {
        // On the glibc CI machine /bin/sh is dynamically linked against ld-linux.
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            let interp = elf_interpreter(Path::new("/bin/sh")).expect("dynamic /bin/sh");
            assert!(interp.contains("ld-linux"), "{interp}");
            assert_eq!(detect_libc(), Libc::Gnu);
        }
        assert_eq!(elf_interpreter(Path::new("/etc/hostname")), None);
    }

    #[test]
    fn go_names() {
        assert_eq!(go_os_arch("x86_64-unknown-linux-musl"), ("linux", "amd64"));
        assert_eq!(go_os_arch("aarch64-apple-darwin"), ("darwin", "arm64"));
        assert_eq!(go_os_arch("x86_64-pc-windows-msvc"), ("windows", "amd64"));
    }
}
