//! Bounds on a download: the pinned `size` (checked against
//! `Content-Length`, a wrong source passed over for the next), the cap on
//! unpinned downloads, free space checked before writing, `pin` writing the
//! size of bytes it downloaded; and a download interrupted by SIGKILL
//! continued from its hash-named partial file with `Range`.

use crate::cache_support::spawn_install;
use crate::net_support::*;
use crate::support::*;
use server_fixture::{Fault, Fixture, Host};
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

/// The world's package with `size` pinned next to the hash.
fn pin_size(world: &World, sha: &str, size: serde_json::Value) {
    let mut section = world.section("tar.gz", sha);
    section["targets"][TARGET]["size"] = size;
    world.package(section);
}

#[test]
fn a_pinned_size_is_accepted_when_it_matches() {
    let archive = big_archive();
    let (world, sha) = published_with(&archive);
    pin_size(&world, &sha, (archive.len() as u64).into());
    world.assert_installs(&[]);
}

#[test]
fn a_content_length_other_than_the_pinned_size_fails_before_the_body_exits_6() {
    let archive = big_archive();
    let (world, sha) = published_with(&archive);
    pin_size(&world, &sha, (archive.len() as u64 + 1).into());
    let run = world.install();
    run.assert_exit(6).assert_stderr_has(&[
        "announced",
        "pinned",
        "`size`",
        "nothing was installed",
    ]);
    world.assert_nothing_installed();
}

/// The first mirror serves another (bigger) file under the asset's name:
/// its `Content-Length` gives it away, and the next mirror is used.
#[test]
fn a_mirror_announcing_the_wrong_size_is_passed_over_for_the_next() {
    let archive = crate::archives::flat_tar().gz();
    let (world, sha) = published_with(&archive);
    pin_size(&world, &sha, (archive.len() as u64).into());
    let stale_root = world.base().join("stale");
    std::fs::create_dir_all(&stale_root).unwrap();
    Release::new(&stale_root).asset(ASSET, &big_archive());
    let stale = Fixture::start(&stale_root).unwrap();
    let run = world.install_env(&[
        (
            "POSTBIN_MIRROR",
            &format!("{},{}", stale.base_url(), world.fixture.base_url()),
        ),
        ("POSTBIN_LOG", "debug"),
    ]);
    run.assert_ok();
    assert_runs(&world.placed("hello"));
    // Refused on its announced size, not after downloading and hashing it.
    run.assert_stderr_has(&[&format!(
        "announced {} bytes, but the publisher pinned {} bytes",
        big_archive().len(),
        archive.len()
    )]);
    run.assert_stderr_lacks(&["SHA-256 mismatch"]);
}

#[test]
fn an_unpinned_size_is_capped_by_postbin_max_download_size_exit_5() {
    let (world, _) = published_with(&big_archive());
    let run = world.install_env(&[("POSTBIN_MAX_DOWNLOAD_SIZE", "512K")]);
    run.assert_exit(5)
        .assert_stderr_has(&["524288 bytes", "POSTBIN_MAX_DOWNLOAD_SIZE"]);
    world.assert_nothing_installed();
    // Raised, the same download goes through.
    world
        .install_env(&[("POSTBIN_MAX_DOWNLOAD_SIZE", "2M")])
        .assert_ok();
}

/// A mirror that streams forever (no `Content-Length`): stopped at the cap
/// when no size is pinned (exit 5), at the pinned size otherwise (exit 6).
#[test]
fn an_endless_body_is_stopped_at_the_cap_or_the_pinned_size() {
    let archive = crate::archives::flat_tar().gz();
    let (world, sha) = published_with(&archive);
    world.fault_asset(Fault::Endless, None);
    let mut child = spawn_install(&world, &world.pkg(), &[("POSTBIN_MAX_DOWNLOAD_SIZE", "4M")]);
    let run = crate::cache_support::wait_bounded(&mut child, Duration::from_secs(60));
    run.assert_exit(5)
        .assert_stderr_has(&["sent more than 4194304 bytes", "POSTBIN_MAX_DOWNLOAD_SIZE"]);
    world.assert_nothing_installed();

    pin_size(&world, &sha, (archive.len() as u64).into());
    let mut child = spawn_install(&world, &world.pkg(), &[]);
    let run = crate::cache_support::wait_bounded(&mut child, Duration::from_secs(60));
    run.assert_exit(6).assert_stderr_has(&[&format!(
        "sent more than the {} bytes the publisher pinned",
        archive.len()
    )]);
    world.assert_nothing_installed();
    let left = list(&world.cache().join("v1/tmp"));
    assert!(left.is_empty(), "left in tmp: {left:?}");
}

#[test]
fn too_little_free_space_fails_before_writing_exit_8() {
    let archive = big_archive();
    let (world, _) = published_with(&archive);
    let run = world.install_env(&[("POSTBIN_TEST_FREE_SPACE", "64K")]);
    run.assert_exit(8).assert_stderr_has(&[
        "disk is full",
        &path_str(&world.cache()),
        &format!("needs {} bytes", archive.len()),
        "POSTBIN_CACHE_DIR",
    ]);
    world.assert_nothing_installed();
    let left = list(&world.cache().join("v1/tmp"));
    assert!(left.is_empty(), "left in tmp: {left:?}");
}

