//! Every environment variable postbin reads, declared once with what it means.
//! A value that cannot be used is an error naming the variable (exit 3),
//! never silently the default (`settings::Invalid`).
//!
//! Nothing else in the crate spells an environment variable name. The
//! variables table in docs/configuration.md (between its `env-vars` markers)
//! is written from [`TABLE`], [`CONTEXT`], [`TEST_ONLY`] and [`INDIRECT`] by
//! the tests below: after changing them, run
//! `POSTBIN_BLESS=1 cargo test -p postbin --lib env_vars`. The tests also
//! fail when a variable the code reads is declared nowhere here, or when a
//! default in the table is not the code's.

/// Mirror base URL(s); `<PREFIX>_MIRROR` (package-specific) is read first.
pub const POSTBIN_MIRROR: &str = "POSTBIN_MIRROR";
/// Suffix of the package-specific mirror variable: `<PREFIX>_MIRROR`.
pub const SUFFIX_MIRROR: &str = "_MIRROR";
/// Suffix of the package-specific override: `<PREFIX>_BINARY_PATH`.
pub const SUFFIX_BINARY_PATH: &str = "_BINARY_PATH";
pub const POSTBIN_CACHE_DIR: &str = "POSTBIN_CACHE_DIR";
/// Where the per-user key that seals cache trees is kept; see the "Threat
/// model" section of docs/design-notes.md.
pub const POSTBIN_CACHE_KEY_FILE: &str = "POSTBIN_CACHE_KEY_FILE";
pub const POSTBIN_OFFLINE: &str = "POSTBIN_OFFLINE";
pub const POSTBIN_TARGET: &str = "POSTBIN_TARGET";
pub const POSTBIN_LOG: &str = "POSTBIN_LOG";
pub const POSTBIN_CA_FILE: &str = "POSTBIN_CA_FILE";
pub const POSTBIN_RETRIES: &str = "POSTBIN_RETRIES";
pub const POSTBIN_STALL_TIMEOUT: &str = "POSTBIN_STALL_TIMEOUT";
pub const POSTBIN_CONNECT_TIMEOUT: &str = "POSTBIN_CONNECT_TIMEOUT";
/// Parsed by `settings::parse_size`.
pub const POSTBIN_MAX_UNPACKED_SIZE: &str = "POSTBIN_MAX_UNPACKED_SIZE";
/// Parsed by `settings::parse_size`.
pub const POSTBIN_MAX_DOWNLOAD_SIZE: &str = "POSTBIN_MAX_DOWNLOAD_SIZE";
/// `0`/`false`: never replace the JS launcher with the native executable.
pub const POSTBIN_SPEED_PATH: &str = "POSTBIN_SPEED_PATH";
/// The GitHub REST API base `init --from owner/repo@tag` reads releases from.
pub const POSTBIN_GITHUB_API: &str = "POSTBIN_GITHUB_API";
/// `0`/`false`/`off`: no progress line on the controlling terminal when
/// stderr is not one (npm hides install scripts' output).
pub const POSTBIN_PROGRESS: &str = "POSTBIN_PROGRESS";
/// `npm`: try the npm registry's wrapper package before the release's URL.
pub const POSTBIN_SOURCE: &str = "POSTBIN_SOURCE";
/// Set by CI services: no progress on the controlling terminal.
pub const CI: &str = "CI";
/// npm's log level, passed to scripts: `silent` draws no progress.
pub const NPM_CONFIG_LOGLEVEL: &str = "npm_config_loglevel";
/// Read by the JS side only (shim-js/platform.js and shim-js/cli.js), never by
/// the installer; declared here so that the table documents it.
/// Only the docs check reads this (the docs are generated from it).
#[cfg(test)]
pub const POSTBIN_INSTALLER_PATH: &str = "POSTBIN_INSTALLER_PATH";

/// Test-only: comma-separated hosts that count as GitHub for token sending.
pub const POSTBIN_TEST_GITHUB_HOSTS: &str = "POSTBIN_TEST_GITHUB_HOSTS";
/// Test-only: pretend the cache's disk has this many bytes free.
pub const POSTBIN_TEST_FREE_SPACE: &str = "POSTBIN_TEST_FREE_SPACE";
/// Test-only: send loopback URLs through the configured proxy too.
pub const POSTBIN_TEST_PROXY_LOOPBACK: &str = "POSTBIN_TEST_PROXY_LOOPBACK";
/// Test-only, debug builds only: a file the streaming install appends each
/// chunk it hands to the decoder to (`<index> <sha256>`).
#[cfg_attr(not(debug_assertions), allow(dead_code))]
pub const POSTBIN_TEST_HANDOFF_LOG: &str = "POSTBIN_TEST_HANDOFF_LOG";

