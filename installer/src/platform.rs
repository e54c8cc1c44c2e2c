//! The host platform: the facts that decide which builds it can run
//! (`Host`, read once per process) and, from them, the Rust target triples
//! it can run, best first: on glibc Linux the gnu build, then the static
//! musl one; on Apple silicon the native build, then x86_64 under Rosetta 2.
//!
//! Everything that decides is a pure function of a `Host`, so tests can
//! describe any host; only `Host::detect` looks at this machine, and it
//! never runs a program (an install must not depend on `ldd` being there).

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Libc {
    Gnu,
    Musl,
}

/// A glibc version as `MAJOR.MINOR` (glibc releases have no patch number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion {
    pub major: u32,
    pub minor: u32,
}

impl GlibcVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        GlibcVersion { major, minor }
    }

    /// Exactly `MAJOR.MINOR` in decimal, as a publisher writes it in
    /// package.json: anything else is refused rather than guessed at.
    pub fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.split_once('.')?;
        Some(GlibcVersion::new(decimal(major)?, decimal(minor)?))
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A non-empty run of ASCII digits that fits a u32.
fn decimal(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
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
}

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

/// This host's candidates. Empty on a platform postbin does not know,
/// which the caller reports as unsupported.
pub fn host_candidates() -> Candidates {
    Candidates::for_host(Host::detect())
}

/// What postbin knows about a Linux architecture (`std::env::consts::ARCH`).
struct LinuxArch {
    arch: &'static str,
    gnu: &'static [&'static str],
    musl: &'static [&'static str],
    /// glibc's standard loader path: the PT_INTERP of every `-gnu` build.
    loader: &'static str,
    /// Debian's multiarch directory name (`/lib/<this>/libc.so.6`).
    multiarch: &'static str,
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

fn linux_arch(arch: &str) -> Option<&'static LinuxArch> {
    LINUX.iter().find(|a| a.arch == arch)
}

/// A `-gnu` Linux triple: one whose build is linked against glibc.
pub fn is_gnu_linux(triple: &str) -> bool {
    triple.contains("-linux-gnu")
}

impl Host {
    /// This host, read once per process: `prefill` asks for every package.
    pub fn detect() -> Host {
        static HOST: OnceLock<Host> = OnceLock::new();
        HOST.get_or_init(Host::read).clone()
    }

    fn read() -> Host {
        let mut host = Host {
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            ..Host::default()
        };
        if host.os == "linux" {
            host.read_linux();
        }
        if host.os == "macos" && host.arch == "x86_64" {
            host.translated = running_under_rosetta();
        }
        host
    }

    fn read_linux(&mut self) {
        let interpreter = elf_interpreter(Path::new("/bin/sh"));
        let libc = libc_from(interpreter.as_deref());
        self.libc = Some(libc);
        if libc == Libc::Musl {
            return;
        }
        if let Some(arch) = linux_arch(self.arch) {
            self.gnu_loader_missing = !Path::new(arch.loader).exists();
        }
        if let Some((version, file)) = find_glibc(interpreter.as_deref(), self.arch) {
            self.glibc = Some(version);
            self.glibc_file = Some(file);
        }
    }

