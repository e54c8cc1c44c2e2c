//! Hostile archives, built in code: each is refused with exit 7, nothing is
//! cached or linked, and nothing is written outside the destination. Links
//! that stay inside the archive are accepted.

use crate::archives::{Tar, Zip, flat_tar};
use crate::support::*;
use serde_json::json;
use tar::EntryType;

/// Five `..` climb from `<cache>/v1/tmp/tree-*/files` to the test's temp root.
const CLIMB: &str = "../../../../../";

/// Publishes `bytes` as the `format` asset and installs it with `env`.
fn install_archive(world: &World, format: &str, bytes: &[u8], env: &[(&str, &str)]) -> Run {
    let sha = world.publish(&format!("hello-{TARGET}.{format}"), bytes);
    world.package(world.section(format, &sha));
    world.install_env(env)
}

/// Installs `tar` (gzipped) and asserts it is refused as unsafe.
fn assert_refused(world: &World, tar: Tar, needles: &[&str]) {
    let run = install_archive(world, "tar.gz", &tar.gz(), &[]);
    run.assert_exit(exit::ARCHIVE)
        .assert_stderr_has(&["refusing archive entry"])
        .assert_stderr_has(needles);
    world.assert_nothing_installed();
}

#[test]
fn parent_dir_path_is_refused() {
    let world = World::new();
    let name = format!("{CLIMB}escaped");
    assert_refused(
        &world,
        flat_tar().file(&name, 0o755, b"#!/bin/sh\necho pwned\n"),
        &["escaped", "`..`"],
    );
    world.assert_no_escape("escaped");
}

#[test]
fn parent_dir_inside_a_path_is_refused() {
    let world = World::new();
    let name = format!("hello-dir/{CLIMB}../escaped");
    assert_refused(&world, flat_tar().file(&name, 0o644, b"pwned\n"), &["`..`"]);
    world.assert_no_escape("escaped");
}

#[test]
fn absolute_path_is_refused() {
    let world = World::new();
    let target = world.base().join("abs-escaped");
    let name = path_str(&target);
    assert_refused(
        &world,
        flat_tar().file(&name, 0o755, b"pwned\n"),
        &["absolute"],
    );
    assert!(!target.exists());
    world.assert_no_escape("abs-escaped");
}

#[test]
fn symlink_pointing_outside_is_refused() {
    let world = World::new();
    assert_refused(
        &world,
        flat_tar().symlink("passwd-link", "../../etc/passwd"),
        &["passwd-link", "outside"],
    );
    world.assert_no_escape("passwd-link");
}

#[test]
fn absolute_symlink_is_refused() {
    let world = World::new();
    assert_refused(
        &world,
        flat_tar().symlink("passwd-link", "/etc/passwd"),
        &["passwd-link", "absolute"],
    );
    world.assert_no_escape("passwd-link");
}

#[test]
fn file_written_through_an_escaping_symlink_is_refused() {
    let world = World::new();
    assert_refused(
        &world,
        flat_tar().symlink("sub", CLIMB.trim_end_matches('/')).file(
            "sub/escaped",
            0o644,
            b"pwned\n",
        ),
        &["sub"],
    );
    world.assert_no_escape("escaped");
}

#[test]
fn hardlink_pointing_outside_is_refused() {
    let world = World::new();
    assert_refused(
        &world,
        flat_tar().hardlink("passwd-link", "../../etc/passwd"),
        &["passwd-link", "hard link", "outside"],
    );
    world.assert_no_escape("passwd-link");
}

#[test]
fn character_device_is_refused() {
    let world = World::new();
    assert_refused(
        &world,
        flat_tar().special("console", EntryType::Char),
        &["console", "character device"],
    );
    world.assert_no_escape("console");
}

#[test]
fn fifo_is_refused() {
    let world = World::new();
    assert_refused(
        &world,
        flat_tar().special("pipe", EntryType::Fifo),
        &["pipe", "FIFO"],
    );
    world.assert_no_escape("pipe");
}