pub const NODE_EXTRA_CA_CERTS: &str = "NODE_EXTRA_CA_CERTS";
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
pub const GH_TOKEN: &str = "GH_TOKEN";

/// Proxy variables, each read in upper then lower case ([`EITHER_CASE`]).
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
pub const HTTP_PROXY: &str = "HTTP_PROXY";
pub const ALL_PROXY: &str = "ALL_PROXY";
pub const NO_PROXY: &str = "NO_PROXY";
/// The variables `settings` reads in upper and then lower case
/// (`Lookup::first_either_case`); a test checks that it does.
/// Only the docs check reads this (the docs are generated from it).
#[cfg(test)]
pub const EITHER_CASE: &[&str] = &[HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY];

/// Set by every package manager while it runs a lifecycle script.
pub const NPM_LIFECYCLE_EVENT: &str = "npm_lifecycle_event";
/// What npm (and pnpm 9/10, yarn 1) export to lifecycle scripts: every
/// `.npmrc` key `k` in [`TABLE`] is also read as `npm_config_k` (`-` as `_`).
pub const NPM_CONFIG_PREFIX: &str = "npm_config_";
pub const NPM_CONFIG_USERCONFIG: &str = "npm_config_userconfig";
pub const NPM_CONFIG_GLOBALCONFIG: &str = "npm_config_globalconfig";
pub const NPM_CONFIG_GLOBAL_PREFIX_DIR: &str = "npm_config_prefix";
pub const NPM_CONFIG_USER_AGENT: &str = "npm_config_user_agent";
pub const NPM_CONFIG_GLOBAL: &str = "npm_config_global";
/// npm's `--os`, `--cpu`, `--libc`: the platform an install is for.
pub const NPM_CONFIG_OS: &str = "npm_config_os";
pub const NPM_CONFIG_CPU: &str = "npm_config_cpu";
pub const NPM_CONFIG_LIBC: &str = "npm_config_libc";
pub const INIT_CWD: &str = "INIT_CWD";
pub const USERPROFILE: &str = "USERPROFILE";
pub const APPDATA: &str = "APPDATA";
pub const LOCALAPPDATA: &str = "LOCALAPPDATA";

/// One row of the settings table in docs/configuration.md.
/// Only the docs check reads this (the docs are generated from it).
#[cfg(test)]
pub struct Documented {
    /// What it sets (markdown, no `|`).
    pub what: &'static str,
    /// Variables in the order they are read; a name starting with `_` is a
    /// suffix of `<PREFIX>` (the package's prefix, e.g. `HELLO_TOOL`).
    /// After them come `npm_config_<key>` for each of `npmrc`.
    pub env: &'static [&'static str],
    /// `.npmrc` keys, in the order they are read.
    pub npmrc: &'static [&'static str],
    /// The value without any setting (markdown, no `|`).
    pub default: &'static str,
}

/// Only the docs check reads this (the docs are generated from it).
#[cfg(test)]
const fn row(
    what: &'static str,
    env: &'static [&'static str],
    npmrc: &'static [&'static str],
    default: &'static str,
) -> Documented {
    Documented {
        what,
        env,
        npmrc,
        default,
    }
}

