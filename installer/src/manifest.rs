//! Reads a package's `package.json`: its name, version, `bin` and the
//! publisher's `postbin` section, checked for shape only. Values are judged
//! later, when the plan is resolved, except a target's `glibc`, which decides
//! the target and so is judged here; every error names the offending field.

use crate::platform::{GlibcVersion, is_gnu_linux};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// What the publisher wrote, as written.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    pub dir: PathBuf,
    pub name: String,
    pub version: String,
    /// package.json `bin`: command name → launcher path inside the package.
    pub bin: BTreeMap<String, String>,
    pub postbin: PostbinSection,
}

#[derive(Clone, Debug, Default)]
pub struct PostbinSection {
    pub url: Option<String>,
    pub format: Option<String>,
    /// Command name → path of the executable inside the archive (a template).
    pub bin: Option<BTreeMap<String, String>>,
    pub version: Option<String>,
    pub env_prefix: Option<String>,
    /// URL template of a checksums file, for targets with no pinned hash.
    pub checksums: Option<String>,
    pub targets: BTreeMap<String, TargetEntry>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetEntry {
    pub url: Option<String>,
    pub format: Option<String>,
    pub bin: Option<BTreeMap<String, String>>,
    pub sha256: Option<String>,
    /// The archive's size in bytes, pinned next to its hash.
    pub size: Option<u64>,
    /// npm integrity (`sha512-...`) of the package that wraps this archive
    /// on the npm registry (`postbin pack-targets`).
    pub integrity: Option<String>,
    /// The archive's chunk digests (`chunks.rs`): a file in the package and
    /// its pinned sha256.
    pub chunks: Option<ChunksPin>,
    /// `-gnu` Linux targets: the oldest glibc the build runs on. A host
    /// with an older one (or an unknown one) takes the `-musl` build.
    pub glibc: Option<GlibcVersion>,
}

/// `targets.<t>.chunks`: `{"file": "postbin-chunks/<t>", "sha256": "..."}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChunksPin {
    /// Relative to the package directory.
    pub file: String,
    pub sha256: String,
}

#[derive(Debug)]
pub enum Error {
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// A field has the wrong type or is missing.
    Field {
        path: PathBuf,
        field: String,
        problem: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read { path, .. } => write!(
                f,
                "cannot read {}; pass the package directory with --package DIR",
                path.display()
            ),
            Error::Json { path, .. } => write!(f, "{} is not valid JSON", path.display()),
            Error::Field {
                path,
                field,
                problem,
            } => write!(f, "{}: `{field}` {problem}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Read { source, .. } => Some(source),
            Error::Json { source, .. } => Some(source),
            Error::Field { .. } => None,
        }
    }
}

impl Manifest {
    /// Reads `DIR/package.json`.
    pub fn load(dir: &Path) -> Result<Self, Error> {
        let path = dir.join("package.json");
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let mut manifest = Self::parse(&text, &path)?;
        manifest.dir = dir.to_path_buf();
        Ok(manifest)
    }

    /// Parses package.json text; `path` is used in messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        let fields = Fields { path };
        let root = fields.object(&value, "package.json")?;
        let name = fields.required_string(root, "name", "name")?;
        if !crate::names::is_package_name(&name) {
            return Err(fields.err(
                "name",
                format!("`{name}` is no npm package name (`name` or `@scope/name`)"),
            ));
        }
        let version = fields.required_string(root, "version", "version")?;
        let bin = match root.get("bin") {
            None => BTreeMap::new(),
            // npm: a string `bin` is named after the package (without scope).
            Some(Value::String(path)) => {
                BTreeMap::from([(unscoped(&name).to_string(), path.clone())])
            }
            Some(other) => fields.string_map(other, "bin")?,
        };
        let postbin = match root.get("postbin") {
            None => {
                return Err(Error::Field {
                    path: path.to_path_buf(),
                    field: "postbin".into(),
                    problem: "is missing: this package does not declare a native binary for postbin (see the publisher guide)".into(),
                });
            }
            Some(v) => fields.postbin(v)?,
        };
        fields.commands(&bin, &postbin)?;
        Ok(Manifest {
            dir: PathBuf::new(),
            name,
            version,
            bin,
            postbin,
        })
    }
}

