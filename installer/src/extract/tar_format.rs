//! tar streams (after gzip, xz or zstd), entry by entry, never buffered whole.

use super::{Error, Unpacker};
use crate::format::Format;
use std::io::Read;

pub(super) fn unpack(
    reader: impl Read,
    format: Format,
    unpacker: &mut Unpacker<'_>,
) -> Result<(), Error> {
    let corrupt = |e: std::io::Error| Error::Corrupt {
        format,
        detail: e.to_string(),
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let name =
            String::from_utf8(entry.path_bytes().into_owned()).map_err(|_| Error::UnsafeEntry {
                entry: String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
                reason: "its path is not UTF-8".into(),
            })?;
        let kind = entry.header().entry_type();
        use tar::EntryType as T;
        match kind {
            T::Regular | T::Continuous => {
                let mode = entry.header().mode().unwrap_or(0o644);
                let executable = mode & 0o111 != 0;
                unpacker
                    .file(&name, executable, &mut entry)
                    .map_err(|e| match e {
                        // A read error inside an entry is the compressed stream failing.
                        Error::Corrupt { detail, .. } => Error::Corrupt { format, detail },
                        other => other,
                    })?;
            }
            T::Directory => unpacker.dir(&name)?,
            T::Symlink | T::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                unpacker.link(&name, &target, kind == T::Link)?;
            }
            // Metadata entries that the tar crate has already folded into the next entry.
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => {}
            other => {
                return Err(Error::UnsafeEntry {
                    entry: name,
                    reason: format!(
                        "its type ({}) is not a regular file, directory or link",
                        describe(other)
                    ),
                });
            }
        }
    }
    Ok(())
}

fn describe(kind: tar::EntryType) -> &'static str {
    use tar::EntryType as T;
    match kind {
        T::Char => "character device",
        T::Block => "block device",
        T::Fifo => "FIFO",
        T::GNUSparse => "GNU sparse file",
        _ => "unknown",
    }
}
