//! Unpacks a verified archive into a fresh directory, safely: regular files
//! and directories only, every path enclosed in the destination, symlinks and
//! hard links only when they stay inside (and created last, so nothing is
//! ever written through a link), unknown entry types refused, duplicate
//! entries refused, total size and entry count capped, only the exec bit kept.
//! Names the host would not create faithfully are refused before anything is
//! written for them (`path::check_for_host`: Windows' device names, streams,
//! trailing dots; names differing only by case on Windows and macOS).
//!
//! Every regular file is hashed while it is written (on a second thread, see
//! `writer`); the resulting listing is what later cache hits re-verify against.

mod path;
mod tar_format;
mod writer;
mod zip_format;
mod zst;

pub use path::{HostRules, Refusal};
pub use writer::Tee;

use crate::format::Format;
use crate::hash::Sha256Hash;
use crate::io_error::{PathIo, from_io_variant, io_err};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Total bytes all files may unpack to (decompression bombs stop here).
    pub max_unpacked: u64,
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_unpacked: crate::limits::DEFAULT_MAX_UNPACKED_SIZE,
            max_entries: 100_000,
        }
    }
}

/// One regular file of an unpacked tree.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRecord {
    pub size: u64,
    pub sha256: Sha256Hash,
    pub executable: bool,
}

/// What an archive unpacked to: every regular file (links resolved to the
/// file they reach), keyed by its `/`-separated relative path.
pub type Listing = BTreeMap<String, FileRecord>;

#[derive(Debug)]
pub enum Error {
    Io(PathIo),
    /// The archive itself is malformed.
    Corrupt {
        format: Format,
        detail: String,
    },
    UnsafeEntry {
        entry: String,
        reason: String,
    },
    TooLarge {
        limit: u64,
    },
    TooManyEntries {
        limit: u64,
    },
}

from_io_variant!(Error);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(PathIo { op, path, .. }) => write!(f, "cannot {op} {}", path.display()),
            Error::Corrupt { format, detail } => write!(
                f,
                "the {} archive is malformed ({detail}); the publisher's `format` may be wrong",
                format.as_str()
            ),
            Error::UnsafeEntry { entry, reason } => write!(
                f,
                "refusing archive entry `{}`: {reason}; the release archive is unsafe to unpack, report it to the publisher",
                entry.escape_debug()
            ),
            Error::TooLarge { limit } => write!(
                f,
                "the archive unpacks to more than {} MiB (a decompression bomb?); raise POSTBIN_MAX_UNPACKED_SIZE if it is genuine",
                limit >> 20
            ),
            Error::TooManyEntries { limit } => {
                write!(f, "the archive has more than {limit} entries")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(PathIo { source, .. }) => Some(source),
            _ => None,
        }
    }
}

/// Unpacks `archive` into `dest` (which must exist and be empty).
/// For `Format::Raw` the asset itself becomes the file `raw_name`.
pub fn unpack(
    format: Format,
    archive: &Path,
    dest: &Path,
    limits: Limits,
    raw_name: &str,
) -> Result<Listing, Error> {
    let file = File::open(archive).map_err(io_err("open", archive))?;
    unpack_file(format, file, dest, limits, raw_name, Vec::new())
}

/// `unpack` from a file already open, read from where it stands: the one whose
/// bytes were just verified, so nothing swapped in at its path meanwhile is
/// read. Each of `tees` gets a copy of its entry (see `Tee`).
pub fn unpack_file(
    format: Format,
    file: File,
    dest: &Path,
    limits: Limits,
    raw_name: &str,
    tees: Vec<Tee>,
) -> Result<Listing, Error> {
    if format == Format::Zip {
        let mut unpacker = Unpacker::new(dest, limits, HostRules::current(), tees)?;
        zip_format::unpack(file, &mut unpacker)?;
        return unpacker.finish();
    }
    unpack_stream(format, &mut { file }, dest, limits, raw_name, tees)
}

