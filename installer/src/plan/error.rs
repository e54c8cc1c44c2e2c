//! Why no plan could be made: no offered target runs here (and why each
//! was passed over), or the package or a setting says something unusable.

use super::*;

/// No offered target runs on this host: what was looked for and why each
/// offered host target was passed over.
#[derive(Debug)]
pub struct Unsupported {
    pub package: String,
    pub detected: Vec<String>,
    pub host: String,
    pub available: Vec<String>,
    pub env_prefix: String,
    /// Offered host targets passed over, and why (say, glibc too old).
    pub skipped: Vec<Skipped>,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Unsupported {
            package,
            detected,
            host,
            available,
            env_prefix,
            skipped,
        } = self;
        write!(
            f,
            "{package} has no prebuilt binary for this platform ({host}; looked for {}).\n\
             {}\
             The package offers: {}.\n\
             Build the tool yourself and set {env_prefix}_BINARY_PATH=/path/to/executable, \
             or set POSTBIN_TARGET to one of the offered targets if this host can run it.",
            if detected.is_empty() {
                "no known target".to_string()
            } else {
                detected.join(", ")
            },
            skipped_lines(skipped, detected),
            available.join(", "),
        )
    }
}

#[derive(Debug)]
pub enum Error {
    /// Boxed: every `Result` in the installer carries this enum.
    UnsupportedPlatform(Box<Unsupported>),
    ForcedTargetNotOffered {
        package: String,
        target: String,
        available: Vec<String>,
    },
    /// A value in the postbin section is wrong; `field` names it.
    Invalid { field: String, problem: String },
    Template {
        field: String,
        source: UnknownVariable,
    },
    MissingHash {
        package: String,
        target: String,
        env_prefix: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnsupportedPlatform(unsupported) => unsupported.fmt(f),
            Error::ForcedTargetNotOffered {
                package,
                target,
                available,
            } => write!(
                f,
                "{package} offers no binary for the forced target {target} (POSTBIN_TARGET or --target); it offers: {}. \
                 Unset POSTBIN_TARGET to detect the host, or force one of these.",
                available.join(", ")
            ),
            Error::Invalid { field, problem } => {
                write!(f, "package.json: `{field}` {problem}")
            }
            Error::Template { field, .. } => {
                write!(f, "package.json: `{field}` has a bad template")
            }
            Error::MissingHash {
                package,
                target,
                env_prefix,
            } => write!(
                f,
                "{package} pins no sha256 for {target} (`postbin.targets.{target}.sha256` is missing), \
                 so its download cannot be verified. Publisher: run `postbin pin` and republish. \
                 User: ask the publisher, or set {env_prefix}_BINARY_PATH to an executable you trust."
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Template { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Why the offered host targets were passed over, as one line ending in a
/// newline (empty when none was). Only `-gnu` builds are ever passed over,
/// and the error means none of the host's `-musl` candidates was offered:
/// naming them tells the user what to ask the publisher for.
fn skipped_lines(skipped: &[Skipped], detected: &[String]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let reasons: Vec<String> = skipped
        .iter()
        .map(|s| format!("{} {}", s.target, s.reason))
        .collect();
    let musl: Vec<&str> = detected
        .iter()
        .filter(|t| t.contains("-linux-musl"))
        .map(String::as_str)
        .collect();
    let musl = if musl.is_empty() {
        String::new()
    } else {
        format!(" ({})", musl.join(" or "))
    };
    format!(
        "{}; the publisher offers no -musl build for this host{musl}.\n",
        reasons.join("; ")
    )
}
