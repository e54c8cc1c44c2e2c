//! `postbin cache dir|list|verify|prune|clean|import`: look after the cache
//! while installs may be running. Every removal goes through
//! `Cache::remove_entry` under the entry's lock (a busy entry is skipped with
//! a note), so a concurrent install sees an entry whole or not at all.

use crate::cache::{self, Cache, Entry, Imported, Inventory};
use crate::error::{Error, exit, one_line};
use crate::mirror_tree;
use crate::progress::{Status, human_size};
use crate::settings::Settings;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What `postbin cache ...` was asked to do, checked at parse time.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Print the cache directory.
    Dir,
    List,
    Verify,
    /// Least recently used first, until both limits hold (at least one set).
    Prune {
        older_than_days: Option<u64>,
        max_size: Option<u64>,
    },
    Clean,
    /// From a `prefill --out` tree or a carried cache directory.
    Import {
        from: PathBuf,
    },
}

/// The summary lines (stdout), what was kept or skipped (stderr), and the
/// exit code: 1 when `verify` removed something, 8 when `import` could not
/// store a file.
pub type Report = super::Lines;

/// Temp entries whose name names no archive (older names, metadata being
/// written) and untouched this long belong to no running install; `clean`
/// and `prune` remove them. Those named after an archive go as soon as
/// nobody holds that archive's lock (`Cache::sweep_temp`).
const TEMP_GRACE: Duration = Duration::from_secs(5 * 60);

pub fn run(action: &Action) -> Result<Report, Error> {
    let dir = Settings::load(None).cache_dir.value;
    match action {
        Action::Dir => {
            let mut report = Report::default();
            report.line(dir.display().to_string());
            Ok(report)
        }
        Action::List => list(&dir),
        Action::Verify => verify(&dir),
        Action::Prune {
            older_than_days,
            max_size,
        } => prune(&dir, *older_than_days, *max_size),
        Action::Clean => clean(&dir),
        Action::Import { from } => import(&dir, from),
    }
}

fn list(dir: &Path) -> Result<Report, Error> {
    let mut report = Report::default();
    let Some(cache) = Cache::open_existing(dir) else {
        return Ok(no_cache(dir, "is empty"));
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
        report.line(format!("the cache at {} is empty", dir.display()));
        return Ok(report);
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
        report.line(line.join("  ").trim_end().to_string());
    }
    let total: u64 = inventory.entries.iter().map(Entry::size).sum();
    report.line(format!(
        "{} {}, {} in {}",
        inventory.entries.len(),
        plural(inventory.entries.len(), "entry", "entries"),
        human_size(total),
        dir.display()
    ));
    Ok(report)
}

/// The entry's lock, or `None` after saying that a running install uses
/// the entry (and counting it in `busy`): removal waits for no one.
fn lock_unless_in_use(
    cache: &Cache,
    entry: &Entry,
    report: &mut Report,
    busy: &mut usize,
) -> Result<Option<cache::Lock>, Error> {
    let lock = cache.try_lock(&entry.sha)?;
    if lock.is_none() {
        report.problem(format!(
            "postbin: kept {}: an install is using it",
            describe(entry)
        ));
        *busy += 1;
    }
    Ok(lock)
}

/// The whole report of a command run where no cache has been made yet.
fn no_cache(dir: &Path, state: &str) -> Report {
    let mut report = Report::default();
    report.line(format!("the cache at {} {state}", dir.display()));
    report
}

fn verify(dir: &Path) -> Result<Report, Error> {
    let mut report = Report::default();
    let Some(cache) = Cache::open_existing(dir) else {
        return Ok(no_cache(dir, "is empty; nothing to verify"));
    };
    let inventory = cache.inventory()?;
    let mut c = Counted::default();
    let mut status = Status::new("verifying", inventory.entries.len());
    for entry in &inventory.entries {
        status.step(&describe(entry));
        let Some(lock) = cache.try_lock(&entry.sha)? else {
            status.note(&format!(
                "skipped {} (an install is using it)",
                describe(entry)
            ));
            c.busy += 1;
            continue;
        };
        let check = cache.check_entry(&entry.sha);
        c.archives += usize::from(check.archive_ok.is_some());
        c.trees += usize::from(check.tree_ok.is_some());
        c.unchecked += usize::from(check.no_key);
        c.bytes += entry.size();
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
            c.corrupt += 1;
        }
    }
    status.finish();
    c.debris = inventory.junk.len();
    for path in &inventory.junk {
        report.problem(format!(
            "postbin: removed {}: not a cache entry",
            path.display()
        ));
    }
    cache.remove_debris(&inventory);
    report.line(verify_summary(&c));
    if c.corrupt > 0 || c.debris > 0 {
        report.code = exit::FAILURE;
    }
    Ok(report)
}

