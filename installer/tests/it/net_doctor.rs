//! `postbin doctor`: the report's lines (sources with the mirror applied,
//! each setting with its origin, proxies redacted, the token only "set"),
//! the cache state, and `--check` against the fixture.

use crate::net_support::*;
use crate::support::*;
use server_fixture::Fault;

fn doctor(world: &World, args: &[&str], env: &[(&str, &str)]) -> Run {
    let pkg = path_str(&world.pkg());
    let mut all = vec!["doctor", "--package", pkg.as_str()];
    all.extend_from_slice(args);
    let mut env = env.to_vec();
    if !env.iter().any(|(k, _)| *k == "POSTBIN_TARGET") {
        env.push(("POSTBIN_TARGET", TARGET));
    }
    world.postbin_env(&all, &env)
}

#[track_caller]
fn assert_line(run: &Run, line: &str) {
    assert!(
        run.stdout.lines().any(|l| l.trim_end() == line),
        "no line {line:?} in:\n{}",
        run.stdout
    );
}

#[test]
fn the_report_names_every_setting_with_its_origin_and_prints_no_secret() {
    let (world, sha) = published();
    let project = world.base().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let npmrc = project.join(".npmrc");
    std::fs::write(
        &npmrc,
        "noproxy=internal.corp\nstrict-ssl=false\ncafile=/corp/ca.pem\n",
    )
    .unwrap();
    let mirror = "https://mirror-user:mirror-pw@mirror.corp/gh";
    let run = doctor(
        &world,
        &[],
        &[
            ("INIT_CWD", &path_str(&project)),
            ("HTTPS_PROXY", "http://proxy-user:proxy-pw@proxy.corp:3128"),
            ("npm_config_proxy", "http://other:8080"),
            ("GH_TOKEN", "s3cr3t-t0ken"),
            ("HELLO_MIRROR", mirror),
        ],
    );
    run.assert_ok();
    let cache = path_str(&world.cache());
    let rc = path_str(&npmrc);
    for line in [
        format!("postbin {}", env!("CARGO_PKG_VERSION")),
        format!("forced target: {TARGET} (from env POSTBIN_TARGET)"),
        "package: hello 1.0.0".into(),
        "env prefix: HELLO".into(),
        format!("target: {TARGET}"),
        "format: tar.gz".into(),
        format!(
            "  1. https://***@mirror.corp/gh/{RELEASE_DIR}/{ASSET} (via proxy http://***@proxy.corp:3128 (from env HTTPS_PROXY))"
        ),
        format!("hash: pinned in package.json (sha256 {sha})"),
        "mirror: https://***@mirror.corp/gh (from env HELLO_MIRROR)".into(),
        "https proxy: http://***@proxy.corp:3128 (from env HTTPS_PROXY)".into(),
        "http proxy: http://other:8080 (from env npm_config_proxy)".into(),
        format!("no proxy: internal.corp (from {rc})"),
        format!("ca file: /corp/ca.pem (missing!) (from {rc})"),
        "ca inline: none".into(),
        format!("strict-ssl: false (from {rc})"),
        "offline: false (default)".into(),
        "github token: set (from env GH_TOKEN) (sent only over HTTPS to github.com, api.github.com)"
            .into(),
        format!("cache dir: {cache} (from env POSTBIN_CACHE_DIR)"),
        "cache: empty (not created yet)".into(),
    ] {
        assert_line(&run, &line);
    }
    for secret in ["s3cr3t-t0ken", "proxy-pw", "mirror-pw", "proxy-user"] {
        assert_not_printed(&run, secret);
    }
    // Read only: the report created no cache.
    assert!(!world.cache().join("v1").exists());
    world.assert_no_requests();
}

#[test]
fn the_cache_state_follows_the_install() {
    let (world, _) = published();
    assert_line(&doctor(&world, &[], &[]), "cache: empty (not created yet)");
    world.install().assert_ok();
    let run = doctor(&world, &[], &[]);
    run.assert_stdout_has(&["cache archive: cached ("]);
    assert_line(&run, "cache tree: unpacked");
    assert_line(&run, "installed in the package: yes");
}

#[test]
fn without_a_package_it_reports_the_host_and_settings() {
    let world = World::new();
    let run = world.postbin_env(&["doctor"], &[("GITHUB_TOKEN", "s3cr3t-t0ken")]);
    run.assert_ok();
    run.assert_stdout_has(&["host targets: "]);
    run.assert_stdout_has(&["package: none ("]);
    assert_line(&run, "mirror: none (the publisher's URL)");
    assert_line(&run, "strict-ssl: true (default)");
    assert_not_printed(&run, "s3cr3t-t0ken");
}

#[test]
fn an_unsupported_platform_is_reported_with_its_exit_code() {
    let (world, _) = published();
    let run = doctor(
        &world,
        &[],
        &[("POSTBIN_TARGET", "riscv64gc-unknown-linux-gnu")],
    );
    run.assert_exit(exit::UNSUPPORTED_PLATFORM);
    assert!(
        run.stdout.contains("problem: ") && run.stdout.contains(TARGET),
        "{}",
        run.stdout
    );
    // The settings are still reported.
    run.assert_stdout_has(&["cache dir: "]);
}

#[test]
fn check_heads_every_source_and_exits_0_when_all_answer() {
    let (world, _) = published();
    let mirror = world.mirror_copy("mirror");
    let mirrors = format!("{},file://{}", world.fixture.base_url(), path_str(&mirror));

    let run = doctor(&world, &["--check"], &[("POSTBIN_MIRROR", &mirrors)]);
    run.assert_ok();
    run.assert_stdout_has(&[": ok, HTTP 200 in "]);
    run.assert_stdout_has(&[": ok, present ("]);
    assert_line(&run, "check: every source answered");
    let methods: Vec<String> = asset_requests(&world)
        .iter()
        .map(|r| format!("{} {}", r.method, r.status))
        .collect();
    assert_eq!(methods, ["HEAD 302", "HEAD 200"]);
    // Checking downloads nothing and caches nothing.
    assert!(!world.cache().join("v1").exists());
}

#[test]
fn check_exits_5_when_a_source_fails() {
    let (world, _) = published();
    world.fault_asset(Fault::Status(404), None);

    let run = doctor(&world, &["--check"], &[]);
    run.assert_exit(exit::NETWORK);
    run.assert_stdout_has(&[": FAILED in "]);
    run.assert_stdout_has(&["404"]);
    assert_line(&run, "check: 1 of 1 sources failed");
}
