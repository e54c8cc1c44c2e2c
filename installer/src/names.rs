//! Names read from metadata (package.json, release manifests, archives)
//! that become parts of paths: a target (`postbin-chunks/<target>`, the
//! wrapper package `<name>-<target>`, cache records) and the package name
//! (the wrapper tarball's file name), each checked where it enters
//! (`Manifest::parse`, the release readers), so no path built from one can
//! climb out of its directory; and the one rule for Windows device names,
//! refused as command names and as archive entries alike.

/// True for names Windows maps to a device in any directory: `CON`, `PRN`,
/// `AUX`, `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9` (and `COM¹`... with superscript
/// digits), `CONIN$`, `CONOUT$`, in any case, with any extension (`aux.txt`,
/// `nul.tar.gz`) and with spaces before it (`CON .txt`).
pub fn is_device_name(part: &str) -> bool {
    let stem = part.split('.').next().unwrap_or(part).trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) {
        return true;
    }
    let Some(digit) = upper
        .strip_prefix("COM")
        .or_else(|| upper.strip_prefix("LPT"))
    else {
        return false;
    };
    let mut chars = digit.chars();
    matches!(
        (chars.next(), chars.next()),
        (Some('0'..='9' | '¹' | '²' | '³'), None)
    )
}

/// Whether `target` is a target name: letters, digits, `-`, `_` and `.`,
/// not empty, not `.` or `..`. Every triple Rust, Go and Zig use fits.
pub fn is_target_name(target: &str) -> bool {
    !target.is_empty()
        && target != "."
        && target != ".."
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Whether `name` is a package name npm accepts: `name` or `@scope/name`,
/// each part of letters (uppercase too: npm's legacy names), digits, `-`,
/// `_`, `.`, `~`, not starting with `.` or `_`; so never `..`, a `\` or a
/// second `/`.
pub fn is_package_name(name: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && !p.starts_with(['.', '_'])
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
    };
    match name.strip_prefix('@') {
        Some(scoped) => {
            matches!(scoped.split_once('/'), Some((scope, n)) if part(scope) && part(n))
        }
        None => part(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_never_paths() {
        for ok in [
            "x86_64-unknown-linux-musl",
            "aarch64-apple-darwin",
            "universal2-apple-darwin",
            "linux_amd64_v1",
        ] {
            assert!(is_target_name(ok), "{ok}");
        }
        for bad in [
            "", ".", "..", "../../x", "a/b", "a\\b", "/abs", "C:x", "a b",
        ] {
            assert!(!is_target_name(bad), "{bad:?}");
        }
        for ok in ["hello", "@acme/hello-tool", "a.b", "x~y", "JSONStream"] {
            assert!(is_package_name(ok), "{ok}");
        }
        for bad in [
            "", "..", "@acme", "@acme/", "@a/b/c", "a\\b", "@../x", "@a/..", ".x", "a/b", "a:b",
        ] {
            assert!(!is_package_name(bad), "{bad:?}");
        }
    }
}
