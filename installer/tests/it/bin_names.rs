//! Command names and launcher paths from package.json: postbin writes at
//! `.postbin/bin/<name>[.exe]` and (speed path) at each launcher path, so a
//! name or path that leads outside the package, or that some platform
//! cannot hold as a file, is refused with exit 3 before any download.

use crate::archives::flat_tar;
use crate::support::*;
use serde_json::{Value, json};

/// A published tool whose package.json has this `bin` (and, if given, this
/// `postbin.bin`).
fn tool(world: &World, bin: Value, postbin_bin: Option<Value>) {
    let sha = world.publish(&format!("hello-{TARGET}.tar.gz"), &flat_tar().gz());
    let mut section = world.section("tar.gz", &sha);
    if let Some(map) = postbin_bin {
        section["bin"] = map;
    }
    let manifest = json!({
        "name": "hello",
        "version": "1.0.0",
        "bin": bin,
        "postbin": section,
    });
    std::fs::write(world.pkg().join("package.json"), manifest.to_string()).unwrap();
}

/// A new world with that tool published.
fn published_tool(bin: Value, postbin_bin: Option<Value>) -> World {
    let world = World::new();
    tool(&world, bin, postbin_bin);
    world
}

#[track_caller]
fn refused(world: &World, field: &str) -> Run {
    let run = world.install();
    run.assert_exit(exit::CONFIG)
        .assert_stderr_has(&[&format!("`{field}`")]);
    world.assert_untouched();
    run
}

#[test]
fn a_command_name_leading_out_of_the_package_is_refused_before_any_download() {
    let world = World::new();
    let name = "../../../../tmp/postbin-it-PWNED-bin-name";
    tool(&world, json!({ name: "bin/hello" }), None);
    refused(&world, &format!("bin.{name}")).assert_stderr_has(&["not a plain file name"]);
    world.assert_no_escape("postbin-it-PWNED-bin-name");
    // `which` and `doctor` read the same package.json and refuse it too.
    let pkg = path_str(&world.pkg());
    world
        .postbin(&["which", "--package", &pkg])
        .assert_exit(exit::CONFIG);
    world
        .postbin(&["doctor", "--package", &pkg])
        .assert_exit(exit::CONFIG);
}

#[test]
fn a_command_name_with_a_directory_is_a_configuration_error_not_a_file_system_one() {
    let world = published_tool(json!({ "sub/evil": "bin/hello" }), None);
    refused(&world, "bin.sub/evil");
    assert!(
        !world
            .pkg()
            .join(".postbin")
            .join("bin")
            .join("sub")
            .exists()
    );
}

#[test]
fn windows_device_names_are_refused_on_every_host() {
    for name in ["CON", "nul", "Com1.exe", "lpt3.tar.gz", "aux"] {
        let world = World::new();
        tool(&world, json!({ name: "bin/hello" }), None);
        refused(&world, &format!("bin.{name}")).assert_stderr_has(&["device name on Windows"]);
    }
}

#[test]
fn names_no_platform_can_hold_or_run_are_refused() {
    for name in [
        "a\\b",
        "c:d",
        "tab\tname",
        "",
        ".",
        "..",
        ".hidden",
        "-x",
        "dot.",
    ] {
        let world = World::new();
        tool(&world, json!({ name: "bin/hello" }), None);
        refused(&world, &format!("bin.{}", name.escape_debug()));
    }
}

#[test]
fn two_commands_differing_only_by_case_are_refused() {
    let world = published_tool(
        json!({ "Hello": "bin/a", "hello": "bin/b" }),
        Some(json!({ "Hello": "hello", "hello": "hello" })),
    );
    refused(&world, "bin.hello").assert_stderr_has(&["only by case"]);
}

#[test]
fn a_bad_name_in_the_postbin_bin_map_names_that_field() {
    let world = published_tool(
        json!({ "hello": "bin/hello" }),
        Some(json!({ "hello": "hello", "../evil": "hello" })),
    );
    refused(&world, "postbin.bin.../evil");
}

#[test]
fn a_launcher_path_outside_the_package_is_never_written() {
    let world = World::new();
    // Outside the package, a file that looks like a postbin launcher: the
    // speed path would replace it with the executable.
    let outside = world.base().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("hello");
    let launcher = b"#!/usr/bin/env node\n// postbin-launcher\n";
    std::fs::write(&victim, launcher).unwrap();
    for path in ["../outside/hello", "bin/../../outside/hello", "/etc/hello"] {
        tool(&world, json!({ "hello": path }), None);
        let run = world.install_env(&[
            ("npm_lifecycle_event", "postinstall"),
            ("npm_config_user_agent", "npm/11.0.0 node/v22.0.0 linux x64"),
        ]);
        run.assert_exit(exit::CONFIG)
            .assert_stderr_has(&["`bin.hello`", "inside the package"]);
        assert_eq!(std::fs::read(&victim).unwrap(), launcher, "{path}");
        world.assert_untouched();
    }
}

#[test]
fn ordinary_names_still_install() {
    let world = published_tool(
        json!({ "hello": "bin/hello", "hello-2.x": "./bin/hello2" }),
        Some(json!({ "hello": "hello", "hello-2.x": "hello" })),
    );
    world.assert_installs(&[]);
    assert_runs(&world.placed("hello-2.x"));
}
