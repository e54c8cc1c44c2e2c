//! Mirrors and `.npmrc`, end to end: a mirror list tried in order, a
//! `file://` mirror with no server at all, which setting wins (package
//! variable, generic variable, `npm_config_*`, project then user `.npmrc`),
//! and `${VAR}` expansion in `.npmrc`.

use crate::net_servers::free_port;
use crate::support::*;
use server_fixture::Host;
use std::path::{Path, PathBuf};

/// A `file://` URL for a directory.
fn file_url(dir: &Path) -> String {
    format!("file://{}", path_str(dir))
}

#[test]
fn mirrors_are_tried_in_order_past_a_404_and_a_dead_one() {
    let (world, _) = published();
    let missing = format!("{}/no-such-mirror", world.fixture.base_url());
    let dead = format!("http://127.0.0.1:{}", free_port());
    let good = world.fixture.base_url();

    let run = world.install_env(&[
        ("POSTBIN_MIRROR", &format!("{missing}, {dead} {good}")),
        ("POSTBIN_LOG", "debug"),
    ]);
    run.assert_ok();
    assert_runs(&world.placed("hello"));
    let paths: Vec<(String, u16)> = world
        .requests()
        .into_iter()
        .map(|r| (r.path.split('?').next().unwrap().to_string(), r.status))
        .collect();
    let asset = World::asset_path(ASSET);
    assert_eq!(
        paths,
        [
            (format!("/no-such-mirror{asset}"), 404),
            (asset.clone(), 302),
            (asset, 200)
        ]
    );
    // The dead mirror was tried in between (and said so at debug level).
    assert!(run.stderr.contains(&dead), "{}", run.stderr);
}

#[test]
fn a_file_mirror_needs_no_server() {
    let (world, _) = published();
    let mirror = world.mirror_copy("mirror");

    world.assert_installs(&[("POSTBIN_MIRROR", &file_url(&mirror))]);
    world.assert_no_requests();
}

#[test]
fn every_mirror_failing_lists_each_attempt() {
    let (world, _) = published();
    let empty = world.base().join("empty-mirror");
    std::fs::create_dir_all(&empty).unwrap();
    let missing = format!("{}/no-such-mirror", world.fixture.base_url());

    world.assert_install_fails(
        &[("POSTBIN_MIRROR", &format!("{},{missing}", file_url(&empty)))],
        exit::NETWORK,
        &["2 attempt", "empty-mirror", "no-such-mirror", "404"],
    );
}

/// Four file mirrors, one per way of setting the mirror; only `winner`
/// holds the release, so an install succeeds only if the winner was used.
struct Mirrors {
    dirs: Vec<PathBuf>,
}

const WAYS: [&str; 5] = [
    "HELLO_MIRROR",
    "POSTBIN_MIRROR",
    "npm_config_postbin_mirror",
    "project .npmrc",
    "user .npmrc",
];

impl Mirrors {
    fn new(world: &World, winner: usize) -> Mirrors {
        let dirs: Vec<PathBuf> = (0..WAYS.len())
            .map(|i| world.base().join(format!("mirror-{i}")))
            .collect();
        for (i, dir) in dirs.iter().enumerate() {
            let _ = std::fs::remove_dir_all(dir);
            if i == winner {
                copy_tree(&world.root(), dir);
            } else {
                std::fs::create_dir_all(dir).unwrap();
            }
        }
        Mirrors { dirs }
    }
}

