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
    /// `-gnu` Linux targets: the oldest glibc the build runs on. A host
    /// with an older one (or an unknown one) takes the `-musl` build.
    pub glibc: Option<GlibcVersion>,
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
        const KNOWN: &[&str] = &["url", "format", "bin", "sha256", "glibc"];
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
            glibc: self.glibc(obj, triple, &format!("{field}.glibc"))?,
        })
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

    #[test]
    fn invalid_json_says_so() {
        let err = parse("{").unwrap_err().to_string();
        assert!(err.contains("not valid JSON"), "{err}");
    }
}
