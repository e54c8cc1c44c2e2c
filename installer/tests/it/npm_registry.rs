//! The npm registry as a source: `pack-targets` wraps the pinned archive in
//! an npm package, and an install whose release host cannot be reached
//! takes it from the registry (here the fixture serving a registry's tarball
//! path), with the credentials npm would send, to that registry only;
//! integrity-checked before it is read; from npm's own cache when there.

use crate::support::*;
use postbin::npm::integrity::Sha512Integrity;
use serde_json::Value;
use server_fixture::Fault;
use std::path::PathBuf;

const TOKEN: &str = "s3cret-token";

/// What `pack-targets` made of the world's package: the wrapper tarball's
/// path, its integrity as recorded in package.json, and its registry path.
struct Packed {
    tgz: PathBuf,
    integrity: String,
    /// `/npm/hello-<target>/-/hello-<target>-1.0.0.tgz`
    path: String,
}

fn wrapper() -> String {
    format!("hello-{TARGET}")
}

/// Packs the world's package and serves the wrapper under `/npm/`, as a
/// registry at `<fixture>/npm/` would.
fn pack_and_serve(world: &World) -> Packed {
    let out = world.base().join("wrappers");
    let pkg = path_str(&world.pkg());
    world
        .postbin(&["pack-targets", "--package", &pkg, "--out", &path_str(&out)])
        .assert_ok();
    let tgz = out.join(format!("{}-1.0.0.tgz", wrapper()));
    #[cfg(unix)]
    if !foreign_windows() {
        // As any new file of this process is made (0666 less the umask), not
        // tempfile's private 0600: the tarball is for publishing.
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let plain = out.join("plain-file");
        std::fs::write(&plain, b"").unwrap();
        assert_eq!(mode(&tgz), mode(&plain), "the wrapper tarball's mode");
        std::fs::remove_file(&plain).unwrap();
    }
    let json: Value = world.package_json();
    let integrity = json["postbin"]["targets"][TARGET]["integrity"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        integrity,
        Sha512Integrity::of_bytes(&std::fs::read(&tgz).unwrap()).to_string(),
        "the recorded integrity is the tarball's"
    );
    let path = format!("/npm/{w}/-/{w}-1.0.0.tgz", w = wrapper());
    let served = world.root().join(path.trim_start_matches('/'));
    std::fs::create_dir_all(served.parent().unwrap()).unwrap();
    std::fs::copy(&tgz, &served).unwrap();
    world.fixture.clear_requests();
    Packed {
        tgz,
        integrity,
        path,
    }
}

/// A `127.0.0.1` port nothing listens on: the release host of a network
/// that lets only the registry through.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Points the package's release URL at a closed port, keeping its pins.
fn origin_unreachable(world: &World) {
    let path = world.pkg().join("package.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let moved = text.replace(
        &world.base_url(),
        &format!("http://127.0.0.1:{}", closed_port()),
    );
    std::fs::write(&path, moved).unwrap();
}

/// Asserts the wrapper was asked for once, with the registry's token.
#[track_caller]
fn assert_one_request_with_the_token(world: &World, packed: &Packed) {
    assert_eq!(
        authorizations(world, &packed.path),
        vec![Some(format!("Bearer {TOKEN}"))],
        "one request, with the registry's token"
    );
}

/// The default package published, packed and served by the registry, with
/// the user's token in `.npmrc`.
fn on_the_registry() -> (World, Packed) {
    let (world, _) = published();
    let packed = pack_and_serve(&world);
    npmrc(&world, TOKEN);
    (world, packed)
}

/// The same, with its release host unreachable.
fn registry_only() -> (World, Packed) {
    let (world, packed) = on_the_registry();
    origin_unreachable(&world);
    (world, packed)
}

/// The user's `.npmrc`: the registry on the fixture, and its token.
fn npmrc(world: &World, token: &str) -> PathBuf {
    let registry = format!("{}/npm/", world.base_url());
    let dart = registry.trim_start_matches("http:");
    let file = world.home().join(".npmrc");
    std::fs::write(
        &file,
        format!("registry={registry}\n{dart}:_authToken={token}\n"),
    )
    .unwrap();
    file
}