#[test]
fn duplicate_entries_are_refused() {
    let world = World::new();
    assert_refused(
        &world,
        flat_tar().file("hello", 0o755, b"#!/bin/sh\necho second copy\n"),
        &["hello", "twice"],
    );
}

#[test]
fn decompression_bomb_is_stopped_at_the_size_cap() {
    let world = World::new();
    let zeros = vec![0u8; 16 << 20];
    let bytes = flat_tar().file("zeros", 0o644, &zeros).gz();
    assert!(bytes.len() < 256 << 10, "the bomb compresses tiny");
    let run = install_archive(
        &world,
        "tar.gz",
        &bytes,
        &[("POSTBIN_MAX_UNPACKED_SIZE", "1048576")],
    );
    run.assert_exit(exit::ARCHIVE)
        .assert_stderr_has(&["decompression bomb", "POSTBIN_MAX_UNPACKED_SIZE"]);
    world.assert_nothing_installed();
}

#[test]
fn zip_symlink_to_an_absolute_path_is_refused() {
    let world = World::new();
    let zip = Zip::new()
        .file("hello", 0o755, SCRIPT)
        .symlink("passwd-link", "/etc/passwd")
        .finish();
    let run = install_archive(&world, "zip", &zip, &[]);
    run.assert_exit(exit::ARCHIVE).assert_stderr_has(&[
        "refusing archive entry",
        "passwd-link",
        "absolute",
    ]);
    world.assert_nothing_installed();
    world.assert_no_escape("passwd-link");
}

#[test]
fn zip_entry_climbing_with_backslashes_is_refused() {
    let world = World::new();
    let name = format!("{}escaped", CLIMB.replace('/', "\\"));
    let zip = Zip::new()
        .file("hello", 0o755, SCRIPT)
        .file(&name, 0o644, b"pwned\n")
        .finish();
    let run = install_archive(&world, "zip", &zip, &[]);
    run.assert_exit(exit::ARCHIVE)
        .assert_stderr_has(&["refusing archive entry", "`..`"]);
    world.assert_nothing_installed();
    world.assert_no_escape("escaped");
}

#[test]
fn symlink_inside_the_tree_to_the_executable_is_accepted() {
    let world = World::new();
    let tar = Tar::new()
        .dir("real/")
        .file("real/hello", 0o755, SCRIPT)
        .dir("bin/")
        .symlink("bin/hello", "../real/hello");
    let sha = world.publish(&format!("hello-{TARGET}.tar.gz"), &tar.gz());
    let mut section = world.section("tar.gz", &sha);
    section["bin"] = json!({ "hello": "bin/hello" });
    world.package(section);

    world.install().assert_ok();
    let placed = world.placed("hello");
    assert_runs(&placed);
    // The package holds a private copy, not a link into the cache.
    assert!(std::fs::symlink_metadata(&placed).unwrap().is_file());
}

#[test]
fn hardlink_inside_the_tree_to_the_executable_is_accepted() {
    let world = World::new();
    let tar = Tar::new()
        .file("real/hello", 0o755, SCRIPT)
        .hardlink("hello", "real/hello");
    install_archive(&world, "tar.gz", &tar.gz(), &[]).assert_ok();
    assert_runs(&world.placed("hello"));
}

/// An entry whose parent path is a regular file of the archive is a
/// malformed archive (exit 7), not a file-system failure (exit 8).
#[test]
fn file_nested_under_a_regular_file_is_refused_as_an_archive_error() {
    let world = World::new();
    assert_refused(
        &world,
        flat_tar().file("README.md/hello", 0o755, SCRIPT),
        &["README.md/hello"],
    );
}

/// A link at a path that other entries use as a directory is a malformed
/// archive (exit 7), not a file-system failure (exit 8).
#[test]
fn symlink_over_an_implicit_directory_is_refused_as_an_archive_error() {
    let world = World::new();
    assert_refused(
        &world,
        flat_tar()
            .symlink("lib", "hello")
            .file("lib/data", 0o644, b"data\n"),
        &["lib"],
    );
}
