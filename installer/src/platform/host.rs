//! This host, read once per process: its OS and arch, C library, glibc
//! version and loader, Rosetta 2; and how it is described in messages.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::elf::elf_interpreter;
use super::glibc::{GlibcVersion, find_glibc};
use super::linux_arch::linux_arch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Libc {
    Gnu,
    Musl,
}

/// What this host is, as far as choosing a build goes. Gathered once by
/// `Host::detect`; tests build one by hand to describe any host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Host {
    /// `std::env::consts::OS` spelling: `linux`, `macos`, `windows`...
    pub os: &'static str,
    /// `std::env::consts::ARCH` spelling: `x86_64`, `aarch64`, `arm`...
    pub arch: &'static str,
    /// Linux: the C library the system's own programs use.
    pub libc: Option<Libc>,
    /// Linux with glibc: its version, when a libc.so.6 could be read.
    pub glibc: Option<GlibcVersion>,
    /// The libc.so.6 the version was read from (for `postbin doctor`).
    pub glibc_file: Option<PathBuf>,
    /// Linux: glibc's standard loader for this arch does not exist. Every
    /// `-gnu` build names that path as its ELF interpreter, so none can
    /// start; system programs use another one (NixOS: under /nix/store).
    pub gnu_loader_missing: bool,
    /// macOS: this x86_64 process is translated by Rosetta 2, so the
    /// machine is Apple silicon and runs arm64 builds natively.
    pub translated: bool,
    /// Not this machine: the one an install for another platform is for
    /// (npm `--os`/`--cpu`/`--libc`, as `Requested::describe` says it).
    /// Nothing is known of its glibc, so nothing is judged by it.
    pub for_another_machine: Option<String>,
}

impl Host {
    /// This host, read once per process: `prefill` asks for every package.
    pub fn detect() -> Host {
        static HOST: OnceLock<Host> = OnceLock::new();
        HOST.get_or_init(|| Host::read(true)).clone()
    }

    /// This host without its glibc version (`glibc: None`): for packages
    /// that declare no glibc minimum, where nothing is judged by it, so the
    /// libc.so.6 is not read (a few MB) on every install.
    pub fn detect_without_glibc_version() -> Host {
        static HOST: OnceLock<Host> = OnceLock::new();
        HOST.get_or_init(|| Host::read(false)).clone()
    }

    fn read(glibc_version: bool) -> Host {
        let mut host = Host {
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            ..Host::default()
        };
        if host.os == "linux" {
            host.read_linux(glibc_version);
        }
        if host.os == "macos" && host.arch == "x86_64" {
            host.translated = running_under_rosetta();
        }
        host
    }

    fn read_linux(&mut self, glibc_version: bool) {
        let interpreter = elf_interpreter(Path::new("/bin/sh"));
        let libc = libc_from(interpreter.as_deref());
        self.libc = Some(libc);
        if libc == Libc::Musl {
            return;
        }
        if let Some(arch) = linux_arch(self.arch) {
            self.gnu_loader_missing = !Path::new(arch.loader).exists();
        }
        if !glibc_version {
            return;
        }
        if let Some((version, file)) = find_glibc(interpreter.as_deref(), self.arch) {
            self.glibc = Some(version);
            self.glibc_file = Some(file);
        }
    }
    /// A short name of the host for messages: `linux x86_64, glibc 2.36`.
    pub fn description(&self) -> String {
        let mut text = format!("{} {}", self.os, self.arch);
        match (self.libc, self.glibc) {
            (Some(Libc::Musl), _) => text.push_str(", musl"),
            (Some(Libc::Gnu), Some(v)) => text.push_str(&format!(", glibc {v}")),
            (Some(Libc::Gnu), None) => text.push_str(", glibc"),
            (None, _) => {}
        }
        if self.translated {
            text.push_str(" under Rosetta 2");
        }
        if let Some(asked) = &self.for_another_machine {
            text.push_str(&format!(" (another machine: {asked})"));
        }
        text
    }

    /// The line `postbin doctor` prints about the C library or Rosetta;
    /// `None` where there is nothing to say.
    pub fn summary(&self) -> Option<String> {
        if self.translated {
            return Some(
                "rosetta: this x86_64 postbin runs under Rosetta 2 on Apple silicon; \
                 arm64 builds come first"
                    .into(),
            );
        }
        match self.libc? {
            Libc::Musl => Some("libc: musl (only -musl builds can run)".into()),
            Libc::Gnu => Some(format!(
                "libc: {}; {}",
                self.glibc_summary(),
                self.loader_summary()
            )),
        }
    }

    fn glibc_summary(&self) -> String {
        match (self.glibc, &self.glibc_file) {
            (Some(v), Some(file)) => format!("glibc {v} (read from {})", file.display()),
            (Some(v), None) => format!("glibc {v}"),
            (None, _) => "glibc, version unknown (no readable libc.so.6 found)".into(),
        }
    }