/// What `cache verify` looked at and found.
#[derive(Default)]
struct Counted {
    archives: usize,
    trees: usize,
    bytes: u64,
    corrupt: usize,
    debris: usize,
    busy: usize,
    unchecked: usize,
}

fn verify_summary(c: &Counted) -> String {
    let Counted {
        archives,
        trees,
        bytes,
        corrupt,
        debris,
        busy,
        unchecked,
    } = *c;
    format!(
        "verified {archives} {} and {trees} {} ({}): {}{}",
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
        clauses(&[
            (
                debris,
                format!("{debris} stray {} removed", plural(debris, "file", "files")),
            ),
            (busy, format!("{busy} in use, not checked")),
            (
                unchecked,
                format!(
                    "{unchecked} {} of unpacked files not checked (no cache key: installs \
                     do not use them)",
                    plural(unchecked, "tree", "trees")
                ),
            ),
        ]),
    )
}

/// `; <clause>` for each clause whose count is above 0, in order: what a
/// summary says only when there is something to say.
fn clauses(parts: &[(usize, String)]) -> String {
    parts
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(_, clause)| format!("; {clause}"))
        .collect()
}

fn prune(dir: &Path, older_than_days: Option<u64>, max_size: Option<u64>) -> Result<Report, Error> {
    let mut report = Report::default();
    let Some(cache) = Cache::open_existing(dir) else {
        return Ok(no_cache(dir, "is empty; nothing to prune"));
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
        let Some(lock) = lock_unless_in_use(&cache, entry, &mut report, &mut busy)? else {
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
    report.line(format!(
        "pruned {removed} {} ({}); {left} {} ({}) remain{}",
        plural(removed, "entry", "entries"),
        human_size(freed),
        plural(left, "entry", "entries"),
        human_size(total),
        clauses(&[
            (
                swept,
                format!(
                    "{swept} stale temp {} removed",
                    plural(swept, "entry", "entries")
                ),
            ),
            (busy, format!("{busy} in use, kept")),
        ]),
    ));
    Ok(report)
}

fn clean(dir: &Path) -> Result<Report, Error> {
    let mut report = Report::default();
    let Some(cache) = Cache::open_existing(dir) else {
        return Ok(no_cache(dir, "is already empty"));
    };
    let inventory = cache.inventory()?;
    let (mut removed, mut freed, mut busy) = (0usize, 0u64, 0usize);
    for entry in &inventory.entries {
        let Some(lock) = lock_unless_in_use(&cache, entry, &mut report, &mut busy)? else {
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
    report.line(format!(
        "removed {removed} {} ({}) from {}{}",
        plural(removed, "entry", "entries"),
        human_size(freed),
        dir.display(),
        clauses(&[
            (busy, format!("{busy} in use, kept")),
            (
                kept_temp,
                format!(
                    "{kept_temp} temp {} of running installs kept",
                    plural(kept_temp, "entry", "entries")
                ),
            ),
        ]),
    ));
    Ok(report)
}

fn import(dir: &Path, from: &Path) -> Result<Report, Error> {
    let mut report = Report::default();
    if !from.is_dir() {
        return Err(Error::Usage(format!(
            "{} is not a directory; give the directory `postbin prefill --out` wrote, or a mirror tree",
            from.display()
        )));
    }
    let cache = Cache::open(dir)?;
    let labels = mirror_tree::labels(from);
    // Only archives the tree's index (or a cache's own names) pins; no symlink followed.
    let files = mirror_tree::import_list(from).map_err(Error::Usage)?;
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
                if e.is_storage_full() {
                    status.finish();
                    return Err(e.into());
                }
                failed.push((rel.to_path_buf(), one_line(&e)));
            }
        }
    }
    status.finish();
    report.line(format!(
        "imported {added} {} ({}) into {}; {already} already cached",
        plural(added, "archive", "archives"),
        human_size(bytes),
        dir.display()
    ));
    for (path, why) in &failed {
        report.problem(format!("postbin: not imported: {}: {why}", path.display()));
    }
    if !failed.is_empty() {
        report.code = exit::FILESYSTEM;
    }
    Ok(report)
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

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_print_for_people() {
        let now = SystemTime::now();
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now, now - Duration::from_secs(7200)), "2 h ago");
        assert_eq!(ago(now, now - Duration::from_secs(86_400)), "1 day ago");
    }
}
