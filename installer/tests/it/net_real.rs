//! postbin against real servers from the distribution: tinyproxy as the
//! corporate CONNECT proxy (with and without Basic auth, and down), nginx
//! as a static mirror and as a pull-through cache that keeps serving after
//! the origin is gone. Each test skips with a reason when its server is not
//! installed (see `net_servers`).
//!
//! postbin never proxies loopback URLs, so these tests set the test-only
//! `POSTBIN_TEST_PROXY_LOOPBACK=1` to send the fixture's traffic through the
//! proxy.

use crate::net_servers::{Nginx, Tinyproxy, free_port};
use crate::net_support::*;
use crate::support::*;
use server_fixture::{Fixture, Host};

/// The port of `http://127.0.0.1:PORT`.
fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// tinyproxy's log line for a tunnel to `127.0.0.1:port`.
fn connect_line(port: u16) -> String {
    format!("CONNECT 127.0.0.1:{port} ")
}

fn reset(world: &World) {
    let _ = std::fs::remove_dir_all(world.cache());
    let _ = std::fs::remove_dir_all(world.pkg().join(".postbin"));
    world.fixture.clear_requests();
}

#[test]
fn downloads_tunnel_through_a_real_proxy_unless_no_proxy_says_otherwise() {
    let Some(proxy) = Tinyproxy::start(None) else {
        return;
    };
    let (world, _) = published();
    let main = port_of(&world.fixture.base_url());
    let objects = port_of(&world.fixture.objects_url());
    let env = [
        ("HTTP_PROXY", proxy.url(None)),
        ("POSTBIN_TEST_PROXY_LOOPBACK", "1".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // NO_PROXY first: direct, so the proxy sees nothing.
    let mut bypass = env.clone();
    bypass.push(("NO_PROXY", "127.0.0.1"));
    world.install_env(&bypass).assert_ok();
    assert_eq!(count(&world, Host::Objects), 1);

    // Then through the proxy: both hops (the 302 and the bytes) tunnelled.
    reset(&world);
    world.install_env(&env).assert_ok();
    assert_runs(&world.placed("hello"));
    let log = proxy.log_with(&connect_line(objects));
    assert!(log.contains(&connect_line(main)), "{log}");
    assert!(log.contains(&connect_line(objects)), "{log}");
    // Only the second install's tunnels are in the log.
    assert_eq!(log.matches(&connect_line(main)).count(), 1, "{log}");
    assert_eq!(
        hits(&world.requests(), ASSET),
        [(Host::Main, 302), (Host::Objects, 200)]
    );
}

#[test]
fn https_downloads_tunnel_through_a_real_proxy() {
    let Some(proxy) = Tinyproxy::start(None) else {
        return;
    };
    let (mut world, sha) = published();
    let ca = to_https(&mut world, &sha);
    let objects = port_of(&world.fixture.objects_url());

    world.assert_installs(&[
        ("HTTPS_PROXY", &proxy.url(None)),
        ("POSTBIN_TEST_PROXY_LOOPBACK", "1"),
        ("POSTBIN_CA_FILE", &path_str(&ca)),
    ]);
    let log = proxy.log_with(&connect_line(objects));
    assert!(log.contains(&connect_line(objects)), "{log}");
}

#[test]
fn proxy_credentials_work_and_are_never_printed() {
    let Some(proxy) = Tinyproxy::start(Some(("pbuser", "s3cr3t-pw"))) else {
        return;
    };
    let (world, _) = published();
    let objects = port_of(&world.fixture.objects_url());
    let install = |proxy_url: &str| {
        world.install_env(&[
            ("HTTP_PROXY", proxy_url),
            ("POSTBIN_TEST_PROXY_LOOPBACK", "1"),
            ("POSTBIN_LOG", "debug"),
        ])
    };

    // The right credentials: through, and never printed.
    let run = install(&proxy.url(Some("pbuser:s3cr3t-pw")));
    run.assert_ok();
    assert_not_printed(&run, "s3cr3t-pw");
    assert!(
        proxy
            .log_with(&connect_line(objects))
            .contains(&connect_line(objects))
    );

    // No credentials: refused by the proxy, and the error says where.
    reset(&world);
    let run = install(&proxy.url(None));
    run.assert_exit(exit::NETWORK).assert_stderr_has(&[
        &format!(
            "the proxy {} (set by env HTTP_PROXY) refused",
            proxy.url(None)
        ),
        "USER:PASSWORD",
    ]);
    world.assert_no_requests();

    // Wrong credentials: refused, and the wrong password is not echoed.
    let run = install(&proxy.url(Some("pbuser:wr0ng-pw")));
    run.assert_exit(exit::NETWORK).assert_stderr_has(&[&format!(
        "the proxy http://***@127.0.0.1:{} (set by env HTTP_PROXY) refused",
        proxy.port
    )]);
    assert_not_printed(&run, "wr0ng-pw");
    world.assert_nothing_installed();
}

#[test]
fn a_proxy_that_is_down_exits_5_and_names_it_redacted() {
    let (world, _) = published();
    let port = free_port();
    let run = world.install_env(&[
        (
            "HTTP_PROXY",
            &format!("http://pbuser:s3cr3t-pw@127.0.0.1:{port}"),
        ),
        ("POSTBIN_TEST_PROXY_LOOPBACK", "1"),
    ]);
    run.assert_exit(exit::NETWORK)
        .assert_stderr_has(&[&format!("proxy http://***@127.0.0.1:{port}"), "NO_PROXY"]);
    assert_not_printed(&run, "s3cr3t-pw");
    world.assert_untouched();
}

#[test]
fn a_real_nginx_serves_a_mirror_tree() {
    let (world, _) = published();
    let tree = world.mirror_copy("nginx-mirror");
    let Some(nginx) = Nginx::static_mirror(&tree) else {
        return;
    };

    world.assert_installs(&[("POSTBIN_MIRROR", &nginx.url())]);
    let line = format!("GET {} 200", World::asset_path(ASSET));
    let log = nginx.access_log_with(&line);
    assert!(log.contains(&line), "{log}");
    world.assert_no_requests();
}

#[test]
fn a_pull_through_cache_keeps_serving_after_the_origin_is_gone() {
    let (mut world, _) = published();
    let Some(nginx) = Nginx::pull_through_cache(&world.fixture.base_url()) else {
        return;
    };
    let mirror = [("POSTBIN_MIRROR", nginx.url())];
    let mirror: Vec<(&str, &str)> = mirror.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // Cold: nginx follows the origin's redirect and stores the bytes.
    world.install_env(&mirror).assert_ok();
    assert_runs(&world.placed("hello"));
    assert_eq!(
        hits(&world.requests(), ASSET),
        [(Host::Main, 302), (Host::Objects, 200)]
    );
    let asset = World::asset_path(ASSET);
    let miss = format!("GET {asset} 200 cache=MISS");
    assert!(nginx.access_log_with(&miss).contains(&miss));

    // The origin goes away (replaced by a fixture serving nothing, on other
    // ports), postbin's cache is cleared, and a fresh package installs.
    let empty = world.base().join("empty-root");
    std::fs::create_dir_all(&empty).unwrap();
    world.fixture = Fixture::start(&empty).unwrap();
    std::fs::remove_dir_all(world.cache()).unwrap();
    let fresh = copy_package(&world, "pkg2");
    install_in(&world, &fresh, &mirror).assert_ok();
    assert_runs(&placed(&fresh, "hello"));
    let hit = format!("GET {asset} 200 cache=HIT");
    assert!(nginx.access_log_with(&hit).contains(&hit));
}
