//! The machine an install is for when it is not this one: npm's `--os`,
//! `--cpu` and `--libc` (`npm install --os=linux --cpu=arm64` on a Mac, to
//! build a `node_modules` for a Docker image or a Lambda bundle). npm passes
//! them to every install script as `npm_config_os`, `npm_config_cpu` and
//! `npm_config_libc`, and installs the optional dependencies that match them;
//! postbin installs the tool's build for that machine the same way.
//!
//! Nothing is known of that machine beyond what was asked: no glibc version
//! is judged, and nothing built for it is ever run here.

use super::host::{Host, Libc};

/// npm's spelling of a platform, as asked (each part optional: a missing one
/// is this host's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Requested {
    pub os: Option<String>,
    pub cpu: Option<String>,
    pub libc: Option<String>,
}

impl Requested {
    pub fn is_empty(&self) -> bool {
        self.os.is_none() && self.cpu.is_none() && self.libc.is_none()
    }

    /// How messages name the request: `npm --os=linux --cpu=arm64`.
    pub fn describe(&self) -> String {
        let mut text = String::from("npm");
        for (flag, value) in [("os", &self.os), ("cpu", &self.cpu), ("libc", &self.libc)] {
            if let Some(v) = value {
                text.push_str(&format!(" --{flag}={v}"));
            }
        }
        text
    }
}

/// npm's `process.platform` spelling as Rust's `std::env::consts::OS`.
fn os_of(npm: &str) -> &'static str {
    match npm {
        "linux" => "linux",
        "darwin" => "macos",
        "win32" => "windows",
        "freebsd" => "freebsd",
        _ => "unknown",
    }
}

/// npm's `process.arch` spelling as Rust's `std::env::consts::ARCH`.
fn arch_of(npm: &str) -> &'static str {
    match npm {
        "x64" => "x86_64",
        "arm64" => "aarch64",
        "ia32" => "x86",
        "arm" => "arm",
        "riscv64" => "riscv64",
        "s390x" => "s390x",
        "ppc64" => "powerpc64",
        "loong64" => "loongarch64",
        _ => "unknown",
    }
}

/// The host an install is for: `this` unless `requested` names another
/// machine, which is then described by what was asked alone (its libc, when
/// not asked, unknown: the static musl build first, as it runs on both).
pub fn target_host(requested: &Requested, this: &Host) -> Host {
    if requested.is_empty() {
        return this.clone();
    }
    let os = requested.os.as_deref().map_or(this.os, os_of);
    let arch = requested.cpu.as_deref().map_or(this.arch, arch_of);
    let libc = match requested.libc.as_deref() {
        Some("glibc") => Some(Libc::Gnu),
        Some("musl") => Some(Libc::Musl),
        _ => None,
    };
    let same_machine = os == this.os && arch == this.arch && (libc.is_none() || libc == this.libc);
    if same_machine {
        return this.clone();
    }
    Host {
        os,
        arch,
        libc: if os == "linux" { libc } else { None },
        for_another_machine: Some(requested.describe()),
        ..Host::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::test_hosts::{glibc_host, mac};

    fn asked(os: Option<&str>, cpu: Option<&str>, libc: Option<&str>) -> Requested {
        Requested {
            os: os.map(str::to_string),
            cpu: cpu.map(str::to_string),
            libc: libc.map(str::to_string),
        }
    }

    #[test]
    fn nothing_asked_or_this_machine_asked_is_this_host() {
        let this = glibc_host(2, 36);
        assert_eq!(target_host(&Requested::default(), &this), this);
        assert_eq!(
            target_host(&asked(Some("linux"), Some("x64"), None), &this),
            this
        );
        assert_eq!(target_host(&asked(None, None, Some("glibc")), &this), this);
    }

    #[test]
    fn linux_arm64_from_a_mac_prefers_the_static_build_unless_glibc_is_asked() {
        let mac = mac("aarch64", false);
        let any = target_host(&asked(Some("linux"), Some("arm64"), None), &mac);
        assert_eq!((any.os, any.arch, any.libc), ("linux", "aarch64", None));
        assert_eq!(
            any.candidates(),
            ["aarch64-unknown-linux-musl", "aarch64-unknown-linux-gnu"]
        );
        let gnu = target_host(&asked(Some("linux"), Some("arm64"), Some("glibc")), &mac);
        assert_eq!(gnu.candidates()[0], "aarch64-unknown-linux-gnu");
        let musl = target_host(&asked(Some("linux"), Some("arm64"), Some("musl")), &mac);
        assert_eq!(musl.candidates(), ["aarch64-unknown-linux-musl"]);
        assert!(any.description().contains("npm --os=linux --cpu=arm64"));
    }

    #[test]
    fn only_the_cpu_keeps_this_os_and_a_foreign_machine_is_never_judged_by_glibc() {
        let this = glibc_host(2, 17);
        let arm = target_host(&asked(None, Some("arm64"), Some("glibc")), &this);
        assert_eq!((arm.os, arm.arch), ("linux", "aarch64"));
        let needs = crate::platform::GlibcVersion::new(2, 39);
        assert_eq!(
            arm.cannot_run("aarch64-unknown-linux-gnu", Some(needs)),
            None
        );
    }

    #[test]
    fn an_unknown_cpu_offers_nothing() {
        let this = glibc_host(2, 36);
        assert!(
            target_host(&asked(None, Some("mips"), None), &this)
                .candidates()
                .is_empty()
        );
    }
}