/// Unpacks a stream of a format that needs no seeking (every format but zip).
///
/// `source` is a trait object on purpose: the decoders are compiled once,
/// not once per source type (each copy costs ~40 KiB of the size budget).
pub fn unpack_stream(
    format: Format,
    source: &mut dyn Read,
    dest: &Path,
    limits: Limits,
    raw_name: &str,
    tees: Vec<Tee>,
) -> Result<Listing, Error> {
    let mut unpacker = Unpacker::new(dest, limits, HostRules::current(), tees)?;
    let reader = io::BufReader::with_capacity(256 * 1024, source);
    match format {
        Format::TarGz => {
            tar_format::unpack(flate2::read::GzDecoder::new(reader), format, &mut unpacker)?
        }
        Format::TarXz => tar_format::unpack(
            lzma_rust2::XzReader::new(reader, true),
            format,
            &mut unpacker,
        )?,
        Format::TarZst => tar_format::unpack(zst::Decoder::new(reader), format, &mut unpacker)?,
        Format::Raw => unpacker.file(raw_name, true, &mut { reader })?,
        Format::Zip => unreachable!("zip needs seeking; `unpack` handles it"),
    }
    unpacker.finish()
}

/// What a format reader hands over, entry by entry.
pub(crate) struct Unpacker<'a> {
    dest: &'a Path,
    limits: Limits,
    rules: HostRules,
    entries: u64,
    unpacked: u64,
    /// Finished files. A file enters when the writer thread reports it.
    listing: Listing,
    /// Every file and link path claimed so far, finished or not, by its
    /// `path::clash_key` (case-folded where the host ignores case).
    taken: HashMap<String, String>,
    /// Files handed to the writer and not yet reported, in order.
    pending: VecDeque<(String, bool)>,
    writer: writer::Writer,
    /// Directories, explicit or implied, by clash key.
    dirs: HashMap<String, String>,
    /// (link path, resolved target, is hard link), created after all files.
    links: Vec<(String, String, bool)>,
    /// Second copies still to write, each handed to its entry's writer job.
    tees: Vec<Tee>,
}

impl<'a> Unpacker<'a> {
    fn new(
        dest: &'a Path,
        limits: Limits,
        rules: HostRules,
        tees: Vec<Tee>,
    ) -> Result<Self, Error> {
        let writer = writer::Writer::start().map_err(io_err("start a writer thread for", dest))?;
        Ok(Self {
            dest,
            limits,
            rules,
            entries: 0,
            unpacked: 0,
            listing: Listing::new(),
            taken: HashMap::new(),
            pending: VecDeque::new(),
            writer,
            dirs: HashMap::new(),
            links: Vec::new(),
            tees,
        })
    }

