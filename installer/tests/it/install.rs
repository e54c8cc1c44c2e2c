//! Happy paths: cold install, cache hits, nested and Windows-style layouts,
//! `which`, and recovery from a corrupted cache or package.

use crate::archives::{Zip, flat_tar, nested_tar};
use crate::support::*;
use serde_json::json;
use server_fixture::Host;

/// A world with the flat tar.gz published and the package pointing at it.
#[test]
fn cold_install_places_a_runnable_executable_and_which_prints_its_path() {
    let (world, sha) = published();
    world.install().assert_ok();

    let placed = world.placed("hello");
    assert_runs(&placed);

    let pkg = path_str(&world.pkg());
    let which = world.postbin(&["which", "--package", &pkg]);
    which.assert_ok();
    let printed = std::path::PathBuf::from(which.stdout.trim());
    assert!(printed.is_absolute(), "{printed:?}");
    assert_eq!(printed, placed);

    // GitHub-like: a 302 on the main host, then the bytes from the objects host.
    assert_eq!(
        hits(&world.requests(), ASSET),
        [(Host::Main, 302), (Host::Objects, 200)]
    );
    assert_eq!(world.requests().len(), 2, "{:#?}", world.requests());

    // The verified archive and its tree are in the cache under its hash.
    let v1 = world.cache().join("v1");
    assert!(v1.join("archives").join(&sha).is_file());
    assert_eq!(
        std::fs::read(v1.join("trees").join(&sha).join("files").join("hello")).unwrap(),
        SCRIPT
    );
}

#[test]
fn second_install_of_the_same_package_makes_no_request() {
    let (world, _) = published();
    world.install().assert_ok();
    world.fixture.clear_requests();

    world.install().assert_ok();
    world.assert_no_requests();
    assert_runs(&world.placed("hello"));
}

#[test]
fn fresh_package_with_a_warm_cache_makes_no_request() {
    let (world, other) = warm_cache_and_a_fresh_package();
    world.install_pkg(&other).assert_ok();
    world.assert_no_requests();
    assert_runs(&placed(&other, "hello"));
}

#[test]
fn bins_nested_in_a_top_level_folder_are_found() {
    let world = World::new();
    let sha = world.publish(ASSET, &nested_tar(TARGET).gz());
    let mut section = world.section("tar.gz", &sha);
    section["bin"] = json!({ "hello": "hello-{target}/hello{exe}" });
    world.package(section);

    world.assert_installs(&[]);
}

#[test]
fn windows_template_resolves_for_a_forced_windows_target() {
    let world = World::new();
    let linux_sha = world.publish(ASSET, &nested_tar(TARGET).gz());
    let dir = format!("hello-{WINDOWS}");
    // Not marked executable in the zip (as zips made on Windows): the placed
    // copy gets the bit anyway.
    let zip = Zip::new()
        .file(&format!("{dir}/hello.exe"), 0o644, SCRIPT)
        .file(&format!("{dir}/README.md"), 0o644, b"# hello\n")
        .finish();
    let zip_name = format!("hello-{WINDOWS}.zip");
    let zip_sha = world.publish(&zip_name, &zip);
    world.package(json!({
        "url": world.url_template(),
        "format": "tar.gz",
        "bin": { "hello": "hello-{target}/hello{exe}" },
        "targets": {
            TARGET: { "sha256": linux_sha },
            WINDOWS: { "sha256": zip_sha, "format": "zip" },
        }
    }));

    let pkg = path_str(&world.pkg());
    world
        .postbin(&["install", "--package", &pkg, "--target", WINDOWS])
        .assert_ok();

    let requests = world.requests();
    let objects: Vec<_> = requests
        .iter()
        .filter(|r| r.host == Host::Objects)
        .collect();
    assert_eq!(objects.len(), 1, "{requests:#?}");
    let path = objects[0].path.split('?').next().unwrap();
    assert!(
        path.ends_with("/hello-x86_64-pc-windows-msvc.zip"),
        "{path}"
    );
    assert!(
        hits(&requests, ASSET).is_empty(),
        "the linux asset was fetched"
    );

    let exe = world.placed("hello.exe");
    assert_runs(&exe); // a shell script under a .exe name still runs here
    assert!(!world.placed("hello").exists());
    let which = world.postbin(&["which", "--package", &pkg]);
    which.assert_ok();
    assert_eq!(which.stdout.trim(), path_str(&exe));
}

