//! What a target triple's spelling says: whether it is a glibc Linux or a
//! Windows build, and Go's names for its OS and arch.

/// A `-gnu` Linux triple: one whose build is linked against glibc.
pub fn is_gnu_linux(triple: &str) -> bool {
    triple.contains("-linux-gnu")
}

pub fn is_windows(triple: &str) -> bool {
    triple.contains("-windows")
}

/// Go's names for a triple's OS and arch (`linux`, `amd64`), for publishers
/// whose assets are named the goreleaser way.
pub fn go_os_arch(triple: &str) -> (&'static str, &'static str) {
    let os = match target_os(triple) {
        "macos" => "darwin",
        os => os,
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

/// The triple's OS as rustc's `target_os` spells it: `linux`, `macos`,
/// `windows`, `freebsd` (else `unknown`).
pub fn target_os(triple: &str) -> &'static str {
    if triple.contains("-linux") {
        "linux"
    } else if triple.contains("-darwin") {
        "macos"
    } else if triple.contains("-windows") {
        "windows"
    } else if triple.contains("-freebsd") {
        "freebsd"
    } else {
        "unknown"
    }
}

/// The OS and architecture as goreleaser's default archive name spells
/// them (`{{ title .Os }}_{{ if eq .Arch "amd64" }}x86_64{{ else if eq
/// .Arch "386" }}i386{{ else }}{{ .Arch }}{{ end }}{{ with .Arm }}v{{ . }}
/// {{ end }}`): `Linux_x86_64`, `Darwin_arm64`, `Windows_i386`,
/// `Linux_armv7`. The template variables `{Os}` and `{Arch}`.
pub fn goreleaser_os_arch(triple: &str) -> (&'static str, &'static str) {
    let (os, arch) = go_os_arch(triple);
    let os = match os {
        "linux" => "Linux",
        "darwin" => "Darwin",
        "windows" => "Windows",
        "freebsd" => "Freebsd",
        _ => "Unknown",
    };
    let arch = match arch {
        "amd64" => "x86_64",
        "386" => "i386",
        // Rust's `arm-*-gnueabihf` is ARMv6 (GOARM=6), `armv7-*` ARMv7.
        "arm" if triple.starts_with("armv7") => "armv7",
        "arm" => "armv6",
        other => other,
    };
    (os, arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goreleaser_default_names() {
        for (triple, want) in [
            ("x86_64-unknown-linux-musl", ("Linux", "x86_64")),
            ("aarch64-apple-darwin", ("Darwin", "arm64")),
            ("i686-pc-windows-msvc", ("Windows", "i386")),
            ("armv7-unknown-linux-gnueabihf", ("Linux", "armv7")),
            ("arm-unknown-linux-gnueabihf", ("Linux", "armv6")),
            ("universal2-apple-darwin", ("Darwin", "all")),
        ] {
            assert_eq!(goreleaser_os_arch(triple), want, "{triple}");
        }
    }

    #[test]
    fn go_names() {
        assert_eq!(go_os_arch("x86_64-unknown-linux-musl"), ("linux", "amd64"));
        assert_eq!(go_os_arch("aarch64-apple-darwin"), ("darwin", "arm64"));
        assert_eq!(go_os_arch("x86_64-pc-windows-msvc"), ("windows", "amd64"));
    }
}
