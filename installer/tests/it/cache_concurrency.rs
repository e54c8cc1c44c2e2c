//! Many installs on one shared cache: one download per archive however many
//! processes want it, and no waiting across different archives.

use crate::cache_support::*;
use crate::support::*;
use serde_json::json;
use server_fixture::{Fault, Host};
use std::time::{Duration, Instant};

const PROCESSES: usize = 16;

#[test]
fn sixteen_concurrent_installs_on_an_empty_cache_make_one_download() {
    let (world, sha) = published_with(&big_tar(1 << 20, 11));
    // Slow enough that all sixteen are running while the bytes arrive.
    world.fault_asset(
        Fault::Slow {
            bytes_per_sec: 2 << 20,
        },
        None,
    );
    let pkgs: Vec<_> = (0..PROCESSES)
        .map(|i| copy_package(&world, &format!("pkg-{i}")))
        .collect();

    let started = Instant::now();
    let mut children: Vec<_> = pkgs.iter().map(|p| spawn_install(&world, p, &[])).collect();
    let runs: Vec<Run> = children
        .iter_mut()
        .map(|c| wait_bounded(c, Duration::from_secs(120)))
        .collect();
    let wall = started.elapsed();

    for run in &runs {
        run.assert_ok();
    }
    for p in &pkgs {
        assert_runs(&placed(p, "hello"));
    }
    let downloads = downloads(&world, ASSET);
    let redirects = hits(&world.requests(), ASSET)
        .iter()
        .filter(|(h, _)| *h == Host::Main)
        .count();
    eprintln!(
        "concurrency: {PROCESSES} processes, {downloads} download(s) of {ASSET}, \
         {redirects} request(s) to the main host, wall time {:.2}s",
        wall.as_secs_f64()
    );
    assert_eq!(downloads, 1, "{:#?}", world.requests());
    assert_eq!(redirects, 1, "{:#?}", world.requests());
    assert_eq!(assert_cache_consistent(&world.cache()), (1, 1));
    assert!(world.cache().join("v1/trees").join(&sha).is_dir());
}

#[test]
fn installs_of_different_archives_do_not_wait_for_each_other() {
    let world = World::new();
    // A: big and throttled to a crawl; B: small and fast.
    let sha_a = publish_default(&world, &big_tar(512 << 10, 21));
    let b_asset = format!("other-{TARGET}.tar.gz");
    let sha_b = world.publish(&b_asset, &big_tar(4 << 10, 22));
    let pkg_b = world.base().join("pkg-b");
    package(
        &pkg_b,
        json!({
            "url": world.url_template(),
            "targets": { TARGET: {
                "sha256": sha_b,
                "url": format!("{}/{RELEASE_DIR}/other-{{target}}.{{format}}", world.fixture.base_url()),
            } }
        }),
    );
    world.fault_asset(
        Fault::Slow {
            bytes_per_sec: 16 << 10,
        },
        None,
    );

    let mut a = spawn_install(&world, &world.pkg(), &[]);
    // Wait until A's download is under way: it holds A's lock from now on.
    let deadline = Instant::now() + Duration::from_secs(60);
    while downloads(&world, ASSET) == 0 {
        assert!(Instant::now() < deadline, "A never started downloading");
        assert!(a.try_wait().unwrap().is_none(), "A exited early");
        std::thread::sleep(Duration::from_millis(10));
    }

    let mut b = spawn_install(&world, &pkg_b, &[]);
    let run_b = wait_bounded(&mut b, Duration::from_secs(60));
    let a_still_running = a.try_wait().unwrap().is_none();
    run_b.assert_ok();
    assert_runs(&placed(&pkg_b, "hello"));
    assert!(
        a_still_running,
        "A finished before B: B may have waited for A's lock"
    );
    assert!(
        !world.cache().join("v1/archives").join(&sha_a).exists(),
        "A's archive was published while it was still downloading"
    );

    // A would need half a minute more at this rate: stop it. A killed
    // download leaves nothing the next install would trust.
    a.kill().unwrap();
    a.wait().unwrap();
    world.fixture.clear_faults();
    world.assert_installs(&[]);
    assert_cache_consistent(&world.cache());
}

#[test]
fn clean_and_verify_running_during_installs_never_break_an_entry() {
    let (world, _) = published_with(&big_tar(256 << 10, 31));
    let pkgs: Vec<_> = (0..8)
        .map(|i| copy_package(&world, &format!("pkg-{i}")))
        .collect();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (runs, maintenance) = std::thread::scope(|s| {
        let janitor = s.spawn(|| {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let action = if n % 2 == 0 { "clean" } else { "verify" };
                let run = world.postbin(&["cache", action]);
                // verify exits 1 only for corruption, which must never happen.
                run.assert_ok();
                n += 1;
            }
            n
        });
        let mut runs = Vec::new();
        for chunk in pkgs.chunks(4) {
            let mut children: Vec<_> = chunk
                .iter()
                .map(|p| spawn_install(&world, p, &[]))
                .collect();
            runs.extend(
                children
                    .iter_mut()
                    .map(|c| wait_bounded(c, Duration::from_secs(120))),
            );
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        (runs, janitor.join().unwrap())
    });

    let mut failed = 0;
    for (run, pkg) in runs.iter().zip(&pkgs) {
        if run.code == Some(0) {
            assert_eq!(std::fs::read(placed(pkg, "hello")).unwrap(), SCRIPT);
        } else {
            // The one window left: the tree removed between an install's
            // check and its copy. A file-system error, never a bad file.
            run.assert_exit(exit::FILESYSTEM);
            assert!(!placed(pkg, "hello").exists());
            failed += 1;
        }
    }
    eprintln!(
        "clean/verify during installs: {} installs, {failed} hit the removal window, {maintenance} maintenance runs",
        runs.len()
    );
    assert_cache_consistent(&world.cache());
}
