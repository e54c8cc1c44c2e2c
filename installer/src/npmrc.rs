//! Reads `.npmrc` files (project, user, global) the way npm does: plain ini
//! `key=value` lines, `;`/`#` comments, `${ENV}` expansion. postbin reads them
//! itself because pnpm 12, yarn berry and bun do not export custom keys to
//! install scripts.
//!
//! The files are where npm looks for them (`config_files`): the project's
//! `$INIT_CWD/.npmrc`; the user's `npm_config_userconfig`, else
//! `~/.npmrc` (on Windows `%USERPROFILE%\.npmrc`); the global
//! `npm_config_globalconfig`, else `<prefix>/etc/npmrc` with npm's prefix
//! from `npm_config_prefix`, else on Windows npm's default `%APPDATA%\npm`.

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
        Self::load_for(None)
    }

    /// `load`, where `project` is the project that installed the package:
    /// its `.npmrc` counts when no `INIT_CWD` says where the package manager
    /// ran (a launcher's first run, with install scripts skipped).
    pub fn load_for(project: Option<&Path>) -> Self {
        let home = || directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
        let mut files = config_files(&env_vars::get, cfg!(windows), &home);
        if env_vars::get(env_vars::INIT_CWD).is_none()
            && let Some(project) = project
        {
            files.insert(0, project.join(".npmrc"));
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

/// The project a package was installed into: the directory that holds the
/// outermost `node_modules` on its path (`/p/node_modules/.pnpm/x/node_modules/x`
/// → `/p`); `None` outside any node_modules.
pub fn project_of(package_dir: &Path) -> Option<PathBuf> {
    let mut project = PathBuf::new();
    for part in package_dir.components() {
        if part.as_os_str() == "node_modules" {
            return Some(project);
        }
        project.push(part);
    }
    None
}

/// The files npm reads, most specific first, for Windows or for Unix.
/// `env` reads variables (empty counts as unset); `home` is the OS's idea
/// of the home directory, used where no variable says otherwise.
pub fn config_files(
    env: &dyn Fn(&str) -> Option<String>,
    windows: bool,
    home: &dyn Fn() -> Option<PathBuf>,
) -> Vec<PathBuf> {
    use env_vars as ev;
    let mut files = Vec::new();
    if let Some(cwd) = env(ev::INIT_CWD) {
        files.push(PathBuf::from(cwd).join(".npmrc"));
    }
    let user = env(ev::NPM_CONFIG_USERCONFIG)
        .map(PathBuf::from)
        .or_else(|| {
            // node's os.homedir(), which npm uses, reads %USERPROFILE% first.
            let profile = env(ev::USERPROFILE).filter(|_| windows);
            Some(profile.map(PathBuf::from).or_else(home)?.join(".npmrc"))
        });
    files.extend(user);
    let global = env(ev::NPM_CONFIG_GLOBALCONFIG)
        .map(PathBuf::from)
        .or_else(|| {
            let prefix = env(ev::NPM_CONFIG_GLOBAL_PREFIX_DIR)
                .map(PathBuf::from)
                .or_else(|| {
                    // npm's own builtin config on Windows says prefix=${APPDATA}\npm.
                    let appdata = env(ev::APPDATA).filter(|_| windows)?;
                    Some(Path::new(&appdata).join("npm"))
                })?;
            Some(prefix.join("etc").join("npmrc"))
        });
    files.extend(global);
    files
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

    /// `config_files` with these variables and home directory.
    fn files(vars: &[(&str, &str)], windows: bool) -> Vec<PathBuf> {
        let env = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        config_files(&env, windows, &|| Some(PathBuf::from("/os-home")))
    }

    fn paths(list: &[&str]) -> Vec<PathBuf> {
        list.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn npms_files_on_windows() {
        let profile = ("USERPROFILE", "/profile");
        let appdata = ("APPDATA", "/appdata");
        assert_eq!(
            files(&[profile, appdata], true),
            paths(&["/profile/.npmrc", "/appdata/npm/etc/npmrc"])
        );
        assert_eq!(
            files(&[appdata], true),
            paths(&["/os-home/.npmrc", "/appdata/npm/etc/npmrc"]),
            "without USERPROFILE, the OS's home"
        );
        assert_eq!(
            files(&[profile, appdata, ("npm_config_prefix", "/pfx")], true),
            paths(&["/profile/.npmrc", "/pfx/etc/npmrc"])
        );
        let all = [
            ("INIT_CWD", "/proj"),
            profile,
            appdata,
            ("npm_config_userconfig", "/u/rc"),
            ("npm_config_globalconfig", "/g/rc"),
        ];
        assert_eq!(
            files(&all, true),
            paths(&["/proj/.npmrc", "/u/rc", "/g/rc"])
        );
    }

    #[test]
    fn npms_files_on_unix() {
        // USERPROFILE and APPDATA mean nothing there; HOME is the OS's home.
        let vars = [("USERPROFILE", "/profile"), ("APPDATA", "/appdata")];
        assert_eq!(files(&vars, false), paths(&["/os-home/.npmrc"]));
        assert_eq!(
            files(&[("npm_config_prefix", "/usr/local")], false),
            paths(&["/os-home/.npmrc", "/usr/local/etc/npmrc"])
        );
        assert_eq!(
            files(
                &[("INIT_CWD", "/proj"), ("npm_config_globalconfig", "/g")],
                false
            ),
            paths(&["/proj/.npmrc", "/os-home/.npmrc", "/g"])
        );
    }

    #[test]
    fn the_project_is_above_the_outermost_node_modules() {
        assert_eq!(
            project_of(Path::new("/p/node_modules/.pnpm/x@1/node_modules/x")),
            Some(PathBuf::from("/p"))
        );
        assert_eq!(
            project_of(Path::new("/p/node_modules/@a/b")),
            Some(PathBuf::from("/p"))
        );
        assert_eq!(project_of(Path::new("/src/tool")), None);
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