/// `@scope/name` → `name`.
pub fn unscoped(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Type checks that name the field they were checking.
struct Fields<'a> {
    path: &'a Path,
}

impl Fields<'_> {
    fn err(&self, field: &str, problem: impl Into<String>) -> Error {
        Error::Field {
            path: self.path.to_path_buf(),
            field: field.to_string(),
            problem: problem.into(),
        }
    }

    fn object<'v>(&self, v: &'v Value, field: &str) -> Result<&'v Map<String, Value>, Error> {
        v.as_object()
            .ok_or_else(|| self.err(field, format!("must be an object, found {}", kind(v))))
    }

    fn required_string(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        field: &str,
    ) -> Result<String, Error> {
        self.optional_string(obj, key, field)?
            .ok_or_else(|| self.err(field, "is missing"))
    }

    fn optional_string(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        field: &str,
    ) -> Result<Option<String>, Error> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Err(self.err(field, "is empty")),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.err(field, format!("must be a string, found {}", kind(other)))),
        }
    }

    fn string_map(&self, v: &Value, field: &str) -> Result<BTreeMap<String, String>, Error> {
        let obj = self.object(v, field)?;
        let mut out = BTreeMap::new();
        for (k, v) in obj {
            let sub = format!("{field}.{k}");
            match v {
                Value::String(s) if !s.trim().is_empty() => {
                    out.insert(k.clone(), s.clone());
                }
                other => {
                    return Err(self.err(
                        &sub,
                        format!("must be a non-empty string, found {}", kind(other)),
                    ));
                }
            }
        }
        Ok(out)
    }

    fn postbin(&self, v: &Value) -> Result<PostbinSection, Error> {
        let obj = self.object(v, "postbin")?;
        const KNOWN: &[&str] = &[
            "url",
            "format",
            "bin",
            "version",
            "envPrefix",
            "checksums",
            "targets",
        ];
        if let Some(unknown) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(self.err(
                &format!("postbin.{unknown}"),
                format!("is not a known key (known: {})", KNOWN.join(", ")),
            ));
        }
        let targets_value = obj.get("targets").ok_or_else(|| {
            self.err(
                "postbin.targets",
                "is missing: list the targets the release offers, each with its sha256",
            )
        })?;
        let mut targets = BTreeMap::new();
        for (triple, entry) in self.object(targets_value, "postbin.targets")? {
            if !crate::names::is_target_name(triple) {
                return Err(self.err(
                    "postbin.targets",
                    format!(
                        "names the target `{triple}`, which is no target name (letters, digits, \
                         `-`, `_` and `.` only): it would become part of a path; fix or remove it"
                    ),
                ));
            }
            let field = format!("postbin.targets.{triple}");
            targets.insert(triple.clone(), self.target(entry, triple, &field)?);
        }
        if targets.is_empty() {
            return Err(self.err("postbin.targets", "is empty: add at least one target"));
        }
        Ok(PostbinSection {
            url: self.optional_string(obj, "url", "postbin.url")?,
            format: self.optional_string(obj, "format", "postbin.format")?,
            bin: obj
                .get("bin")
                .map(|b| self.string_map(b, "postbin.bin"))
                .transpose()?,
            version: self.optional_string(obj, "version", "postbin.version")?,
            env_prefix: self.optional_string(obj, "envPrefix", "postbin.envPrefix")?,
            checksums: self.optional_string(obj, "checksums", "postbin.checksums")?,
            targets,
        })
    }

    fn target(&self, v: &Value, triple: &str, field: &str) -> Result<TargetEntry, Error> {
        let obj = self.object(v, field)?;
        const KNOWN: &[&str] = &[
            "url",
            "format",
            "bin",
            "sha256",
            "size",
            "glibc",
            "integrity",
            "chunks",
        ];
        if let Some(unknown) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(self.err(
                &format!("{field}.{unknown}"),
                format!("is not a known key (known: {})", KNOWN.join(", ")),
            ));
        }
        Ok(TargetEntry {
            url: self.optional_string(obj, "url", &format!("{field}.url"))?,
            format: self.optional_string(obj, "format", &format!("{field}.format"))?,
            bin: obj
                .get("bin")
                .map(|b| self.string_map(b, &format!("{field}.bin")))
                .transpose()?,
            sha256: self.optional_string(obj, "sha256", &format!("{field}.sha256"))?,
            size: self.size(obj, &format!("{field}.size"))?,
            integrity: self.optional_string(obj, "integrity", &format!("{field}.integrity"))?,
            chunks: obj
                .get("chunks")
                .map(|c| {
                    let f = format!("{field}.chunks");
                    let c = self.object(c, &f)?;
                    Ok(ChunksPin {
                        file: self.required_string(c, "file", &format!("{f}.file"))?,
                        sha256: self.required_string(c, "sha256", &format!("{f}.sha256"))?,
                    })
                })
                .transpose()?,
            glibc: self.glibc(obj, triple, &format!("{field}.glibc"))?,
        })
    }

    /// A target's archive size: a positive JSON integer, in bytes.
    fn size(&self, obj: &Map<String, Value>, field: &str) -> Result<Option<u64>, Error> {
        match obj.get("size") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(0) => Err(self.err(field, "is 0; write the archive's size in bytes")),
                Some(size) => Ok(Some(size)),
                None => Err(self.err(
                    field,
                    format!("is {n}; write the archive's size in bytes, a whole number"),
                )),
            },
            Some(other) => Err(self.err(
                field,
                format!(
                    "must be the archive's size in bytes as a JSON integer, found {}",
                    kind(other)
                ),
            )),
        }
    }

    /// A target's minimum glibc, `"MAJOR.MINOR"`. Judged here rather than
    /// when the plan is resolved: it decides which target is chosen, so a
    /// typo must fail on the publisher's machine, whatever its platform.
    fn glibc(
        &self,
        obj: &Map<String, Value>,
        triple: &str,
        field: &str,
    ) -> Result<Option<GlibcVersion>, Error> {
        let text = match obj.get("glibc") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(text)) => text,
            // 2.30 as a JSON number is 2.3: never guess which was meant.
            Some(Value::Number(n)) => {
                return Err(self.err(
                    field,
                    format!("must be a string such as \"2.28\", found the number {n}: quote it"),
                ));
            }
            Some(other) => {
                return Err(self.err(
                    field,
                    format!("must be a string such as \"2.28\", found {}", kind(other)),
                ));
            }
        };
        if !is_gnu_linux(triple) {
            return Err(self.err(
                field,
                "applies only to -gnu Linux targets (those linked against glibc); remove it here",
            ));
        }
        GlibcVersion::parse(text).map(Some).ok_or_else(|| {
            let found = if text.trim().is_empty() {
                "is empty".to_string()
            } else {
                format!("is `{text}`")
            };
            self.err(
                field,
                format!("{found}; write the oldest glibc the build runs on as MAJOR.MINOR, e.g. \"2.28\""),
            )
        })
    }
}

