//! What postbin knows about each Linux architecture: its gnu and musl
//! triples, glibc's loader path and Debian's multiarch directory.

/// What postbin knows about a Linux architecture (`std::env::consts::ARCH`).
pub(super) struct LinuxArch {
    pub(super) arch: &'static str,
    pub(super) gnu: &'static [&'static str],
    pub(super) musl: &'static [&'static str],
    /// glibc's standard loader path: the PT_INTERP of every `-gnu` build.
    pub(super) loader: &'static str,
    /// Debian's multiarch directory name (`/lib/<this>/libc.so.6`).
    pub(super) multiarch: &'static str,
}

const LINUX: &[LinuxArch] = &[
    LinuxArch {
        arch: "x86_64",
        gnu: &["x86_64-unknown-linux-gnu"],
        musl: &["x86_64-unknown-linux-musl"],
        loader: "/lib64/ld-linux-x86-64.so.2",
        multiarch: "x86_64-linux-gnu",
    },
    LinuxArch {
        arch: "aarch64",
        gnu: &["aarch64-unknown-linux-gnu"],
        musl: &["aarch64-unknown-linux-musl"],
        loader: "/lib/ld-linux-aarch64.so.1",
        multiarch: "aarch64-linux-gnu",
    },
    LinuxArch {
        arch: "arm",
        gnu: &[
            "armv7-unknown-linux-gnueabihf",
            "arm-unknown-linux-gnueabihf",
        ],
        musl: &[
            "armv7-unknown-linux-musleabihf",
            "arm-unknown-linux-musleabihf",
        ],
        loader: "/lib/ld-linux-armhf.so.3",
        multiarch: "arm-linux-gnueabihf",
    },
    LinuxArch {
        arch: "x86",
        gnu: &["i686-unknown-linux-gnu"],
        musl: &["i686-unknown-linux-musl"],
        loader: "/lib/ld-linux.so.2",
        multiarch: "i386-linux-gnu",
    },
    LinuxArch {
        arch: "riscv64",
        gnu: &["riscv64gc-unknown-linux-gnu"],
        musl: &["riscv64gc-unknown-linux-musl"],
        loader: "/lib/ld-linux-riscv64-lp64d.so.1",
        multiarch: "riscv64-linux-gnu",
    },
    LinuxArch {
        arch: "powerpc64",
        gnu: &["powerpc64le-unknown-linux-gnu"],
        musl: &["powerpc64le-unknown-linux-musl"],
        loader: "/lib64/ld64.so.2",
        multiarch: "powerpc64le-linux-gnu",
    },
    LinuxArch {
        arch: "s390x",
        gnu: &["s390x-unknown-linux-gnu"],
        musl: &["s390x-unknown-linux-musl"],
        loader: "/lib/ld64.so.1",
        multiarch: "s390x-linux-gnu",
    },
    LinuxArch {
        arch: "loongarch64",
        gnu: &["loongarch64-unknown-linux-gnu"],
        musl: &["loongarch64-unknown-linux-musl"],
        loader: "/lib64/ld-linux-loongarch-lp64d.so.1",
        multiarch: "loongarch64-linux-gnu",
    },
];

/// Every Linux architecture postbin knows, by its `ARCH` spelling.
pub(super) fn linux_arches() -> impl Iterator<Item = &'static str> {
    LINUX.iter().map(|a| a.arch)
}

pub(super) fn linux_arch(arch: &str) -> Option<&'static LinuxArch> {
    LINUX.iter().find(|a| a.arch == arch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::triple::is_gnu_linux;

    #[test]
    fn every_linux_arch_has_gnu_and_musl_builds_and_an_absolute_loader() {
        for a in LINUX {
            assert!(!a.gnu.is_empty() && !a.musl.is_empty(), "{}", a.arch);
            assert!(a.gnu.iter().all(|t| is_gnu_linux(t)), "{}", a.arch);
            assert!(a.musl.iter().all(|t| !is_gnu_linux(t)), "{}", a.arch);
            assert!(a.loader.starts_with('/'), "{}", a.arch);
        }
    }
}
