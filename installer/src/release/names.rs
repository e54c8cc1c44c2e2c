//! What an asset's file name says: the format (from the extension), the
//! targets (Rust triples, goreleaser's `{os}_{arch}` and common aliases),
//! or why it is no installable archive.

use crate::format::Format;

/// What a release asset is, judged by its name.
#[derive(Debug, PartialEq)]
pub enum Kind {
    /// An installable archive (or raw executable) for these targets.
    Archive(Format, Vec<String>),
    /// A file of hashes (`checksums.txt`, `X.sha256`, `SHA256SUMS`).
    Checksums,
    /// Not installable, and why.
    Skip(&'static str),
}

const SKIPPED: &[(&str, &str)] = &[
    (
        ".sig .asc .minisig .pem .crt .cert .sigstore .bundle .intoto.jsonl",
        "signature or certificate",
    ),
    (
        ".sbom .spdx .spdx.json .cdx.json .sbom.json .cdx.xml",
        "SBOM",
    ),
    (
        ".pkg .msi .deb .rpm .apk .dmg .msix .appimage .snap .flatpak",
        "system package or installer",
    ),
    (
        "-installer.sh -installer.ps1 .sh .ps1 .bat .cmd",
        "installer script",
    ),
    (".rb", "Homebrew formula"),
    (".json .yaml .yml .toml .xml", "metadata"),
    ("-npm-package.tar.gz", "npm package"),
    (
        ".sha512 .sha1 .md5 .b2 .sha512sum .blake2b .blake2s .sha3-256 .sha3-512 .sha384",
        "checksum file (not SHA-256)",
    ),
    (".txt .md .html .pdf", "not an archive"),
    (
        ".pdb .dsym.zip .dsym.tar.gz .dbg .debug .wasm",
        "debug symbols or not an executable",
    ),
    (".dll .so .dylib .a .lib", "library"),
];

/// The format its extension names (`raw` for none or `.exe`), if any.
pub fn format(name: &str) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    Format::of_file_name(&lower).map(|(f, _)| f)
}

/// Classifies `name`.
pub fn classify(name: &str) -> Kind {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".sha256")
        || lower.ends_with(".sha256sum")
        || lower.ends_with("sha256.sum")
        || lower.contains("checksums")
        || lower.contains("sha256sums")
    {
        return Kind::Checksums;
    }
    for (suffixes, reason) in SKIPPED {
        if suffixes.split(' ').any(|s| lower.ends_with(s)) {
            return Kind::Skip(reason);
        }
    }
    let (format, stem) = match Format::of_file_name(&lower) {
        Some((format, ext)) => (format, &lower[..lower.len() - ext]),
        None => {
            // `hello_1.2.3_linux_amd64` is a raw executable; `notes.xyz` is no archive.
            let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
            if ["bz2", "tbz", "lz", "7z", "rar", "gz", "xz", "zst", "tar"].contains(&ext) {
                return Kind::Skip("a format postbin does not unpack");
            }
            if !ext.is_empty() && ext.len() <= 5 && ext.chars().all(|c| c.is_ascii_alphabetic()) {
                return Kind::Skip("not an archive");
            }
            (Format::Raw, lower.as_str())
        }
    };
    if stem.starts_with("source") || stem.ends_with("-src") || stem.ends_with("_src") {
        return Kind::Skip("source tarball");
    }
    match targets(stem) {
        Some(t) => Kind::Archive(format, t),
        None if format == Format::Raw => Kind::Skip("not an archive"),
        None => Kind::Skip(why_no_target(stem)),
    }
}

