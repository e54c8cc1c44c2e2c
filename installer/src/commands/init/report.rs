//! What `init --from` settles for each target (`Pick`) and the report it
//! prints of them (`Report`, a `Row` a target). A leaf: `from`, `choose` and
//! `section` all read these types, none of them is read back from here.

use crate::hash::Sha256Hash;
use crate::plan::Format;
use crate::release::Asset;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// One target as chosen.
#[derive(Debug)]
pub struct Row {
    pub target: String,
    pub asset: String,
    pub format: Format,
    /// Command → path inside the archive.
    pub bins: BTreeMap<String, String>,
    /// Where the pinned hash came from (every source that agreed).
    pub hash_from: String,
}

impl Row {
    pub(super) fn of(pick: &Pick<'_>) -> Row {
        Row {
            target: pick.target.clone(),
            asset: pick.asset.name.clone(),
            format: pick.format,
            bins: pick.bins.clone(),
            hash_from: pick.hash_from.join(", "),
        }
    }
}

/// What was chosen for each target, printed as a table.
#[derive(Debug, Default)]
pub struct Report {
    pub origin: String,
    pub rows: Vec<Row>,
    /// (asset, why it is not used)
    pub skipped: Vec<(String, String)>,
    /// What a cargo-dist npm migration removed.
    pub removed: Vec<String>,
    pub notes: Vec<String>,
    /// package.json, when written (not with `--dry-run`).
    pub written: Option<PathBuf>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "from {}:", self.origin)?;
        let mut table = vec![[
            "target".to_string(),
            "asset".into(),
            "format".into(),
            "bin".into(),
            "sha256 from".into(),
        ]];
        for r in &self.rows {
            let bins: Vec<String> = match r.bins.len() {
                1 => r.bins.values().cloned().collect(),
                _ => r.bins.iter().map(|(c, p)| format!("{c}={p}")).collect(),
            };
            table.push([
                r.target.clone(),
                r.asset.clone(),
                r.format.as_str().into(),
                bins.join(", "),
                r.hash_from.clone(),
            ]);
        }
        let width = |i: usize| table.iter().map(|row| row[i].len()).max().unwrap_or(0);
        let widths: Vec<usize> = (0..4).map(width).collect();
        for row in &table {
            for (cell, w) in row.iter().zip(&widths) {
                write!(f, "  {cell:w$}")?;
            }
            writeln!(f, "  {}", row[4])?;
        }
        for (asset, why) in &self.skipped {
            writeln!(f, "skipped {asset}: {why}")?;
        }
        for what in &self.removed {
            writeln!(f, "removed {what}")?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        match &self.written {
            Some(path) => writeln!(f, "wrote the postbin section to {}", path.display()),
            None => writeln!(f, "dry run: nothing written"),
        }
    }
}

/// One target's asset, settled: its hash (every source agreeing), its
/// commands' paths, its size when counted here.
pub(super) struct Pick<'a> {
    pub target: String,
    pub asset: &'a Asset,
    pub format: Format,
    pub bins: BTreeMap<String, String>,
    pub sha256: Sha256Hash,
    pub size: Option<u64>,
    pub hash_from: Vec<String>,
}
