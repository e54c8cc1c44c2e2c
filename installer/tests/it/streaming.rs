//! The streaming install: `pin --download` writes the archive's chunk
//! digests into the package, and an install checks each 1 MiB chunk as it
//! arrives and hands only checked chunks to the decoder. The debug build
//! logs each hand-off (POSTBIN_TEST_HANDOFF_LOG), so these tests see exactly
//! what the decoder received; a cross-built installer under test
//! (POSTBIN_TEST_INSTALLER) is a release build without that log, and is
//! checked on outcomes only.

use crate::archives::big_tar;
use crate::support::*;
use serde_json::Value;
use server_fixture::Fault;
use std::path::PathBuf;

const CHUNK: u64 = 1 << 20;

/// A tar.gz of a bit over 3 MiB (four chunks): `hello` plus incompressible
/// filler.
fn archive() -> Vec<u8> {
    big_tar((3 * CHUNK + 100_000) as usize, 2)
}

/// A world with the archive published and pinned by `pin --download`,
/// which writes its chunk digests; the chunk file's lines (the digests).
fn pinned_with_chunks() -> (World, Vec<u8>, Vec<String>) {
    let world = World::new();
    let bytes = archive();
    world.publish(ASSET, &bytes);
    let mut section = world.section("tar.gz", "x");
    section["targets"][TARGET] = serde_json::json!({});
    world.package(section);
    let pkg = path_str(&world.pkg());
    world
        .postbin(&["pin", "--package", &pkg, "--download"])
        .assert_ok();
    let json: Value = world.package_json();
    let chunks = &json["postbin"]["targets"][TARGET]["chunks"];
    assert_eq!(chunks["file"], format!("postbin-chunks/{TARGET}"), "{json}");
    let text = std::fs::read_to_string(world.pkg().join(chunks["file"].as_str().unwrap())).unwrap();
    assert_eq!(chunks["sha256"], sha256(text.as_bytes()));
    let digests: Vec<String> = text.lines().skip(1).map(str::to_string).collect();
    assert_eq!(digests.len(), 4, "{text}");
    for (i, d) in digests.iter().enumerate() {
        let end = ((i as u64 + 1) * CHUNK).min(bytes.len() as u64) as usize;
        assert_eq!(d, &sha256(&bytes[i * CHUNK as usize..end]), "chunk {i}");
    }
    world.fixture.clear_requests();
    (world, bytes, digests)
}

fn instrumented() -> bool {
    std::env::var_os("POSTBIN_TEST_INSTALLER").is_none()
}

fn handoff_log(world: &World) -> PathBuf {
    world.base().join("handoff.log")
}

/// What the decoder was handed: (chunk index, sha256) in order.
fn handed(world: &World) -> Vec<(usize, String)> {
    std::fs::read_to_string(handoff_log(world))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let (i, sha) = l.split_once(' ').unwrap();
            (i.parse().unwrap(), sha.to_string())
        })
        .collect()
}

fn every_chunk_once(digests: &[String]) -> Vec<(usize, String)> {
    digests.iter().cloned().enumerate().collect()
}

#[test]
fn an_install_hands_the_decoder_each_checked_chunk_once_in_order() {
    let (world, _, digests) = pinned_with_chunks();
    let log = path_str(&handoff_log(&world));
    world.assert_installs(&[("POSTBIN_TEST_HANDOFF_LOG", &log)]);
    if instrumented() {
        assert_eq!(handed(&world), every_chunk_once(&digests));
    }
}

#[test]
fn a_mirror_that_corrupts_one_chunk_never_gets_it_to_the_decoder() {
    let (world, _, digests) = pinned_with_chunks();
    // The first answer flips one byte in chunk 2; the second source's is clean.
    world.fault_asset(
        Fault::FlipByteAt {
            offset: 2 * CHUNK + 7,
        },
        Some(1),
    );
    let mirrors = format!("{},{}", world.base_url(), world.fixture.objects_url());
    let log = path_str(&handoff_log(&world));
    world.assert_installs(&[
        ("POSTBIN_MIRROR", &mirrors),
        ("POSTBIN_TEST_HANDOFF_LOG", &log),
    ]);
    if instrumented() {
        // Chunks 0 and 1 from the first source, 2 and 3 from the second; the
        // bad chunk 2 never, and nothing twice.
        assert_eq!(handed(&world), every_chunk_once(&digests));
    }
    let bodies = world
        .requests()
        .into_iter()
        .filter(|r| r.path.split('?').next() == Some(&World::asset_path(ASSET)) && r.status == 200)
        .count();
    assert_eq!(
        bodies,
        2,
        "the first source was left at its bad chunk: {:#?}",
        world.requests()
    );
}