impl Fields<'_> {
    /// Every command name (package.json `bin` keys, `postbin.bin` and each
    /// target's `bin` keys) must be a plain file name that is valid on every
    /// platform, and every launcher path (package.json `bin` values, which
    /// the speed path replaces) must stay inside the package: a package is
    /// published once for all hosts, and postbin writes at these paths.
    fn commands(
        &self,
        bin: &BTreeMap<String, String>,
        postbin: &PostbinSection,
    ) -> Result<(), Error> {
        let mut folded: BTreeMap<String, &str> = BTreeMap::new();
        for (name, launcher) in bin {
            let field = format!("bin.{}", name.escape_debug());
            if let Some(problem) = bad_command_name(name) {
                return Err(self.err(&field, problem));
            }
            if let Some(problem) = bad_launcher_path(launcher) {
                return Err(self.err(&field, problem));
            }
            if let Some(other) = folded.insert(name.to_lowercase(), name) {
                return Err(self.err(
                    &field,
                    format!(
                        "differs from the command `{other}` only by case: they would be one file on Windows and macOS; rename one"
                    ),
                ));
            }
        }
        let mut maps = vec![("postbin.bin".to_string(), postbin.bin.as_ref())];
        for (triple, entry) in &postbin.targets {
            maps.push((format!("postbin.targets.{triple}.bin"), entry.bin.as_ref()));
        }
        for (prefix, map) in maps {
            for name in map.into_iter().flat_map(BTreeMap::keys) {
                if let Some(problem) = bad_command_name(name) {
                    return Err(self.err(&format!("{prefix}.{}", name.escape_debug()), problem));
                }
            }
        }
        Ok(())
    }
}

