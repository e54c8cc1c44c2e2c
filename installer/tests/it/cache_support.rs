//! Shared by the cache, offline and crash tests: `postbin` as a child
//! process (to run many at once or kill one), packages copied per process,
//! big incompressible archives, the "nothing incomplete is published"
//! check, and mount guards for the disk-full and read-only cases.

pub use crate::archives::{big_tar, noise};
use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment `World::postbin_env` gives a run, plus `extra`, and
/// nothing else of the caller's.
pub fn spawn_postbin(world: &World, args: &[&str], extra: &[(&str, &str)]) -> Child {
    let mut cmd = postbin_command();
    cmd.args(args)
        .current_dir(world.base())
        .env_clear()
        .envs(runner_env())
        .env("HOME", world.home())
        .env("XDG_CACHE_HOME", world.home().join(".cache"))
        .env("XDG_CONFIG_HOME", world.home().join(".config"))
        .env("POSTBIN_CACHE_DIR", world.cache())
        .env("POSTBIN_RETRIES", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn postbin")
}

/// `postbin install --package PKG --target TARGET` as a child process.
pub fn spawn_install(world: &World, pkg: &Path, extra: &[(&str, &str)]) -> Child {
    let pkg = path_str(pkg);
    spawn_postbin(
        world,
        &["install", "--package", &pkg, "--target", TARGET],
        extra,
    )
}

/// Waits for a child, killing it (and failing) after `limit`.
#[track_caller]
pub fn wait_bounded(child: &mut Child, limit: Duration) -> Run {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("postbin did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    collect(child)
}

/// The output of a child that has exited.
pub fn collect(child: &mut Child) -> Run {
    use std::io::Read;
    let status = child.wait().expect("wait");
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut stdout);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    Run {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// Every published archive hashes to its name and every published tree has
/// a listing.json whose files all verify: nothing incomplete is published.
/// Returns (archives, trees) counted.
#[track_caller]
pub fn assert_cache_consistent(cache_dir: &Path) -> (usize, usize) {
    let v1 = cache_dir.join("v1");
    let archives = list(&v1.join("archives"));
    for a in &archives {
        let name = a.file_name().unwrap().to_str().unwrap().to_string();
        let bytes = std::fs::read(a).unwrap();
        assert_eq!(
            sha256(&bytes),
            name,
            "published archive {} is incomplete or corrupt ({} bytes)",
            a.display(),
            bytes.len()
        );
    }
    let trees = list(&v1.join("trees"));
    for t in &trees {
        let text = std::fs::read_to_string(t.join("listing.json"))
            .unwrap_or_else(|e| panic!("published tree {} has no listing.json: {e}", t.display()));
        let listing: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("listing of {} is not JSON: {e}", t.display()));
        let files = listing["files"].as_object().expect("files");
        assert!(!files.is_empty(), "tree {} lists no files", t.display());
        for (rel, record) in files {
            let path = t.join("files").join(rel);
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{} is missing: {e}", path.display()));
            assert_eq!(
                bytes.len() as u64,
                record["size"].as_u64().unwrap(),
                "{} has the wrong size",
                path.display()
            );
            assert_eq!(
                sha256(&bytes),
                record["sha256"].as_str().unwrap(),
                "{} does not match its listing",
                path.display()
            );
        }
    }
    (archives.len(), trees.len())
}

/// Objects-host GETs of `name` (actual downloads, not redirects).
pub fn downloads(world: &World, name: &str) -> usize {
    hits(&world.requests(), name)
        .into_iter()
        .filter(|(h, _)| *h == server_fixture::Host::Objects)
        .count()
}

/// A mount made for one test, unmounted (lazily, so a busy mount cannot
/// hang the test) when dropped.
pub struct Mount {
    pub dir: PathBuf,
}

impl Mount {
    /// `mount -t tmpfs -o size=SIZE tmpfs DIR`; Err with the reason if this
    /// machine does not allow it (not root, no mount binary, a sandbox).
    pub fn tmpfs(dir: &Path, size: &str) -> Result<Mount, String> {
        std::fs::create_dir_all(dir).unwrap();
        run_mount(&[
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size}"),
            "tmpfs",
            &path_str(dir),
        ])?;
        Ok(Mount {
            dir: dir.to_path_buf(),
        })
    }

    /// Makes `dir` read-only with a read-only bind mount of itself.
    pub fn read_only(dir: &Path) -> Result<Mount, String> {
        let d = path_str(dir);
        run_mount(&["--bind", &d, &d])?;
        let mount = Mount {
            dir: dir.to_path_buf(),
        };
        run_mount(&["-o", "remount,ro,bind", &d])?;
        Ok(mount)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .stderr(Stdio::null())
            .status();
    }
}

fn run_mount(args: &[&str]) -> Result<(), String> {
    let out = Command::new("mount")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "mount {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Prints why a test did nothing, so a skip is visible with --nocapture.
pub fn skip(test: &str, why: &str) {
    eprintln!("SKIPPED {test}: {why}");
}