#[test]
fn postbin_target_variable_forces_the_target() {
    let (world, _) = published();
    let pkg = path_str(&world.pkg());
    world
        .postbin_env(
            &["install", "--package", &pkg],
            &[("POSTBIN_TARGET", TARGET)],
        )
        .assert_ok();
    assert_runs(&world.placed("hello"));
}

#[test]
fn which_before_install_exits_1_and_says_to_install() {
    let (world, _) = published();
    let pkg = path_str(&world.pkg());
    let run = world.postbin(&["which", "--package", &pkg]);
    run.assert_exit(exit::FAILURE)
        .assert_stderr_has(&["not installed", "postbin install"]);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(world.requests().is_empty());
}

/// Flips one byte of a file in place.
fn corrupt(path: &std::path::Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x20;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn corrupted_cache_tree_is_detected_and_unpacked_again() {
    let (world, sha) = published();
    world.install().assert_ok();
    let cached = world.tree_path(&sha, "files/hello");
    corrupt(&cached);
    assert_ne!(std::fs::read(&cached).unwrap(), SCRIPT);
    std::fs::remove_dir_all(world.pkg().join(".postbin")).unwrap();

    world.install().assert_ok();
    assert_eq!(std::fs::read(world.placed("hello")).unwrap(), SCRIPT);
    assert_runs(&world.placed("hello"));
    // The cache was repaired too, not just the package.
    assert_eq!(std::fs::read(&cached).unwrap(), SCRIPT);
}

/// The tree's listing is there but the executable was deleted (another
/// shell ran `postbin cache clean` between the lookup and the copy): the
/// install unpacks the cached archive again instead of failing.
#[test]
fn a_cached_executable_removed_before_the_copy_is_unpacked_again() {
    let (world, sha) = published();
    world.install().assert_ok();
    let requests = world.requests().len();
    let cached = world.tree_path(&sha, "files/hello");
    std::fs::remove_file(&cached).unwrap();
    std::fs::remove_dir_all(world.pkg().join(".postbin")).unwrap();

    world
        .install()
        .assert_ok()
        .assert_stderr_has(&["was removed while it was being installed"]);
    assert_runs(&world.placed("hello"));
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        SCRIPT,
        "the cache was repaired"
    );
    // Unpacked from the cached archive, not downloaded.
    world.assert_no_requests_since(requests);
}

#[test]
fn corrupted_cached_archive_and_tree_are_downloaded_again() {
    let (world, sha) = published();
    world.install().assert_ok();
    let v1 = world.cache().join("v1");
    corrupt(&v1.join("trees").join(&sha).join("files/hello"));
    corrupt(&v1.join("archives").join(&sha));
    std::fs::remove_dir_all(world.pkg().join(".postbin")).unwrap();
    world.fixture.clear_requests();

    world.install().assert_ok();
    assert_eq!(
        hits(&world.requests(), ASSET),
        [(Host::Main, 302), (Host::Objects, 200)]
    );
    assert_runs(&world.placed("hello"));
    let archive = std::fs::read(v1.join("archives").join(&sha)).unwrap();
    assert_eq!(sha256(&archive), sha);
}

#[test]
fn tampered_placed_executable_is_replaced_from_the_cache() {
    let (world, _) = published();
    world.install().assert_ok();
    std::fs::write(world.placed("hello"), b"#!/bin/sh\necho tampered\n").unwrap();
    world.fixture.clear_requests();

    world.assert_installs(&[]);
    world.assert_no_requests();
}

