//! A poisoned cache touches nothing outside it (docs/design-notes.md,
//! "Threat model"). Each layout puts a symlink, a hard link to a file
//! outside, a FIFO or a directory where the cache expects something else;
//! then `install` (twice: a miss, then a hit), `cache verify` and `cache
//! clean` run, and a decoy tree standing for the user's home must be
//! byte for byte, mtime for mtime, as it was. The install must still
//! succeed: a poisoned name costs its entry, never the install.

use crate::cache_support::*;
use crate::support::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Where the poison goes, relative to `<cache>/v1`, and what it is.
#[derive(Clone, Copy, Debug)]
enum Poison {
    /// A symlink to the decoy directory.
    LinkToDecoyDir,
    /// A symlink to the decoy's `.bashrc`.
    LinkToDecoyFile,
    /// A dangling symlink into the decoy (a write through it creates a file there).
    LinkToNewDecoyFile,
    /// A hard link to the decoy's `.bashrc`.
    HardLinkToDecoyFile,
    /// A named pipe (a reader without O_NONBLOCK waits forever).
    Fifo,
    /// A directory holding a file.
    Directory,
    /// A regular file.
    File,
}

/// How long one run may take before the test calls it a hang.
const RUN_LIMIT: Duration = Duration::from_secs(20);

/// (path under v1, with `{sha}` for the archive's hash; poison).
const LAYOUTS: &[(&str, Poison)] = &[
    ("tmp", Poison::LinkToDecoyDir),
    ("archives", Poison::LinkToDecoyDir),
    ("trees", Poison::LinkToDecoyDir),
    ("meta", Poison::LinkToDecoyDir),
    ("locks", Poison::LinkToDecoyDir),
    ("tmp", Poison::File),
    ("locks", Poison::Fifo),
    ("tmp/{sha}.partial", Poison::LinkToDecoyFile),
    ("tmp/{sha}.partial", Poison::LinkToNewDecoyFile),
    ("tmp/{sha}.partial", Poison::HardLinkToDecoyFile),
    ("tmp/{sha}.partial", Poison::Fifo),
    ("tmp/{sha}.partial", Poison::Directory),
    ("tmp/download-{sha}-x", Poison::LinkToDecoyDir),
    ("tmp/discard-x", Poison::LinkToDecoyDir),
    ("tmp/old-junk", Poison::LinkToDecoyDir),
    ("locks/{sha}.lock", Poison::LinkToNewDecoyFile),
    ("locks/{sha}.lock", Poison::LinkToDecoyFile),
    ("locks/{sha}.lock", Poison::HardLinkToDecoyFile),
    ("locks/{sha}.lock", Poison::Fifo),
    ("locks/{sha}.lock", Poison::Directory),
    ("archives/{sha}", Poison::LinkToDecoyFile),
    ("archives/{sha}", Poison::HardLinkToDecoyFile),
    ("archives/{sha}", Poison::Fifo),
    ("archives/{sha}", Poison::Directory),
    ("trees/{sha}", Poison::LinkToDecoyDir),
    ("trees/{sha}", Poison::File),
    ("meta/{sha}.json", Poison::LinkToDecoyFile),
    ("meta/{sha}.json", Poison::Fifo),
];

/// One file or directory of the decoy, as `snapshot` sees it.
#[derive(Debug, PartialEq)]
struct Seen {
    kind: &'static str,
    bytes: Vec<u8>,
    modified: Option<SystemTime>,
}

