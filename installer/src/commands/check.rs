//! `postbin check`: the publisher's last look before `npm pack` (wired as
//! `prepack` by `init`). It fails, naming the fix, when a launcher is not
//! the one `postbin init` writes (a native executable left by an install in
//! the tool's own repository would be packed as the command), a target has
//! no pinned hash, or a `.postbin/` directory would be packed.

use super::init::launcher_source;
use crate::error::{Error, exit};
use crate::link::{INSTALL_DIR, is_our_launcher};
use crate::manifest::Manifest;
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

    fn exit_code(&self) -> i32 {
        if self.problems.is_empty() {
            exit::OK
        } else {
            exit::FAILURE
        }
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
    for (target, entry) in &manifest.postbin.targets {
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

/// Why `.postbin/` would be packed, and what keeps it out.
#[derive(Debug, PartialEq)]
pub struct Packed {
    pub why: String,
    pub fix: String,
}

/// Whether npm leaves `.postbin/` out of the package, by its rules: with a
/// `files` list only what it names is packed; else `.npmignore` decides, or
/// `.gitignore` when there is no `.npmignore`.
pub fn postbin_dir_excluded(dir: &Path, package_json: &Value) -> Result<(), Packed> {
    if let Some(files) = package_json.get("files").and_then(Value::as_array) {
        let entries: Vec<&str> = files.iter().filter_map(Value::as_str).collect();
        let negated = entries
            .iter()
            .filter_map(|e| e.strip_prefix('!'))
            .any(names_postbin_dir);
        return match entries.iter().find(|e| names_postbin_dir(e)) {
            Some(entry) if !negated => Err(Packed {
                why: format!("`files` lists `{entry}`"),
                fix: format!("remove `{entry}` from `files` in package.json"),
            }),
            _ => Ok(()),
        };
    }
    let Some(file) = ignore_file(dir) else {
        return Err(Packed {
            why: "there is no .npmignore or .gitignore".into(),
            fix: "add `.postbin/` to .gitignore (`npx postbin init` does)".into(),
        });
    };
    let text = fs::read_to_string(&file).unwrap_or_default();
    if ignores_postbin_dir(&text) {
        return Ok(());
    }
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    Err(Packed {
        why: format!("{name} does not ignore it"),
        fix: format!("add `.postbin/` to {name} (`npx postbin init` does)"),
    })
}

/// The file npm reads the package's ignore rules from: `.npmignore`, else
/// `.gitignore`.
pub fn ignore_file(dir: &Path) -> Option<PathBuf> {
    [".npmignore", ".gitignore"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Whether gitignore-style `text` ignores the top-level `.postbin`
/// directory (the last matching line decides; `!` re-includes).
pub fn ignores_postbin_dir(text: &str) -> bool {
    let mut ignored = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (negated, pattern) = match line.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, line),
        };
        if names_postbin_dir(pattern) {
            ignored = !negated;
        }
    }
    ignored
}

/// Whether a `files` entry or an ignore pattern matches `.postbin` itself.
fn names_postbin_dir(pattern: &str) -> bool {
    let p = pattern
        .trim()
        .trim_start_matches("./")
        .trim_start_matches('/');
    let p = p.strip_prefix("**/").unwrap_or(p);
    let p = p.strip_suffix("/**").unwrap_or(p).trim_end_matches('/');
    !p.contains('/') && glob(p.as_bytes(), INSTALL_DIR.as_bytes())
}

/// `*` and `?` wildcards (a name, so no `/` to stop at).
fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
        (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ignore_rules() {
        for text in [
            ".postbin/",
            ".postbin",
            "/.postbin/",
            ".postbin/**",
            "**/.postbin",
            ".*",
        ] {
            assert!(ignores_postbin_dir(text), "{text}");
        }
        for text in [
            "",
            ".postbin/bin",
            "postbin",
            "# .postbin",
            ".postbin/\n!.postbin/",
        ] {
            assert!(!ignores_postbin_dir(text), "{text}");
        }
        assert!(ignores_postbin_dir("!.postbin\n.postbin/\r\n"));
    }

    #[test]
    fn files_lists_decide_alone() {
        let dir = tempfile::tempdir().unwrap();
        let ok = |v: Value| postbin_dir_excluded(dir.path(), &v);
        assert_eq!(ok(json!({"files": ["bin/hello", "README.md"]})), Ok(()));
        assert!(ok(json!({"files": ["bin", ".postbin"]})).is_err());
        assert!(ok(json!({"files": ["*"]})).is_err());
        assert_eq!(ok(json!({"files": ["*", "!.postbin"]})), Ok(()));
        let packed = ok(json!({})).unwrap_err();
        assert_eq!(packed.why, "there is no .npmignore or .gitignore");
        fs::write(dir.path().join(".gitignore"), "node_modules\n.postbin/\n").unwrap();
        assert_eq!(ok(json!({})), Ok(()));
        // npm reads .npmignore instead of .gitignore when there is one.
        fs::write(dir.path().join(".npmignore"), "tests/\n").unwrap();
        assert_eq!(
            ok(json!({})).unwrap_err().why,
            ".npmignore does not ignore it"
        );
    }
}
