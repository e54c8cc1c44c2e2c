//! `--node-modules`: the walk of an installed tree that finds the
//! packages with a `postbin` section.

use crate::mirror_tree;
use serde_json::Value;
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// How deep `--node-modules` follows nested `node_modules` directories.
const MAX_NESTING: usize = 32;
/// How many package directories one scan looks at, at most.
pub(super) const MAX_SCANNED: usize = 100_000;
/// package.json files bigger than this are not package manifests we want.
pub(super) const MAX_MANIFEST: u64 = 4 << 20;

/// A walk of an installed tree: a package dir may hold `node_modules`, whose
/// entries are packages, `@scope` dirs of packages, or pnpm's `.pnpm` store.
/// Every directory is visited once by its canonical path, so symlink loops
/// end; nesting and the number of directories are bounded.
pub(super) struct Scan<'a> {
    pub(super) seen: &'a mut HashSet<PathBuf>,
    pub(super) found: &'a mut Vec<PathBuf>,
    pub(super) budget: usize,
}

impl Scan<'_> {
    pub(super) fn package(&mut self, dir: &Path, depth: usize) {
        if depth > MAX_NESTING || self.budget == 0 {
            return;
        }
        let Ok(real) = fs::canonicalize(dir) else {
            return;
        };
        if !self.seen.insert(real.clone()) {
            return;
        }
        self.budget -= 1;
        if has_postbin_section(&real) {
            self.found.push(real.clone());
        }
        let nested = real.join("node_modules");
        if nested.is_dir() {
            self.node_modules(&nested, depth + 1);
        }
    }

    pub(super) fn node_modules(&mut self, dir: &Path, depth: usize) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let mut names: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        for path in names {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !path.is_dir() {
                continue;
            }
            if name == ".pnpm" {
                // pnpm's store: .pnpm/<name>@<version>/node_modules/<name>
                for store in mirror_tree::read_sorted(&path) {
                    let inner = store.join("node_modules");
                    if inner.is_dir() {
                        self.node_modules(&inner, depth + 1);
                    }
                }
            } else if name.starts_with('.') {
                // .bin, .cache, .package-lock.json's friends.
            } else if name.starts_with('@') {
                for scoped in mirror_tree::read_sorted(&path) {
                    if scoped.is_dir() {
                        self.package(&scoped, depth);
                    }
                }
            } else {
                self.package(&path, depth);
            }
        }
    }
}

fn has_postbin_section(dir: &Path) -> bool {
    let path = dir.join("package.json");
    let small = fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= MAX_MANIFEST);
    small
        && fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .is_some_and(|v| v.get("postbin").is_some_and(Value::is_object))
}
