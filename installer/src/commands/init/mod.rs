//! `postbin init`: turns a package.json with `bin` and `postbin` sections
//! into an installable tool: writes a launcher per command, the
//! `postinstall` script, `postbin check` as `prepack`, the dependency on
//! postbin and `preferUnplugged` (for yarn PnP), and keeps `.postbin/` out
//! of the package; `--workflow github` writes the release workflow.
//! Idempotent: a second run changes nothing. Key order, indentation and line
//! endings of package.json are kept (`json_edit`).

mod choose;
mod from;
mod report;
mod section;
mod workflow;

use crate::error::Error;
use crate::launcher::launcher_source;
use crate::manifest::Manifest;
use crate::plan;
use serde_json::{Map, Value};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// `--package DIR`.
    pub package: Option<PathBuf>,
    /// `--from SOURCE`: a release (`owner/repo@tag`, its page URL), a
    /// cargo-dist `dist-manifest.json`, goreleaser output, or a directory of
    /// assets, read to write the whole `postbin` section.
    pub from: Option<String>,
    /// `--app NAME`: the app of a cargo-dist workspace's manifest to publish.
    pub app: Option<String>,
    /// `--dry-run`: print what would be written, write nothing.
    pub dry_run: bool,
    /// `--workflow github`: write the release workflow.
    pub workflow: Option<String>,
    /// `--build`: the workflow also builds the Rust crate for each target.
    pub build: bool,
}

#[derive(Debug, Default)]
pub struct Report {
    /// What `--from` (or a cargo-dist package migrated in place) chose.
    pub from: Option<report::Report>,
    pub package_dir: PathBuf,
    pub launchers_written: Vec<PathBuf>,
    pub package_json_changed: bool,
    /// The ignore file `.postbin/` was added to.
    pub ignore_file: Option<PathBuf>,
    /// The workflow written by `--workflow github`.
    pub workflow: Option<PathBuf>,
    /// `--dry-run`: nothing was written, so nothing is "already set up".
    pub dry_run: bool,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(from) = &self.from {
            write!(f, "{from}")?;
        }
        for path in &self.launchers_written {
            writeln!(f, "wrote launcher {}", path.display())?;
        }
        if self.package_json_changed {
            writeln!(
                f,
                "updated {} (postinstall and prepack scripts, dependency on postbin)",
                self.package_dir.join("package.json").display()
            )?;
            if !postbin_installed(&self.package_dir) {
                writeln!(
                    f,
                    "next: run `npm install` before `npm pack` or `npm publish`: the prepack \
                     script runs `postbin check` from node_modules"
                )?;
            }
        }
        if let Some(file) = &self.ignore_file {
            writeln!(
                f,
                "added .postbin/ to {} (keeps it out of the npm package)",
                file.display()
            )?;
        }
        if let Some(file) = &self.workflow {
            writeln!(f, "wrote {}", file.display())?;
        }
        if self.dry_run {
            if self.from.is_none() {
                writeln!(f, "dry run: nothing to read and nothing written")?;
            }
            return Ok(());
        }
        if self.launchers_written.is_empty()
            && !self.package_json_changed
            && self.ignore_file.is_none()
            && self.workflow.is_none()
        {
            writeln!(f, "{} is already set up", self.package_dir.display())?;
        }
        Ok(())
    }
}

impl super::Report for Report {}

const POSTINSTALL: &str = "postbin install";
const PREPACK: &str = "postbin check";