    /// Triples this host can run, best first.
    pub fn candidates(&self) -> Vec<String> {
        let list: Vec<&str> = match (self.os, self.arch) {
            ("linux", arch) => match linux_arch(arch) {
                // A static musl binary also runs on glibc; the reverse is not true.
                Some(a) if self.libc == Some(Libc::Musl) => a.musl.to_vec(),
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
        if !is_gnu_linux(triple) {
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

/// Upper bound on what is read of a libc.so.6: glibc's is about 2 MB; a
/// file far larger is not one, and reading it whole would only cost time.
const LIBC_READ_LIMIT: u64 = 16 << 20;

/// The host's glibc version and the libc.so.6 it was read from. The first
/// place looked is beside `/bin/sh`'s interpreter, symlinks resolved: that
/// is the libc the system's programs load, wherever it lives (/nix/store,
/// /usr/lib64). Then the usual directories.
pub fn find_glibc(interpreter: Option<&str>, arch: &str) -> Option<(GlibcVersion, PathBuf)> {
    libc_paths(interpreter, arch)
        .into_iter()
        .find_map(|path| glibc_version_of(&path).map(|v| (v, path)))
}

fn libc_paths(interpreter: Option<&str>, arch: &str) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let beside_loader = interpreter
        .and_then(|i| std::fs::canonicalize(i).ok())
        .and_then(|loader| loader.parent().map(|dir| dir.join("libc.so.6")));
    paths.extend(beside_loader);
    let mut dirs: Vec<String> = Vec::new();
    if let Some(a) = linux_arch(arch) {
        dirs.push(format!("/lib/{}", a.multiarch));
        dirs.push(format!("/usr/lib/{}", a.multiarch));
    }
    dirs.extend(["/lib64", "/usr/lib64", "/lib", "/usr/lib"].map(String::from));
    paths.extend(dirs.iter().map(|d| Path::new(d).join("libc.so.6")));
    paths
}

/// The glibc version of one libc.so.6, read (bounded), never run.
pub fn glibc_version_of(path: &Path) -> Option<GlibcVersion> {
    // A regular file only: opening a FIFO planted there would block.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(LIBC_READ_LIMIT)
        .read_to_end(&mut bytes)
        .ok()?;
    parse_glibc_version(&bytes)
}

/// The version in glibc's banner, `GNU C Library (...) stable release
/// version 2.36.`; else the highest `GLIBC_2.N` version definition, which
/// is at most the release (a release may add no new symbol version).
pub fn parse_glibc_version(bytes: &[u8]) -> Option<GlibcVersion> {
    banner_version(bytes).or_else(|| highest_version_node(bytes))
}

fn banner_version(bytes: &[u8]) -> Option<GlibcVersion> {
    const BANNER: &[u8] = b"GNU C Library";
    const MARK: &[u8] = b"release version ";
    positions(bytes, BANNER).find_map(|at| {
        // The banner is one C string; never look past its end.
        let rest = &bytes[at..bytes.len().min(at + 512)];
        let text = &rest[..rest.iter().position(|&b| b == 0).unwrap_or(rest.len())];
        let mark = positions(text, MARK).next()?;
        leading_version(&text[mark + MARK.len()..])
    })
}

/// `2.36.` or `2.40.9000` → 2.36 / 2.40: MAJOR.MINOR at the start of `text`.
fn leading_version(text: &[u8]) -> Option<GlibcVersion> {
    let digits = |t: &[u8]| t.iter().take_while(|b| b.is_ascii_digit()).count();
    let major_len = digits(text);
    if text.get(major_len) != Some(&b'.') {
        return None;
    }
    let minor_text = &text[major_len + 1..];
    let minor_len = digits(minor_text);
    let number = |t: &[u8]| decimal(std::str::from_utf8(t).ok()?);
    Some(GlibcVersion::new(
        number(&text[..major_len])?,
        number(&minor_text[..minor_len])?,
    ))
}

/// The highest `GLIBC_X.Y[.Z]` string that stands alone (NUL on both
/// sides), as glibc's version definitions do in its string table.
fn highest_version_node(bytes: &[u8]) -> Option<GlibcVersion> {
    const NODE: &[u8] = b"\0GLIBC_";
    positions(bytes, NODE)
        .filter_map(|at| {
            let rest = &bytes[at + NODE.len()..];
            let end = rest.iter().take(16).position(|&b| b == 0)?;
            version_node(&rest[..end])
        })
        .max()
}

/// `2.34` or `2.2.5` (dot-separated numbers, nothing else) → MAJOR.MINOR.
fn version_node(text: &[u8]) -> Option<GlibcVersion> {
    let text = std::str::from_utf8(text).ok()?;
    let mut parts = text.split('.');
    let major = decimal(parts.next()?)?;
    let minor = decimal(parts.next()?)?;
    if parts.any(|p| decimal(p).is_none()) {
        return None;
    }
    Some(GlibcVersion::new(major, minor))
}

/// Every offset where `needle` (not empty) starts in `haystack`.
fn positions<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let mut next = 0;
    std::iter::from_fn(move || {
        // A plain loop on the first byte: it runs over ~2 MB of libc, where
        // iterator adapters per byte cost ten times more in debug builds.
        while next + needle.len() <= haystack.len() {
            let at = next;
            next += 1;
            if haystack[at] == needle[0] && haystack[at..].starts_with(needle) {
                return Some(at);
            }
        }
        None
    })
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

/// The PT_INTERP path of an ELF file, if it has one.
pub fn elf_interpreter(path: &Path) -> Option<String> {
    const PT_INTERP: u64 = 3;
    let mut file = std::fs::File::open(path).ok()?;
    let mut ident = [0u8; 64];
    file.read_exact(&mut ident).ok()?;
    let elf = ElfLayout::of(&ident)?;
    let (phoff, phentsize, phnum) = elf.program_header_table(&ident)?;
    let mut header = vec![0u8; phentsize as usize];
    for i in 0..phnum {
        file.seek(SeekFrom::Start(phoff + i * phentsize)).ok()?;
        file.read_exact(&mut header).ok()?;
        if elf.u32_at(&header, 0) == PT_INTERP {
            let (offset, size) = elf.segment(&header);
            return read_interpreter(&mut file, offset, size);
        }
    }
    None
}

/// How an ELF file lays out its fields: 32- or 64-bit, and byte order.
#[derive(Clone, Copy)]
struct ElfLayout {
    is64: bool,
    le: bool,
}

impl ElfLayout {
    /// From the file's first bytes; `None` for anything but ELF.
    fn of(ident: &[u8; 64]) -> Option<Self> {
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
        Some(ElfLayout { is64, le })
    }

    /// The program header table's (offset, entry size, entry count). Tables
    /// too odd to be real are refused rather than read: the file may be
    /// anything.
    fn program_header_table(self, ident: &[u8; 64]) -> Option<(u64, u64, u64)> {
        let (phoff, phentsize, phnum) = if self.is64 {
            (
                self.u64_at(ident, 0x20),
                self.u16_at(ident, 0x36),
                self.u16_at(ident, 0x38),
            )
        } else {
            (
                self.u32_at(ident, 0x1C),
                self.u16_at(ident, 0x2A),
                self.u16_at(ident, 0x2C),
            )
        };
        let min_entry = if self.is64 { 56 } else { 32 };
        if phentsize < min_entry || phnum > 512 {
            return None;
        }
        Some((phoff, phentsize, phnum))
    }

    /// The (file offset, size) of the segment a program header describes.
    fn segment(self, header: &[u8]) -> (u64, u64) {
        if self.is64 {
            (self.u64_at(header, 0x08), self.u64_at(header, 0x20))
        } else {
            (self.u32_at(header, 0x04), self.u32_at(header, 0x10))
        }
    }

    fn u16_at(self, b: &[u8], o: usize) -> u64 {
        let v = [b[o], b[o + 1]];
        (if self.le {
            u16::from_le_bytes(v)
        } else {
            u16::from_be_bytes(v)
        }) as u64
    }

    fn u32_at(self, b: &[u8], o: usize) -> u64 {
        let v = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        (if self.le {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        }) as u64
    }

    fn u64_at(self, b: &[u8], o: usize) -> u64 {
        let v: [u8; 8] = b[o..o + 8].try_into().unwrap();
        if self.le {
            u64::from_le_bytes(v)
        } else {
            u64::from_be_bytes(v)
        }
    }
}

/// The NUL-terminated path in the PT_INTERP segment; a size no loader
/// path has is refused.
fn read_interpreter(file: &mut std::fs::File, offset: u64, size: u64) -> Option<String> {
    if size == 0 || size > 4096 {
        return None;
    }
    let mut interp = vec![0u8; size as usize];
    file.seek(SeekFrom::Start(offset)).ok()?;
    file.read_exact(&mut interp).ok()?;
    let end = interp.iter().position(|&b| b == 0).unwrap_or(interp.len());
    Some(String::from_utf8_lossy(&interp[..end]).into_owned())
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

    fn linux(arch: &'static str, libc: Libc) -> Host {
        Host {
            os: "linux",
            arch,
            libc: Some(libc),
            ..Host::default()
        }
    }

    fn glibc_host(major: u32, minor: u32) -> Host {
        Host {
            glibc: Some(GlibcVersion::new(major, minor)),
            ..linux("x86_64", Libc::Gnu)
        }
    }

    fn mac(arch: &'static str, translated: bool) -> Host {
        Host {
            os: "macos",
            arch,
            translated,
            ..Host::default()
        }
    }

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
    fn every_linux_arch_has_gnu_and_musl_builds_and_an_absolute_loader() {
        for a in LINUX {
            assert!(!a.gnu.is_empty() && !a.musl.is_empty(), "{}", a.arch);
            assert!(a.gnu.iter().all(|t| is_gnu_linux(t)), "{}", a.arch);
            assert!(a.musl.iter().all(|t| !is_gnu_linux(t)), "{}", a.arch);
            assert!(a.loader.starts_with('/'), "{}", a.arch);
        }
    }

    #[test]
    fn glibc_minimums_are_exactly_major_dot_minor() {
        assert_eq!(GlibcVersion::parse("2.28"), Some(GlibcVersion::new(2, 28)));
        assert_eq!(GlibcVersion::parse("2.017"), Some(GlibcVersion::new(2, 17)));
        for bad in [
            "",
            "2",
            "2.",
            ".28",
            "2.28.1",
            "v2.28",
            " 2.28",
            "2.28 ",
            "2,28",
            "2.x",
            "+2.28",
            "2.99999999999",
        ] {
            assert_eq!(GlibcVersion::parse(bad), None, "{bad:?}");
        }
        assert!(GlibcVersion::new(2, 9) < GlibcVersion::new(2, 10));
        assert!(GlibcVersion::new(2, 40) < GlibcVersion::new(3, 0));
        assert_eq!(GlibcVersion::new(2, 36).to_string(), "2.36");
    }

    /// A libc image: an ELF-ish start, then `parts` as C strings, one after
    /// the other as in a string table, then bytes that mean nothing.
    fn image(parts: &[&[u8]]) -> Vec<u8> {
        let mut bytes = b"\x7fELF\x02\x01\x01\x01junk".to_vec();
        for part in parts {
            bytes.extend_from_slice(part);
            bytes.push(0);
        }
        bytes.extend_from_slice(b"\x01\x02GLIBC");
        bytes
    }

    #[test]
    fn the_banner_gives_the_release_version() {
        let v = |major, minor| Some(GlibcVersion::new(major, minor));
        let cases: &[(&[&[u8]], Option<GlibcVersion>)] = &[
            (
                &[b"GNU C Library (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36.\nCopyright"],
                v(2, 36),
            ),
            (
                &[b"GNU C Library (GNU libc) release release version 2.34."],
                v(2, 34),
            ),
            (
                &[b"GNU C Library (GNU libc) development release version 2.40.9000."],
                v(2, 40),
            ),
            (
                &[b"GNU C Library (Ubuntu GLIBC 2.35-0ubuntu3) stable release version 2.35."],
                v(2, 35),
            ),
            // The banner wins over the version definitions, which may lag.
            (
                &[b"\0GLIBC_2.36", b"GNU C Library stable release version 2.37."],
                v(2, 37),
            ),
        ];
        for (parts, want) in cases {
            assert_eq!(parse_glibc_version(&image(parts)), *want, "{parts:?}");
        }
    }

    #[test]
    fn without_a_banner_the_highest_version_definition_counts() {
        let v = |major, minor| Some(GlibcVersion::new(major, minor));
        let cases: &[(&[&[u8]], Option<GlibcVersion>)] = &[
            (
                &[
                    b"\0GLIBC_2.2.5",
                    b"GLIBC_2.34",
                    b"GLIBC_2.9",
                    b"GLIBC_PRIVATE",
                ],
                v(2, 34),
            ),
            (&[b"\0GLIBC_2.17"], v(2, 17)),
            // Not standalone strings, or not versions: ignored.
            (
                &[b"xGLIBC_9.9", b"\0GLIBC_2.31x", b"\0GLIBC_2.28"],
                v(2, 28),
            ),
            (&[b"\0GLIBC_PRIVATE", b"\0GLIBC_", b"\0GLIBC_2"], None),
            // A banner with no version, or one cut by the string's end.
            (
                &[b"GNU C Library\0 release version 9.9.", b"\0GLIBC_2.3"],
                v(2, 3),
            ),
            (&[b"GNU C Library release version two"], None),
            (&[b"musl libc (x86_64)"], None),
            (&[], None),
        ];
        for (parts, want) in cases {
            assert_eq!(parse_glibc_version(&image(parts)), *want, "{parts:?}");
        }
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
        let host = Host::read();
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

    #[test]
    fn go_names() {
        assert_eq!(go_os_arch("x86_64-unknown-linux-musl"), ("linux", "amd64"));
        assert_eq!(go_os_arch("aarch64-apple-darwin"), ("darwin", "arm64"));
        assert_eq!(go_os_arch("x86_64-pc-windows-msvc"), ("windows", "amd64"));
    }
}