#[test]
fn a_corrupt_chunk_from_the_only_source_installs_nothing() {
    let (world, _, _) = pinned_with_chunks();
    world.fault_asset(Fault::FlipByteAt { offset: CHUNK + 1 }, None);
    let log = path_str(&handoff_log(&world));
    world.assert_install_fails(
        &[("POSTBIN_TEST_HANDOFF_LOG", &log)],
        6,
        &["chunk 1 (from byte 1048576) has SHA-256"],
    );
    if instrumented() {
        assert_eq!(handed(&world).len(), 1, "only chunk 0 was handed on");
    }
    // The package's copy of `hello` was being written as the archive
    // unpacked: its temp file and the directories made for it are gone.
    assert!(
        !world.pkg().join(".postbin").exists(),
        "{:?}",
        list(&world.pkg())
    );
}

#[test]
fn a_chunk_file_that_does_not_match_its_pin_is_refused() {
    let (world, _, _) = pinned_with_chunks();
    let file = world.pkg().join(format!("postbin-chunks/{TARGET}"));
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text.lines().nth(1).unwrap();
    let other = format!(
        "{}{}",
        if line.starts_with('0') { "1" } else { "0" },
        &line[1..]
    );
    std::fs::write(&file, text.replacen(line, &other, 1)).unwrap();
    world.assert_install_fails(
        &[],
        6,
        &[&format!(
            "the chunk digests {} do not match their pinned sha256",
            file.display()
        )],
    );
    assert!(world.requests().is_empty(), "refused before any download");
}

#[test]
fn a_package_without_chunk_digests_installs_as_before() {
    let (world, bytes, _) = pinned_with_chunks();
    world.package(world.section("tar.gz", &sha256(&bytes)));
    let log = path_str(&handoff_log(&world));
    world.assert_installs(&[("POSTBIN_TEST_HANDOFF_LOG", &log)]);
    assert!(!handoff_log(&world).exists(), "nothing was streamed");
}

#[test]
fn a_kept_partial_download_resumes_after_its_last_good_chunk() {
    let (world, bytes, digests) = pinned_with_chunks();
    // An earlier run was killed after 2.5 chunks, and its last half chunk
    // went bad on disk.
    let tmp = world.cache().join("v1").join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut kept = bytes[..(2 * CHUNK + CHUNK / 2) as usize].to_vec();
    let last = kept.len() - 1;
    kept[last] ^= 0xFF;
    std::fs::write(tmp.join(format!("{}.partial", sha256(&bytes))), &kept).unwrap();
    let log = path_str(&handoff_log(&world));
    world.assert_installs(&[("POSTBIN_TEST_HANDOFF_LOG", &log)]);
    let ranges: Vec<Option<String>> = world
        .requests()
        .into_iter()
        .filter(|r| r.status == 206 || r.status == 200)
        .map(|r| r.range)
        .collect();
    assert!(
        ranges.contains(&Some(format!("bytes={}-", 2 * CHUNK))),
        "resumed at the start of chunk 2: {ranges:?}"
    );
    if instrumented() {
        assert_eq!(handed(&world), every_chunk_once(&digests));
    }
}

#[test]
fn check_names_a_chunk_file_that_installs_would_refuse() {
    let (world, _, _) = pinned_with_chunks();
    let pkg = path_str(&world.pkg());
    let file = world.pkg().join(format!("postbin-chunks/{TARGET}"));
    let problem = format!("postbin.targets.{TARGET}.chunks: postbin-chunks/{TARGET}");
    let before = world.postbin(&["check", "--package", &pkg]);
    before.assert_stderr_lacks(&[&problem]);
    std::fs::write(&file, "postbin-chunks 1 1048576 0\n").unwrap();
    world.postbin(&["check", "--package", &pkg]).assert_exit(1).assert_stderr_has(&[&format!(
        "{problem} does not match its pinned sha256 (installs would refuse it); run `npx postbin pin --download` to write it again, or remove `chunks`"
    )]);
}

/// A chunk file pinned correctly but with a chunk size postbin never writes
/// (a terabyte: every install once aborted allocating one chunk).
#[test]
fn an_absurd_chunk_size_fails_check_and_install_cleanly() {
    let (world, _, _) = pinned_with_chunks();
    let pkg = path_str(&world.pkg());
    let file = world.pkg().join(format!("postbin-chunks/{TARGET}"));
    let text = std::fs::read_to_string(&file).unwrap();
    let absurd = text.replacen(" 1048576 ", " 1099511627776 ", 1);
    assert_ne!(absurd, text);
    let absurd: String = {
        // One digest for the one terabyte chunk, so only the size is wrong.
        let mut lines = absurd.lines();
        format!("{}\n{}\n", lines.next().unwrap(), lines.next().unwrap())
    };
    std::fs::write(&file, &absurd).unwrap();
    let manifest_path = world.pkg().join("package.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    manifest["postbin"]["targets"][TARGET]["chunks"]["sha256"] = sha256(absurd.as_bytes()).into();
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();

    world
        .postbin(&["check", "--package", &pkg])
        .assert_exit(1)
        .assert_stderr_has(&["is not a chunk-digest file of postbin's (1048576 byte chunks"]);
    world.assert_install_fails(&[], 6, &["are not a chunk digest file"]);
}
