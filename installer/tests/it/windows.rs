//! Windows behaviour of the installer, checked with the real Windows
//! installer under wine (scripts/test runs `windows::` with
//! `POSTBIN_TEST_INSTALLER=.../postbin.exe` and `POSTBIN_TEST_RUNNER=wine64`;
//! see support.rs). Tests that mean something on the host too run there as
//! well, with the host's expectations; those that only make sense on Windows
//! return early elsewhere.
//!
//! Under wine, Unix absolute paths given to the installer resolve through
//! the `Z:` drive (the Unix root) because the working directory is on it.

use crate::archives::{Tar, Zip};
use crate::support::*;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

/// The Windows test tool (`hello.exe`: prints `hello from postbin`, or with
/// `sleep N` prints `sleeping` and keeps running N seconds), or, on hosts
/// that never run it, the shell script.
fn tool_bytes() -> Vec<u8> {
    match std::env::var_os("POSTBIN_TEST_WINDOWS_TOOL") {
        Some(path) => std::fs::read(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", Path::new(&path).display())),
        None => {
            assert!(
                !foreign_windows(),
                "POSTBIN_TEST_WINDOWS_TOOL must name hello.exe for the wine tests"
            );
            SCRIPT.to_vec()
        }
    }
}

/// The tool with `tag` appended: a different file (and archive hash) that
/// still runs, since Windows ignores bytes after an executable's image.
fn tool_version(tag: &str) -> Vec<u8> {
    let mut bytes = tool_bytes();
    bytes.extend_from_slice(format!("\0postbin test version {tag}\0").as_bytes());
    bytes
}

/// Publishes `zip` as the Windows asset, points the package at it and
/// installs it for the Windows target.
fn install_zip(world: &World, zip: &[u8]) -> Run {
    let sha = world.publish(&format!("hello-{WINDOWS}.zip"), zip);
    world.package(json!({
        "url": world.url_template(),
        "format": "zip",
        "targets": { WINDOWS: { "sha256": sha } },
    }));
    install_windows(world, &[])
}

fn install_windows(world: &World, env: &[(&str, &str)]) -> Run {
    let pkg = path_str(&world.pkg());
    world.postbin_env(&["install", "--package", &pkg, "--target", WINDOWS], env)
}

/// Files in the package's `.postbin/bin` whose name starts with `prefix`.
fn bin_files(world: &World, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = list(&world.pkg().join(".postbin").join("bin"))
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    found.sort();
    found
}

/// Starts the placed `hello.exe sleep 30` and waits until it runs.
fn start_sleeping(exe: &Path) -> Child {
    let mut child = runnable(exe)
        .args(["sleep", "30"])
        .envs(runner_env())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "sleeping", "{} did not start", exe.display());
    child
}