    fn count_entry(&mut self) -> Result<(), Error> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(Error::TooManyEntries {
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    /// The entry's normalized path, if it is enclosed and the host can
    /// create it faithfully.
    fn normalize(&self, name: &str) -> Result<String, Error> {
        let rel = path::normalize(name).map_err(|r| unsafe_entry(name, r.describe()))?;
        self.check_for_host(&rel, name)?;
        Ok(rel)
    }

    fn check_for_host(&self, rel: &str, name: &str) -> Result<(), Error> {
        path::check_for_host(rel, self.rules).map_err(|r| unsafe_entry(name, r.describe()))
    }

    /// Reserves `rel` for a file or link (or, with `is_dir`, a directory),
    /// refusing duplicates and paths that clash with other entries: a path
    /// under a file or link, or a file where entries need a directory. Paths
    /// are compared by `path::clash_key`, so where the host ignores case,
    /// `TOOL.EXE` clashes with `tool.exe`. The check is lexical, so a bad
    /// archive fails as unsafe, not as an I/O error.
    fn claim(&mut self, rel: &str, name: &str, is_dir: bool) -> Result<(), Error> {
        let key = path::clash_key(rel, self.rules).into_owned();
        let earlier = self
            .taken
            .get(&key)
            .or_else(|| (!is_dir).then(|| self.dirs.get(&key)).flatten());
        if let Some(earlier) = earlier {
            return Err(clash(name, rel, earlier));
        }
        let mut ancestor = key.as_str();
        while let Some((parent, _)) = ancestor.rsplit_once('/') {
            if let Some(file) = self.taken.get(parent) {
                return Err(unsafe_entry(
                    name,
                    &format!(
                        "its path runs through `{file}`, which is a file or link in the archive"
                    ),
                ));
            }
            ancestor = parent;
        }
        // Every ancestor is now a directory, explicit or not.
        let mut ancestor = rel;
        while let Some((parent, _)) = ancestor.rsplit_once('/') {
            let parent_key = path::clash_key(parent, self.rules).into_owned();
            self.dirs
                .entry(parent_key)
                .or_insert_with(|| parent.to_string());
            ancestor = parent;
        }
        if is_dir {
            self.dirs.entry(key).or_insert_with(|| rel.to_string());
        } else {
            self.taken.insert(key, rel.to_string());
        }
        Ok(())
    }

    pub(crate) fn dir(&mut self, name: &str) -> Result<(), Error> {
        self.count_entry()?;
        let rel = match path::normalize(name) {
            Ok(rel) => rel,
            Err(Refusal::Empty) => return Ok(()), // the archive's `./`
            Err(r) => return Err(unsafe_entry(name, r.describe())),
        };
        self.check_for_host(&rel, name)?;
        self.claim(&rel, name, true)?;
        let full = self.dest.join(path::to_path(&rel));
        fs::create_dir_all(&full).map_err(io_err("create directory", &full))?;
        Ok(())
    }

    pub(crate) fn file(
        &mut self,
        name: &str,
        executable: bool,
        content: &mut dyn Read,
    ) -> Result<(), Error> {
        self.count_entry()?;
        let rel = self.normalize(name)?;
        self.claim(&rel, name, false)?;
        let full = self.dest.join(path::to_path(&rel));
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
        }
        let file = create_file(&full, executable).map_err(io_err("create", &full))?;
        let stopped = io_err::<Error>("write", &full);
        let tee = (self.tees.iter())
            .position(|t| t.archive_path == rel)
            .map(|i| self.tees.swap_remove(i));
        self.writer
            .open(file, full.clone(), tee)
            .map_err(&stopped)?;
        loop {
            let mut buf = self.writer.buffer().map_err(&stopped)?;
            let n = crate::read_full::fill(content, &mut buf).map_err(|e| Error::Corrupt {
                format: Format::Raw,
                detail: format!("reading `{}`: {e}", name.escape_debug()),
            })?;
            self.unpacked += n as u64;
            if self.unpacked > self.limits.max_unpacked {
                return Err(Error::TooLarge {
                    limit: self.limits.max_unpacked,
                });
            }
            buf.truncate(n);
            self.writer.data(buf).map_err(&stopped)?;
            if n < writer::CHUNK {
                break;
            }
        }
        self.writer.close().map_err(&stopped)?;
        self.pending.push_back((rel, executable));
        self.collect(false)
    }

    /// Moves the files the writer has finished into the listing; with
    /// `wait`, all of them. A write error (disk full) surfaces here.
    fn collect(&mut self, wait: bool) -> Result<(), Error> {
        while !self.pending.is_empty() {
            let written = self
                .writer
                .next_written(wait)
                .map_err(io_err("write", self.dest))?;
            let Some(written) = written else {
                return Ok(());
            };
            let (rel, executable) = self.pending.pop_front().expect("checked non-empty");
            let (sha256, size) = written.result.map_err(io_err("write", &written.path))?;
            self.listing.insert(
                rel,
                FileRecord {
                    size,
                    sha256,
                    executable,
                },
            );
        }
        Ok(())
    }

    pub(crate) fn link(&mut self, name: &str, target: &str, hard: bool) -> Result<(), Error> {
        self.count_entry()?;
        let rel = self.normalize(name)?;
        self.claim(&rel, name, false)?;
        let resolved = if hard {
            // Hard link targets are archive paths, not relative to the link.
            self.normalize(target).map_err(|_| {
                unsafe_entry(name, "it is a hard link that points outside the archive")
            })?
        } else {
            path::resolve_link_target(&rel, target).map_err(|r| unsafe_entry(name, r.describe()))?
        };
        self.links.push((rel, resolved, hard));
        Ok(())
    }

    /// Creates the links, each as a copy of the regular file it reaches (a
    /// link to a directory or to nothing is refused), then returns the listing.
    fn finish(mut self) -> Result<Listing, Error> {
        self.collect(true)?;
        let links = std::mem::take(&mut self.links);
        for (rel, target, hard) in &links {
            let record = self.follow(target, &links, 0).ok_or_else(|| {
                unsafe_entry(
                    rel,
                    "it is a link whose target is not a regular file in the archive",
                )
            })?;
            let (target_rel, record) = record;
            // A link that becomes a copy writes its target's bytes again:
            // they count, or hard links to one big file would bypass the cap.
            if *hard || !cfg!(unix) {
                self.unpacked += record.size;
                if self.unpacked > self.limits.max_unpacked {
                    return Err(Error::TooLarge {
                        limit: self.limits.max_unpacked,
                    });
                }
            }
            let from = self.dest.join(path::to_path(&target_rel));
            let to = self.dest.join(path::to_path(rel));
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
            }
            create_link(&from, &to, &target_rel, rel, *hard).map_err(io_err("create link", &to))?;
            self.listing.insert(rel.clone(), record);
        }
        Ok(self.listing)
    }