pub fn run(options: &Options) -> Result<Report, Error> {
    let package_dir = super::package_dir(options.package.as_deref());
    if options.build && options.workflow.is_none() {
        return Err(Error::Usage("--build goes with --workflow github".into()));
    }
    if let Some(kind) = options.workflow.as_deref().filter(|k| *k != "github") {
        return Err(Error::Usage(format!(
            "--workflow {kind}: only `--workflow github` is known"
        )));
    }
    // The `postbin` section first, when it is to be written from a release.
    let from = from::run(&package_dir, options)?;
    if options.dry_run {
        return Ok(Report {
            from,
            package_dir,
            dry_run: true,
            ..Report::default()
        });
    }
    let manifest = Manifest::load(&package_dir)?;
    if manifest.bin.is_empty() {
        return Err(Error::Usage(format!(
            "{}: package.json has no `bin`; declare the commands first, e.g. \"bin\": {{\"hello\": \"bin/hello\"}}",
            package_dir.display()
        )));
    }
    let launchers_written = write_launchers(&package_dir, &manifest)?;
    let package_json_changed = update_package_json(&package_dir, &manifest)?;
    let ignore_file = exclude_postbin_dir(&package_dir)?;
    let workflow = match options.workflow {
        Some(_) => workflow::write(&package_dir, &manifest, options.build)?,
        None => None,
    };
    Ok(Report {
        from,
        package_dir,
        launchers_written,
        package_json_changed,
        ignore_file,
        workflow,
        dry_run: false,
    })
}

/// One launcher per command, where it is missing or stale; a file there
/// that postbin did not write is never overwritten.
fn write_launchers(package_dir: &Path, manifest: &Manifest) -> Result<Vec<PathBuf>, Error> {
    let prefix = plan::env_prefix(manifest);
    let mut written = Vec::new();
    for (command, rel) in &manifest.bin {
        let path = package_dir.join(rel);
        let content = launcher_source(command, rel, &prefix, &manifest.name);
        if fs::read_to_string(&path).is_ok_and(|old| old == content) {
            continue;
        }
        if path.exists() && !crate::link::is_our_launcher(&path) {
            return Err(Error::Usage(format!(
                "{} exists and is not a postbin launcher; move it away or point `bin.{command}` at a new path",
                path.display()
            )));
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| io_usage(dir, e))?;
        }
        fs::write(&path, &content).map_err(|e| io_usage(&path, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                .map_err(|e| io_usage(&path, e))?;
        }
        written.push(path);
    }
    Ok(written)
}

/// Adds what is missing to package.json (the postinstall script, the
/// dependency on postbin, `preferUnplugged`, the launchers in `files`);
/// true if it changed.
fn update_package_json(package_dir: &Path, manifest: &Manifest) -> Result<bool, Error> {
    let json_path = package_dir.join("package.json");
    let text = fs::read_to_string(&json_path).map_err(|e| io_usage(&json_path, e))?;
    let mut root: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", json_path.display())))?;
    let obj = root
        .as_object_mut()
        .expect("Manifest::load checked it is an object");
    let mut changed = add_script(obj, "postinstall", POSTINSTALL);
    changed |= add_script(obj, "prepack", PREPACK);
    let deps = object_entry(obj, "dependencies");
    if !deps.contains_key("postbin") {
        deps.insert(
            "postbin".into(),
            Value::String(format!("^{}", env!("CARGO_PKG_VERSION"))),
        );
        changed = true;
    }
    // Yarn PnP keeps packages inside zip files, where the native installer
    // can neither read package.json nor place the executable; unplugged, the
    // package lives on disk (esbuild's packages do the same). A publisher's
    // explicit `false` is kept.
    if !obj.contains_key("preferUnplugged") {
        obj.insert("preferUnplugged".into(), Value::Bool(true));
        changed = true;
    }
    // A `files` allow-list must ship the launchers.
    if let Some(Value::Array(files)) = obj.get_mut("files") {
        for rel in manifest.bin.values() {
            let rel = rel.trim_start_matches("./");
            let covered = files.iter().filter_map(Value::as_str).any(|f| {
                let f = f.trim_start_matches("./").trim_end_matches('/');
                rel == f || rel.starts_with(&format!("{f}/"))
            });
            if !covered {
                files.push(Value::String(rel.to_string()));
                changed = true;
            }
        }
    }
    if changed {
        let out = crate::json_edit::like(&text, &root);
        fs::write(&json_path, out).map_err(|e| io_usage(&json_path, e))?;
    }
    Ok(changed)
}