/// The settings, as docs/configuration.md lists them.
/// Only the docs check reads this (the docs are generated from it).
#[cfg(test)]
pub const TABLE: &[Documented] = &[
    row(
        "mirrors (comma/space separated, tried in order; replace the origin `scheme://host` of the asset URL; `file:///dir` allowed, on Windows also `file:///C:/dir` and `file://server/share/dir`, and `file:///dir` is `\\dir` on the current drive; an `http://` mirror is allowed because the pinned hash still guards the bytes; a mirror with `{sha256}`, `{file}` or `{name}` in it names each archive by content instead, e.g. `https://store.corp/blobs/sha256/{sha256}`, and is skipped for a file with no pinned hash)",
        &[SUFFIX_MIRROR, POSTBIN_MIRROR],
        &["postbin-mirror"],
        "none (the publisher's URL)",
    ),
    row(
        "executable to use instead of downloading anything (an absolute path to an existing file)",
        &[SUFFIX_BINARY_PATH],
        &[],
        "none",
    ),
    row(
        "cache directory",
        &[POSTBIN_CACHE_DIR],
        &["postbin-cache-dir"],
        "`$XDG_CACHE_HOME/postbin` or `~/.cache/postbin` (Linux), `~/Library/Caches/postbin` (macOS), `%LOCALAPPDATA%\\postbin` (Windows: the Local AppData folder, e.g. `C:\\Users\\me\\AppData\\Local\\postbin`, as npm's own `npm-cache`)",
    ),
    row(
        "key that seals the cache's unpacked trees (32 random bytes, created on first use, 0600; must be outside the cache directory; see [design-notes.md](design-notes.md#threat-model))",
        &[POSTBIN_CACHE_KEY_FILE],
        &[],
        "`postbin/cache-key` in the user's config directory: `$XDG_CONFIG_HOME` or `~/.config` (Linux), `~/Library/Application Support` (macOS), `%APPDATA%` (Windows)",
    ),
    row(
        "offline, never open a socket: `1`, `true`, `yes` or `on`",
        &[POSTBIN_OFFLINE],
        &["offline"],
        "off",
    ),
    row(
        "force a target triple (as `install --target`); taken as is, even a `-gnu` build whose `glibc` minimum the host seems not to meet",
        &[POSTBIN_TARGET],
        &[],
        "detected (see [below](#the-detected-target))",
    ),
    row(
        "HTTPS proxy",
        &[HTTPS_PROXY, ALL_PROXY],
        &["https-proxy", "proxy"],
        "none",
    ),
    row(
        "HTTP proxy (plain-http mirrors)",
        &[HTTP_PROXY, ALL_PROXY],
        &["proxy"],
        "none",
    ),
    row(
        "no proxy for (host suffixes, `.corp`, `*.corp`, `host:port`, IPs, IPv4 CIDR, `*`; loopback is never proxied)",
        &[NO_PROXY],
        &["noproxy"],
        "none",
    ),
    row(
        "extra CA certificates (PEM files, and with `ca` inline PEM; all are added to Mozilla's roots and the system bundle)",
        &[POSTBIN_CA_FILE, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE],
        &["cafile", "ca"],
        "none",
    ),
    row(
        "TLS verification, off with `false`, `0`, `no` or `off` (a loud warning; pinned hashes still enforced)",
        &[],
        &["strict-ssl"],
        "on",
    ),
    row(
        "GitHub token: sent as `Authorization: Bearer` only over HTTPS to github.com and api.github.com, never to a mirror, never after a redirect to another host, never printed",
        &[GITHUB_TOKEN, GH_TOKEN],
        &[],
        "none",
    ),
    row(
        "retries of retryable failures (connect errors, timeouts, 5xx, 429, broken bodies), exponential backoff from 0.5 s with jitter, `Retry-After` honoured up to 30 s; a whole number from 0 to 20",
        &[POSTBIN_RETRIES],
        &[],
        "3",
    ),
    row(
        "stall timeout: seconds with no byte before a download counts as stalled; above 0, at most 86400, fractions allowed",
        &[POSTBIN_STALL_TIMEOUT],
        &[],
        "30",
    ),
    row(
        "connect timeout (DNS, TCP, TLS, proxy), seconds as for the stall timeout",
        &[POSTBIN_CONNECT_TIMEOUT],
        &[],
        "15",
    ),
    row(
        "cap on what an archive may unpack to: a size (below)",
        &[POSTBIN_MAX_UNPACKED_SIZE],
        &[],
        "4 GiB",
    ),
    row(
        "cap on a download whose size the publisher did not pin (`targets.<t>.size`; a pinned size is the cap otherwise), a size (below): `500M`, `2G`, `1T`; a download announcing more is refused before its body, one sending more is stopped (exit 5)",
        &[POSTBIN_MAX_DOWNLOAD_SIZE],
        &[],
        "2 GiB",
    ),
    row(
        "speed path (the JS launcher replaced by the native executable); `0`, `false` or any value but `1`, `true`, `yes`, `on` keeps the launcher",
        &[POSTBIN_SPEED_PATH],
        &[],
        "on",
    ),
    row(
        "GitHub REST API base that `postbin init --from owner/repo@tag` reads the release from (GitHub Enterprise: `https://HOST/api/v3`)",
        &[POSTBIN_GITHUB_API],
        &[],
        "`https://api.github.com`",
    ),
    row(
        "a progress line on the controlling terminal (`/dev/tty`, Unix) while a download runs past about a second and stderr is no terminal, as when npm hides the install script's output; `0`, `false` or `off` turns it off; never drawn with `CI` set or npm's `--silent`",
        &[POSTBIN_PROGRESS],
        &[],
        "on",
    ),
    row(
        "where archives come from first: `npm` tries the npm registry's wrapper package (`postbin pack-targets`) before the release URL and mirrors; `origin` (or unset) tries it after them",
        &[POSTBIN_SOURCE],
        &["postbin-source"],
        "`origin`",
    ),
    row(
        "the npm registry that serves a package's wrapper packages: npm's own keys, `@scope:registry` before `registry`; credentials as npm keeps them, under the registry's `//host[:port]/path/`: `:_authToken`, else `:_auth`, else `:username` with `:_password`, sent to that registry only",
        &[],
        &["@scope:registry", "registry"],
        "`https://registry.npmjs.org/`",
    ),
    row(
        "npm's cache directory: a wrapper package found in its content store (`_cacache`) by its pinned integrity is used without a download, offline too",
        &[],
        &["cache"],
        "`~/.npm`; Windows `%LOCALAPPDATA%\\npm-cache`",
    ),
    row(
        "installer to run, for hosts without a prebuilt one (read by postbin's JS side, not by the installer)",
        &[POSTBIN_INSTALLER_PATH],
        &[],
        "the host's installer package (`@postbin/<os>-<cpu>`, an optional dependency of postbin), else fetched from the registry",
    ),
    row(
        "log level: `error`, `warn`, `info`, `debug`",
        &[POSTBIN_LOG],
        &[],
        "`info` on a terminal, else `warn`",
    ),
];

