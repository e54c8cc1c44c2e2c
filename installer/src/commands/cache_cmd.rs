//! `postbin cache dir|list|verify|prune|clean|import`: look after the cache
//! while installs may be running. Every removal goes through
//! `Cache::remove_entry` under the entry's lock (a busy entry is skipped with
//! a note), so a concurrent install sees an entry whole or not at all.

use crate::cache::{self, Cache, Entry, Imported, Inventory};
use crate::error::{Error, exit};
use crate::hash::Sha256Hash;
use crate::settings::{Settings, parse_size};
use serde_json::Value;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub struct Options {
    pub action: String,
    pub older_than_days: Option<u64>,
    pub max_size: Option<String>,
    /// `import DIR`.
    pub path: Option<PathBuf>,
}

/// The index `postbin prefill --out` writes at the top of its tree; `import`
/// reads it to label what it stores and does not store it.
pub const PREFILL_INDEX: &str = "postbin-prefill.json";

/// Temp entries whose name names no archive (older names, metadata being
/// written) and untouched this long belong to no running install; `clean`
/// and `prune` remove them. Those named after an archive go as soon as
/// nobody holds that archive's lock (`Cache::sweep_temp`).
const TEMP_GRACE: Duration = Duration::from_secs(5 * 60);

/// Returns the exit code.
pub fn run(options: &Options) -> Result<i32, Error> {
    let dir = Settings::load(None).cache_dir.value;
    let takes_limits = options.action == "prune";
    if !takes_limits && (options.older_than_days.is_some() || options.max_size.is_some()) {
        return Err(Error::Usage(
            "--older-than and --max-size go with `cache prune`".into(),
        ));
    }
    if options.action != "import" && options.path.is_some() {
        return Err(Error::Usage(format!(
            "`cache {}` takes no directory; only `cache import DIR` does",
            options.action
        )));
    }
    match options.action.as_str() {
        "dir" => {
            println!("{}", dir.display());
            Ok(exit::OK)
        }
        "list" => list(&dir),
        "verify" => verify(&dir),
        "prune" => {
            let max_size = match &options.max_size {
                Some(text) => Some(parse_size(text).ok_or_else(|| {
                    Error::Usage(format!(
                        "--max-size {text}: give a size like 500M, 2G or 1048576 (bytes)"
                    ))
                })?),
                None => None,
            };
            if options.older_than_days.is_none() && max_size.is_none() {
                return Err(Error::Usage(
                    "cache prune needs --older-than DAYS and/or --max-size SIZE".into(),
                ));
            }
            prune(&dir, options.older_than_days, max_size)
        }
        "clean" => clean(&dir),
        "import" => {
            let from = options.path.as_deref().ok_or_else(|| {
                Error::Usage("cache import needs a directory: `postbin cache import DIR`".into())
            })?;
            import(&dir, from)
        }
        other => Err(Error::Usage(format!(
            "unknown cache action `{other}`; use dir, list, verify, prune, clean or import"
        ))),
    }
}