/// Script `name` runs `command` (before any script already there):
/// `postinstall` installs, `prepack` checks.
fn add_script(obj: &mut Map<String, Value>, name: &str, command: &str) -> bool {
    let scripts = object_entry(obj, "scripts");
    let script = match scripts.get(name).and_then(Value::as_str) {
        Some(s) if s.contains(command) => return false,
        Some(other) => format!("{command} && {other}"),
        None => command.to_string(),
    };
    scripts.insert(name.into(), Value::String(script));
    true
}

/// Keeps `.postbin/` out of the npm package where npm's rules would pack
/// it: with no `files` list, `.postbin/` is added to the file npm reads its
/// rules from, `.npmignore`, else `.gitignore` (a new `.npmignore` would
/// stop npm from reading an existing `.gitignore`, and pack more). With
/// neither, a new `.npmignore`: it packs what npm packed before, less
/// `.postbin/`, and a new `.gitignore` would make npm 11 warn
/// `gitignore-fallback` on every pack. A `files` list that names
/// `.postbin` is the publisher's to fix: `postbin check` says so. Returns
/// the file changed.
fn exclude_postbin_dir(package_dir: &Path) -> Result<Option<PathBuf>, Error> {
    let json_path = package_dir.join("package.json");
    let text = fs::read_to_string(&json_path).map_err(|e| io_usage(&json_path, e))?;
    let root: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", json_path.display())))?;
    if root.get("files").is_some_and(Value::is_array)
        || crate::npm_files::postbin_dir_excluded(package_dir, &root).is_ok()
    {
        return Ok(None);
    }
    let (file, mut text) = match crate::npm_files::ignore_file(package_dir) {
        Some(file) => {
            let text = fs::read_to_string(&file).unwrap_or_default();
            (file, text)
        }
        None => (
            package_dir.join(".npmignore"),
            "# npm reads this file, not .gitignore, for what stays out of the package.\n"
                .to_string(),
        ),
    };
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push_str(eol);
    }
    text.push_str(".postbin/");
    text.push_str(eol);
    fs::write(&file, text).map_err(|e| io_usage(&file, e))?;
    Ok(Some(file))
}

/// Whether the package (or a workspace above it) has postbin installed,
/// so its `prepack` finds the command.
fn postbin_installed(package_dir: &Path) -> bool {
    package_dir
        .ancestors()
        .any(|dir| dir.join("node_modules/postbin/package.json").is_file())
}

fn object_entry<'a>(obj: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    if !obj.get(key).is_some_and(Value::is_object) {
        obj.insert(key.into(), Value::Object(Map::new()));
    }
    obj.get_mut(key)
        .and_then(Value::as_object_mut)
        .expect("inserted above")
}