    /// Follows link chains (bounded) to a regular file in the listing.
    fn follow(
        &self,
        target: &str,
        links: &[(String, String, bool)],
        depth: u32,
    ) -> Option<(String, FileRecord)> {
        if depth > 16 {
            return None;
        }
        if let Some(record) = self.listing.get(target) {
            return Some((target.to_string(), record.clone()));
        }
        let (_, next, _) = links.iter().find(|(l, _, _)| l == target)?;
        self.follow(next, links, depth + 1)
    }
}

/// A symlink stays a symlink (relative, inside the tree) on Unix; a hard
/// link, or any link where symlinks are unavailable, becomes a copy.
fn create_link(
    from: &Path,
    to: &Path,
    target_rel: &str,
    link_rel: &str,
    hard: bool,
) -> io::Result<()> {
    #[cfg(unix)]
    if !hard {
        let depth = link_rel.matches('/').count();
        let relative: std::path::PathBuf = std::iter::repeat_n("..", depth)
            .map(std::path::PathBuf::from)
            .chain(std::iter::once(path::to_path(target_rel)))
            .collect();
        return std::os::unix::fs::symlink(relative, to);
    }
    let _ = (target_rel, link_rel, hard);
    fs::copy(from, to).map(|_| ())
}

fn create_file(path: &Path, executable: bool) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    // create_new: never write through something already there (a link).
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if executable { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    options.open(path)
}

/// `name` (normalized to `rel`) was claimed before as `earlier`: the same
/// path twice, or a path the host cannot tell apart from it.
fn clash(name: &str, rel: &str, earlier: &str) -> Error {
    if earlier == rel {
        return unsafe_entry(name, "it appears twice in the archive (duplicate entry)");
    }
    unsafe_entry(
        name,
        &format!(
            "it differs from `{earlier}` only in letter case, and this system's file system \
             does not tell such names apart"
        ),
    )
}