/// Variables postbin reads that are not settings: set by the package
/// manager or the OS.
/// Only the docs check reads this (the docs are generated from it).
#[cfg(test)]
pub const CONTEXT: &[(&str, &str)] = &[
    (
        NPM_LIFECYCLE_EVENT,
        "whether postbin runs as an install script (the speed path is taken only then)",
    ),
    (NPM_CONFIG_USER_AGENT, "which package manager runs it"),
    (
        NPM_CONFIG_LOGLEVEL,
        "`silent` (`npm install --silent`): no progress line on the terminal",
    ),
    (
        CI,
        "set (to anything but `false`/`0`) by CI services: no progress line on the terminal",
    ),
    (NPM_CONFIG_GLOBAL, "`true`: a global install"),
    (
        NPM_CONFIG_OS,
        "npm `--os`: during an install script, install the tool for that OS (another machine)",
    ),
    (
        NPM_CONFIG_CPU,
        "npm `--cpu`: during an install script, install the tool for that CPU (another machine)",
    ),
    (
        NPM_CONFIG_LIBC,
        "npm `--libc` (`glibc`, `musl`): during an install script, the other machine's C library",
    ),
    (
        INIT_CWD,
        "where the user ran the package manager: the project's `.npmrc` is there",
    ),
    (
        NPM_CONFIG_USERCONFIG,
        "the user `.npmrc` (else `~/.npmrc`; on Windows `%USERPROFILE%\\.npmrc`)",
    ),
    (
        NPM_CONFIG_GLOBALCONFIG,
        "the global `npmrc` (else `<prefix>/etc/npmrc`)",
    ),
    (
        NPM_CONFIG_GLOBAL_PREFIX_DIR,
        "npm's prefix, for the global `npmrc`",
    ),
    (
        USERPROFILE,
        "Windows: the home directory of the user `.npmrc` (read first, as node's `os.homedir()` does)",
    ),
    (APPDATA, "Windows: npm's default prefix is `%APPDATA%\\npm`"),
    (
        LOCALAPPDATA,
        "Windows: npm's default cache is `%LOCALAPPDATA%\\npm-cache`",
    ),
];

