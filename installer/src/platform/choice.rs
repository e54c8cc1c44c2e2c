//! Which targets a host gets: the triples it can run, best first, and why
//! an offered build cannot run on it.

use std::fmt;
use std::ops::Deref;

use super::glibc::GlibcVersion;
use super::host::{Host, Libc};
use super::linux_arch::linux_arch;
use super::triple::is_gnu_linux;

/// Why a target the package offers was passed over on this host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unrunnable {
    /// glibc's standard loader is missing (see `Host::gnu_loader_missing`).
    NoGnuLoader { loader: &'static str },
    /// The build declares a minimum glibc above the host's.
    GlibcTooOld {
        needs: GlibcVersion,
        has: GlibcVersion,
    },
    /// The build declares a minimum glibc and the host's is not known:
    /// a build that fails with `GLIBC_2.xx not found` is worse than musl.
    GlibcUnknown { needs: GlibcVersion },
}

impl fmt::Display for Unrunnable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unrunnable::NoGnuLoader { loader } => write!(
                f,
                "cannot run here: this host has no {loader}, the loader every -gnu build needs \
                 (its own programs use another one, as on NixOS)"
            ),
            Unrunnable::GlibcTooOld { needs, has } => {
                write!(f, "needs glibc {needs}, this host has {has}")
            }
            Unrunnable::GlibcUnknown { needs } => write!(
                f,
                "needs glibc {needs}, and this host's glibc version could not be read"
            ),
        }
    }
}

/// The triples a host can run, best first, with the host they were
/// computed for (which `plan::choose_target` needs to judge each offered
/// build). Derefs to the triples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidates {
    pub host: Host,
    pub triples: Vec<String>,
}

impl Candidates {
    pub fn for_host(host: Host) -> Self {
        let triples = host.candidates();
        Candidates { host, triples }
    }
}

impl Deref for Candidates {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.triples
    }
}

/// Every triple some host postbin knows can run, in the hosts' order of
/// preference: what a release may offer that an install could use.
pub fn known_triples() -> Vec<String> {
    let others = [
        ("macos", "aarch64"),
        ("macos", "x86_64"),
        ("windows", "x86_64"),
        ("windows", "aarch64"),
        ("windows", "x86"),
        ("freebsd", "x86_64"),
        ("freebsd", "aarch64"),
    ];
    let hosts = super::linux_arch::linux_arches()
        .map(|arch| ("linux", arch))
        .chain(others);
    let mut triples: Vec<String> = Vec::new();
    for (os, arch) in hosts {
        let host = Host {
            os,
            arch,
            ..Host::default()
        };
        for t in host.candidates() {
            if !triples.contains(&t) {
                triples.push(t);
            }
        }
    }
    triples
}

/// This host's candidates. Empty on a platform postbin does not know,
/// which the caller reports as unsupported.
pub fn host_candidates() -> Candidates {
    Candidates::for_host(Host::detect())
}

