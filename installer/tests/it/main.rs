//! Integration tests of the `postbin` installer: the real binary, run as a
//! subprocess against the release server fixture on 127.0.0.1, with every
//! test in its own temp dirs (cache, HOME, package, release tree).

mod archives;
mod bad_input;
mod bin_names;
mod cache_cmds;
mod cache_concurrency;
mod cache_crash;
mod cache_hostile;
mod cache_poisoned;
mod cache_support;
mod cache_trust;
mod download_limits;
mod formats;
mod fuzz_regressions;
mod hash_mirrors;
mod host_select;
mod init_from;
mod init_real_shapes;
mod install;
mod moved_packages;
mod native_tool;
mod net_doctor;
mod net_faults;
mod net_mirrors;
mod net_real;
mod net_servers;
mod net_support;
mod net_tls;
mod network;
mod npm_registry;
mod offline_prefill;
mod pin_sources;
mod plan_json;
mod publisher;
mod real_releases;
mod redaction;
mod settings_errors;
mod streaming;
mod support;
mod unsafe_archives;
mod which_import;
mod windows;
