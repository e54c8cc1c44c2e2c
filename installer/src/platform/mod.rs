//! The host platform: the facts that decide which builds it can run
//! (`Host`, read once per process) and, from them, the Rust target triples
//! it can run, best first: on glibc Linux the gnu build, then the static
//! musl one; on Apple silicon the native build, then x86_64 under Rosetta 2.
//!
//! Everything that decides is a pure function of a `Host`, so tests can
//! describe any host; only `Host::detect` looks at this machine, and it
//! never runs a program (an install must not depend on `ldd` being there).
//!
//! One job a file: `host` reads this machine into a `Host`; `choice` turns
//! a `Host` into the triples it can run and judges each offered build;
//! `glibc` finds and reads the glibc version, `elf` reads an ELF file's
//! interpreter, `linux_arch` is the table of Linux architectures and
//! `triple` what a triple's spelling says; `requested` describes the
//! machine an install for another platform (npm `--os`/`--cpu`) is for.

mod choice;
mod elf;
mod glibc;
mod host;
mod linux_arch;
mod requested;
mod triple;

pub use choice::{Candidates, Unrunnable, host_candidates, known_triples};
pub use elf::elf_interpreter;
pub use glibc::{GlibcVersion, find_glibc, glibc_version_of, parse_glibc_version};
pub use host::{Host, Libc, host_description};
pub use requested::{Requested, target_host};
pub use triple::{go_os_arch, goreleaser_os_arch, is_gnu_linux, is_windows, target_os};

/// Hosts described by hand, for the tests of `host` and `choice`.
#[cfg(test)]
mod test_hosts {
    use super::{GlibcVersion, Host, Libc};

    pub(super) fn linux(arch: &'static str, libc: Libc) -> Host {
        Host {
            os: "linux",
            arch,
            libc: Some(libc),
            ..Host::default()
        }
    }

    pub(super) fn glibc_host(major: u32, minor: u32) -> Host {
        Host {
            glibc: Some(GlibcVersion::new(major, minor)),
            ..linux("x86_64", Libc::Gnu)
        }
    }

    pub(super) fn mac(arch: &'static str, translated: bool) -> Host {
        Host {
            os: "macos",
            arch,
            translated,
            ..Host::default()
        }
    }
}
