//! What `npm pack` takes from a package directory, as far as postbin cares:
//! whether `.postbin/` (executables placed for local use) would be packed,
//! by npm's rules (`files`, else `.npmignore`, else `.gitignore`). `init`
//! keeps it out; `check` fails when it is not.

use crate::link::INSTALL_DIR;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

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
            fix: "add `.postbin/` to .npmignore (`npx postbin init` does)".into(),
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
fn ignores_postbin_dir(text: &str) -> bool {
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