fn authorizations(world: &World, path: &str) -> Vec<Option<String>> {
    world
        .requests()
        .into_iter()
        .filter(|r| r.path.split('?').next() == Some(path))
        .map(|r| r.authorization)
        .collect()
}

#[test]
fn with_the_release_host_unreachable_the_registry_serves_the_archive() {
    let (world, packed) = registry_only();
    world.assert_installs(&[]);
    assert_one_request_with_the_token(&world, &packed);
}

#[test]
fn the_token_never_reaches_the_release_host() {
    let (world, packed) = on_the_registry();
    // The release host answers, but not with the asset.
    world.fault_asset(Fault::Status(404), None);
    world.install().assert_ok();
    assert_eq!(
        authorizations(&world, &World::asset_path(ASSET)),
        vec![None],
        "the origin got no credentials"
    );
    assert_one_request_with_the_token(&world, &packed);
}

#[test]
fn postbin_source_npm_asks_the_registry_first() {
    let (world, packed) = on_the_registry();
    world.install_env(&[("POSTBIN_SOURCE", "npm")]).assert_ok();
    assert_eq!(
        authorizations(&world, &World::asset_path(ASSET)),
        Vec::<Option<String>>::new(),
        "the origin was not asked"
    );
    assert_eq!(authorizations(&world, &packed.path).len(), 1);
}

#[test]
fn a_refused_token_names_the_registry_and_the_key_and_installs_nothing() {
    let (world, _) = published();
    let packed = pack_and_serve(&world);
    origin_unreachable(&world);
    let file = npmrc(&world, "wrong");
    world
        .fixture
        .set_fault(&packed.path, Fault::Status(401), None);
    let registry = format!("{}/npm/", world.base_url());
    let dart = registry.trim_start_matches("http:");
    world
        .install()
        .assert_exit(5)
        .assert_stderr_line(&format!(
            "  2. the npm registry {registry} refused the credentials from `{dart}:_authToken` in {} \
             (HTTP 401 for {}{})",
            file.display(),
            world.base_url(),
            packed.path
        ))
        .assert_stderr_line(&format!(
            "Log in to it (`npm login --registry {registry}`), or put a valid token in .npmrc as \
             `{dart}:_authToken=...`"
        ));
    world.assert_nothing_installed();
}

#[test]
fn a_tarball_that_is_not_the_pinned_one_is_never_opened() {
    let (world, packed) = registry_only();
    // Another valid wrapper in its place: same shape, other bytes.
    let served = world.root().join(packed.path.trim_start_matches('/'));
    let mut other = std::fs::read(&packed.tgz).unwrap();
    let last = other.len() - 9;
    other[last] ^= 0xff;
    std::fs::write(&served, &other).unwrap();
    world.assert_install_fails(
        &[],
        6,
        &[
            "integrity mismatch for",
            &format!("expected {}", packed.integrity),
        ],
    );
}

#[test]
fn npms_own_cache_serves_an_offline_install() {
    let (world, _) = published();
    let packed = pack_and_serve(&world);
    let npm_cache = world.base().join("npm-cache");
    let content = Sha512Integrity::parse(&packed.integrity)
        .unwrap()
        .cacache_path(&npm_cache);
    std::fs::create_dir_all(content.parent().unwrap()).unwrap();
    std::fs::copy(&packed.tgz, &content).unwrap();
    let before = world.requests().len();
    world.assert_installs(&[
        ("npm_config_cache", &path_str(&npm_cache)),
        ("POSTBIN_OFFLINE", "1"),
    ]);
    world.assert_no_requests_since(before);
}

#[test]
fn packing_twice_gives_the_same_tarball_and_pin_drops_a_stale_integrity() {
    let (world, _) = published();
    let first = pack_and_serve(&world);
    let bytes = std::fs::read(&first.tgz).unwrap();
    let second = pack_and_serve(&world);
    assert_eq!(std::fs::read(&second.tgz).unwrap(), bytes, "reproducible");
    // A re-uploaded archive: pin changes the sha256, and the integrity of
    // the wrapper around the old archive goes with it.
    world.publish(
        ASSET,
        &crate::archives::Tar::new()
            .file("hello", 0o755, SCRIPT)
            .file("new", 0o644, b"2")
            .gz(),
    );
    let pkg = path_str(&world.pkg());
    world
        .postbin(&["pin", "--package", &pkg, "--download"])
        .assert_ok();
    let json: Value = world.package_json();
    assert!(
        json["postbin"]["targets"][TARGET]
            .get("integrity")
            .is_none(),
        "{json}"
    );
}