fn list(dir: &Path) -> Result<i32, Error> {
    let Some(cache) = Cache::open_existing(dir) else {
        println!("the cache at {} is empty", dir.display());
        return Ok(exit::OK);
    };
    let inventory = cache.inventory()?;
    let now = SystemTime::now();
    let mut rows = vec![[
        "PACKAGE".to_string(),
        "VERSION".into(),
        "TARGET".into(),
        "SIZE".into(),
        "LAST USED".into(),
        "STORED".into(),
        "SHA256".into(),
    ]];
    // Most recently used first: what a reader looks for.
    for e in inventory.entries.iter().rev() {
        let (package, version, target) = match &e.meta {
            Some(m) => (m.package.clone(), m.version.clone(), m.target.clone()),
            None => ("unknown".into(), "unknown".into(), "unknown".into()),
        };
        let stored = match (e.archive_size.is_some(), e.tree_size.is_some()) {
            (true, true) => "archive+files",
            (true, false) => "archive",
            _ => "files",
        };
        rows.push([
            package,
            version,
            target,
            human_size(e.size()),
            ago(now, e.last_used),
            stored.into(),
            e.sha.short(),
        ]);
    }
    if inventory.entries.is_empty() {
        println!("the cache at {} is empty", dir.display());
        return Ok(exit::OK);
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    let total: u64 = inventory.entries.iter().map(Entry::size).sum();
    println!(
        "{} {}, {} in {}",
        inventory.entries.len(),
        plural(inventory.entries.len(), "entry", "entries"),
        human_size(total),
        dir.display()
    );
    Ok(exit::OK)
}

fn verify(dir: &Path) -> Result<i32, Error> {
    let Some(cache) = Cache::open_existing(dir) else {
        println!("the cache at {} is empty; nothing to verify", dir.display());
        return Ok(exit::OK);
    };
    let inventory = cache.inventory()?;
    let (mut archives, mut trees, mut bytes) = (0, 0, 0);
    let (mut corrupt, mut busy, mut unchecked) = (0usize, 0usize, 0usize);
    let mut status = Status::new("verifying", inventory.entries.len());
    for entry in &inventory.entries {
        status.step(&describe(entry));
        let Some(lock) = cache.try_lock(&entry.sha)? else {
            status.note(&format!(
                "skipped {} (an install is using it)",
                describe(entry)
            ));
            busy += 1;
            continue;
        };
        let check = cache.check_entry(&entry.sha);
        archives += usize::from(check.archive_ok.is_some());
        trees += usize::from(check.tree_ok.is_some());
        unchecked += usize::from(check.no_key);
        bytes += entry.size();
        let bad_archive = check.archive_ok == Some(false);
        let bad_tree = check.tree_ok == Some(false);
        if bad_archive || bad_tree {
            let what = match (bad_archive, bad_tree) {
                (true, true) => "archive and files",
                (true, false) => "archive",
                _ => "files",
            };
            let why = if check.unsealed {
                " (its files were not unpacked by postbin for this user: a carried, copied \
                 or tampered tree; the next install unpacks the archive again)"
            } else {
                ""
            };
            status.note(&format!(
                "removed corrupt {what} of {}{why}",
                describe(entry)
            ));
            cache.remove_entry(entry, bad_archive, bad_tree, &lock);
            corrupt += 1;
        }
    }
    status.finish();
    let debris = inventory.junk.len();
    for path in &inventory.junk {
        eprintln!("postbin: removed {}: not a cache entry", path.display());
    }
    cache.remove_debris(&inventory);
    println!(
        "verified {archives} {} and {trees} {} ({}): {}{}{}{}",
        plural(archives, "archive", "archives"),
        plural(trees, "tree", "trees"),
        human_size(bytes),
        if corrupt == 0 {
            "all intact".to_string()
        } else {
            format!(
                "{corrupt} corrupt {} removed (the next install fetches {} again)",
                plural(corrupt, "entry", "entries"),
                if corrupt == 1 { "it" } else { "them" }
            )
        },
        if debris == 0 {
            String::new()
        } else {
            format!(
                "; {debris} stray {} removed",
                plural(debris, "file", "files")
            )
        },
        if busy == 0 {
            String::new()
        } else {
            format!("; {busy} in use, not checked",)
        },
        if unchecked == 0 {
            String::new()
        } else {
            format!(
                "; {unchecked} {} of unpacked files not checked (no cache key: installs \
                 do not use them)",
                plural(unchecked, "tree", "trees")
            )
        },
    );
    Ok(if corrupt == 0 && debris == 0 {
        exit::OK
    } else {
        exit::FAILURE
    })
}

fn prune(dir: &Path, older_than_days: Option<u64>, max_size: Option<u64>) -> Result<i32, Error> {
    let Some(cache) = Cache::open_existing(dir) else {
        println!("the cache at {} is empty; nothing to prune", dir.display());
        return Ok(exit::OK);
    };
    let inventory = cache.inventory()?;
    let now = SystemTime::now();
    let cutoff = older_than_days.map(|d| now - Duration::from_secs(d.saturating_mul(86_400)));
    let mut total: u64 = inventory.entries.iter().map(Entry::size).sum();
    let (mut removed, mut freed, mut busy) = (0usize, 0u64, 0usize);
    // Oldest use first: least recently used goes first.
    for entry in &inventory.entries {
        let too_old = cutoff.is_some_and(|c| entry.last_used < c);
        let too_big = max_size.is_some_and(|m| total > m);
        if !too_old && !too_big {
            continue;
        }
        let Some(lock) = cache.try_lock(&entry.sha)? else {
            eprintln!("postbin: kept {}: an install is using it", describe(entry));
            busy += 1;
            continue;
        };
        let gone = cache.remove_entry(entry, true, true, &lock);
        total = total.saturating_sub(gone);
        freed += gone;
        removed += 1;
    }
    cache.remove_debris(&Inventory {
        orphan_meta: inventory.orphan_meta,
        ..Inventory::default()
    });
    let (swept, _) = cache.sweep_temp(TEMP_GRACE);
    let left = inventory.entries.len() - removed;
    println!(
        "pruned {removed} {} ({}); {left} {} ({}) remain{}{}",
        plural(removed, "entry", "entries"),
        human_size(freed),
        plural(left, "entry", "entries"),
        human_size(total),
        if swept == 0 {
            String::new()
        } else {
            format!(
                "; {swept} stale temp {} removed",
                plural(swept, "entry", "entries")
            )
        },
        if busy == 0 {
            String::new()
        } else {
            format!("; {busy} in use, kept")
        },
    );
    Ok(exit::OK)
}

fn clean(dir: &Path) -> Result<i32, Error> {
    let Some(cache) = Cache::open_existing(dir) else {
        println!("the cache at {} is already empty", dir.display());
        return Ok(exit::OK);
    };
    let inventory = cache.inventory()?;
    let (mut removed, mut freed, mut busy) = (0usize, 0u64, 0usize);
    for entry in &inventory.entries {
        let Some(lock) = cache.try_lock(&entry.sha)? else {
            eprintln!("postbin: kept {}: an install is using it", describe(entry));
            busy += 1;
            continue;
        };
        freed += cache.remove_entry(entry, true, true, &lock);
        cache.remove_lock_file(lock);
        removed += 1;
    }
    // Temp files of installs that died go now (their archive's lock is
    // free); those of running installs stay. Before the lock files go:
    // telling the two apart takes the locks.
    let (_, kept_temp) = cache.sweep_temp(TEMP_GRACE);
    // Locks of archives with no entry (a download that failed, or finished
    // removal above): free ones go, held ones stay.
    for sha in cache.lock_files()? {
        if let Some(lock) = cache.try_lock(&sha)? {
            cache.remove_lock_file(lock);
        }
    }
    cache.remove_debris(&inventory);
    println!(
        "removed {removed} {} ({}) from {}{}{}",
        plural(removed, "entry", "entries"),
        human_size(freed),
        dir.display(),
        if busy == 0 {
            String::new()
        } else {
            format!("; {busy} in use, kept")
        },
        if kept_temp == 0 {
            String::new()
        } else {
            format!(
                "; {kept_temp} temp {} of running installs kept",
                plural(kept_temp, "entry", "entries")
            )
        },
    );
    Ok(exit::OK)
}

fn import(dir: &Path, from: &Path) -> Result<i32, Error> {
    if !from.is_dir() {
        return Err(Error::Usage(format!(
            "{} is not a directory; give the directory `postbin prefill --out` wrote, or a mirror tree",
            from.display()
        )));
    }
    let cache = Cache::open(dir)?;
    let labels = read_prefill_index(from);
    // Only archives the tree's index (or a cache's own names) pins; no symlink followed.
    let files: Vec<PathBuf> = super::prefill::import_list(from)?
        .into_iter()
        .filter(|p| !in_cache_layout(from, p))
        .collect();
    let (mut added, mut bytes, mut already) = (0usize, 0u64, 0usize);
    let mut failed = Vec::new();
    let mut status = Status::new("importing", files.len());
    for path in &files {
        let rel = path.strip_prefix(from).unwrap_or(path);
        status.step(&rel.display().to_string());
        match cache.import_file(path) {
            Ok((sha, how)) => {
                match how {
                    Imported::Added { size } => {
                        added += 1;
                        bytes += size;
                    }
                    Imported::AlreadyCached => already += 1,
                }
                if let Some(meta) = labels.get(&sha)
                    && cache.meta(&sha).is_none()
                {
                    cache.record_meta(&sha, meta);
                }
            }
            Err(e) => {
                // A full disk stops everything; other failures are per file.
                if matches!(&e, cache::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull)
                {
                    status.finish();
                    return Err(e.into());
                }
                failed.push((rel.to_path_buf(), one_line(&e)));
            }
        }
    }
    status.finish();
    println!(
        "imported {added} {} ({}) into {}; {already} already cached",
        plural(added, "archive", "archives"),
        human_size(bytes),
        dir.display()
    );
    for (path, why) in &failed {
        eprintln!("postbin: not imported: {}: {why}", path.display());
    }
    Ok(if failed.is_empty() {
        exit::OK
    } else {
        exit::FILESYSTEM
    })
}

/// Whether `path` is part of a carried cache's unpacked trees or
/// bookkeeping (`.../v1/trees/...`, `tmp`, `locks`, `meta`): `import` stores
/// archives only, never trees (a tree is trusted only when this user's
/// postbin unpacked it), so importing a whole cache directory takes its
/// `v1/archives` and nothing else.
fn in_cache_layout(from: &Path, path: &Path) -> bool {
    let rel: Vec<_> = path
        .strip_prefix(from)
        .unwrap_or(path)
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    rel.windows(2)
        .any(|w| w[0] == crate::cache::LAYOUT && matches!(w[1], "trees" | "tmp" | "locks" | "meta"))
}

/// `sha256 → what it is`, from a prefill index at the top of `dir` (absent
/// or unreadable: no labels; the archives import all the same).
fn read_prefill_index(dir: &Path) -> HashMap<Sha256Hash, cache::EntryMeta> {
    let Ok(text) = std::fs::read_to_string(dir.join(PREFILL_INDEX)) else {
        return HashMap::new();
    };
    let Ok(value) = serde_json::from_str::<Value>(&text) else {
        return HashMap::new();
    };
    let mut out = HashMap::new();
    for item in value
        .get("archives")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let field = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
        if let (Some(sha), Some(package), Some(version), Some(target), Some(asset)) = (
            field("sha256").as_deref().and_then(Sha256Hash::parse),
            field("package"),
            field("version"),
            field("target"),
            field("asset"),
        ) {
            out.insert(
                sha,
                cache::EntryMeta {
                    package,
                    version,
                    target,
                    asset,
                },
            );
        }
    }
    out
}

