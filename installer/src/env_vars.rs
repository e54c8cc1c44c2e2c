//! Every environment variable postbin reads, declared once with what it means.
//! A value that cannot be used is an error naming the variable (exit 3),
//! never silently the default (`settings::Invalid`).
//!
//! Nothing else in the crate spells an environment variable name; the README's
//! configuration table is written from this list.

/// Mirror base URL(s), tried in order, replacing the origin of asset URLs.
/// `<PREFIX>_MIRROR` (package-specific) is read before this one.
pub const POSTBIN_MIRROR: &str = "POSTBIN_MIRROR";
/// Suffix of the package-specific mirror variable: `<PREFIX>_MIRROR`.
pub const SUFFIX_MIRROR: &str = "_MIRROR";
/// Suffix of the package-specific override: `<PREFIX>_BINARY_PATH` names an
/// executable to use instead of downloading anything (an absolute path).
pub const SUFFIX_BINARY_PATH: &str = "_BINARY_PATH";
/// Cache directory (default: the OS cache dir, e.g. `~/.cache/postbin`).
pub const POSTBIN_CACHE_DIR: &str = "POSTBIN_CACHE_DIR";
/// Where the per-user key that seals cache trees is kept (default:
/// `postbin/cache-key` in the user's config directory). Must be outside the
/// cache directory; see the "Threat model" section of docs/design-notes.md.
pub const POSTBIN_CACHE_KEY_FILE: &str = "POSTBIN_CACHE_KEY_FILE";
/// `1`/`true`: never open a socket.
pub const POSTBIN_OFFLINE: &str = "POSTBIN_OFFLINE";
/// Force a target triple instead of detecting the host.
pub const POSTBIN_TARGET: &str = "POSTBIN_TARGET";
/// Log level: `error`, `warn`, `info` (default) or `debug`.
pub const POSTBIN_LOG: &str = "POSTBIN_LOG";
/// Extra CA certificates (PEM file), added to the built-in roots.
pub const POSTBIN_CA_FILE: &str = "POSTBIN_CA_FILE";
/// How many times a retryable download failure is retried: 0 to 20 (default 3).
pub const POSTBIN_RETRIES: &str = "POSTBIN_RETRIES";
/// Seconds without a byte from the server before a download counts as stalled
/// (default 30; above 0, at most 86400, fractions allowed).
pub const POSTBIN_STALL_TIMEOUT: &str = "POSTBIN_STALL_TIMEOUT";
/// Seconds allowed to establish a connection, TLS included (default 15; as above).
pub const POSTBIN_CONNECT_TIMEOUT: &str = "POSTBIN_CONNECT_TIMEOUT";
/// Upper bound on the bytes an archive may unpack to (default 4 GiB): bytes, or
/// binary units `512M`, `8G`, `1.5GiB` (`settings::parse_size`).
pub const POSTBIN_MAX_UNPACKED_SIZE: &str = "POSTBIN_MAX_UNPACKED_SIZE";
/// Upper bound on a download whose size the publisher did not pin, in bytes
/// or with a unit (`500M`, `2G`; default 2G).
pub const POSTBIN_MAX_DOWNLOAD_SIZE: &str = "POSTBIN_MAX_DOWNLOAD_SIZE";
/// Test-only: comma-separated hosts that count as GitHub for token sending.
/// Tests point it at the fixture; it only ever narrows who gets a token to
/// hosts the user named, and tokens still require HTTPS.
pub const POSTBIN_TEST_GITHUB_HOSTS: &str = "POSTBIN_TEST_GITHUB_HOSTS";
/// Test-only: pretend the cache's disk has this many bytes free (bytes or a
/// unit, as `POSTBIN_MAX_DOWNLOAD_SIZE`). It only ever stops a download early.
pub const POSTBIN_TEST_FREE_SPACE: &str = "POSTBIN_TEST_FREE_SPACE";
/// Test-only: `1` sends loopback URLs through the configured proxy too
/// (normally loopback is never proxied), so tests can route the fixture on
/// 127.0.0.1 through a real proxy. It only ever adds a hop the user configured.
pub const POSTBIN_TEST_PROXY_LOOPBACK: &str = "POSTBIN_TEST_PROXY_LOOPBACK";

pub const NODE_EXTRA_CA_CERTS: &str = "NODE_EXTRA_CA_CERTS";
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
pub const GH_TOKEN: &str = "GH_TOKEN";

/// Proxy variables, each read in upper and lower case.
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
pub const HTTP_PROXY: &str = "HTTP_PROXY";
pub const ALL_PROXY: &str = "ALL_PROXY";
pub const NO_PROXY: &str = "NO_PROXY";

/// `0`/`false`: never replace the JS launcher with the native executable.
pub const POSTBIN_SPEED_PATH: &str = "POSTBIN_SPEED_PATH";
/// Set by every package manager while it runs a lifecycle script.
pub const NPM_LIFECYCLE_EVENT: &str = "npm_lifecycle_event";

/// What npm (and pnpm 9/10, yarn 1) export to lifecycle scripts.
pub const NPM_CONFIG_PREFIX: &str = "npm_config_";
pub const NPM_CONFIG_USERCONFIG: &str = "npm_config_userconfig";
pub const NPM_CONFIG_GLOBALCONFIG: &str = "npm_config_globalconfig";
/// npm's global prefix; its `etc/npmrc` is the global file when
/// `npm_config_globalconfig` is not set.
pub const NPM_CONFIG_GLOBAL_PREFIX_DIR: &str = "npm_config_prefix";
pub const NPM_CONFIG_USER_AGENT: &str = "npm_config_user_agent";
pub const NPM_CONFIG_GLOBAL: &str = "npm_config_global";
/// Where the user ran the package manager: the project's `.npmrc` lives there.
pub const INIT_CWD: &str = "INIT_CWD";
/// Windows: the user's home (node's `os.homedir()` reads it first), where
/// npm's user `.npmrc` lives.
pub const USERPROFILE: &str = "USERPROFILE";
/// Windows: the roaming application data dir; npm's default global prefix
/// is `%APPDATA%\npm`.
pub const APPDATA: &str = "APPDATA";

/// Reads a variable, treating an empty value as unset (as npm and curl do).
pub fn get(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Reads `NAME` then `name`.
pub fn get_either_case(name: &str) -> Option<(String, String)> {
    let lower = name.to_ascii_lowercase();
    for n in [name.to_string(), lower] {
        if let Some(v) = get(&n) {
            return Some((n, v));
        }
    }
    None
}

/// `1`, `true`, `yes`, `on` (any case) are true.
pub fn is_truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}