/// Stops a process started by `start_sleeping`, even if the test fails.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the placed executable and returns what it printed.
fn run_placed(exe: &Path) -> String {
    let out = runnable(exe)
        .envs(runner_env())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    assert!(out.status.success(), "{} failed", exe.display());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A running executable cannot be replaced or deleted on Windows, but it can
/// be renamed: the re-install sets it aside, places the new one, and a later
/// placement sweeps what was set aside once it no longer runs.
#[test]
fn a_running_executable_is_set_aside_replaced_and_swept_later() {
    if !foreign_windows() {
        return;
    }
    let world = World::new();
    let v1 = tool_version("1");
    install_zip(&world, &Zip::new().file("hello.exe", 0o755, &v1).finish()).assert_ok();
    let exe = world.placed("hello.exe");
    let running = Running(start_sleeping(&exe));

    let v2 = tool_version("2");
    install_zip(&world, &Zip::new().file("hello.exe", 0o755, &v2).finish()).assert_ok();
    assert_eq!(
        std::fs::read(&exe).unwrap(),
        v2,
        "the new version is in place"
    );
    assert_eq!(run_placed(&exe), SCRIPT_OUTPUT);
    let aside = bin_files(&world, ".postbin-old-");
    assert_eq!(aside.len(), 1, "the running one was set aside: {aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), v1);

    drop(running);
    // The process has exited; give wineserver a moment to drop its image.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let v3 = tool_version("3");
    install_zip(&world, &Zip::new().file("hello.exe", 0o755, &v3).finish()).assert_ok();
    assert_eq!(std::fs::read(&exe).unwrap(), v3);
    let left = bin_files(&world, ".postbin-");
    assert!(
        left.is_empty(),
        "set-aside and temp files were left: {left:?}"
    );
}

/// While the set-aside executable still runs, later placements leave it
/// (it cannot be deleted) and still succeed.
#[test]
fn an_executable_still_running_after_two_upgrades_does_not_block_them() {
    if !foreign_windows() {
        return;
    }
    let world = World::new();
    install_zip(
        &world,
        &Zip::new()
            .file("hello.exe", 0o755, &tool_version("1"))
            .finish(),
    )
    .assert_ok();
    let exe = world.placed("hello.exe");
    let _first = Running(start_sleeping(&exe));
    install_zip(
        &world,
        &Zip::new()
            .file("hello.exe", 0o755, &tool_version("2"))
            .finish(),
    )
    .assert_ok();
    let _second = Running(start_sleeping(&exe));
    let v3 = tool_version("3");
    install_zip(&world, &Zip::new().file("hello.exe", 0o755, &v3).finish()).assert_ok();
    assert_eq!(std::fs::read(&exe).unwrap(), v3);
    assert_eq!(bin_files(&world, ".postbin-old-").len(), 2);
}

/// Entry names that Windows would not create faithfully. Refused with exit
/// 7 before anything is written on Windows; ordinary names on Linux, which
/// keeps unpacking them (macOS refuses only the case clash).
const WINDOWS_ONLY_NAMES: [&str; 6] = [
    "hello.exe:evil",
    "hello.exe::$DATA",
    "CON",
    "aux.txt",
    "hello.exe.",
    "hello.exe ",
];

#[test]
fn windows_only_entry_names_are_refused_on_windows_and_unpacked_elsewhere() {
    for name in WINDOWS_ONLY_NAMES {
        let world = World::new();
        let zip = Zip::new()
            .file("hello.exe", 0o755, &tool_bytes())
            .file(name, 0o644, b"pwned\n")
            .finish();
        let run = install_zip(&world, &zip);
        if foreign_windows() {
            run.assert_exit(exit::ARCHIVE)
                .assert_stderr_has(&["refusing archive entry", name.trim_end()]);
            world.assert_nothing_installed();
            assert_tmp_empty(&world);
        } else {
            run.assert_ok();
            assert_eq!(
                std::fs::read(tree_file(&world, &zip, name)).unwrap(),
                b"pwned\n"
            );
        }
    }
}

#[test]
fn windows_device_names_in_a_tar_directory_are_refused_on_windows() {
    let world = World::new();
    let tar = Tar::new()
        .file("hello.exe", 0o755, &tool_bytes())
        .dir("nul/")
        .file("nul/data", 0o644, b"x");
    let sha = world.publish(&format!("hello-{WINDOWS}.tar.gz"), &tar.gz());
    world.package(json!({
        "url": world.url_template(),
        "format": "tar.gz",
        "targets": { WINDOWS: { "sha256": sha } },
    }));
    let run = install_windows(&world, &[]);
    refused_only_on_windows(&world, &run, &["nul/", "device name"]);
}

#[test]
fn names_differing_only_by_case_are_refused_where_case_is_ignored() {
    let world = World::new();
    let zip = Zip::new()
        .file("hello.exe", 0o755, &tool_bytes())
        .file("HELLO.EXE", 0o755, b"second\n")
        .finish();
    let run = install_zip(&world, &zip);
    if foreign_windows() || cfg!(target_os = "macos") {
        run.assert_exit(exit::ARCHIVE).assert_stderr_has(&[
            "refusing archive entry `HELLO.EXE`",
            "`hello.exe`",
            "letter case",
        ]);
        world.assert_nothing_installed();
        assert_tmp_empty(&world);
    } else {
        run.assert_ok();
        assert_eq!(
            std::fs::read(world.placed("hello.exe")).unwrap(),
            tool_bytes()
        );
    }
}

/// Zips made on Windows separate with `\`: on every host `dir\hello.exe`
/// is `hello.exe` in the directory `dir`, never a file named with a backslash.
#[test]
fn backslash_separated_zip_names_are_directories_everywhere() {
    let world = World::new();
    let zip = Zip::new()
        .file("dir\\hello.exe", 0o755, &tool_bytes())
        .finish();
    let sha = world.publish(&format!("hello-{WINDOWS}.zip"), &zip);
    world.package(json!({
        "url": world.url_template(),
        "format": "zip",
        "bin": { "hello": "dir/hello{exe}" },
        "targets": { WINDOWS: { "sha256": sha } },
    }));
    install_windows(&world, &[]).assert_ok();
    assert_eq!(
        std::fs::read(world.placed("hello.exe")).unwrap(),
        tool_bytes()
    );
    let files = tree_file(&world, &zip, "dir");
    assert!(files.join("hello.exe").is_file());
    assert!(find_named(world.base(), "dir\\hello.exe").is_empty());
}

/// A name longer than file systems allow is refused as an unsafe archive
/// (exit 7) on every host, not left to fail as a file-system error.
#[test]
fn an_entry_name_over_255_bytes_is_refused_everywhere() {
    let world = World::new();
    let long = format!("{}.txt", "n".repeat(300));
    let zip = Zip::new()
        .file("hello.exe", 0o755, &tool_bytes())
        .file(&format!("docs/{long}"), 0o644, b"x")
        .finish();
    install_zip(&world, &zip)
        .assert_exit(exit::ARCHIVE)
        .assert_stderr_has(&["refusing archive entry", "255 bytes"]);
    world.assert_nothing_installed();
}

/// Deep paths are fine for the installer on Windows (std uses `\\?\` paths
/// beyond MAX_PATH); only entry paths over 1024 characters are refused there.
#[test]
fn deep_entry_paths_beyond_max_path_install_and_absurd_ones_are_refused_on_windows() {
    let dir = vec!["d".repeat(99); 4].join("/");
    let world = World::new();
    let zip = Zip::new()
        .file("hello.exe", 0o755, &tool_bytes())
        .file(&format!("{dir}/deep.txt"), 0o644, b"deep\n")
        .finish();
    install_zip(&world, &zip).assert_ok();
    assert_eq!(
        std::fs::read(tree_file(&world, &zip, &format!("{dir}/deep.txt"))).unwrap(),
        b"deep\n"
    );

    let world = World::new();
    let absurd = vec!["d".repeat(99); 11].join("/");
    let zip = Zip::new()
        .file("hello.exe", 0o755, &tool_bytes())
        .file(&format!("{absurd}/x"), 0o644, b"x")
        .finish();
    let run = install_zip(&world, &zip);
    refused_only_on_windows(&world, &run, &["1024 characters"]);
}

/// On Windows the archive is refused, saying why, and nothing installed;
/// elsewhere the same archive installs.
#[track_caller]
fn refused_only_on_windows(world: &World, run: &Run, why: &[&str]) {
    if foreign_windows() {
        run.assert_exit(exit::ARCHIVE)
            .assert_stderr_has(&["refusing archive entry"])
            .assert_stderr_has(why);
        world.assert_nothing_installed();
    } else {
        run.assert_ok();
    }
}

/// A `file:///dir` mirror (no drive letter) is the rooted path `\dir` on
/// Windows: on the current drive, which under wine is `Z:`, the Unix root.
/// Before, the leading `/` was dropped and the path read relative to the
/// current directory. Runs everywhere: on Unix it is the plain mirror case.
#[test]
fn a_file_mirror_without_a_drive_letter_is_read_from_the_root() {
    let world = World::new();
    let zip = Zip::new().file("hello.exe", 0o755, &tool_bytes()).finish();
    let sha = world.publish(&format!("hello-{WINDOWS}.zip"), &zip);
    world.package(json!({
        "url": world.url_template(),
        "format": "zip",
        "targets": { WINDOWS: { "sha256": sha } },
    }));
    let mirror = world.base().join("mirror");
    let release = mirror.join(RELEASE_DIR);
    std::fs::create_dir_all(&release).unwrap();
    std::fs::write(release.join(format!("hello-{WINDOWS}.zip")), &zip).unwrap();
    // The mirror is an absolute Unix path; the installer runs in the test's
    // temp dir, so a path read relative to it would not be found.
    let url = format!("file://{}", path_str(&mirror));
    install_windows(
        &world,
        &[("POSTBIN_MIRROR", &url), ("POSTBIN_OFFLINE", "1")],
    )
    .assert_ok();
    assert_eq!(
        std::fs::read(world.placed("hello.exe")).unwrap(),
        tool_bytes()
    );
    world.assert_no_requests();
}

/// The unpacked file `name` of the cached tree of `archive`.
fn tree_file(world: &World, archive: &[u8], name: &str) -> PathBuf {
    world
        .cache()
        .join("v1")
        .join("trees")
        .join(sha256(archive))
        .join("files")
        .join(name)
}

/// The cache's tmp dir holds nothing: a refused archive's partial tree was
/// removed, and nothing of it was published.
#[track_caller]
fn assert_tmp_empty(world: &World) {
    let left = list(&world.cache().join("v1").join("tmp"));
    assert!(left.is_empty(), "left in tmp: {left:?}");
}
