//! zip archives, read from the verified file on disk (zip needs seeking; the
//! archive is never loaded into memory).

use super::{Error, Unpacker};
use crate::format::Format;
use std::fs::File;
use std::io::Read;

pub(super) fn unpack(file: File, unpacker: &mut Unpacker<'_>) -> Result<(), Error> {
    let corrupt = |e: zip::result::ZipError| Error::Corrupt {
        format: Format::Zip,
        detail: e.to_string(),
    };
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(corrupt)?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(corrupt)?;
        let name =
            String::from_utf8(entry.name_raw().to_vec()).map_err(|_| Error::UnsafeEntry {
                entry: String::from_utf8_lossy(entry.name_raw()).into_owned(),
                reason: "its path is not UTF-8".into(),
            })?;
        let mode = entry.unix_mode();
        if entry.is_symlink() {
            let mut target = String::new();
            entry
                .by_ref()
                .take(4096)
                .read_to_string(&mut target)
                .map_err(|e| Error::Corrupt {
                    format: Format::Zip,
                    detail: e.to_string(),
                })?;
            unpacker.link(&name, &target, false)?;
        } else if entry.is_dir() {
            unpacker.dir(&name)?;
        } else {
            // Unix file types other than regular files (devices, FIFOs) are refused.
            const S_IFMT: u32 = 0o170000;
            const S_IFREG: u32 = 0o100000;
            if let Some(m) = mode
                && m & S_IFMT != 0
                && m & S_IFMT != S_IFREG
            {
                return Err(Error::UnsafeEntry {
                    entry: name,
                    reason: "its type is not a regular file, directory or link".into(),
                });
            }
            // Zips made on Windows carry no mode: their files are not marked
            // executable here; the declared executables get the bit in the
            // cache tree before it is published (pipeline::tree).
            let executable = mode.is_some_and(|m| m & 0o111 != 0);
            unpacker
                .file(&name, executable, &mut entry)
                .map_err(|e| match e {
                    Error::Corrupt { detail, .. } => Error::Corrupt {
                        format: Format::Zip,
                        detail,
                    },
                    other => other,
                })?;
        }
    }
    Ok(())
}
