//! Reads `.npmrc` files (project, user, global) the way npm does: plain ini
//! `key=value` lines, `;`/`#` comments, `${ENV}` expansion. postbin reads them
//! itself because pnpm 12, yarn berry and bun do not export custom keys to
//! install scripts.

use crate::env_vars;
use std::path::{Path, PathBuf};

/// One `key=value` with the file it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub file: PathBuf,
}

/// All entries of the files found, most specific file first.
#[derive(Clone, Debug, Default)]
pub struct Npmrc {
    entries: Vec<Entry>,
}

impl Npmrc {
    /// Loads project (`INIT_CWD`, else the package's own directory's
    /// ancestors are not searched: npm itself does not), user and global files.
    pub fn load() -> Self {
        let mut files = Vec::new();
        if let Some(cwd) = env_vars::get(env_vars::INIT_CWD) {
            files.push(PathBuf::from(cwd).join(".npmrc"));
        }
        match env_vars::get(env_vars::NPM_CONFIG_USERCONFIG) {
            Some(user) => files.push(PathBuf::from(user)),
            None => {
                if let Some(home) = directories::BaseDirs::new() {
                    files.push(home.home_dir().join(".npmrc"));
                }
            }
        }
        if let Some(global) = env_vars::get(env_vars::NPM_CONFIG_GLOBALCONFIG) {
            files.push(PathBuf::from(global));
        }
        let mut rc = Npmrc::default();
        let mut seen = Vec::new();
        for file in files {
            if seen.contains(&file) {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&file) {
                rc.entries
                    .extend(parse(&text, &file, &|name| std::env::var(name).ok()));
            }
            seen.push(file);
        }
        rc
    }

    pub fn from_entries(entries: Vec<Entry>) -> Self {
        Self { entries }
    }

    /// The first (most specific) value of `key`.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

/// Parses one file's text. `env` resolves `${NAME}`.
pub fn parse(text: &str, file: &Path, env: &dyn Fn(&str) -> Option<String>) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with(';')
            || line.starts_with('#')
            || line.starts_with('[')
        {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().to_string();
        let mut value = value.trim();
        if value.len() >= 2
            && ((value.starts_with('"') && value.ends_with('"'))
                || (value.starts_with('\'') && value.ends_with('\'')))
        {
            value = &value[1..value.len() - 1];
        }
        let value = expand(value, env);
        // Within one file the last assignment wins, as in npm's ini parser.
        out.retain(|e| e.key != key);
        out.push(Entry {
            key,
            value,
            file: file.to_path_buf(),
        });
    }
    out
}

/// `${NAME}` → the variable's value (empty when unset); `\${` stays literal.
fn expand(value: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        if rest[..start].ends_with('\\') {
            out.push_str(&rest[..start - 1]);
            out.push_str("${");
            rest = &rest[start + 2..];
            continue;
        }
        out.push_str(&rest[..start]);
        match rest[start + 2..].find('}') {
            Some(end) => {
                let name = &rest[start + 2..start + 2 + end];
                out.push_str(&env(name).unwrap_or_default());
                rest = &rest[start + 2 + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_comments_quotes_and_env() {
        let env = |n: &str| (n == "CORP").then(|| "corp.example".to_string());
        let text = "; comment\n# other\n[section]\nproxy = http://${CORP}:3128\n\
                    postbin-mirror=\"https://m/${MISSING}x\"\nstrict-ssl=false\nproxy=http://second\n\
                    literal=\\${CORP}\nnovalue\n";
        let entries = parse(text, Path::new("/p/.npmrc"), &env);
        let get = |k: &str| entries.iter().find(|e| e.key == k).map(|e| e.value.clone());
        assert_eq!(get("proxy").as_deref(), Some("http://second"));
        assert_eq!(get("postbin-mirror").as_deref(), Some("https://m/x"));
        assert_eq!(get("strict-ssl").as_deref(), Some("false"));
        assert_eq!(get("literal").as_deref(), Some("${CORP}"));
        assert_eq!(get("novalue"), None);
        let env2 = |_: &str| Some("corp".to_string());
        let e = parse("proxy=http://${CORP}:1", Path::new("x"), &env2);
        assert_eq!(e[0].value, "http://corp:1");
    }

    #[test]
    fn earlier_files_win() {
        let rc = Npmrc::from_entries(vec![
            Entry {
                key: "a".into(),
                value: "project".into(),
                file: "p".into(),
            },
            Entry {
                key: "a".into(),
                value: "user".into(),
                file: "u".into(),
            },
        ]);
        assert_eq!(rc.get("a").unwrap().value, "project");
    }
}