/// The user's home, as far as the test can tell: old files (an hour is
/// the temp sweep's age; `cache clean` sweeps after 5 minutes) in nested
/// directories, so a sweep through a link would find them.
fn make_decoy(dir: &Path) {
    std::fs::create_dir_all(dir.join(".ssh")).unwrap();
    std::fs::write(dir.join(".bashrc"), b"export PATH=$HOME/bin:$PATH\n").unwrap();
    std::fs::write(
        dir.join(".ssh/id_ed25519"),
        b"-----BEGIN OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
    let old = SystemTime::now() - Duration::from_secs(3 * 3600);
    for f in [".bashrc", ".ssh/id_ed25519", "notes.txt"] {
        let file = std::fs::File::options()
            .append(true)
            .open(dir.join(f))
            .unwrap();
        file.set_modified(old).unwrap();
    }
    for d in [dir.join(".ssh"), dir.to_path_buf()] {
        std::fs::File::open(&d).unwrap().set_modified(old).unwrap();
    }
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Seen> {
    let mut seen = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(path) = todo.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let kind = if meta.is_dir() {
            let mut names: Vec<_> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            todo.extend(names);
            "dir"
        } else if meta.file_type().is_symlink() {
            "link"
        } else {
            "file"
        };
        let bytes = if kind == "file" {
            std::fs::read(&path).unwrap()
        } else {
            Vec::new()
        };
        let modified = (kind != "dir").then(|| meta.modified().unwrap());
        seen.insert(
            path.strip_prefix(dir).unwrap().to_path_buf(),
            Seen {
                kind,
                bytes,
                modified,
            },
        );
    }
    seen
}

fn poison(at: &Path, what: Poison, decoy: &Path, aged: bool) {
    if let Some(parent) = at.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    if std::fs::symlink_metadata(at).is_ok() {
        let _ = std::fs::remove_dir_all(at).or_else(|_| std::fs::remove_file(at));
    }
    match what {
        Poison::LinkToDecoyDir => symlink(decoy, at),
        Poison::LinkToDecoyFile => symlink(&decoy.join(".bashrc"), at),
        Poison::LinkToNewDecoyFile => symlink(&decoy.join("created-through-a-link"), at),
        Poison::HardLinkToDecoyFile => std::fs::hard_link(decoy.join(".bashrc"), at).unwrap(),
        Poison::Fifo => {
            let status = std::process::Command::new("mkfifo")
                .arg(at)
                .status()
                .unwrap();
            assert!(status.success(), "mkfifo {}", at.display());
        }
        Poison::Directory => {
            std::fs::create_dir(at).unwrap();
            std::fs::write(at.join("inside"), b"x").unwrap();
        }
        Poison::File => std::fs::write(at, b"not a directory").unwrap(),
    }
    if !aged {
        return;
    }
    // Looks abandoned, so the age-based sweeps consider it.
    let status = std::process::Command::new("touch")
        .args(["-h", "-d", "3 hours ago"])
        .arg(at)
        .status()
        .unwrap();
    assert!(status.success());
}

/// The child's run, or one with no exit code if it was still running
/// after `limit` (then killed), so one hang does not hide the other layouts.
fn finish_within(mut child: std::process::Child, limit: Duration) -> Run {
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().expect("try_wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let mut run = collect(&mut child);
            run.code = None;
            run.stderr = format!("still running after {limit:?} (killed)");
            return run;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    collect(&mut child)
}

fn symlink(target: &Path, at: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, at).unwrap();
    #[cfg(not(unix))]
    let _ = (target, at);
}

/// Runs the layout; returns what went wrong, if anything.
fn check_layout(rel: &str, what: Poison, aged: bool, seed: u64) -> Option<String> {
    let (world, sha) = published_with(&big_tar(64 << 10, seed));
    let decoy = world.base().join("home-decoy");
    make_decoy(&decoy);
    let v1 = world.cache().join("v1");
    let at = v1.join(rel.replace("{sha}", &sha));
    poison(&at, what, &decoy, aged);
    // After poisoning: `touch -h` on a hard link dates the decoy's file too.
    let before = snapshot(&decoy);
    // Some layouts only matter once the entry exists (a poisoned tree next
    // to a good archive): the second install is then a hit on them.
    // Bounded: a FIFO once made an install wait forever.
    let age = if aged { ", 3 hours old" } else { "" };
    eprintln!("layout v1/{rel} as {what:?}{age}");
    let run = |args: &[&str]| finish_within(spawn_postbin(&world, args, &[]), RUN_LIMIT);
    let pkg = path_str(&world.pkg());
    let install = ["install", "--package", pkg.as_str(), "--target", TARGET];
    let runs = [
        run(&install),
        run(&install),
        run(&["cache", "verify"]),
        run(&["cache", "clean"]),
        run(&install),
    ];
    let after = snapshot(&decoy);
    let mut problems = Vec::new();
    if before != after {
        let changed: Vec<_> = before
            .keys()
            .chain(after.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .collect();
        problems.push(format!("the decoy changed: {changed:?}"));
    }
    for (i, run) in runs.iter().enumerate() {
        if run.code.is_none() {
            problems.push(format!("run {i} did not exit by itself: {}", run.stderr));
        }
    }
    let last = &runs[4];
    if last.code != Some(0) {
        problems.push(format!("the last install failed: {}", last.stderr));
    } else if !std::fs::read(world.placed("hello")).is_ok_and(|b| b == SCRIPT) {
        problems.push("the last install placed the wrong bytes".into());
    }
    (!problems.is_empty()).then(|| format!("v1/{rel} as {what:?}{age}: {}", problems.join("; ")))
}

/// Under wine (the Windows installer) only the layouts Windows has: a
/// file or a directory in the wrong place. A Unix symlink is no reparse
/// point to wine: it would follow it as the OS does, which says nothing
/// about Windows.
#[cfg(unix)]
#[test]
fn no_poisoned_layout_touches_anything_outside_the_cache() {
    let windows = foreign_windows();
    let failures: Vec<String> = LAYOUTS
        .iter()
        .enumerate()
        .filter(|(_, (_, what))| !windows || matches!(what, Poison::Directory | Poison::File))
        .flat_map(|(i, (rel, what))| {
            [false, true].map(|aged| check_layout(rel, *what, aged, 100 + i as u64))
        })
        .flatten()
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The package with an 8 KiB archive made from `seed`, unless the installer
/// under test is a Windows one: these layouts are Unix's.
#[cfg(unix)]
fn published_on_unix(seed: u64) -> Option<World> {
    (!foreign_windows()).then(|| published_with(&big_tar(8 << 10, seed)).0)
}

/// `v1` itself as a link into the user's files.
#[cfg(unix)]
#[test]
fn a_symlinked_layout_directory_is_replaced_not_followed() {
    let Some(world) = published_on_unix(7) else {
        return;
    };
    let decoy = world.base().join("home-decoy");
    make_decoy(&decoy);
    std::fs::create_dir_all(decoy.join("tmp")).unwrap();
    let before = snapshot(&decoy);
    symlink(&decoy, &world.cache().join("v1"));
    world.install().assert_ok();
    world.postbin(&["cache", "clean"]).assert_ok();
    assert_eq!(snapshot(&decoy), before);
    assert!(
        std::fs::symlink_metadata(world.cache().join("v1"))
            .unwrap()
            .is_dir()
    );
}

/// A cache dir that any user can write to (no sticky bit) is refused: the
/// install falls back to a private temp cache, with one warning that says so.
#[cfg(unix)]
#[test]
fn a_world_writable_cache_dir_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let Some(world) = published_on_unix(8) else {
        return;
    };
    let shared = world.base().join("shared-cache");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let tmp = world.base().join("tmpdir");
    std::fs::create_dir(&tmp).unwrap();
    let run = world.install_env(&[
        ("POSTBIN_CACHE_DIR", &path_str(&shared)),
        ("TMPDIR", &path_str(&tmp)),
    ]);
    run.assert_ok()
        .assert_stderr_has(&["any user can write to it", "POSTBIN_CACHE_DIR"]);
    assert!(list(&shared).is_empty(), "{:?}", list(&shared));
}

/// Two real users, root permitting: with no home directory, the victim's
/// cache is a private directory in the temp dir; one that another user
/// made there first (0777, `v1/tmp` a link to the victim's files) is not
/// used, and the victim's files stay.
#[cfg(target_os = "linux")]
#[test]
fn another_users_cache_in_the_temp_dir_is_never_used() {
    use std::os::unix::fs::PermissionsExt;
    const VICTIM: u32 = 4242;
    const ATTACKER: u32 = 4243;
    if foreign_windows() || std::env::var_os("POSTBIN_TEST_RUNNER").is_some() {
        return;
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { geteuid() } != 0 {
        return skip("another_users_cache...", "needs root to run as two users");
    }
    let Ok(setpriv) = which("setpriv") else {
        return skip("another_users_cache...", "setpriv (util-linux) is missing");
    };
    let (world, _) = published_with(&big_tar(8 << 10, 9));
    // Every directory down to the package must be reachable by the victim.
    let mut dir = world.base().to_path_buf();
    while dir.parent().is_some() {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode | 0o755)).unwrap();
        if dir == std::env::temp_dir() || !dir.pop() {
            break;
        }
    }
    let shared_tmp = world.base().join("shared-tmp");
    std::fs::create_dir(&shared_tmp).unwrap();
    std::fs::set_permissions(&shared_tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let home = world.base().join("victim-home");
    make_decoy(&home);
    chown_tree(&home, VICTIM);
    chown_tree(&world.pkg(), VICTIM);
    let before = snapshot(&home);

    // The attacker, first: the victim's predictable cache dirs, 0777, with
    // `v1/tmp` (and the other layout dirs) linked to the victim's home.
    for name in [
        "postbin-cache".to_string(),
        format!("postbin-cache-{VICTIM}"),
    ] {
        let trap = shared_tmp.join(&name);
        let script = format!(
            "mkdir -p {t}/v1 && chmod 777 {t} {t}/v1 && for d in tmp archives trees meta locks; do ln -s {h} {t}/v1/$d; done",
            t = trap.display(),
            h = home.display()
        );
        let status = std::process::Command::new(&setpriv)
            .args([
                &format!("--reuid={ATTACKER}"),
                &format!("--regid={ATTACKER}"),
                "--clear-groups",
                "sh",
                "-c",
                &script,
            ])
            .status()
            .unwrap();
        assert!(status.success(), "the attacker's set-up failed");
    }

    let installer = std::env::var_os("POSTBIN_TEST_INSTALLER")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_postbin").into());
    let pkg = path_str(&world.pkg());
    let out = std::process::Command::new(&setpriv)
        .args([
            &format!("--reuid={VICTIM}"),
            &format!("--regid={VICTIM}"),
            "--clear-groups",
        ])
        .arg(&installer)
        .args(["install", "--package", &pkg, "--target", TARGET])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TMPDIR", &shared_tmp)
        .env("POSTBIN_RETRIES", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(snapshot(&home), before, "the victim's files changed");
    assert!(std::fs::read(world.placed("hello")).is_ok_and(|b| b == SCRIPT));
    // The victim's cache is a directory of the victim's, mode 0700.
    let own: Vec<_> = list(&shared_tmp)
        .into_iter()
        .filter(|p| {
            std::os::unix::fs::MetadataExt::uid(&std::fs::symlink_metadata(p).unwrap()) == VICTIM
        })
        .collect();
    assert_eq!(own.len(), 1, "{own:?}");
    let mode = std::fs::metadata(&own[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}", own[0].display());
    assert!(own[0].join("v1/archives").is_dir());
}

#[cfg(target_os = "linux")]
unsafe extern "C" {
    fn geteuid() -> u32;
}

#[cfg(target_os = "linux")]
fn chown_tree(dir: &Path, uid: u32) {
    let status = std::process::Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(target_os = "linux")]
fn which(name: &str) -> Result<PathBuf, ()> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .ok_or(())
}