#[test]
fn a_bad_size_in_package_json_is_a_config_error_naming_the_field() {
    let (world, sha) = published();
    for bad in [
        serde_json::json!("1234"),
        serde_json::json!(-1),
        serde_json::json!(1.5),
        serde_json::json!(0),
    ] {
        pin_size(&world, &sha, bad.clone());
        world
            .install()
            .assert_exit(3)
            .assert_stderr_has(&[&format!("postbin.targets.{TARGET}.size")]);
    }
}

fn size_in_package(world: &World) -> Option<u64> {
    let json = world.package_json();
    json["postbin"]["targets"][TARGET]["size"].as_u64()
}

#[test]
fn pin_writes_the_size_of_the_bytes_it_downloaded_and_drops_a_stale_one() {
    let archive = crate::archives::flat_tar().gz();
    let (world, sha) = published_with(&archive);
    let pkg = path_str(&world.pkg());
    let mut section = world.section("tar.gz", &sha);
    section["targets"][TARGET] = serde_json::json!({});
    world.package(section);

    world
        .postbin(&["pin", "--package", &pkg, "--download"])
        .assert_ok();
    assert_eq!(size_in_package(&world), Some(archive.len() as u64));

    // A checksums file alone gives no bytes: a changed hash loses its size.
    let other = "0".repeat(64);
    let sums = world.base().join("SHA256SUMS");
    std::fs::write(&sums, format!("{other}  {ASSET}\n")).unwrap();
    world
        .postbin(&["pin", "--package", &pkg, "--checksums", &path_str(&sums)])
        .assert_ok();
    assert_eq!(size_in_package(&world), None);
}

// --- resuming after SIGKILL ---

fn partial_path(world: &World, sha: &str) -> PathBuf {
    world.cache().join("v1/tmp").join(format!("{sha}.partial"))
}

/// Starts a throttled install and SIGKILLs it once its partial file holds
/// some bytes; returns the partial's length.
fn kill_mid_download(world: &World, sha: &str) -> u64 {
    world.fault_asset(
        Fault::Slow {
            bytes_per_sec: 128 << 10,
        },
        Some(1),
    );
    let mut child: Child = spawn_install(world, &world.pkg(), &[]);
    let path = partial_path(world, sha);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if len >= 100_000 {
            break;
        }
        assert!(Instant::now() < deadline, "the download never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the install ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    world.fixture.clear_faults();
    world.fixture.clear_requests();
    let len = std::fs::metadata(&path).expect("the partial is kept").len();
    assert!(len > 0);
    len
}

/// The big archive published and its first download killed midway: the
/// world, the archive's sha and bytes, and how much of it the partial kept.
fn killed_mid_download() -> (World, String, Vec<u8>, u64) {
    let archive = big_archive();
    let (world, sha) = published_with(&archive);
    let kept = kill_mid_download(&world, &sha);
    (world, sha, archive, kept)
}

/// The objects-host requests for the asset: (range, status).
fn downloads(world: &World) -> Vec<(Option<String>, u16)> {
    asset_requests(world)
        .into_iter()
        .filter(|r| r.host == Host::Objects)
        .map(|r| (r.range, r.status))
        .collect()
}

#[test]
fn a_killed_download_is_continued_with_range_from_its_partial() {
    let archive = big_archive();
    let (world, sha) = published_with(&archive);
    pin_size(&world, &sha, (archive.len() as u64).into());
    let kept = kill_mid_download(&world, &sha);

    world.assert_installs(&[]);
    assert_eq!(
        downloads(&world),
        [(Some(format!("bytes={kept}-")), 206)],
        "the second install asks only for what the first did not get"
    );
    assert!(!partial_path(&world, &sha).exists());
    crate::cache_support::assert_cache_consistent(&world.cache());
}

#[test]
fn a_server_ignoring_range_restarts_the_kept_partial() {
    let (world, _, _, kept) = killed_mid_download();
    world.fault_asset(Fault::NoRange, None);

    world.assert_installs(&[]);
    assert_eq!(downloads(&world), [(Some(format!("bytes={kept}-")), 200)]);
    crate::cache_support::assert_cache_consistent(&world.cache());
}

#[test]
fn a_corrupted_partial_is_caught_by_the_hash_and_downloaded_again_in_full() {
    let (world, sha, archive, kept) = killed_mid_download();
    // Flip every byte of the kept prefix, as a bad disk might.
    let path = partial_path(&world, &sha);
    let flipped: Vec<u8> = std::fs::read(&path).unwrap().iter().map(|b| !b).collect();
    std::fs::write(&path, flipped).unwrap();

    let run = world.install_env(&[("POSTBIN_LOG", "debug")]);
    run.assert_ok();
    assert_runs(&world.placed("hello"));
    assert_eq!(
        downloads(&world),
        [(Some(format!("bytes={kept}-")), 206), (None, 200)],
        "the resumed bytes failed the hash; the file came again from byte 0"
    );
    crate::cache_support::assert_cache_consistent(&world.cache());
    let published = world.cache().join("v1/archives").join(&sha);
    assert_eq!(std::fs::read(published).unwrap(), archive);
}