/// Why a name (or goreleaser's `{os}_{arch}`) maps to no target postbin
/// installs: what it names that no postbin installer runs on, or what it
/// lacks.
pub fn why_no_target(stem: &str) -> &'static str {
    let lower = stem.to_ascii_lowercase();
    let tokens: Vec<&str> = lower.split(['-', '_', '.', ' ']).collect();
    let has = |words: &[&str]| tokens.iter().any(|t| words.contains(t));
    let arm32 = has(&[
        "arm", "armv6", "armv7", "armv7l", "armhf", "armel", "arm_6", "arm_7",
    ]);
    let os = has(&[
        "linux", "darwin", "macos", "apple", "osx", "mac", "windows", "win", "win32", "win64",
        "freebsd",
    ]);
    if has(&["windows", "win", "win32", "win64"]) && arm32 {
        "no postbin installer runs on 32-bit ARM Windows"
    } else if has(&["linux", "freebsd"])
        && !has(&["x64", "x86_64", "amd64", "aarch64", "arm64"])
        && !arm32
    {
        "a CPU architecture postbin has no installer for"
    } else if has(&[
        "netbsd",
        "openbsd",
        "dragonfly",
        "solaris",
        "illumos",
        "aix",
        "plan9",
        "android",
        "ios",
        "js",
        "wasip1",
    ]) {
        "an operating system postbin has no installer for"
    } else if !os {
        "its name says no operating system"
    } else {
        "a platform postbin has no installer for"
    }
}

/// The Rust triples a name's tokens stand for, if they name an OS and an
/// architecture. A name without a libc takes `-musl` on Linux (static builds,
/// as Go's are); the caller may refine it from the executable itself.
pub fn targets(stem: &str) -> Option<Vec<String>> {
    let stem = stem.replace("x86_64", "x64").replace("x86-64", "x64");
    let (mut os, mut arch, mut abi) = ("", "", "");
    for token in stem.split(['-', '_', '.', ' ']) {
        match token {
            "linux" => os = "linux",
            "darwin" | "macos" | "apple" | "osx" | "mac" => os = "darwin",
            "windows" | "win" | "win32" | "win64" => os = "windows",
            "freebsd" => os = "freebsd",
            "x64" | "amd64" => arch = "x86_64",
            "aarch64" | "arm64" => arch = "aarch64",
            "386" | "i386" | "i686" | "x86" | "ia32" => arch = "i686",
            "armv7" | "armv7l" | "armhf" => arch = "armv7",
            "arm" | "armv6" | "armel" => arch = "arm",
            "riscv64" | "riscv64gc" => arch = "riscv64gc",
            "ppc64le" | "powerpc64le" => arch = "powerpc64le",
            "s390x" => arch = "s390x",
            "universal" | "universal2" | "all" => arch = "universal2",
            "musl" | "musleabihf" | "static" => abi = "musl",
            "gnu" | "gnueabihf" | "glibc" => abi = "gnu",
            "msvc" => abi = "msvc",
            _ => {}
        }
    }
    let triple = match (os, arch) {
        ("darwin", "universal2" | "x86_64" | "aarch64") => format!("{arch}-apple-darwin"),
        ("windows", "x86_64" | "aarch64" | "i686") => {
            let abi = if abi == "gnu" { "gnu" } else { "msvc" };
            format!("{arch}-pc-windows-{abi}")
        }
        ("freebsd", "x86_64" | "aarch64") => format!("{arch}-unknown-freebsd"),
        ("linux", "armv7" | "arm") => {
            let abi = if abi == "gnu" { "gnu" } else { "musl" };
            format!("{arch}-unknown-linux-{abi}eabihf")
        }
        ("linux", "" | "universal2") => return None,
        ("linux", _) => {
            let abi = if abi == "gnu" { "gnu" } else { "musl" };
            format!("{arch}-unknown-linux-{abi}")
        }
        _ => return None,
    };
    Some(vec![triple])
}