impl Host {
    /// Triples this host can run, best first.
    pub fn candidates(&self) -> Vec<String> {
        let list: Vec<&str> = match (self.os, self.arch) {
            ("linux", arch) => match linux_arch(arch) {
                // A static musl binary also runs on glibc; the reverse is not true.
                Some(a) if self.libc == Some(Libc::Musl) => a.musl.to_vec(),
                // Another machine whose libc was not asked: the static
                // build runs on either.
                Some(a) if self.libc.is_none() && self.for_another_machine.is_some() => {
                    a.musl.iter().chain(a.gnu).copied().collect()
                }
                Some(a) => a.gnu.iter().chain(a.musl).copied().collect(),
                None => vec![],
            },
            ("macos", "aarch64") => vec![
                "aarch64-apple-darwin",
                "universal2-apple-darwin",
                "x86_64-apple-darwin",
            ],
            // An x86_64 postbin under Rosetta 2 is on Apple silicon: the
            // arm64 build runs natively there, so it comes first.
            ("macos", "x86_64") if self.translated => vec![
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

    /// Why this host cannot run `triple`, whose build declares the minimum
    /// glibc `needs` (if any); `None` when nothing is known against it.
    /// Only `-gnu` Linux builds are judged: the others have no such needs.
    pub fn cannot_run(&self, triple: &str, needs: Option<GlibcVersion>) -> Option<Unrunnable> {
        if !is_gnu_linux(triple) || self.for_another_machine.is_some() {
            return None;
        }
        if self.gnu_loader_missing {
            let loader = linux_arch(self.arch).map_or("glibc's loader", |a| a.loader);
            return Some(Unrunnable::NoGnuLoader { loader });
        }
        match (needs?, self.glibc) {
            (needs, Some(has)) if needs > has => Some(Unrunnable::GlibcTooOld { needs, has }),
            (_, Some(_)) => None,
            (needs, None) => Some(Unrunnable::GlibcUnknown { needs }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_triples_are_every_hosts_candidates_once() {
        let all = known_triples();
        for t in [
            "x86_64-unknown-linux-gnu",
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "armv7-unknown-linux-gnueabihf",
            "aarch64-apple-darwin",
            "universal2-apple-darwin",
            "x86_64-pc-windows-msvc",
            "x86_64-pc-windows-gnu",
            "aarch64-pc-windows-msvc",
            "x86_64-unknown-freebsd",
        ] {
            assert!(all.iter().any(|a| a == t), "{t} missing from {all:?}");
        }
        let mut unique = all.clone();
        unique.dedup();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "{all:?}");
    }
    use crate::platform::test_hosts::{glibc_host, linux, mac};

    #[test]
    fn glibc_linux_prefers_gnu_then_musl() {
        assert_eq!(
            linux("x86_64", Libc::Gnu).candidates(),
            ["x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"]
        );
    }

    #[test]
    fn musl_linux_offers_only_musl() {
        assert_eq!(
            linux("aarch64", Libc::Musl).candidates(),
            ["aarch64-unknown-linux-musl"]
        );
    }

    #[test]
    fn apple_silicon_falls_back_to_rosetta() {
        assert_eq!(
            mac("aarch64", false).candidates(),
            [
                "aarch64-apple-darwin",
                "universal2-apple-darwin",
                "x86_64-apple-darwin"
            ]
        );
    }

    #[test]
    fn an_x86_64_process_under_rosetta_prefers_the_arm64_build() {
        assert_eq!(
            mac("x86_64", true).candidates(),
            [
                "aarch64-apple-darwin",
                "universal2-apple-darwin",
                "x86_64-apple-darwin"
            ]
        );
        assert_eq!(
            mac("x86_64", false).candidates(),
            ["x86_64-apple-darwin", "universal2-apple-darwin"]
        );
    }

    #[test]
    fn unknown_platforms_have_no_candidates() {
        let haiku = Host {
            os: "haiku",
            arch: "x86_64",
            ..Host::default()
        };
        assert!(haiku.candidates().is_empty());
        assert!(linux("sparc64", Libc::Gnu).candidates().is_empty());
    }

    #[test]
    fn candidates_deref_to_the_host_triples() {
        let c = Candidates::for_host(linux("x86_64", Libc::Musl));
        assert_eq!(&*c, ["x86_64-unknown-linux-musl"]);
        assert_eq!(c.host.arch, "x86_64");
    }

    #[test]
    fn gnu_builds_are_judged_by_loader_then_declared_minimum() {
        let needs = Some(GlibcVersion::new(2, 39));
        let gnu = "x86_64-unknown-linux-gnu";
        let old = glibc_host(2, 31);
        assert_eq!(
            old.cannot_run(gnu, needs),
            Some(Unrunnable::GlibcTooOld {
                needs: GlibcVersion::new(2, 39),
                has: GlibcVersion::new(2, 31)
            })
        );
        assert_eq!(old.cannot_run(gnu, Some(GlibcVersion::new(2, 31))), None);
        assert_eq!(old.cannot_run(gnu, None), None);
        // Only -gnu Linux builds have a glibc to need.
        assert_eq!(old.cannot_run("x86_64-unknown-linux-musl", needs), None);
        assert_eq!(old.cannot_run("x86_64-pc-windows-gnu", needs), None);

        let unknown = linux("x86_64", Libc::Gnu);
        assert_eq!(
            unknown.cannot_run(gnu, needs),
            Some(Unrunnable::GlibcUnknown {
                needs: GlibcVersion::new(2, 39)
            })
        );
        assert_eq!(unknown.cannot_run(gnu, None), None);

        let nixos = Host {
            gnu_loader_missing: true,
            ..glibc_host(2, 40)
        };
        let no_loader = Some(Unrunnable::NoGnuLoader {
            loader: "/lib64/ld-linux-x86-64.so.2",
        });
        assert_eq!(nixos.cannot_run(gnu, None), no_loader);
        assert_eq!(nixos.cannot_run(gnu, needs), no_loader);
        assert_eq!(nixos.cannot_run("x86_64-unknown-linux-musl", None), None);
    }

    #[test]
    fn reasons_read_as_sentences() {
        let too_old = Unrunnable::GlibcTooOld {
            needs: GlibcVersion::new(2, 39),
            has: GlibcVersion::new(2, 31),
        };
        assert_eq!(too_old.to_string(), "needs glibc 2.39, this host has 2.31");
        let no_loader = Unrunnable::NoGnuLoader {
            loader: "/lib64/ld-linux-x86-64.so.2",
        };
        assert!(
            no_loader
                .to_string()
                .contains("has no /lib64/ld-linux-x86-64.so.2"),
            "{no_loader}"
        );
    }
}