/// A published tree whose listing.json is unreadable (disk corruption, a
/// half-restored CI cache) must be discarded and rebuilt, like a tree with a
/// corrupt file, not break every later install of that archive.
#[test]
fn unreadable_cache_listing_is_rebuilt() {
    let (world, sha) = published();
    world.install().assert_ok();
    let listing = world.tree_path(&sha, "listing.json");
    std::fs::write(&listing, b"{ truncated").unwrap();
    std::fs::remove_dir_all(world.pkg().join(".postbin")).unwrap();

    world.assert_installs(&[]);
    let text = std::fs::read_to_string(&listing).unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_ok(),
        "{text}"
    );
}

#[test]
fn binary_path_override_downloads_nothing() {
    let (world, _) = published();
    let own = world.base().join("my-hello");
    std::fs::write(&own, SCRIPT).unwrap();
    let own = path_str(&own);
    let pkg = path_str(&world.pkg());
    let env = [("HELLO_BINARY_PATH", own.as_str())];

    world.install_env(&env).assert_ok();
    world.assert_no_requests();
    assert_nothing_cached(&world.cache());
    assert_nothing_linked(&world.pkg());
    let which = world.postbin_env(&["which", "--package", &pkg], &env);
    which.assert_ok();
    assert_eq!(which.stdout.trim(), own);
}

#[test]
fn binary_path_override_to_a_missing_file_exits_3() {
    let (world, _) = published();
    let missing = path_str(&world.base().join("nope"));
    world
        .install_env(&[("HELLO_BINARY_PATH", missing.as_str())])
        .assert_exit(exit::CONFIG)
        .assert_stderr_has(&["HELLO_BINARY_PATH", &missing]);
    assert!(world.requests().is_empty());
    world.assert_nothing_installed();
}

/// The default package, unpinned, its hash to come from a SHA256SUMS whose
/// URL is a template (`v{version}`).
/// The archive published with a SHA256SUMS that states its hash, and a
/// package that pins none and names that file.
fn with_a_checksums_file() -> World {
    let world = World::new();
    let sha = world.publish(ASSET, &flat_tar().gz());
    world.publish("SHA256SUMS", format!("{sha}  {ASSET}\n").as_bytes());
    templated_checksums_package(&world);
    world
}

fn templated_checksums_package(world: &World) {
    let mut section = world.unpinned_section(true);
    section["checksums"] = format!(
        "{}/acme/hello/releases/download/v{{version}}/SHA256SUMS",
        world.base_url()
    )
    .into();
    world.package(section);
}

#[test]
fn checksums_file_supplies_an_unpinned_hash_with_a_warning() {
    let world = with_a_checksums_file();

    let run = world.install();
    run.assert_ok()
        .assert_stderr_has(&["pins no sha256", "SHA256SUMS"]);
    assert_runs(&world.placed("hello"));
}

/// The checksums file an install needs is retried as the archive is: two
/// 503s, then the file (POSTBIN_RETRIES=2); with no retries, the install
/// fails on the first 503.
#[test]
fn the_checksums_file_is_retried_like_the_archive() {
    let world = with_a_checksums_file();
    let sums = World::asset_path("SHA256SUMS");
    world
        .fixture
        .set_fault(&sums, server_fixture::Fault::Status(503), Some(2));
    world.install_env(&[("POSTBIN_RETRIES", "2")]).assert_ok();
    assert_runs(&world.placed("hello"));
    let asked = world
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/SHA256SUMS"))
        .count();
    assert_eq!(asked, 3, "two 503s, then the file");

    let other = World::new();
    let sha = other.publish(ASSET, &flat_tar().gz());
    other.publish("SHA256SUMS", format!("{sha}  {ASSET}\n").as_bytes());
    templated_checksums_package(&other);
    other.fixture.set_fault(
        &World::asset_path("SHA256SUMS"),
        server_fixture::Fault::Status(503),
        Some(1),
    );
    other.assert_install_fails(&[("POSTBIN_RETRIES", "0")], exit::INTEGRITY, &["503"]);
}