/// Target names read from release metadata, each checked to be a name:
/// they become keys of `postbin.targets` and parts of paths (the cache, the
/// wrapper packages), so `../../x`, `/`, `\\`, `.`, `..` or an empty name is
/// refused here, where they enter.
pub fn checked_targets(targets: Vec<String>, what: &str) -> Result<Vec<String>, super::Error> {
    for t in &targets {
        if !crate::names::is_target_name(t) {
            return Err(super::Error::Release(format!(
                "{what} names the target `{t}`, which is no target name (letters, digits, `-`, `_` \
                 and `.` only); the metadata is damaged or not a release's"
            )));
        }
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str) -> String {
        match classify(name) {
            Kind::Archive(format, t) => format!("{} {}", format.as_str(), t.join(",")),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn recognises_targets_and_formats() {
        let cases = [
            (
                "hello-x86_64-unknown-linux-musl.tar.xz",
                "tar.xz x86_64-unknown-linux-musl",
            ),
            (
                "hello-x86_64-unknown-linux-gnu.tar.gz",
                "tar.gz x86_64-unknown-linux-gnu",
            ),
            (
                "hello-aarch64-apple-darwin.tar.xz",
                "tar.xz aarch64-apple-darwin",
            ),
            (
                "hello-x86_64-pc-windows-msvc.zip",
                "zip x86_64-pc-windows-msvc",
            ),
            (
                "hello-armv7-unknown-linux-gnueabihf.tgz",
                "tar.gz armv7-unknown-linux-gnueabihf",
            ),
            (
                "hello_1.2.3_linux_amd64.tar.gz",
                "tar.gz x86_64-unknown-linux-musl",
            ),
            (
                "hello_1.2.3_linux_386.tar.gz",
                "tar.gz i686-unknown-linux-musl",
            ),
            (
                "hello_1.2.3_linux_armv6.tar.gz",
                "tar.gz arm-unknown-linux-musleabihf",
            ),
            (
                "hello_1.2.3_darwin_all.tar.gz",
                "tar.gz universal2-apple-darwin",
            ),
            (
                "hello_1.2.3_windows_arm64.zip",
                "zip aarch64-pc-windows-msvc",
            ),
            ("hello-macos-x64.tar.zst", "tar.zst x86_64-apple-darwin"),
            ("hello-win-x64.exe", "raw x86_64-pc-windows-msvc"),
            ("hello-linux-arm64", "raw aarch64-unknown-linux-musl"),
            ("hello-macos-universal.zip", "zip universal2-apple-darwin"),
        ];
        for (name, want) in cases {
            assert_eq!(target(name), want, "{name}");
        }
    }

    #[test]
    fn skips_what_is_not_installable() {
        for name in [
            "hello-x86_64-apple-darwin.pkg",
            "hello-x86_64-pc-windows-msvc.msi",
            "hello_1.0_amd64.deb",
            "hello-installer.sh",
            "hello-installer.ps1",
            "source.tar.gz",
            "hello-1.0.tar.gz",
            "hello.rb",
            "dist-manifest.json",
            "hello-npm-package.tar.gz",
            "hello-linux-x64.tar.gz.sig",
            "hello.sbom",
        ] {
            assert!(
                matches!(classify(name), Kind::Skip(_)),
                "{name}: {:?}",
                classify(name)
            );
        }
        for name in [
            "checksums.txt",
            "sha256.sum",
            "a.tar.gz.sha256",
            "SHA256SUMS",
            "hello_1.0_checksums.txt",
        ] {
            assert_eq!(classify(name), Kind::Checksums, "{name}");
        }
    }

    #[test]
    fn a_target_name_is_never_a_path() {
        for bad in ["../../x", "/", "a/b", "a\\b", "", ".", "..", "x y"] {
            assert!(
                checked_targets(vec![bad.into()], "test").is_err(),
                "{bad:?} passed"
            );
        }
        let good = vec![
            "x86_64-unknown-linux-gnu".to_string(),
            "armv7-unknown-linux-gnueabihf".into(),
        ];
        assert_eq!(checked_targets(good.clone(), "test").unwrap(), good);
    }

    #[test]
    fn skip_reasons_say_what_is_missing() {
        for (name, why) in [
            (
                "marvai_Windows_armv6.zip",
                "no postbin installer runs on 32-bit ARM Windows",
            ),
            (
                "tool_linux_mips64.tar.gz",
                "a CPU architecture postbin has no installer for",
            ),
            (
                "tool_netbsd_amd64.tar.gz",
                "an operating system postbin has no installer for",
            ),
            ("tool-1.0.tar.gz", "its name says no operating system"),
        ] {
            assert_eq!(classify(name), Kind::Skip(why), "{name}");
        }
        for name in ["a.tar.gz.blake2b", "a.tar.gz.sha3-256", "a.zip.sha512"] {
            assert_eq!(
                classify(name),
                Kind::Skip("checksum file (not SHA-256)"),
                "{name}"
            );
        }
    }
}
