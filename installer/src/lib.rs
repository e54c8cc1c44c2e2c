//! postbin: installs the native executable of an npm package from its
//! release archive. Data flows one way:
//!
//! `manifest` + `settings` (+ `npmrc`) → `plan` (with `platform`, `template`)
//! → `cache` → `fetch` (over `net`, hashed by `hash`) → `extract` → `link`.
//!
//! `commands` wires these together per subcommand, `cli` parses arguments and
//! prints errors, `error` owns exit codes.

#[macro_use]
pub mod log;

pub mod cache;
pub mod checksums;
pub mod chunks;
pub mod cli;
pub(crate) mod commands;
pub(crate) mod env_vars;
pub mod error;
pub mod extract;
pub(crate) mod fetch;
pub(crate) mod format;
pub(crate) mod fs_retry;
pub mod hash;
pub(crate) mod io_error;
pub(crate) mod json_edit;
pub(crate) mod launcher;
pub(crate) mod limits;
pub mod link;
pub mod manifest;
pub(crate) mod mirror_tree;
pub(crate) mod names;
pub mod net;
pub mod npm;
pub(crate) mod npm_files;
pub mod npmrc;
pub(crate) mod pipeline;
pub mod plan;
pub mod platform;
pub(crate) mod probe;
pub(crate) mod progress;
pub(crate) mod read_full;
pub(crate) mod release;
pub(crate) mod safe_fs;
pub(crate) mod settings;
pub mod template;