/// A "checksums file" over 4 MiB is refused as what it is, without
/// POSTBIN_MAX_DOWNLOAD_SIZE's advice (raising that would not help).
#[test]
fn a_checksums_file_over_4_mib_is_refused_for_what_it_is() {
    let world = World::new();
    world.publish(ASSET, &flat_tar().gz());
    world.publish("SHA256SUMS", &vec![b'#'; 5 << 20]);
    templated_checksums_package(&world);
    let run = world.install();
    assert_ne!(run.code, Some(0));
    run.assert_stderr_has(&[
        "larger than 4 MiB, which no checksums file is",
        "`checksums` URL",
    ]);
    run.assert_stderr_lacks(&["POSTBIN_MAX_DOWNLOAD_SIZE"]);
}

#[test]
fn checksums_file_with_a_wrong_hash_exits_6() {
    let world = World::new();
    world.publish(ASSET, &flat_tar().gz());
    let wrong = sha256(b"something else");
    world.publish("SHA256SUMS", format!("{wrong}  {ASSET}\n").as_bytes());
    templated_checksums_package(&world);

    world.assert_install_fails(&[], exit::INTEGRITY, &["SHA-256 mismatch"]);
}

#[test]
fn a_new_pinned_release_replaces_the_installed_one() {
    let (world, _) = published();
    world.install().assert_ok();

    let v2 = b"#!/bin/sh\necho hello from v2\n";
    let tar = crate::archives::Tar::new().file("hello", 0o755, v2).gz();
    let sha2 = world.publish(ASSET, &tar);
    world.package(world.section("tar.gz", &sha2));
    world.install().assert_ok();

    assert_eq!(std::fs::read(world.placed("hello")).unwrap(), v2);
    let receipt = std::fs::read_to_string(world.pkg().join(".postbin/receipt.json")).unwrap();
    assert!(receipt.contains(&sha2), "{receipt}");
}

#[test]
fn several_commands_are_all_placed_and_which_finds_each() {
    let world = World::new();
    let tar = flat_tar().file("hello-helper", 0o755, SCRIPT).gz();
    let sha = world.publish(ASSET, &tar);
    let manifest = json!({
        "name": "hello",
        "version": "1.0.0",
        "bin": { "hello": "bin/hello", "hello-helper": "bin/hello-helper" },
        "postbin": world.section("tar.gz", &sha),
    });
    std::fs::write(world.pkg().join("package.json"), manifest.to_string()).unwrap();

    world.install().assert_ok();
    let pkg = path_str(&world.pkg());
    for name in ["hello", "hello-helper"] {
        assert_runs(&world.placed(name));
        let which = world.postbin(&["which", "--package", &pkg, name]);
        which.assert_ok();
        assert_eq!(which.stdout.trim(), path_str(&world.placed(name)));
    }
}

#[test]
fn concurrent_installs_of_one_archive_make_one_download() {
    let (world, _) = published();
    // Slow enough that the installs overlap; with or without overlap, only
    // the first may download.
    world.fault_asset(server_fixture::Fault::Slow { bytes_per_sec: 400 }, None);
    let pkgs: Vec<_> = (0..4)
        .map(|i| {
            let dir = world.base().join(format!("pkg-{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(world.pkg().join("package.json"), dir.join("package.json")).unwrap();
            dir
        })
        .collect();
    std::thread::scope(|s| {
        let runs: Vec<_> = pkgs
            .iter()
            .map(|p| s.spawn(|| world.install_pkg(p)))
            .collect();
        for run in runs {
            run.join().unwrap().assert_ok();
        }
    });
    for p in &pkgs {
        assert_runs(&placed(p, "hello"));
    }
    let downloads = hits(&world.requests(), ASSET)
        .into_iter()
        .filter(|(h, _)| *h == Host::Objects)
        .count();
    assert_eq!(downloads, 1, "{:#?}", world.requests());
}