/// Read by libraries, not by postbin's own code: the OS's default
/// directories (crate `directories`, std's temp dir).
/// Only the docs check reads this (the docs are generated from it).
#[cfg(test)]
pub const INDIRECT: &[(&str, &str)] = &[
    (
        "HOME",
        "Unix: the home directory, for the default cache, key file and user `.npmrc` (through the `directories` crate)",
    ),
    (
        "XDG_CACHE_HOME",
        "Linux: the default cache directory's parent (through `directories`)",
    ),
    (
        "XDG_CONFIG_HOME",
        "Linux: the default key file's parent (through `directories`)",
    ),
    (
        "TMPDIR",
        "Unix: where a temporary cache goes when the configured one cannot be written or no home directory is found (through std; on Windows `TMP`, `TEMP`)",
    ),
];

/// Variables only the test suite sets. Each can only narrow what postbin
/// does, or add a hop the user configured.
/// Only the docs check reads this (the docs are generated from it).
#[cfg(test)]
pub const TEST_ONLY: &[(&str, &str)] = &[
    (
        POSTBIN_TEST_GITHUB_HOSTS,
        "comma-separated hosts that count as GitHub for the token (tokens still need HTTPS)",
    ),
    (
        POSTBIN_TEST_FREE_SPACE,
        "pretend the cache's disk has this many bytes free (a size); only ever stops a download early",
    ),
    (
        POSTBIN_TEST_PROXY_LOOPBACK,
        "`1`: send loopback URLs through the configured proxy too (normally never proxied)",
    ),
    (
        POSTBIN_TEST_HANDOFF_LOG,
        "debug builds only: a file the streaming install appends `<index> <sha256>` to for each chunk it hands to the decoder",
    ),
];

