//! The publisher's own repository: a package that is not inside a
//! node_modules tree gets nothing placed in it (its `npm pack` would ship
//! it); `postbin check` catches what would be packed wrong; `init` keeps
//! package.json's style, wires `prepack` and keeps `.postbin/` out of the
//! package; `init --workflow github --build` agrees with the section.

use crate::archives::flat_tar;
use crate::support::*;
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};

const HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The tool's own checkout, outside any node_modules, set up by `init`,
/// with its asset published and pinned.
fn checkout(world: &World) -> PathBuf {
    let sha = world.publish(ASSET, &flat_tar().gz());
    let repo = world.dir.path().join("repo");
    package(&repo, world.section("tar.gz", &sha));
    init(world, &repo).assert_ok();
    repo
}

fn init(world: &World, dir: &Path) -> Run {
    world.postbin(&["init", "--package", &path_str(dir)])
}

fn check(world: &World, dir: &Path) -> Run {
    world.postbin(&["check", "--package", &path_str(dir)])
}

/// bin/ holds exactly the launcher `init` wrote, and there is no .postbin/.
#[track_caller]
fn assert_untouched(repo: &Path) {
    assert!(!repo.join(".postbin").exists(), "a .postbin/ was written");
    let names: Vec<_> = list(&repo.join("bin"));
    assert_eq!(names, [repo.join("bin/hello")]);
    assert!(
        postbin::link::is_our_launcher(&repo.join("bin/hello")),
        "bin/hello is still the launcher"
    );
}

#[test]
fn install_in_a_checkout_fills_the_cache_and_writes_nothing_in_the_package() {
    let world = World::new();
    let repo = checkout(&world);
    // The target the install below is for (under qemu the host is another).
    let which = || {
        world.postbin_env(
            &["which", "--package", &path_str(&repo)],
            &[("POSTBIN_TARGET", TARGET)],
        )
    };
    which()
        .assert_exit(exit::FAILURE)
        .assert_stderr_has(&["not installed"]);
    let run = world.postbin(&["install", "--package", &path_str(&repo), "--target", TARGET]);
    run.assert_ok();
    assert_eq!(run.stdout, "", "only --cache-only prints paths");
    assert_untouched(&repo);
    assert_eq!(list(&world.cache().join("v1").join("archives")).len(), 1);
    check(&world, &repo).assert_ok();
    // `which` finds what the launchers run: the verified file in the cache,
    // with no request.
    world.fixture.clear_requests();
    let found = which();
    found.assert_ok();
    let path = PathBuf::from(found.stdout.trim_end());
    assert!(path.starts_with(world.cache()), "{}", path.display());
    assert_runs(&path);
    assert!(world.requests().is_empty(), "which made no request");
    assert_untouched(&repo);
}

#[test]
fn the_checkouts_own_npm_install_does_nothing_at_all() {
    let world = World::new();
    let repo = checkout(&world);
    let env = [
        ("npm_lifecycle_event", "postinstall"),
        (
            "npm_config_user_agent",
            "npm/11.19.1 node/v22.22.0 linux x64",
        ),
        ("POSTBIN_LOG", "info"),
    ];
    let run = world.postbin_env(
        &["install", "--package", &path_str(&repo), "--target", TARGET],
        &env,
    );
    run.assert_ok();
    run.assert_stderr_line(&format!(
        "postbin: nothing installed in {}: it is not inside node_modules (the tool's own \
         repository?); its launchers run the tool from the postbin cache",
        repo.display()
    ));
    world.assert_no_requests();
    assert_untouched(&repo);
    assert_nothing_cached(&world.cache());
}

/// Inside node_modules the same install places the executable and takes
/// the speed path, as before.
#[cfg(unix)]
#[test]
fn inside_node_modules_the_install_places_and_exposes() {
    let world = World::new();
    let sha = world.publish(ASSET, &flat_tar().gz());
    let pkg = world.dir.path().join("project/node_modules/hello");
    package(&pkg, world.section("tar.gz", &sha));
    init(&world, &pkg).assert_ok();
    let env = [
        ("npm_lifecycle_event", "postinstall"),
        (
            "npm_config_user_agent",
            "npm/11.19.1 node/v22.22.0 linux x64",
        ),
    ];
    world
        .postbin_env(
            &["install", "--package", &path_str(&pkg), "--target", TARGET],
            &env,
        )
        .assert_ok();
    assert_runs(&placed(&pkg, "hello"));
    assert_eq!(fs::read(pkg.join("bin/hello")).unwrap(), SCRIPT);
}

