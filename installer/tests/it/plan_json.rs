//! `postbin plan --json`: the fetch plan as install would resolve it, printed
//! without a single request, in the shape docs/cli.md promises.

use crate::support::*;
use serde_json::{Value, json};

fn plan_json(run: &Run) -> Value {
    run.assert_ok();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn plan_json_lists_urls_in_order_hash_size_format_and_bins_without_a_request() {
    let world = World::new();
    let sha = "ab".repeat(32);
    world.package(json!({
        "url": world.url_template(),
        "format": "tar.gz",
        "bin": { "hello": "hello-{target}/hello{exe}" },
        "targets": {
            TARGET: { "sha256": sha, "size": 1234 },
            WINDOWS: { "sha256": "cd".repeat(32), "format": "zip" }
        }
    }));
    let mirror = "https://mirror.corp/gh";
    let run = world.postbin_env(
        &[
            "plan",
            "--json",
            "--package",
            &path_str(&world.pkg()),
            "--targets",
            "all",
        ],
        &[("POSTBIN_MIRROR", mirror)],
    );
    let plan = plan_json(&run);

    assert_eq!(plan["schema"], 1);
    assert_eq!(
        plan["package"],
        json!({ "name": "hello", "version": "1.0.0" })
    );
    let targets = plan["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    let linux = targets.iter().find(|t| t["target"] == TARGET).unwrap();
    let asset = format!("hello-{TARGET}.tar.gz");
    assert_eq!(linux["asset"], asset);
    assert_eq!(linux["format"], "tar.gz");
    assert_eq!(linux["sha256"], sha);
    assert_eq!(linux["hash"], json!({ "from": "pinned" }));
    assert_eq!(linux["size"], 1234);
    // A mirror replaces the origin: only its URL is tried.
    assert_eq!(
        linux["urls"],
        json!([format!("{mirror}{}", World::asset_path(&asset))])
    );
    assert_eq!(
        linux["bins"],
        json!([{ "name": "hello", "path": format!("hello-{TARGET}/hello"), "file": "hello" }])
    );
    let windows = targets.iter().find(|t| t["target"] == WINDOWS).unwrap();
    assert_eq!(windows["format"], "zip");
    assert_eq!(windows["size"], Value::Null);
    assert_eq!(
        windows["bins"][0]["path"],
        format!("hello-{WINDOWS}/hello.exe")
    );
    assert!(world.requests().is_empty(), "plan makes no request");
}

#[test]
fn plan_json_of_an_unpinned_target_names_its_checksums_file() {
    let world = World::new();
    world.package(world.unpinned_section(true));
    let run = world.postbin(&[
        "plan",
        "--json",
        "--package",
        &path_str(&world.pkg()),
        "--targets",
        TARGET,
    ]);
    let plan = plan_json(&run);
    let target = &plan["targets"][0];
    assert_eq!(target["sha256"], Value::Null);
    assert_eq!(target["hash"]["from"], "checksums-file");
    assert_eq!(
        target["hash"]["urls"],
        json!([format!("{}/{}/SHA256SUMS", world.base_url(), RELEASE_DIR)])
    );
}

#[test]
fn plan_for_a_target_the_package_does_not_offer_exits_2_naming_the_offered_ones() {
    let world = World::new();
    world.package(world.section("tar.gz", &"ab".repeat(32)));
    world
        .postbin(&[
            "plan",
            "--package",
            &path_str(&world.pkg()),
            "--targets",
            "sparc-sun-solaris",
        ])
        .assert_exit(exit::USAGE)
        .assert_stderr_line(&format!(
            "postbin: error: hello offers no binary for sparc-sun-solaris; it offers: {TARGET}"
        ));
}