    fn loader_summary(&self) -> String {
        let Some(arch) = linux_arch(self.arch) else {
            return "loader: unknown for this arch".into();
        };
        if self.gnu_loader_missing {
            format!("loader {}: missing, so -gnu builds cannot run", arch.loader)
        } else {
            format!("loader {}: present", arch.loader)
        }
    }
}

/// A short human name of the host, for messages.
pub fn host_description() -> String {
    format!("{} {}", std::env::consts::OS, std::env::consts::ARCH)
}

/// musl or glibc, from the ELF interpreter of `/bin/sh` (what the system's own
/// programs are linked against), not from `ldd` output, whose wording varies.
/// `Host::detect` reads it once; this is for tests.
#[cfg(test)]
pub fn detect_libc() -> Libc {
    libc_from(elf_interpreter(Path::new("/bin/sh")).as_deref())
}

/// musl or glibc from `/bin/sh`'s interpreter, if it has one.
fn libc_from(interpreter: Option<&str>) -> Libc {
    if let Some(interp) = interpreter {
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

/// Whether this x86_64 process is translated by Rosetta 2. The sysctl is
/// missing on Intel Macs and older macOS; failing means "not translated".
#[cfg(target_os = "macos")]
fn running_under_rosetta() -> bool {
    use std::ffi::{c_char, c_int, c_void};
    unsafe extern "C" {
        fn sysctlbyname(
            name: *const c_char,
            oldp: *mut c_void,
            oldlenp: *mut usize,
            newp: *mut c_void,
            newlen: usize,
        ) -> c_int;
    }
    let mut translated: c_int = 0;
    let mut len = std::mem::size_of::<c_int>();
    // SAFETY: the name is NUL-terminated; `oldp` points at a c_int whose
    // size is in `len`; no new value is set.
    let rc = unsafe {
        sysctlbyname(
            c"sysctl.proc_translated".as_ptr(),
            (&raw mut translated).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    rc == 0 && translated == 1
}

#[cfg(not(target_os = "macos"))]
fn running_under_rosetta() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    use crate::platform::glibc::{glibc_version_of, leading_version};
    use crate::platform::test_hosts::{glibc_host, linux, mac};

    #[test]
    fn descriptions_and_the_doctor_line() {
        assert_eq!(glibc_host(2, 36).description(), "linux x86_64, glibc 2.36");
        assert_eq!(
            linux("aarch64", Libc::Musl).description(),
            "linux aarch64, musl"
        );
        assert_eq!(
            mac("x86_64", true).description(),
            "macos x86_64 under Rosetta 2"
        );
        assert_eq!(mac("aarch64", false).summary(), None);

        let nixos = Host {
            gnu_loader_missing: true,
            glibc_file: Some("/nix/store/x-glibc-2.40/lib/libc.so.6".into()),
            ..glibc_host(2, 40)
        };
        assert_eq!(
            nixos.summary().unwrap(),
            "libc: glibc 2.40 (read from /nix/store/x-glibc-2.40/lib/libc.so.6); \
             loader /lib64/ld-linux-x86-64.so.2: missing, so -gnu builds cannot run"
        );
        let unknown = linux("x86_64", Libc::Gnu).summary().unwrap();
        assert!(unknown.contains("version unknown"), "{unknown}");
        assert!(mac("x86_64", true).summary().unwrap().contains("Rosetta 2"));
    }

    /// The glibc this test process itself runs on, asked of glibc.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn running_glibc() -> GlibcVersion {
        unsafe extern "C" {
            fn gnu_get_libc_version() -> *const std::ffi::c_char;
        }
        // SAFETY: glibc returns a static NUL-terminated string.
        let text = unsafe { std::ffi::CStr::from_ptr(gnu_get_libc_version()) };
        leading_version(text.to_bytes()).expect("glibc's own version")
    }

    /// On a glibc build host (this Debian one: 2.36) the version read from
    /// the files is the one the test process is running on.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn this_hosts_glibc_is_read_from_its_files() {
        let without = Host::read(false);
        assert_eq!((without.libc, without.glibc), (Some(Libc::Gnu), None));
        assert!(without.glibc_file.is_none(), "{without:?}");
        let host = Host::read(true);
        assert_eq!(host.libc, Some(Libc::Gnu));
        assert!(!host.gnu_loader_missing, "{host:?}");
        assert_eq!(host.glibc, Some(running_glibc()), "{host:?}");
        let file = host.glibc_file.expect("a libc.so.6 was read");
        assert!(file.ends_with("libc.so.6"), "{}", file.display());
        // The usual directories alone find it too (static /bin/sh hosts).
        let (version, _) = find_glibc(None, std::env::consts::ARCH).expect("libc.so.6");
        assert_eq!(version, running_glibc());
        assert!(version >= GlibcVersion::new(2, 17));
        // Not a libc: no version.
        assert_eq!(glibc_version_of(Path::new("/etc/hostname")), None);
        assert_eq!(glibc_version_of(Path::new("/nonexistent/libc.so.6")), None);
    }
}