/// The launcher in a checkout runs the tool from the cache (needs `node`;
/// skipped where there is none, and for an installer run through a runner).
#[test]
fn the_launcher_in_a_checkout_runs_the_tool_from_the_cache() {
    if std::env::var_os("POSTBIN_TEST_RUNNER").is_some() || cfg!(windows) {
        return;
    }
    let world = World::new();
    let repo = checkout(&world);
    let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shim-js");
    fs::create_dir_all(repo.join("node_modules")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        fs::canonicalize(shim).unwrap(),
        repo.join("node_modules/postbin"),
    )
    .unwrap();
    let installer = std::env::var_os("POSTBIN_TEST_INSTALLER")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_postbin").into());
    let out = match std::process::Command::new("node")
        .arg(repo.join("bin/hello"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", world.home())
        .env("POSTBIN_CACHE_DIR", world.cache())
        .env("POSTBIN_TARGET", TARGET)
        .env("POSTBIN_INSTALLER_PATH", installer)
        .env("POSTBIN_RETRIES", "0")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: no node ({e})");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), SCRIPT_OUTPUT);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "postbin: {} is not inside node_modules (the tool's own repository?); running hello from the postbin cache",
            repo.display()
        )
    );
    assert!(!repo.join(".postbin").exists(), "a .postbin/ was written");
    assert!(postbin::link::is_our_launcher(&repo.join("bin/hello")));
}

#[test]
fn check_passes_on_what_init_and_pin_wrote() {
    let world = World::new();
    let repo = checkout(&world);
    let run = check(&world, &repo);
    run.assert_ok();
    assert_eq!(
        run.stdout,
        format!(
            "{}: 1 launcher(s) as postbin writes them, 1 target(s) pinned, no .postbin/ packed\n",
            repo.display()
        )
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn check_fails_on_a_native_executable_in_place_of_the_launcher() {
    let world = World::new();
    let repo = checkout(&world);
    fs::remove_file(repo.join("bin/hello")).unwrap();
    fs::write(repo.join("bin/hello"), b"\x7fELF\x02\x01\x01rest").unwrap();
    check(&world, &repo).assert_exit(exit::FAILURE).assert_stderr_line(
        "postbin: check: bin/hello (bin.hello) is a native executable, not the launcher postbin \
         writes (an install in this checkout replaced it); delete it and run `npx postbin init` \
         to write the launcher",
    );
    // A publisher's own script there is named too, and so is a stale launcher.
    fs::write(
        repo.join("bin/hello"),
        "#!/usr/bin/env node\nconsole.log(1)\n",
    )
    .unwrap();
    check(&world, &repo).assert_exit(exit::FAILURE).assert_stderr_line(
        "postbin: check: bin/hello (bin.hello) is not the launcher postbin writes; delete it and \
         run `npx postbin init` to write the launcher",
    );
    fs::write(
        repo.join("bin/hello"),
        "#!/usr/bin/env node\n// postbin-launcher\n",
    )
    .unwrap();
    check(&world, &repo).assert_exit(exit::FAILURE).assert_stderr_line(
        "postbin: check: bin/hello (bin.hello) is a launcher from another postbin version, or was \
         edited; run `npx postbin init` to write it again",
    );
    init(&world, &repo).assert_ok();
    check(&world, &repo).assert_ok();
}

#[test]
fn check_fails_on_a_target_without_a_pinned_hash() {
    let world = World::new();
    let repo = checkout(&world);
    let json_path = repo.join("package.json");
    let mut v: Value = serde_json::from_str(&fs::read_to_string(&json_path).unwrap()).unwrap();
    v["postbin"]["targets"]["aarch64-apple-darwin"] = json!({});
    fs::write(&json_path, v.to_string()).unwrap();
    let run = check(&world, &repo);
    run.assert_exit(exit::FAILURE).assert_stderr_line(
        "postbin: check: postbin.targets.aarch64-apple-darwin has no pinned sha256; run `npx \
         postbin pin --checksums FILE|URL` (or `--download`) to pin it, or remove the target",
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn check_fails_when_postbin_dir_would_be_packed() {
    let world = World::new();
    let repo = checkout(&world);
    // What an older postbin left in the checkout.
    fs::create_dir_all(repo.join(".postbin/bin")).unwrap();
    fs::write(repo.join(".postbin/bin/hello"), SCRIPT).unwrap();
    check(&world, &repo).assert_ok();
    // The .npmignore init wrote, gone; a .gitignore without the line.
    fs::remove_file(repo.join(".npmignore")).unwrap();
    fs::write(repo.join(".gitignore"), "node_modules/\n").unwrap();
    check(&world, &repo)
        .assert_exit(exit::FAILURE)
        .assert_stderr_line(&format!(
            "postbin: check: {} would be packed into the npm package (.gitignore does not ignore \
         it); add `.postbin/` to .gitignore (`npx postbin init` does), or delete the directory",
            repo.join(".postbin").display()
        ));
    fs::remove_file(repo.join(".gitignore")).unwrap();
    check(&world, &repo)
        .assert_exit(exit::FAILURE)
        .assert_stderr_line(&format!(
            "postbin: check: {} would be packed into the npm package (there is no .npmignore or \
         .gitignore); add `.postbin/` to .npmignore (`npx postbin init` does), or delete the \
         directory",
            repo.join(".postbin").display()
        ));
    init(&world, &repo).assert_ok();
    check(&world, &repo).assert_ok();
    assert!(repo.join(".npmignore").is_file());
}

fn section() -> Value {
    json!({
        "url": "https://github.com/acme/hello/releases/download/v{version}/hello-{target}.{format}",
        "targets": { TARGET: { "sha256": HASH } }
    })
}

/// Writes package.json as `text`, runs init, returns the new text.
fn init_text(text: &str) -> String {
    let world = World::new();
    let repo = world.dir.path().join("repo");
    fs::create_dir_all(&repo).unwrap();
    fs::write(repo.join("package.json"), text).unwrap();
    init(&world, &repo).assert_ok();
    fs::read_to_string(repo.join("package.json")).unwrap()
}

/// Every line of `before` is in `after` (a comma may be added), in order.
#[track_caller]
fn assert_lines_kept(before: &str, after: &str) {
    let mut rest = after.split('\n');
    for line in before.split('\n') {
        let line = line.trim_end_matches(['\r', ',']);
        assert!(
            rest.any(|l| l.trim_end_matches(['\r', ',']) == line),
            "the line {line:?} is gone or moved:\n{after}"
        );
    }
}

#[test]
fn init_keeps_four_spaces_tabs_and_crlf() {
    let manifest = json!({
        "name": "hello", "version": "1.0.0", "description": "d",
        "bin": {"hello": "bin/hello"}, "postbin": section(),
    });
    let pretty = |indent: &str| {
        let text = serde_json::to_string_pretty(&manifest).unwrap();
        text.lines()
            .map(|l| {
                let n = l.len() - l.trim_start().len();
                format!("{}{}", indent.repeat(n / 2), l.trim_start())
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let four = format!("{}\n", pretty("    "));
    let after = init_text(&four);
    assert_lines_kept(&four, &after);
    assert!(after.contains("\n    \"scripts\": {\n        \"postinstall\": \"postbin install\","));
    assert!(!after.contains('\t') && !after.contains('\r') && after.ends_with("}\n"));

    let tabs_crlf = pretty("\t").replace('\n', "\r\n");
    let after = init_text(&tabs_crlf);
    assert_lines_kept(&tabs_crlf, &after);
    assert!(after.contains("\r\n\t\"scripts\": {\r\n\t\t\"postinstall\": \"postbin install\","));
    assert_eq!(after.matches('\n').count(), after.matches("\r\n").count());
    assert!(after.ends_with('}'), "no final newline, as before");
    let keys: Vec<String> = serde_json::from_str::<Value>(&after)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys[..5],
        ["name", "version", "description", "bin", "postbin"]
    );
}

#[test]
fn init_wires_prepack_and_keeps_postbin_dir_out_of_the_package() {
    let world = World::new();
    let repo = world.dir.path().join("repo");
    package(&repo, section());
    let json_path = repo.join("package.json");
    let mut v: Value = serde_json::from_str(&fs::read_to_string(&json_path).unwrap()).unwrap();
    v["scripts"] = json!({"prepack": "tsc"});
    fs::write(&json_path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let run = init(&world, &repo);
    run.assert_ok();
    // No ignore file at all: a new .npmignore (a new .gitignore would make
    // npm 11 warn `gitignore-fallback` on every pack).
    assert!(run.stdout.contains(&format!(
        "added .postbin/ to {} (keeps it out of the npm package)\n",
        repo.join(".npmignore").display()
    )));
    let v: Value = serde_json::from_str(&fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(v["scripts"]["prepack"], "postbin check && tsc");
    assert_eq!(v["scripts"]["postinstall"], "postbin install");
    let npmignore = fs::read_to_string(repo.join(".npmignore")).unwrap();
    assert!(npmignore.ends_with("\n.postbin/\n"), "{npmignore}");
    assert!(!repo.join(".gitignore").exists());
    let again = init(&world, &repo);
    again.assert_ok();
    assert_eq!(
        again.stdout,
        format!("{} is already set up\n", repo.display())
    );

    // `init` in a new package holding only `file` with `before` in it: what
    // that file holds after, and that the other ignore file was not made.
    let ignore_after_init = |dir: &str, file: &str, before: &str, other_file: &str| {
        let dir = world.dir.path().join(dir);
        package(&dir, section());
        fs::write(dir.join(file), before).unwrap();
        init(&world, &dir).assert_ok();
        assert!(!dir.join(other_file).exists(), "{other_file} made");
        fs::read_to_string(dir.join(file)).unwrap()
    };
    // An .npmignore is what npm reads: the line goes there, after what it holds.
    assert_eq!(
        ignore_after_init("other", ".npmignore", "tests/\r\n*.log", ".gitignore"),
        "tests/\r\n*.log\r\n.postbin/\r\n"
    );
    let other = world.dir.path().join("other");
    // A .gitignore, which npm reads when there is no .npmignore: the line
    // goes there (a new .npmignore would unread it and pack more).
    assert_eq!(
        ignore_after_init("ignored", ".gitignore", "target/\n", ".npmignore"),
        "target/\n.postbin/\n"
    );
    let v: Value =
        serde_json::from_str(&fs::read_to_string(other.join("package.json")).unwrap()).unwrap();
    assert_eq!(v["scripts"]["prepack"], "postbin check");

    // A `files` list packs only what it names: nothing to add.
    let listed = world.dir.path().join("listed");
    package(&listed, section());
    let mut v: Value =
        serde_json::from_str(&fs::read_to_string(listed.join("package.json")).unwrap()).unwrap();
    v["files"] = json!(["README.md"]);
    fs::write(listed.join("package.json"), v.to_string()).unwrap();
    init(&world, &listed).assert_ok();
    assert!(!listed.join(".gitignore").exists() && !listed.join(".npmignore").exists());
}

/// The matrix entries of a workflow (one JSON object per line).
fn matrix(yaml: &str) -> Vec<Value> {
    yaml.lines()
        .filter_map(|l| l.trim_start().strip_prefix("- {"))
        .map(|l| serde_json::from_str(&format!("{{{l}")).unwrap())
        .collect()
}

#[test]
fn the_release_workflow_agrees_with_the_section() {
    let world = World::new();
    let repo = world.dir.path().join("repo");
    let pkg = repo.join("npm");
    fs::create_dir_all(repo.join(".git")).unwrap();
    fs::write(repo.join("Cargo.toml"), "[package]\nname = \"hello\"\n").unwrap();
    let base = "https://github.com/acme/hello/releases/download/v{version}";
    package(
        &pkg,
        json!({
            "url": format!("{base}/hello-{{target}}.{{format}}"),
            "format": "tar.xz",
            "bin": { "hello": "hello-{target}/hello{exe}" },
            "targets": {
                "x86_64-unknown-linux-musl": { "sha256": HASH },
                "aarch64-unknown-linux-musl": { "sha256": HASH },
                "aarch64-apple-darwin": { "sha256": HASH },
                "x86_64-pc-windows-msvc": { "sha256": HASH, "format": "zip" },
                "x86_64-unknown-linux-gnu": {
                    "sha256": HASH,
                    "url": format!("{base}/hello_{{version}}_{{os}}_{{arch}}.{{format}}"),
                    "format": "tar.gz",
                    "bin": { "hello": "hello" }
                }
            }
        }),
    );
    let pkg_s = path_str(&pkg);
    let write_workflow = || {
        world.postbin(&[
            "init",
            "--package",
            &pkg_s,
            "--workflow",
            "github",
            "--build",
        ])
    };
    let run = write_workflow();
    run.assert_ok();
    let file = repo.join(".github/workflows/npm-publish.yml");
    assert!(
        run.stdout.contains(&format!("wrote {}\n", file.display())),
        "{}",
        run.stdout
    );
    let yaml = fs::read_to_string(&file).unwrap();

    // What install would fetch, for version 1.0.0, by `postbin plan`.
    let plan = world.postbin(&["plan", "--json", "--targets", "all", "--package", &pkg_s]);
    plan.assert_ok();
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    let mut planned: Vec<(String, String, String, String)> = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let bins = strings_at(&t["bins"], "path");
            (
                t["target"].as_str().unwrap().to_string(),
                t["asset"].as_str().unwrap().to_string(),
                t["format"].as_str().unwrap().to_string(),
                bins.join(" "),
            )
        })
        .collect();
    let mut built: Vec<(String, String, String, String)> = matrix(&yaml)
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap().replace("{version}", "1.0.0");
            (s("target"), s("asset"), s("format"), s("bins"))
        })
        .collect();
    planned.sort();
    built.sort();
    assert_eq!(built, planned, "{yaml}");
    assert!(
        built
            .iter()
            .any(|b| b.1 == "hello_1.0.0_linux_amd64.tar.gz")
    );
    // Each target on a runner that can build it.
    for m in matrix(&yaml) {
        let (target, os) = (m["target"].as_str().unwrap(), m["os"].as_str().unwrap());
        let want = match target {
            "aarch64-apple-darwin" => ("macos-latest", false),
            "x86_64-pc-windows-msvc" => ("windows-latest", false),
            _ => ("ubuntu-latest", true),
        };
        assert_eq!((os, m["zig"].as_bool().unwrap()), want, "{target}");
    }
    for needle in [
        "  release:\n    types: [published]\n",
        "      id-token: write\n",
        "    needs: upload\n",
        "    defaults:\n      run:\n        working-directory: \"npm\"\n",
        "run: npx postbin init --from \"$GITHUB_REPOSITORY@$TAG\"\n",
        "        run: npx postbin pin --download\n",
        "      - run: npx postbin check\n",
        "        run: npx postbin pack-targets\n",
        "        run: for f in .postbin/npm-targets/*.tgz; do npm publish \"$f\" --access public; done\n",
        "      - run: npm publish --provenance --access public\n",
        "sha256sum -- * > checksums.txt\n",
    ] {
        assert!(yaml.contains(needle), "{needle:?} is missing:\n{yaml}");
    }
    // Written once; the same again is no change, a different one is refused.
    let again = write_workflow();
    again.assert_ok();
    again.assert_stdout_lacks(&["wrote"]);
    world
        .postbin(&["init", "--package", &pkg_s, "--workflow", "github"])
        .assert_exit(exit::USAGE)
        .assert_stderr_has(&["differs from the workflow postbin writes; move it away"]);
}

#[test]
fn the_workflow_without_build_only_pins_checks_and_publishes() {
    let world = World::new();
    let repo = world.dir.path().join("repo");
    package(&repo, section());
    fs::write(repo.join("package-lock.json"), "{}").unwrap();
    let repo_s = path_str(&repo);
    world
        .postbin(&["init", "--package", &repo_s, "--workflow", "github"])
        .assert_ok();
    let yaml = fs::read_to_string(repo.join(".github/workflows/npm-publish.yml")).unwrap();
    assert!(
        !yaml.contains("  build:") && !yaml.contains("needs:"),
        "{yaml}"
    );
    assert!(!yaml.contains("working-directory"), "{yaml}");
    assert!(yaml.contains("      - run: npm ci\n"), "{yaml}");
    world
        .postbin(&["init", "--package", &repo_s, "--build"])
        .assert_exit(exit::USAGE)
        .assert_stderr_line("postbin: error: --build goes with --workflow github");
    world
        .postbin(&["init", "--package", &repo_s, "--workflow", "gitlab"])
        .assert_exit(exit::USAGE)
        .assert_stderr_line("postbin: error: --workflow gitlab: only `--workflow github` is known");
}