fn unsafe_entry(name: &str, reason: &str) -> Error {
    Error::UnsafeEntry {
        entry: name.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Unpacks `files` (name, content) with `rules`; returns the result
    /// and the names created in the destination.
    fn unpack_with(
        rules: HostRules,
        files: &[(&str, &str)],
    ) -> (Result<Listing, Error>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let result = (|| {
            let mut unpacker = Unpacker::new(dir.path(), Limits::default(), rules, Vec::new())?;
            for (name, content) in files {
                unpacker.file(name, true, &mut content.as_bytes())?;
            }
            unpacker.finish()
        })();
        let mut created: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        created.sort();
        (result, created)
    }

    fn refusal(result: Result<Listing, Error>) -> (String, String) {
        match result {
            Err(Error::UnsafeEntry { entry, reason }) => (entry, reason),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// A tee for `archive_path` writing to `file`, and its completion flag.
    fn tee(archive_path: &str, file: File) -> (Tee, Arc<AtomicBool>) {
        let complete = Arc::default();
        let tee = Tee {
            archive_path: archive_path.to_string(),
            file,
            complete: Arc::clone(&complete),
        };
        (tee, complete)
    }

    fn is_set(flag: &AtomicBool) -> bool {
        flag.load(Ordering::Acquire)
    }

    /// A tee gets exactly its entry's bytes, every chunk of a file larger
    /// than the writer's buffers, and is complete; other entries pass by.
    #[test]
    fn a_tee_gets_its_entry_and_only_it() {
        let dir = tempfile::tempdir().unwrap();
        let (tree, copy) = (dir.path().join("tree"), dir.path().join("copy"));
        fs::create_dir(&tree).unwrap();
        let (tee, complete) = tee("bin/tool", File::create(&copy).unwrap());
        let big: Vec<u8> = (0..writer::CHUNK * 3 + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut unpacker =
            Unpacker::new(&tree, Limits::default(), HostRules::current(), vec![tee]).unwrap();
        unpacker
            .file("README", false, &mut &b"read me"[..])
            .unwrap();
        unpacker.file("bin/tool", true, &mut &big[..]).unwrap();
        unpacker
            .file("bin/other", true, &mut &b"other"[..])
            .unwrap();
        let listing = unpacker.finish().unwrap();
        assert!(is_set(&complete));
        assert_eq!(fs::read(&copy).unwrap(), big);
        assert_eq!(listing["bin/tool"].sha256, crate::hash::hash_bytes(&big));
    }

    /// A tee whose entry comes as a link, or never, stays incomplete, and
    /// the unpack is unaffected.
    #[test]
    fn a_tee_for_a_link_or_a_missing_entry_stays_incomplete() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        fs::create_dir(&tree).unwrap();
        let (linked, linked_done) = tee("tool", File::create(dir.path().join("a")).unwrap());
        let (missing, missing_done) = tee("gone", File::create(dir.path().join("b")).unwrap());
        let mut unpacker = Unpacker::new(
            &tree,
            Limits::default(),
            HostRules::current(),
            vec![linked, missing],
        )
        .unwrap();
        unpacker.file("real/tool", true, &mut &b"tool"[..]).unwrap();
        unpacker.link("tool", "real/tool", true).unwrap();
        let listing = unpacker.finish().unwrap();
        assert_eq!(listing["tool"].size, 4);
        assert!(!is_set(&linked_done) && !is_set(&missing_done));
    }

    /// A tee that cannot be written (here: opened read-only) is dropped, not
    /// an error: the unpack succeeds and the caller copies instead.
    #[test]
    fn a_tee_that_cannot_be_written_is_given_up_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let (tree, copy) = (dir.path().join("tree"), dir.path().join("copy"));
        fs::create_dir(&tree).unwrap();
        fs::write(&copy, b"").unwrap();
        let (tee, complete) = tee("tool", File::open(&copy).unwrap());
        let mut unpacker =
            Unpacker::new(&tree, Limits::default(), HostRules::current(), vec![tee]).unwrap();
        unpacker.file("tool", true, &mut &b"tool"[..]).unwrap();
        let listing = unpacker.finish().unwrap();
        assert_eq!(listing["tool"].size, 4);
        assert_eq!(fs::read(tree.join("tool")).unwrap(), b"tool");
        assert!(!is_set(&complete));
    }

    /// A corrupt zstd stream is a malformed archive, in libzstd's words.
    #[test]
    fn a_corrupt_tar_zst_is_malformed() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes: &[u8] = b"\x28\xb5\x2f\xfd garbage after the magic number";
        let limits = Limits::default();
        let e = unpack_stream(
            Format::TarZst,
            &mut bytes,
            dir.path(),
            limits,
            "x",
            Vec::new(),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
        assert!(
            msg.starts_with("the tar.zst archive is malformed ("),
            "{msg}"
        );
    }

    #[test]
    fn names_differing_only_by_case_clash_where_the_host_ignores_case() {
        let files = [("tool.exe", "a"), ("TOOL.EXE", "b")];
        for rules in [HostRules::WINDOWS, HostRules::MACOS] {
            let (result, created) = unpack_with(rules, &files);
            let (entry, reason) = refusal(result);
            assert_eq!(entry, "TOOL.EXE");
            assert!(
                reason.contains("`tool.exe`") && reason.contains("case"),
                "{reason}"
            );
            assert_eq!(created, ["tool.exe"], "the second one was never written");
        }
        // Linux's rules, on a host whose file system can hold both.
        if HostRules::current() == HostRules::LINUX {
            let (result, created) = unpack_with(HostRules::LINUX, &files);
            assert_eq!(result.unwrap().len(), 2);
            assert_eq!(created, ["TOOL.EXE", "tool.exe"]);
        }
    }

    #[test]
    fn a_case_variant_of_a_file_cannot_be_used_as_a_directory() {
        let files = [("README", "a"), ("readme/tool", "b")];
        let (result, created) = unpack_with(HostRules::WINDOWS, &files);
        let (entry, reason) = refusal(result);
        assert_eq!(entry, "readme/tool");
        assert!(reason.contains("runs through `README`"), "{reason}");
        assert_eq!(created, ["README"]);
        // Directories that differ by case merge, harmlessly.
        let files = [("Lib/a", "a"), ("lib/b", "b")];
        assert_eq!(unpack_with(HostRules::WINDOWS, &files).0.unwrap().len(), 2);
    }

    #[test]
    fn exact_duplicates_still_say_duplicate() {
        let (result, _) = unpack_with(HostRules::WINDOWS, &[("a/b", "x"), ("a\\b", "y")]);
        let (_, reason) = refusal(result);
        assert!(reason.contains("twice"), "{reason}");
    }

    #[test]
    fn windows_only_names_are_refused_before_anything_is_written_for_them() {
        for name in [
            "tool.exe:evil",
            "tool.exe::$DATA",
            "CON",
            "aux.txt",
            "tool.exe.",
            "tool.exe ",
        ] {
            let (result, created) = unpack_with(HostRules::WINDOWS, &[(name, "x")]);
            let (entry, _) = refusal(result);
            assert_eq!(entry, name);
            assert!(created.is_empty(), "{name}: {created:?}");
            // Linux keeps unpacking them: they are ordinary names there.
            if HostRules::current() == HostRules::LINUX {
                let (result, created) = unpack_with(HostRules::LINUX, &[(name, "x")]);
                assert!(result.is_ok(), "{name}");
                assert_eq!(created, [name]);
            }
        }
    }

    /// Found by fuzzing (installer/fuzz, target archive_targz): hard links
    /// are unpacked as copies, and the copies were not counted against
    /// `max_unpacked`, so a tiny archive of one big file and many hard
    /// links to it wrote far more than the limit.
    #[test]
    fn copies_made_for_hard_links_count_against_the_size_limit() {
        // 600 bytes and a hard link to them, under a cap of `max_unpacked`.
        let unpack = |max_unpacked| {
            let dir = tempfile::tempdir().unwrap();
            let limits = Limits {
                max_unpacked,
                max_entries: 100,
            };
            let mut unpacker =
                Unpacker::new(dir.path(), limits, HostRules::current(), Vec::new()).unwrap();
            unpacker.file("big", false, &mut &[0u8; 600][..]).unwrap();
            unpacker.link("copy", "big", true).unwrap();
            let listing = unpacker.finish();
            (dir, listing)
        };
        let (dir, listing) = unpack(1000);
        match listing {
            Err(Error::TooLarge { limit: 1000 }) => {}
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert!(!dir.path().join("copy").exists(), "the copy was made");
        // Within the limit, the copy is made and listed.
        let (_dir, listing) = unpack(1200);
        let listing = listing.unwrap();
        assert_eq!(listing["copy"].size, 600);
    }

    #[test]
    fn windows_only_directory_names_are_refused_too() {
        let dir = tempfile::tempdir().unwrap();
        let mut unpacker = Unpacker::new(
            dir.path(),
            Limits::default(),
            HostRules::WINDOWS,
            Vec::new(),
        )
        .unwrap();
        let (entry, reason) = match unpacker.dir("nul/") {
            Err(Error::UnsafeEntry { entry, reason }) => (entry, reason),
            other => panic!("{other:?}"),
        };
        assert_eq!(entry, "nul/");
        assert!(reason.contains("device name"), "{reason}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