/// Reads a variable, treating an empty value as unset (as npm and curl do).
pub fn get(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `1`, `true`, `yes`, `on` (any case) are true.
pub fn is_truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    const BEGIN: &str = "<!-- env-vars:begin -->\n";
    const END: &str = "<!-- env-vars:end -->";
    const BLESS: &str = "POSTBIN_BLESS=1 cargo test -p postbin --lib env_vars";
    /// Named in the docs, set for the repository's scripts and tests, never
    /// read by postbin: `POSTBIN_BLESS` (these tests), `POSTBIN_TGZ` and
    /// `POSTBIN_TEST_WINDOWS_TOOL` (scripts/test and the e2e tests).
    const HARNESS: &[&str] = &["POSTBIN_BLESS", "POSTBIN_TGZ", "POSTBIN_TEST_WINDOWS_TOOL"];

    fn repo_file(relative: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(relative)
    }

    fn npm_config(key: &str) -> String {
        format!("{NPM_CONFIG_PREFIX}{}", key.replace('-', "_"))
    }

    /// Every name a row reads, with `<PREFIX>` spelt as `prefix`.
    fn row_names(row: &Documented, prefix: &str) -> Vec<String> {
        let mut names = Vec::new();
        for name in row.env {
            if name.starts_with('_') {
                names.push(format!("{prefix}{name}"));
            } else {
                names.push(name.to_string());
                if EITHER_CASE.contains(name) {
                    names.push(name.to_ascii_lowercase());
                }
            }
        }
        names.extend(row.npmrc.iter().map(|k| npm_config(k)));
        names
    }

    fn documented(prefix: &str) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = TABLE.iter().flat_map(|r| row_names(r, prefix)).collect();
        for (name, _) in CONTEXT.iter().chain(INDIRECT).chain(TEST_ONLY) {
            all.insert(name.to_string());
        }
        all
    }

    fn code(text: &str) -> String {
        format!("`{text}`")
    }

    fn render() -> String {
        let mut out = format!(
            "<!-- Written from installer/src/env_vars.rs: edit it there, then run `{BLESS}`. -->\n\
             | setting | env | .npmrc | default |\n|---|---|---|---|\n"
        );
        for row in TABLE {
            let mut env: Vec<String> = row
                .env
                .iter()
                .map(|name| {
                    if name.starts_with('_') {
                        code(&format!("<PREFIX>{name}"))
                    } else if EITHER_CASE.contains(name) {
                        format!("{}/{}", code(name), code(&name.to_ascii_lowercase()))
                    } else {
                        code(name)
                    }
                })
                .collect();
            env.extend(row.npmrc.iter().map(|k| code(&npm_config(k))));
            let npmrc: Vec<String> = row.npmrc.iter().map(|k| code(k)).collect();
            out += &format!(
                "| {} | {} | {} | {} |\n",
                row.what,
                env.join(", "),
                npmrc.join(", "),
                row.default
            );
        }
        out += "\nVariables that are not settings, read from the package manager's and the OS's \
                environment:\n\n| variable | what postbin takes from it |\n|---|---|\n";
        for (name, what) in CONTEXT.iter().chain(INDIRECT) {
            out += &format!("| {} | {what} |\n", code(name));
        }
        out += "\nSet only by postbin's own tests (each can only narrow what postbin does, or add \
                a hop the user configured):\n\n";
        for (name, what) in TEST_ONLY {
            out += &format!("- {}: {what}\n", code(name));
        }
        out
    }

    #[test]
    fn configuration_md_lists_what_env_vars_rs_declares() {
        let path = repo_file("docs/configuration.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let start = text.find(BEGIN).map(|i| i + BEGIN.len());
        let end = start.and_then(|s| text[s..].find(END).map(|e| s + e));
        let (Some(start), Some(end)) = (start, end) else {
            panic!(
                "{} has no `{}` ... `{END}` section for the variables table",
                path.display(),
                BEGIN.trim()
            );
        };
        let want = render();
        let have = &text[start..end];
        if have == want {
            return;
        }
        if get("POSTBIN_BLESS").is_some() {
            let updated = format!("{}{want}{}", &text[..start], &text[end..]);
            std::fs::write(&path, updated).unwrap();
            eprintln!("rewrote the variables table in {}", path.display());
            return;
        }
        let (line, doc, rust) = have
            .lines()
            .map(Some)
            .chain(std::iter::repeat(None))
            .zip(want.lines().map(Some).chain(std::iter::repeat(None)))
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| (i + 1, a.unwrap_or("(nothing)"), b.unwrap_or("(nothing)")))
            .unwrap_or((0, "", ""));
        panic!(
            "the variables table in docs/configuration.md is not what \
             installer/src/env_vars.rs declares; first difference, line {line} between the \
             markers:\n  docs: {doc}\n  code: {rust}\n\
             Run `{BLESS}` to rewrite it from installer/src/env_vars.rs."
        );
    }

    #[test]
    fn table_cells_are_plain_markdown_cells() {
        for row in TABLE {
            for cell in [row.what, row.default] {
                assert!(!cell.contains('|') && !cell.contains('\n'), "{cell}");
            }
        }
    }

    /// Each `pub const NAME: &str = "..."` above is documented somewhere.
    #[test]
    fn every_declared_variable_is_documented() {
        let known = documented("");
        let mut missing = Vec::new();
        for line in include_str!("env_vars.rs").lines() {
            let Some(rest) = line.strip_prefix("pub const ") else {
                continue;
            };
            let Some((_, value)) = rest.split_once(": &str = \"") else {
                continue;
            };
            let value = value.trim_end_matches("\";");
            if value == NPM_CONFIG_PREFIX {
                continue;
            }
            if !known.contains(value) {
                missing.push(value.to_string());
            }
        }
        assert!(
            missing.is_empty(),
            "declared but in none of TABLE, CONTEXT, TEST_ONLY: {missing:?}"
        );
    }

    /// Whatever settings, the speed-path check and the `.npmrc` search ask
    /// for (through their injected lookups) is declared here.
    #[test]
    fn every_variable_the_code_asks_for_is_documented() {
        let asked = RefCell::new(BTreeSet::new());
        let env = |name: &str| {
            asked.borrow_mut().insert(name.to_string());
            match name {
                NPM_LIFECYCLE_EVENT => Some("postinstall".to_string()),
                NPM_CONFIG_USER_AGENT => Some("pnpm/10.0.0".to_string()),
                _ => None,
            }
        };
        crate::settings::Settings::resolve(&env, &crate::npmrc::Npmrc::default(), Some("HELLO"));
        crate::link::speed_path_blocker(&env);
        for windows in [false, true] {
            crate::npmrc::config_files(&env, windows, &|| Some(PathBuf::from("/home/u")));
        }
        let asked = asked.into_inner();
        assert!(asked.contains("HELLO_MIRROR") && asked.contains(HTTPS_PROXY));
        let known = documented("HELLO");
        // Registry credentials are keyed by the registry's own
        // `//host/path/` (the registry row says so): no fixed name.
        let undeclared: Vec<&String> = asked
            .difference(&known)
            .filter(|name| !name.starts_with(&format!("{NPM_CONFIG_PREFIX}//")))
            .collect();
        assert!(
            undeclared.is_empty(),
            "read but not declared in installer/src/env_vars.rs: {undeclared:?}"
        );
    }

    #[test]
    fn either_case_variables_are_read_in_lower_case_too() {
        for name in EITHER_CASE {
            let lower = name.to_ascii_lowercase();
            let env = |n: &str| (n == lower).then(|| "http://p.corp:1".to_string());
            let s = crate::settings::Settings::resolve(&env, &crate::npmrc::Npmrc::default(), None);
            let read = [&s.https_proxy, &s.http_proxy, &s.no_proxy]
                .iter()
                .any(|p| p.as_ref().is_some_and(|p| p.value == "http://p.corp:1"));
            assert!(read, "{lower} is not read");
        }
    }

    #[test]
    fn defaults_in_the_table_are_the_code_defaults() {
        let s =
            crate::settings::Settings::resolve(&|_| None, &crate::npmrc::Npmrc::default(), None);
        let default = |name: &str| {
            TABLE
                .iter()
                .find(|r| r.env.contains(&name))
                .map(|r| r.default)
                .unwrap()
        };
        let seconds = |name| default(name).parse::<f64>().unwrap();
        let size = |name| crate::settings::parse_size(default(name)).unwrap();
        assert_eq!(default(POSTBIN_RETRIES).parse::<u32>().unwrap(), s.retries);
        assert_eq!(
            seconds(POSTBIN_STALL_TIMEOUT),
            s.stall_timeout.as_secs_f64()
        );
        assert_eq!(
            seconds(POSTBIN_CONNECT_TIMEOUT),
            s.connect_timeout.as_secs_f64()
        );
        assert_eq!(size(POSTBIN_MAX_UNPACKED_SIZE), s.max_unpacked_size);
        assert_eq!(size(POSTBIN_MAX_DOWNLOAD_SIZE), s.max_download_size);
        assert_eq!(
            default(POSTBIN_OFFLINE),
            if s.offline.value { "on" } else { "off" }
        );
    }

    /// No other source file reads the environment itself, except `.npmrc`'s
    /// `${VAR}` expansion, which reads whatever variable the file names.
    #[test]
    fn nothing_else_reads_the_environment() {
        fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, files);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        walk(&src, &mut files);
        let mut found = Vec::new();
        for file in files.iter().filter(|f| !f.ends_with("env_vars.rs")) {
            let text = std::fs::read_to_string(file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for (i, line) in code.lines().enumerate() {
                let line = line.trim();
                let reads = ["env::var(", "env::var_os(", "env::vars(", "env::vars_os("]
                    .iter()
                    .any(|p| line.contains(p));
                let npmrc_expansion =
                    file.ends_with("npmrc.rs") && line.contains("|name| std::env::var(name).ok()");
                if reads && !line.starts_with("//") && !npmrc_expansion {
                    found.push(format!("{}:{}: {line}", file.display(), i + 1));
                }
            }
        }
        assert!(
            found.is_empty(),
            "read the environment through installer/src/env_vars.rs instead:\n{}",
            found.join("\n")
        );
    }

    /// Every `POSTBIN_*` and `<PREFIX>_*` name in the README and docs/ is one
    /// postbin reads (or one the test harness sets).
    #[test]
    fn docs_name_only_declared_variables() {
        let known = documented("<PREFIX>");
        let mut files = vec![repo_file("README.md")];
        for entry in std::fs::read_dir(repo_file("docs")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
        let mut unknown = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            for stem in ["POSTBIN_", "<PREFIX>_"] {
                for (at, _) in text.match_indices(stem) {
                    let rest = &text[at + stem.len()..];
                    let len = rest
                        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                        .unwrap_or(rest.len());
                    let name = format!("{stem}{}", &rest[..len]);
                    let name = name.trim_end_matches('_');
                    if len == 0 || name.len() < stem.len() {
                        continue;
                    }
                    if !known.contains(name) && !HARNESS.contains(&name) {
                        unknown.push(format!("{}: {name}", file.display()));
                    }
                }
            }
        }
        assert!(
            unknown.is_empty(),
            "named in the docs but not declared in installer/src/env_vars.rs:\n{}",
            unknown.join("\n")
        );
    }
}
