//! postbin: installs the native executable of an npm package from its
//! release archive. Data flows one way: `manifest` + `settings` (+ `npmrc`)
//! → `plan` (with `platform`, `template`) → `cache` → `fetch` (over `net`,
//! hashed by `hash`) → `extract` → `link`, wired by `pipeline`.
//!
//! Imports only go down (docs/design-notes.md, "Layers"); from the floor up:
//! - leaves: `hash`, `format`, `limits`, `names`, `safe_fs`, `io_error`, `mem`,
//!   `read_full`, `fs_retry`, `env_vars`, `template`, `platform`, `json_edit`;
//! - config and mechanisms: `manifest`, `npmrc`, `settings`, `extract`,
//!   `chunks`, `cache`, `net`, `npm`, `progress`;
//! - `plan`; then `fetch`, `checksums`, `link`, `mirror_tree`; then `probe`,
//!   `launcher`, `npm_files`, `release`;
//! - `error` (the one top-level error and the exit codes: each layer below
//!   has its own error type, which it wraps);
//! - `pipeline` (config → plan → cache → fetch/verify/extract), `commands`
//!   (one file a subcommand; none calls another), `cli`.

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
// The static x86_64 Linux installer's memcpy/memmove (musl's are slow on
// the decoders' short copies): a process-wide symbol, see mem.rs.
#[cfg(all(target_arch = "x86_64", any(target_env = "musl", test)))]
mod mem;
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
pub mod url;