fn io_usage(path: &Path, e: std::io::Error) -> Error {
    Error::Usage(format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launcher_finds_the_package_dir_at_any_depth() {
        assert!(
            launcher_source("hello", "bin/hello", "HELLO", "hello-tool")
                .contains("join(__dirname, \"..\")")
        );
        assert!(
            launcher_source("hello", "hello.js", "HELLO", "hello-tool")
                .contains("packageDir: __dirname,")
        );
        assert!(
            launcher_source("h", "./a/b/h", "H", "h").contains("join(__dirname, \"..\", \"..\")")
        );
    }

    #[test]
    fn init_is_idempotent_and_keeps_order() {
        let dir = tempfile::tempdir().unwrap();
        let pj = r#"{"name":"hello-tool","version":"1.0.0","description":"x","bin":{"hello":"bin/hello"},
            "scripts":{"postinstall":"node setup.js"},"files":["README.md"],
            "postbin":{"url":"https://h/a","targets":{"t":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}}}"#;
        fs::write(dir.path().join("package.json"), pj).unwrap();
        let first = run(&Options {
            package: Some(dir.path().to_path_buf()),
            ..Options::default()
        })
        .unwrap();
        assert!(first.package_json_changed);
        assert_eq!(first.launchers_written.len(), 1);
        let text = fs::read_to_string(dir.path().join("package.json")).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["scripts"]["postinstall"],
            "postbin install && node setup.js"
        );
        assert_eq!(
            v["dependencies"]["postbin"],
            format!("^{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(v["files"], serde_json::json!(["README.md", "bin/hello"]));
        assert_eq!(v["preferUnplugged"], true);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys[..3], ["name", "version", "description"]);
        assert!(crate::link::is_our_launcher(&dir.path().join("bin/hello")));
        let second = run(&Options {
            package: Some(dir.path().to_path_buf()),
            ..Options::default()
        })
        .unwrap();
        assert!(!second.package_json_changed && second.launchers_written.is_empty());
        assert_eq!(
            fs::read_to_string(dir.path().join("package.json")).unwrap(),
            text
        );
    }

    const PACKAGE_JSON: &str = r#"{"name":"@acme/hello-tool","version":"1.0.0","bin":{"hello":"bin/hello"},
        "postbin":{"url":"https://h/a","targets":{"t":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}}}"#;

    /// What `postbin init` wrote before the launcher guarded its `require`.
    const OLD_LAUNCHER: &str = "#!/usr/bin/env node\n// postbin-launcher: written by `postbin init`; do not edit.\n\
        // Runs the native `hello`, installing it first if install scripts were skipped.\n\
        require(\"postbin/launcher\").run({\n  packageDir: require(\"path\").join(__dirname, \"..\"),\n  \
        command: \"hello\",\n  envPrefix: \"HELLO_TOOL\",\n});\n";

    #[test]
    fn a_launcher_from_an_older_init_is_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("package.json"), PACKAGE_JSON).unwrap();
        fs::create_dir(dir.path().join("bin")).unwrap();
        let launcher = dir.path().join("bin/hello");
        fs::write(&launcher, OLD_LAUNCHER).unwrap();
        let report = run(&Options {
            package: Some(dir.path().to_path_buf()),
            ..Options::default()
        })
        .unwrap();
        assert_eq!(report.launchers_written, std::slice::from_ref(&launcher));
        let text = fs::read_to_string(&launcher).unwrap();
        assert_eq!(
            text,
            launcher_source("hello", "bin/hello", "HELLO_TOOL", "@acme/hello-tool")
        );
        assert!(text.contains("catch (e)") && text.contains("HELLO_TOOL_BINARY_PATH"));
        assert!(
            run(&Options {
                package: Some(dir.path().to_path_buf()),
                ..Options::default()
            })
            .unwrap()
            .launchers_written
            .is_empty()
        );
    }

    /// With no `postbin` to load, the launcher says what to do in one line
    /// and exits 1 (needs `node`; skipped where there is none).
    #[test]
    fn a_launcher_without_postbin_prints_one_line_and_exits_1() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("package.json"), PACKAGE_JSON).unwrap();
        run(&Options {
            package: Some(dir.path().to_path_buf()),
            ..Options::default()
        })
        .unwrap();
        let out = match std::process::Command::new("node")
            .arg(dir.path().join("bin/hello"))
            .env_remove("NODE_PATH")
            .env_remove("NODE_OPTIONS")
            .current_dir(dir.path())
            .output()
        {
            Ok(out) => out,
            Err(e) => {
                eprintln!("skipped: no node ({e})");
                return;
            }
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("postbin: cannot run hello: the postbin package it needs cannot be loaded (Cannot find module 'postbin/launcher'"),
            "{stderr}"
        );
        assert!(
            stderr.contains("reinstall @acme/hello-tool")
                && stderr.contains("HELLO_TOOL_BINARY_PATH"),
            "{stderr}"
        );
        assert!(!stderr.contains("    at "), "no stack trace: {stderr}");
    }

    #[test]
    fn refuses_to_overwrite_a_foreign_bin_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("package.json"),
            r#"{"name":"t","version":"1.0.0","bin":{"t":"cli.js"},"postbin":{"targets":{"x":{}}}}"#,
        )
        .unwrap();
        fs::write(
            dir.path().join("cli.js"),
            "#!/usr/bin/env node\nconsole.log('mine')\n",
        )
        .unwrap();
        let err = run(&Options {
            package: Some(dir.path().to_path_buf()),
            ..Options::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("not a postbin launcher"), "{err}");
        assert!(
            fs::read_to_string(dir.path().join("cli.js"))
                .unwrap()
                .contains("mine")
        );
    }
}