fn describe(entry: &Entry) -> String {
    match &entry.meta {
        Some(m) => format!(
            "{} {} ({}, {})",
            m.package,
            m.version,
            m.target,
            entry.sha.short()
        ),
        None => format!("unknown archive {}", entry.sha.short()),
    }
}

fn one_line(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.replace('\n', " ")
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `just now`, `5 min ago`, `3 h ago`, `12 days ago`.
fn ago(now: SystemTime, then: SystemTime) -> String {
    let secs = now.duration_since(then).unwrap_or_default().as_secs();
    match secs {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => {
            let days = secs / 86_400;
            format!("{days} {} ago", plural(days as usize, "day", "days"))
        }
    }
}

/// One redrawn line on a terminal (`verify 3/10 hello ...`); silent otherwise.
/// Notes are printed on their own lines either way.
pub(super) struct Status {
    verb: &'static str,
    total: usize,
    done: usize,
    tty: bool,
}

impl Status {
    pub(super) fn new(verb: &'static str, total: usize) -> Status {
        Status {
            verb,
            total,
            done: 0,
            tty: std::io::stderr().is_terminal() && crate::log::enabled(crate::log::Level::Info),
        }
    }

    pub(super) fn step(&mut self, what: &str) {
        self.done += 1;
        if self.tty {
            eprint!(
                "\r\x1b[2Kpostbin: {} {}/{} {what}",
                self.verb, self.done, self.total
            );
        }
    }

    pub(super) fn note(&self, text: &str) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
        eprintln!("postbin: {text}");
    }

    pub(super) fn finish(&self) {
        if self.tty && self.done > 0 {
            eprint!("\r\x1b[2K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_units() {
        for (text, bytes) in [
            ("500M", 500 << 20),
            ("2G", 2 << 30),
            ("2g", 2 << 30),
            ("1.5GiB", 3 << 29),
            ("100k", 100 << 10),
            ("100KB", 100 << 10),
            ("1048576", 1 << 20),
            ("0", 0),
        ] {
            assert_eq!(parse_size(text), Some(bytes), "{text}");
        }
        for bad in ["", "M", "-1G", "12X", "lots"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes_and_ages_print_for_people() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(3 << 20), "3.0 MiB");
        let now = SystemTime::now();
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now, now - Duration::from_secs(7200)), "2 h ago");
        assert_eq!(ago(now, now - Duration::from_secs(86_400)), "1 day ago");
    }
}