/// Why `name` cannot be a command (it becomes the file
/// `.postbin/bin/<name>[.exe]` and a `node_modules/.bin` entry), or `None`.
/// Stricter than npm, which rewrites a name to its last path segment: a
/// name must already be a plain file name, valid on every platform, not
/// hidden (postbin's own temp files start with `.postbin-`) and not read
/// as an option.
fn bad_command_name(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("is empty: a command needs a name".into());
    }
    if let Some(c) = name.chars().find(|c| {
        matches!(c, '/' | '\\' | ':' | '<' | '>' | '"' | '|' | '?' | '*') || c.is_control()
    }) {
        return Some(format!(
            "is not a plain file name: it contains `{}`; a command name may not contain / \\ : < > \" | ? * or control characters",
            c.escape_debug()
        ));
    }
    if name.starts_with('.') {
        return Some("starts with `.`: a command name may not be hidden (nor `.` or `..`)".into());
    }
    if name.starts_with('-') {
        return Some("starts with `-`: it would be read as an option".into());
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some("ends with `.` or a space, which Windows drops from file names".into());
    }
    if name.len() > 200 {
        return Some("is longer than 200 bytes".into());
    }
    if crate::names::is_device_name(name) {
        let stem = name.split('.').next().unwrap_or(name).trim_end();
        return Some(format!(
            "is a device name on Windows (`{}`, with any case or extension), so it can be no file there; rename the command",
            stem.to_uppercase()
        ));
    }
    None
}