#[test]
fn an_unpinned_target_is_not_packed_and_says_why() {
    let world = World::new();
    world.publish(ASSET, &crate::net_support::big_archive());
    let mut section = world.section("tar.gz", "x");
    section["targets"][TARGET] = serde_json::json!({});
    world.package(section);
    let pkg = path_str(&world.pkg());
    world
        .postbin(&[
            "pack-targets",
            "--package",
            &pkg,
            "--out",
            &path_str(&world.base().join("w")),
        ])
        .assert_exit(1)
        .assert_stderr_line(&format!(
            "postbin: not packed: {TARGET}: no pinned sha256; run `postbin pin` first"
        ));
}

#[test]
fn doctor_names_the_registry_and_where_its_credentials_come_from_never_the_token() {
    let (world, _) = published();
    pack_and_serve(&world);
    let file = npmrc(&world, TOKEN);
    let pkg = path_str(&world.pkg());
    let run = world.postbin_env(
        &["doctor", "--package", &pkg],
        &[("POSTBIN_TARGET", TARGET)],
    );
    run.assert_ok();
    let registry = format!("{}/npm/", world.base_url());
    let dart = registry.trim_start_matches("http:");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let registry_line = format!("npm registry: {registry} (from {})", file.display());
    assert!(lines.contains(&registry_line.as_str()), "{}", run.stdout);
    let source = format!(
        "  2. {registry}{w}/-/{w}-1.0.0.tgz (npm package, direct, credentials from `{dart}:_authToken` in {})",
        file.display(),
        w = wrapper()
    );
    assert!(lines.contains(&source.as_str()), "{}", run.stdout);
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "the token is never shown"
    );
}

/// A launcher's first run (install scripts skipped) runs outside any package
/// manager: no `INIT_CWD`. The project's `.npmrc`, above the package's
/// `node_modules`, still names the registry and its token, as for npm.
#[test]
fn without_init_cwd_the_projects_npmrc_is_read() {
    let (world, _) = published();
    let packed = pack_and_serve(&world);
    origin_unreachable(&world);
    let user = npmrc(&world, TOKEN);
    let project = world.dir.path().join(".npmrc");
    std::fs::rename(&user, &project).unwrap();
    world.install().assert_ok();
    assert_one_request_with_the_token(&world, &packed);
}

/// `registry=https://user:pass@host/`: a 401 names the user and password in
/// the URL (never the password itself), not a `:_authToken` nobody set.
#[test]
fn a_refused_password_in_the_registry_url_is_named_as_such() {
    let (world, _) = published();
    let packed = pack_and_serve(&world);
    origin_unreachable(&world);
    let registry = format!("{}/npm/", world.base_url());
    let with_password = registry.replace("http://", "http://alice:hunter2@");
    std::fs::write(
        world.home().join(".npmrc"),
        format!("registry={with_password}\n"),
    )
    .unwrap();
    world
        .fixture
        .set_fault(&packed.path, Fault::Status(401), None);
    let run = world.install();
    run.assert_exit(5)
        .assert_stderr_has(&["refused the user and password in its URL"])
        .assert_stderr_has(&["ix the user and password in the registry URL"]);
    run.assert_stderr_lacks(&["_authToken"]);
    run.assert_stderr_lacks(&["hunter2"]);
    world.assert_nothing_installed();
}

/// A registry that fails is the registry's problem: no advice about
/// POSTBIN_MIRROR, which the user never set.
#[test]
fn a_failing_registry_is_not_called_a_mirror() {
    let (world, packed) = registry_only();
    world
        .fixture
        .set_fault(&packed.path, Fault::Status(404), None);
    let registry = format!("{}/npm/", world.base_url());
    let run = world.install();
    run.assert_exit(5).assert_stderr_has(&[
        &format!("the npm registry {registry} has no"),
        "wrapper packages are not on this registry",
    ]);
    for mirror_advice in [
        "mirror lacks",
        "the mirror (POSTBIN_MIRROR)",
        "wrong `url` template",
    ] {
        run.assert_stderr_lacks(&[mirror_advice]);
    }
    world.assert_nothing_installed();
}
