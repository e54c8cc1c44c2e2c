//! `postbin check`: the publisher's last look before `npm pack` (wired as
//! `prepack` by `init`). It fails, naming the fix, when a launcher is not
//! the one `postbin init` writes (a native executable left by an install in
//! the tool's own repository would be packed as the command), a target has
//! no pinned hash, or a `.postbin/` directory would be packed, and wherever
//! an install would fail: every target is resolved by `plan::resolve`, the
//! one validation `plan` and `install` run (templates, paths inside the
//! archive, URLs, formats), so `check` never passes a package that an
//! install refuses.

use crate::error::Error;
use crate::launcher::launcher_source;
use crate::link::{INSTALL_DIR, is_our_launcher};
use crate::manifest::Manifest;
use crate::npm_files::postbin_dir_excluded;
use crate::plan;
use serde_json::Value;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// `--package DIR`.
    pub package: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub package_dir: PathBuf,
    pub launchers: usize,
    pub targets: usize,
    /// One whole line each, with the fix.
    pub problems: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.problems.is_empty() {
            writeln!(
                f,
                "{}: {} launcher(s) as postbin writes them, {} target(s) pinned, no .postbin/ packed",
                self.package_dir.display(),
                self.launchers,
                self.targets
            )?;
        }
        Ok(())
    }
}

impl super::Report for Report {
    fn problems(&self) -> Vec<String> {
        self.problems
            .iter()
            .map(|p| format!("postbin: check: {p}"))
            .collect()
    }
}

pub fn run(options: &Options) -> Result<Report, Error> {
    let dir = super::package_dir(options.package.as_deref());
    let manifest = Manifest::load(&dir)?;
    let json_path = dir.join("package.json");
    let root: Value = fs::read_to_string(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut problems = Vec::new();
    let prefix = plan::env_prefix(&manifest);
    for (command, rel) in &manifest.bin {
        let want = launcher_source(command, rel, &prefix, &manifest.name);
        if let Some(problem) = launcher_problem(&dir.join(rel), &want) {
            problems.push(format!("{rel} (bin.{command}) {problem}"));
        }
    }
    let settings = crate::pipeline::settings_for(&manifest, crate::pipeline::Flags::default())?;
    for (target, entry) in &manifest.postbin.targets {
        // What is wrong with the pin is said below, with its fix.
        match plan::resolve(&manifest, &settings, target) {
            Err(plan::Error::MissingHash { .. }) => {}
            Err(plan::Error::Invalid { field, .. }) if field.ends_with(".sha256") => {}
            Err(e) => problems.push(format!(
                "postbin.targets.{target}: an install would fail: {}",
                crate::error::one_line(&e)
            )),
            Ok(_) => {}
        }
        let pinned = entry.sha256.as_deref();
        if pinned.and_then(crate::hash::Sha256Hash::parse).is_none() {
            let what = if pinned.is_some() {
                "has a sha256 that is not 64 hex digits"
            } else {
                "has no pinned sha256"
            };
            problems.push(format!(
                "postbin.targets.{target} {what}; run `npx postbin pin --checksums FILE|URL` \
                 (or `--download`) to pin it, or remove the target"
            ));
        }
        if let Some(chunks) = &entry.chunks
            && let Some(problem) = chunks_problem(&dir, chunks, &root)
        {
            problems.push(format!(
                "postbin.targets.{target}.chunks: {} {problem}; run `npx postbin pin --download` \
                 to write it again, or remove `chunks`",
                chunks.file
            ));
        }
    }
    if dir.join(INSTALL_DIR).exists()
        && let Err(packed) = postbin_dir_excluded(&dir, &root)
    {
        problems.push(format!(
            "{} would be packed into the npm package ({}); {}, or delete the directory",
            dir.join(INSTALL_DIR).display(),
            packed.why,
            packed.fix
        ));
    }
    Ok(Report {
        package_dir: dir,
        launchers: manifest.bin.len(),
        targets: manifest.postbin.targets.len(),
        problems,
    })
}

/// What is wrong with the launcher at `path`, which should read `want`.
/// What is wrong with a target's chunk-digest file, if anything: installs
/// refuse one that does not match its pin, and cannot use one that was not
/// packed.
fn chunks_problem(dir: &Path, chunks: &crate::manifest::ChunksPin, root: &Value) -> Option<String> {
    let Ok(bytes) = fs::read(dir.join(&chunks.file)) else {
        return Some("is missing".into());
    };
    if crate::hash::Sha256Hash::parse(&chunks.sha256) != Some(crate::hash::hash_bytes(&bytes)) {
        return Some("does not match its pinned sha256 (installs would refuse it)".into());
    }
    // The parse installs use: a file they cannot read (another chunk size,
    // digests that do not cover the archive) fails here, not at every install.
    let parsed = std::str::from_utf8(&bytes)
        .ok()
        .and_then(crate::chunks::Chunks::parse);
    if parsed.is_none() {
        return Some(format!(
            "is not a chunk-digest file of postbin's ({} byte chunks, one digest each)",
            crate::chunks::CHUNK_SIZE
        ));
    }
    let top = chunks.file.split('/').next().unwrap_or_default();
    let files = root.get("files").and_then(Value::as_array)?;
    let listed = files
        .iter()
        .filter_map(Value::as_str)
        .any(|f| f.trim_end_matches('/') == top || f == chunks.file);
    (!listed).then(|| format!("would not be packed: add `{top}` to `files` in package.json"))
}

fn launcher_problem(path: &Path, want: &str) -> Option<String> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(_) => return Some("is missing; run `npx postbin init` to write the launcher".into()),
    };
    if bytes == want.as_bytes() {
        return None;
    }
    if is_our_launcher(path) {
        return Some(
            "is a launcher from another postbin version, or was edited; run `npx postbin init` \
             to write it again"
                .into(),
        );
    }
    let native = [
        &b"\x7fELF"[..],
        b"MZ",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ]
    .iter()
    .any(|magic| bytes.starts_with(magic));
    let what = if native {
        "is a native executable, not the launcher postbin writes (an install in this checkout \
         replaced it)"
    } else {
        "is not the launcher postbin writes"
    };
    Some(format!(
        "{what}; delete it and run `npx postbin init` to write the launcher"
    ))
}
