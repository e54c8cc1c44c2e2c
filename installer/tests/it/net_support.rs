//! Worlds for the network suites: a published asset big enough to be cut
//! mid-body, the fixture switched to HTTPS with its CA on disk, the package
//! pointed at `localhost` instead of `127.0.0.1`, and small log queries.

use crate::archives::big_tar;
use crate::support::*;
use server_fixture::{Fixture, Host, Options, RequestRecord};
use std::path::PathBuf;

/// A tar.gz of about 1 MiB: the runnable `hello` plus incompressible filler,
/// so a body cut after a few KiB is really cut mid-way.
pub fn big_archive() -> Vec<u8> {
    big_tar(1 << 20, 1)
}

/// Replaces the world's fixture with an HTTPS one serving the same tree,
/// rewrites the package for it, and writes the fixture's CA to `ca.pem`.
pub fn to_https(world: &mut World, sha: &str) -> PathBuf {
    world.fixture = Fixture::start_with(Options {
        root: world.root(),
        https: true,
    })
    .unwrap();
    world.package(world.section("tar.gz", sha));
    let ca = world.base().join("ca.pem");
    world.fixture.write_ca_pem(&ca).unwrap();
    ca
}

/// Points the package at `localhost` rather than `127.0.0.1` (the fixture's
/// certificate covers both); its redirects still go to `127.0.0.1`, so the
/// main host and the objects host have different host names.
pub fn use_localhost(world: &World, sha: &str) {
    let mut section = world.section("tar.gz", sha);
    let url = world.url_template().replacen("127.0.0.1", "localhost", 1);
    section["url"] = url.into();
    world.package(section);
}

/// Requests for ASSET, in order.
pub fn asset_requests(world: &World) -> Vec<RequestRecord> {
    let path = World::asset_path(ASSET);
    world
        .requests()
        .into_iter()
        .filter(|r| r.path.split('?').next() == Some(path.as_str()))
        .collect()
}

/// How many requests for ASSET reached `host`.
pub fn count(world: &World, host: Host) -> usize {
    asset_requests(world)
        .iter()
        .filter(|r| r.host == host)
        .count()
}

/// Asserts that `secret` appears in neither stdout nor stderr.
#[track_caller]
pub fn assert_not_printed(run: &Run, secret: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "{secret:?} was printed:\n--- stdout:\n{}\n--- stderr:\n{}",
        run.stdout,
        run.stderr
    );
}
