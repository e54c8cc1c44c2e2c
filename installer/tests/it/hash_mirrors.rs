//! Mirrors that address archives by content: `{sha256}` (and `{file}`,
//! `{name}`) in POSTBIN_MIRROR, so any blob store serves any release
//! whatever its path layout; `prefill --out --layout sha256` writes one.

use crate::net_servers::Nginx;
use crate::support::*;

fn file_url(dir: &std::path::Path) -> String {
    format!("file://{}", path_str(dir))
}

#[test]
fn a_sha256_tree_from_prefill_serves_an_offline_install_by_hash_alone() {
    let (world, sha) = published();
    let out = world.base().join("blobs");
    world
        .postbin_env(
            &[
                "prefill",
                &path_str(&world.pkg()),
                "--out",
                &path_str(&out),
                "--layout",
                "sha256",
            ],
            &[("POSTBIN_TARGET", TARGET)],
        )
        .assert_ok();
    let blob = out.join("sha256").join(&sha);
    assert_eq!(
        sha256(&std::fs::read(&blob).unwrap()),
        sha,
        "the blob is the archive"
    );
    assert!(!out.join("acme").exists(), "no path layout was written");
    let before = world.requests().len();

    let mirror = format!("{}/sha256/{{sha256}}", file_url(&out));
    world.assert_installs(&[("POSTBIN_MIRROR", &mirror), ("POSTBIN_OFFLINE", "1")]);
    world.assert_no_requests_since(before);
}

#[test]
fn a_real_nginx_serves_archives_by_sha256_whatever_the_release_path() {
    let (world, sha) = published();
    let store = world.base().join("store");
    std::fs::create_dir_all(store.join("blobs/sha256")).unwrap();
    std::fs::copy(
        world.root().join(RELEASE_DIR).join(ASSET),
        store.join("blobs/sha256").join(&sha),
    )
    .unwrap();
    let Some(nginx) = Nginx::static_mirror(&store) else {
        return;
    };
    let mirror = format!("{}/blobs/sha256/{{sha256}}", nginx.url());
    world.assert_installs(&[("POSTBIN_MIRROR", &mirror)]);
    let line = format!("GET /blobs/sha256/{sha} 200");
    let log = nginx.access_log_with(&line);
    assert!(log.contains(&line), "{log}");
    assert!(
        world.requests().is_empty(),
        "the origin was not asked: {:#?}",
        world.requests()
    );
}

#[test]
fn a_file_template_finds_the_asset_by_its_name_in_a_flat_directory() {
    let (world, _) = published();
    let flat = world.base().join("flat");
    std::fs::create_dir_all(&flat).unwrap();
    std::fs::copy(world.root().join(RELEASE_DIR).join(ASSET), flat.join(ASSET)).unwrap();
    let mirror = format!("{}/{{file}}", file_url(&flat));
    world.assert_installs(&[("POSTBIN_MIRROR", &mirror)]);
    world.assert_no_requests();
}

/// A target with no pinned hash cannot be found by hash: with only `{sha256}`
/// mirrors, nothing can serve it, and the install says so before any request.
#[test]
fn an_unpinned_target_with_only_hash_mirrors_exits_3_saying_to_pin() {
    let world = World::new();
    world.publish(ASSET, &crate::archives::flat_tar().gz());
    world.package(world.unpinned_section(true));
    let run = world.install_env(&[("POSTBIN_MIRROR", "https://store.corp/sha256/{sha256}")]);
    run.assert_exit(exit::CONFIG).assert_stderr_line(&format!(
        "postbin: error: package.json: `postbin.url` cannot be fetched: every mirror (env \
         POSTBIN_MIRROR) names files by {{sha256}}, and {ASSET} has no pinned sha256; pin it \
         (`postbin pin`), or add a mirror that keeps the release's paths after them"
    ));
    world.assert_no_requests();
}

#[test]
fn a_mirror_template_with_an_unknown_variable_is_a_setting_error() {
    let (world, _) = published();
    let run = world.install_env(&[("POSTBIN_MIRROR", "https://store.corp/{sha512}")]);
    run.assert_exit(exit::CONFIG)
        .assert_stderr_has(&["POSTBIN_MIRROR", "{sha256}, {file} or {name}"]);
    world.assert_nothing_installed();
}
