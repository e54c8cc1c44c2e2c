//! The ELF reader: the PT_INTERP path of a file, read from its headers,
//! with nothing run.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::host::{Libc, detect_libc};

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
}
