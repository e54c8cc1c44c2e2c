//! Names read from metadata (package.json, release manifests) that become
//! parts of paths: a target (`postbin-chunks/<target>`, the wrapper
//! package `<name>-<target>`, cache records) and the package name (the
//! wrapper tarball's file name). Each is checked where it enters
//! (`Manifest::parse`, the release readers), so no path built from one can
//! climb out of its directory.

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