#[test]
fn the_most_specific_mirror_setting_wins() {
    let (world, _) = published();
    let project = world.base().join("project");
    let user = world.base().join("user.npmrc");
    std::fs::create_dir_all(&project).unwrap();

    for (winner, way) in WAYS.iter().enumerate() {
        let mirrors = Mirrors::new(&world, winner);
        let url = |i: usize| file_url(&mirrors.dirs[i]);
        std::fs::write(
            project.join(".npmrc"),
            format!("postbin-mirror={}\n", url(3)),
        )
        .unwrap();
        std::fs::write(&user, format!("postbin-mirror={}\n", url(4))).unwrap();
        let mut env: Vec<(&str, String)> = vec![
            ("INIT_CWD", path_str(&project)),
            ("npm_config_userconfig", path_str(&user)),
        ];
        for (i, name) in WAYS.iter().enumerate().take(3).skip(winner) {
            env.push((name, url(i)));
        }
        if winner == 4 {
            std::fs::remove_file(project.join(".npmrc")).unwrap();
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

        let _ = std::fs::remove_dir_all(world.cache());
        let _ = std::fs::remove_dir_all(world.pkg().join(".postbin"));
        world.install_env(&env).assert_ok();
        assert_runs(&world.placed("hello"));

        // doctor names the same mirror and where it came from.
        let pkg = path_str(&world.pkg());
        let mut doctor_env = env.clone();
        doctor_env.push(("POSTBIN_TARGET", TARGET));
        let doctor = world.postbin_env(&["doctor", "--package", &pkg], &doctor_env);
        doctor.assert_ok();
        let origin = match winner {
            0..=2 => format!("(from env {way})"),
            3 => format!("(from {})", path_str(&project.join(".npmrc"))),
            _ => format!("(from {})", path_str(&user)),
        };
        let line = format!("mirror: {} {origin}", url(winner));
        assert!(
            doctor.stdout.lines().any(|l| l == line),
            "{way} wins: no line {line:?} in\n{}",
            doctor.stdout
        );
    }
    world.assert_no_requests();
}

#[test]
fn npmrc_values_expand_environment_variables() {
    let (world, _) = published();
    let mirror = world.mirror_copy("expanded-mirror");
    let project = world.project_with_npmrc(
        "; the mirror lives wherever the CI put it\npostbin-mirror=file://${PB_TEST_MIRROR_DIR}\n",
    );

    world.assert_installs(&[
        ("INIT_CWD", &path_str(&project)),
        ("PB_TEST_MIRROR_DIR", &path_str(&mirror)),
    ]);
    world.assert_no_requests();
}

#[test]
fn a_mirror_with_a_path_prefix_replaces_only_the_origin() {
    let (world, _) = published();
    let prefixed = world.root().join("gh");
    copy_tree(&world.root().join("acme"), &prefixed.join("acme"));

    world.assert_installs(&[("HELLO_MIRROR", &format!("{}/gh/", world.fixture.base_url()))]);
    // The main host serves files outside the release route directly.
    let requests = world.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].host, Host::Main);
    assert_eq!(requests[0].path, format!("/gh{}", World::asset_path(ASSET)));
}

/// `0.0.0.0` is not loopback by postbin's rules (so plain HTTP to it needs
/// configuring), yet Linux delivers connections to it locally: a stand-in
/// for a plain-HTTP mirror on another machine.
#[cfg(target_os = "linux")]
#[test]
fn an_explicit_plain_http_mirror_works_with_one_note_line() {
    let (world, _) = published();
    let port = world
        .fixture
        .base_url()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let mirror = format!("http://0.0.0.0:{port}");

    let run = world.install_env(&[("POSTBIN_MIRROR", &mirror), ("POSTBIN_LOG", "info")]);
    run.assert_ok();
    assert_runs(&world.placed("hello"));
    let notes: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("note: downloading over plain HTTP"))
        .collect();
    assert_eq!(notes.len(), 1, "{}", run.stderr);
    assert!(notes[0].contains(&mirror), "{}", notes[0]);

    // The same host as the publisher's own URL is refused: nobody configured it.
    let mut section = world.section("tar.gz", &sha256(&crate::archives::flat_tar().gz()));
    section["url"] = world
        .url_template()
        .replacen("127.0.0.1", "0.0.0.0", 1)
        .into();
    world.package(section);
    let _ = std::fs::remove_dir_all(world.pkg().join(".postbin"));
    let _ = std::fs::remove_dir_all(world.cache());
    world
        .install()
        .assert_exit(exit::NETWORK)
        .assert_stderr_has(&["plain HTTP is allowed only", "POSTBIN_MIRROR"]);
}