/// Why `path` (a package.json `bin` value: the launcher, which the speed
/// path replaces) could lead outside the package, or `None`. Both `/` and
/// `\` separate, as for npm.
fn bad_launcher_path(path: &str) -> Option<String> {
    let p = path.trim();
    let inside = "must be a relative path inside the package, such as `bin/tool`";
    if p.starts_with(['/', '\\']) || p.as_bytes().get(1) == Some(&b':') {
        return Some(format!("is `{}`: it {inside}", path.escape_debug()));
    }
    if p.chars().any(char::is_control) {
        return Some(format!(
            "is `{}`, with control characters: it {inside}",
            path.escape_debug()
        ));
    }
    let parts: Vec<&str> = p
        .split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.is_empty() || parts.iter().any(|c| *c == ".." || c.contains(':')) {
        return Some(format!("is `{}`: it {inside}", path.escape_debug()));
    }
    None
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, Error> {
        Manifest::parse(text, Path::new("pkg/package.json"))
    }

    #[test]
    fn reads_a_full_section() {
        let m = parse(
            r#"{"name":"@acme/hello-tool","version":"1.2.3","bin":{"hello":"bin/hello"},
            "postbin":{"url":"https://x/{target}.{format}","format":"tar.gz",
            "bin":{"hello":"hello{exe}"},"targets":{"x86_64-unknown-linux-musl":{"sha256":"ab"},
            "x86_64-pc-windows-msvc":{"format":"zip"}}}}"#,
        )
        .unwrap();
        assert_eq!(m.name, "@acme/hello-tool");
        assert_eq!(m.bin["hello"], "bin/hello");
        assert_eq!(m.postbin.targets.len(), 2);
        assert_eq!(
            m.postbin.targets["x86_64-pc-windows-msvc"]
                .format
                .as_deref(),
            Some("zip")
        );
    }

    #[test]
    fn string_bin_is_named_after_the_unscoped_package() {
        let m = parse(
            r#"{"name":"@a/tool","version":"1.0.0","bin":"bin/t","postbin":{"targets":{"x":{}}}}"#,
        )
        .unwrap();
        assert_eq!(m.bin["tool"], "bin/t");
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                r#"{"name":"a","version":"1","postbin":{"targets":{"x":{"sha256":5}}}}"#,
                "postbin.targets.x.sha256",
            ),
            (
                r#"{"name":"a","version":"1","postbin":{"targets":[]}}"#,
                "postbin.targets",
            ),
            (
                r#"{"name":"a","version":"1","postbin":{"targets":{}}}"#,
                "postbin.targets",
            ),
            (
                r#"{"name":"a","version":"1","postbin":{"targets":{"x":{}},"urll":"u"}}"#,
                "postbin.urll",
            ),
            (
                r#"{"name":"a","version":"1","postbin":{"targets":{"x":{}},"bin":{"a":1}}}"#,
                "postbin.bin.a",
            ),
            (r#"{"name":"a","version":"1"}"#, "postbin"),
            (r#"{"version":"1","postbin":{}}"#, "name"),
            (r#"{"name":"a","version":"1","postbin":"yes"}"#, "postbin"),
        ];
        for (text, field) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(&format!("`{field}`")), "{text}: {err}");
        }
    }

    fn with_target(triple: &str, entry: &str) -> Result<Manifest, Error> {
        parse(&format!(
            r#"{{"name":"a","version":"1","postbin":{{"targets":{{"{triple}":{entry}}}}}}}"#
        ))
    }

    #[test]
    fn a_gnu_target_may_declare_its_minimum_glibc() {
        let gnu = "x86_64-unknown-linux-gnu";
        let m = with_target(gnu, r#"{"glibc":"2.28"}"#).unwrap();
        assert_eq!(m.postbin.targets[gnu].glibc, Some(GlibcVersion::new(2, 28)));
        let m = with_target("armv7-unknown-linux-gnueabihf", r#"{"glibc":"2.17"}"#).unwrap();
        assert_eq!(
            m.postbin.targets["armv7-unknown-linux-gnueabihf"].glibc,
            Some(GlibcVersion::new(2, 17))
        );
        let m = with_target(gnu, r#"{"glibc":null}"#).unwrap();
        assert_eq!(m.postbin.targets[gnu].glibc, None);
    }

    #[test]
    fn a_bad_glibc_value_names_the_field_and_the_fix() {
        let cases = [
            ("x86_64-unknown-linux-gnu", r#""2.28.1""#, "MAJOR.MINOR"),
            ("x86_64-unknown-linux-gnu", r#""glibc 2.28""#, "MAJOR.MINOR"),
            ("x86_64-unknown-linux-gnu", r#""""#, "MAJOR.MINOR"),
            ("x86_64-unknown-linux-gnu", "2.3", "quote it"),
            ("x86_64-unknown-linux-gnu", "[2, 28]", "found an array"),
            (
                "x86_64-unknown-linux-musl",
                r#""2.28""#,
                "only to -gnu Linux targets",
            ),
            (
                "x86_64-pc-windows-gnu",
                r#""2.28""#,
                "only to -gnu Linux targets",
            ),
        ];
        for (triple, value, hint) in cases {
            let err = with_target(triple, &format!(r#"{{"glibc":{value}}}"#))
                .unwrap_err()
                .to_string();
            let field = format!("`postbin.targets.{triple}.glibc`");
            assert!(err.contains(&field), "{value}: {err}");
            assert!(err.contains(hint), "{value}: {err}");
        }
    }

    fn with_bin(bin: &str, postbin_bin: &str) -> Result<Manifest, Error> {
        parse(&format!(
            r#"{{"name":"a","version":"1","bin":{bin},"postbin":{{"bin":{postbin_bin},"targets":{{"x":{{}}}}}}}}"#
        ))
    }

    #[test]
    fn command_names_must_be_plain_portable_file_names() {
        for name in [
            "../../../../tmp/PWNED",
            "sub/evil",
            "a\\b",
            "c:x",
            "",
            " ",
            ".",
            "..",
            ".hidden",
            "-rf",
            "tab\t",
            "dot.",
            "CON",
            "con",
            "nul.exe",
            "Com1.tar.gz",
            "lpt9",
            "AUX ",
            "a*b",
        ] {
            let quoted = serde_json::to_string(name).unwrap();
            let err = with_bin(&format!(r#"{{{quoted}:"bin/x"}}"#), "{}")
                .unwrap_err()
                .to_string();
            assert!(err.contains("`bin."), "{name:?}: {err}");
            let err = with_bin(
                r#"{"ok":"bin/x"}"#,
                &format!(r#"{{"ok":"x",{quoted}:"x"}}"#),
            )
            .unwrap_err()
            .to_string();
            assert!(err.contains("`postbin.bin."), "{name:?}: {err}");
        }
        for name in [
            "hello",
            "hello-tool",
            "h_1",
            "tool.js",
            "console",
            "com10",
            "nul-x",
            "ÿes",
        ] {
            let quoted = serde_json::to_string(name).unwrap();
            with_bin(&format!(r#"{{{quoted}:"bin/x"}}"#), "{}").unwrap();
        }
        let err = parse(
            r#"{"name":"a","version":"1","bin":{"x":"b"},"postbin":{"targets":{"t":{"bin":{"a/b":"x"}}}}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`postbin.targets.t.bin.a/b`"), "{err}");
    }

    #[test]
    fn a_string_bin_named_after_a_device_is_refused() {
        let err = parse(
            r#"{"name":"@a/aux","version":"1","bin":"bin/t","postbin":{"targets":{"x":{}}}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`bin.aux`") && err.contains("device"), "{err}");
    }

    #[test]
    fn two_commands_differing_only_by_case_are_refused() {
        let err = with_bin(r#"{"Tool":"bin/a","tool":"bin/b"}"#, "{}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("only by case"), "{err}");
    }

    #[test]
    fn launcher_paths_must_stay_inside_the_package() {
        for path in [
            "../../outside",
            "bin/../../x",
            "/etc/passwd",
            "\\\\server\\share\\x",
            "C:\\x",
            "c:x",
            "bin\\..\\..\\x",
            "./",
            "bin/a:b",
        ] {
            let quoted = serde_json::to_string(path).unwrap();
            let err = with_bin(&format!(r#"{{"x":{quoted}}}"#), "{}")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("`bin.x`") && err.contains("inside the package"),
                "{path:?}: {err}"
            );
        }
        for path in ["bin/x", "./bin/x", "bin\\x", "x.js", "a/./b"] {
            let quoted = serde_json::to_string(path).unwrap();
            with_bin(&format!(r#"{{"x":{quoted}}}"#), "{}").unwrap();
        }
    }

    #[test]
    fn invalid_json_says_so() {
        let err = parse("{").unwrap_err().to_string();
        assert!(err.contains("not valid JSON"), "{err}");
    }
}
