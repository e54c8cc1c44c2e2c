"use strict";
// End to end with real yarn berry 4 and yarn 1 (installed into target/tools
// by pm-tools.js; berry is @yarnpkg/cli-dist's bin/yarn.js run with node):
// the sample tool from its packed tarball, postbin forced to the local
// tarball through `resolutions`, the registry a trap on 127.0.0.1 that must
// see no request, the release archives from server-fixture through
// POSTBIN_MIRROR, every yarn cache and global folder in a temp dir.
//
// docs/package-managers.md, asserted here: berry blocks dependency build scripts
// by default (YN0004; the launcher installs on first run), allows them with
// dependenciesMeta.<pkg>.built; its node-modules `.bin` is a symlink, so the
// speed path makes `.bin/hello` the ELF; under PnP the packages postbin
// needs on disk are unplugged and `yarn hello` runs the launcher, or once
// built the ELF itself. yarn 1 runs install scripts by default.

const { test } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { run, explain, postbinTgz, isElf, startsWithShebang } = require("./support");
const { setUpSuite, toolOrSkip, runTool, pmProject, findFiles, assertOk, assertHelloRan, assertRanExecutable,
  assertOneDownload, assertLazyInstallOnce, assertNoRegistryRequests, berryProject,
  assertRunsMadeNoRequest,
} = require("./pm-tools");

const TEST_TIMEOUT_MS = 90_000;

let s;
setUpSuite(["berry", "yarn1"], (built) => (s = built));

/** package.json fields that make yarn (1 and berry) take postbin from the local tarball. */
function resolutions(extra = {}) {
  return { resolutions: { postbin: `file:${postbinTgz()}` }, ...extra };
}

const binOf = (project) => path.join(project, "node_modules", ".bin", "hello");
const packageDirOf = (project) => path.join(project, "node_modules", "hello-tool");

// ------------------------------------------------------------- yarn berry

/** The environment for yarn: the test's, without YARN_* settings from outside. */
function yarnEnv(ctx) {
  const env = {};
  for (const [k, v] of Object.entries(ctx.env)) if (!/^YARN_/i.test(k)) env[k] = v;
  return env;
}

function berryAdd(berry, ctx) {
  return runTool(berry, ["add", `hello-tool@file:${s.tgz}`], { cwd: ctx.project, env: yarnEnv(ctx) });
}

test("yarn berry blocks the postinstall by default: `yarn hello` installs on first run, once", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const berry = toolOrSkip(t, "berry");
  if (!berry) return;
  const ctx = await pmProject(t, s, "berry-lazy", resolutions());
  berryProject(ctx);
  const add = berryAdd(berry, ctx);
  assertOk(add);
  assert.match(add.stdout, /YN0004: .*hello-tool@file:.* lists build scripts, but all build scripts have been disabled/, explain(add));
  const packageDir = packageDirOf(ctx.project);
  assert.ok(startsWithShebang(fs.realpathSync(binOf(ctx.project))), ".bin/hello is the JS launcher");

  const env = yarnEnv(ctx);
  await assertLazyInstallOnce(s, ctx, {
    packageDir,
    firstRun: (arg) => runTool(berry, ["hello", arg], { cwd: ctx.project, env }),
    secondRun: (arg) => run(binOf(ctx.project), [arg], { cwd: ctx.project, env }),
  });
  assertNoRegistryRequests(ctx);
});

test("yarn berry with dependenciesMeta.built: postinstall downloads; .bin/hello is the native executable", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const berry = toolOrSkip(t, "berry");
  if (!berry) return;
  const ctx = await pmProject(t, s, "berry-built", resolutions({ dependenciesMeta: { "hello-tool": { built: true } } }));
  berryProject(ctx);
  const add = berryAdd(berry, ctx);
  assertOk(add);
  assert.doesNotMatch(add.stdout, /YN0004/, explain(add));
  const afterInstall = await assertOneDownload(s, ctx.fixture, `the postinstall downloads the archive\n${explain(add)}`);

  const file = path.join(packageDirOf(ctx.project), "bin", "hello");
  const real = fs.realpathSync(binOf(ctx.project));
  assert.equal(real, fs.realpathSync(file), ".bin/hello links to the package's bin file");
  assert.ok(isElf(real), `${real} is the native executable (speed path)`);
  const env = yarnEnv(ctx);
  const hello = run(binOf(ctx.project), ["x"], { cwd: ctx.project, env });
  assertHelloRan(hello);
  assertRanExecutable(hello, file, "the native file itself runs, no launcher");
  assert.equal(hello.stderr, "", explain(hello));
  // berry runs a bin with node unless it starts with executable magic bytes.
  const viaYarn = runTool(berry, ["hello"], { cwd: ctx.project, env });
  assertHelloRan(viaYarn);
  assertRanExecutable(viaYarn, file, "`yarn hello` runs the ELF itself");
  await assertRunsMadeNoRequest(ctx, afterInstall);
});

test("yarn berry nmMode hardlinks-global: the speed path leaves berry's shared store intact", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const berry = toolOrSkip(t, "berry");
  if (!berry) return;
  const ctx = await pmProject(t, s, "berry-hardlinks", resolutions({ dependenciesMeta: { "hello-tool": { built: true } } }));
  berryProject(ctx, { nmMode: "hardlinks-global" });
  const add = berryAdd(berry, ctx);
  assertOk(add);
  await assertOneDownload(s, ctx.fixture, explain(add));
  const packageDir = packageDirOf(ctx.project);
  assert.ok(isElf(path.join(packageDir, "bin", "hello")), "the bin file is the native executable");
  // The package's other files are hard links into the store...
  const pkgJson = fs.statSync(path.join(packageDir, "package.json"));
  assert.ok(pkgJson.nlink >= 2, "berry hard-linked the package from its global store");

  // ...a content-addressed store (store/v1/<xx>/<rest of the sha1>.dat): a
  // file written in place through a hard link would no longer match its name.
  const store = path.join(ctx.pmDir, "global", "store");
  const files = findFiles(store, (p) => p.endsWith(".dat"));
  assert.ok(files.length > 0, `berry's store holds the files (${store})`);
  let launchers = 0;
  for (const f of files) {
    const name = path.basename(path.dirname(f)) + path.basename(f, ".dat");
    const actual = crypto.createHash("sha1").update(fs.readFileSync(f)).digest("hex");
    assert.equal(actual, name, `${f} in berry's store was written in place`);
    const text = fs.readFileSync(f, "latin1");
    if (text.startsWith("#!") && text.includes("postbin-launcher") && text.includes('command: "hello"')) launchers++;
  }
  assert.equal(launchers, 1, "the store still holds hello-tool's launcher");
  assertHelloRan(run(binOf(ctx.project), [], { cwd: ctx.project, env: yarnEnv(ctx) }));
  assertNoRegistryRequests(ctx);
});

// Plug'n'Play: no node_modules; postbin and the tool declare preferUnplugged,
// so they are extracted to .yarn/unplugged and the installer can run.

/** Under PnP: postbin and hello-tool are unplugged; returns hello-tool's directory. */
function unpluggedPackageDir(project) {
  assert.ok(!fs.existsSync(path.join(project, "node_modules")), "PnP: no node_modules");
  const unpluggedDir = path.join(project, ".yarn", "unplugged");
  const unplugged = fs.readdirSync(unpluggedDir);
  for (const name of ["postbin", "hello-tool"]) {
    assert.ok(unplugged.some((d) => d.startsWith(`${name}-`)), `${name} is unplugged: ${unplugged}`);
  }
  const dir = unplugged.find((d) => d.startsWith("hello-tool-"));
  return path.join(unpluggedDir, dir, "node_modules", "hello-tool");
}

test("yarn berry PnP: the packages are unplugged, `yarn hello` installs on first run, once", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const berry = toolOrSkip(t, "berry");
  if (!berry) return;
  const ctx = await pmProject(t, s, "berry-pnp", resolutions());
  berryProject(ctx, { linker: "pnp" });
  assertOk(berryAdd(berry, ctx));
  const packageDir = unpluggedPackageDir(ctx.project);

  const env = yarnEnv(ctx);
  await assertLazyInstallOnce(s, ctx, {
    packageDir,
    firstRun: (arg) => runTool(berry, ["hello", arg], { cwd: ctx.project, env }),
    secondRun: (arg) => runTool(berry, ["hello", arg], { cwd: ctx.project, env }),
  });
  assertNoRegistryRequests(ctx);
});

// With no .bin under PnP, `yarn hello` is the way in: berry runs the bin
// file with node unless it starts with executable magic bytes, so after the
// speed path it runs the ELF itself.
test("yarn berry PnP with dependenciesMeta.built: postinstall downloads; `yarn hello` runs the native executable", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const berry = toolOrSkip(t, "berry");
  if (!berry) return;
  const ctx = await pmProject(t, s, "berry-pnp-built", resolutions({ dependenciesMeta: { "hello-tool": { built: true } } }));
  berryProject(ctx, { linker: "pnp" });
  const add = berryAdd(berry, ctx);
  assertOk(add);
  assert.doesNotMatch(add.stdout, /YN0004/, explain(add));
  const afterInstall = await assertOneDownload(s, ctx.fixture, `the postinstall downloads the archive\n${explain(add)}`);

  const file = path.join(unpluggedPackageDir(ctx.project), "bin", "hello");
  assert.ok(isElf(file), `${file} is the native executable (speed path)`);
  const hello = runTool(berry, ["hello", "x"], { cwd: ctx.project, env: yarnEnv(ctx) });
  assertHelloRan(hello);
  assertRanExecutable(hello, file, "`yarn hello` runs the ELF itself, not node");
  assert.equal(hello.stderr, "", explain(hello));
  await assertRunsMadeNoRequest(ctx, afterInstall);
});

// ----------------------------------------------------------------- yarn 1

function yarn1(yarn, args, ctx) {
  return runTool(yarn, [...args], {
    cwd: ctx.project,
    env: { ...yarnEnv(ctx), YARN_CACHE_FOLDER: path.join(ctx.pmDir, "yarn1-cache"), YARN_DISABLE_SELF_UPDATE_CHECK: "true" },
  });
}

test("yarn 1 runs the postinstall by default: .bin/hello is the native executable", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const yarn = toolOrSkip(t, "yarn1");
  if (!yarn) return;
  const ctx = await pmProject(t, s, "yarn1", resolutions());
  const add = yarn1(yarn, ["add", `file:${s.tgz}`, "--non-interactive", "--no-progress"], ctx);
  assertOk(add);
  const afterInstall = await assertOneDownload(s, ctx.fixture, `the postinstall downloads the archive\n${explain(add)}`);

  const file = path.join(packageDirOf(ctx.project), "bin", "hello");
  const real = fs.realpathSync(binOf(ctx.project));
  assert.equal(real, fs.realpathSync(file), ".bin/hello links to the package's bin file");
  assert.ok(isElf(real), `${real} is the native executable (speed path)`);
  const hello = run(binOf(ctx.project), ["x"], { cwd: ctx.project, env: ctx.env });
  assertHelloRan(hello);
  assertRanExecutable(hello, file, "the native file itself runs, no launcher");
  assert.equal(hello.stderr, "", explain(hello));
  assertHelloRan(yarn1(yarn, ["hello"], ctx));
  await assertRunsMadeNoRequest(ctx, afterInstall);
});

test("yarn 1 --ignore-scripts: `yarn hello` installs on first run, once", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const yarn = toolOrSkip(t, "yarn1");
  if (!yarn) return;
  const ctx = await pmProject(t, s, "yarn1-lazy", resolutions());
  assertOk(yarn1(yarn, ["add", `file:${s.tgz}`, "--ignore-scripts", "--non-interactive", "--no-progress"], ctx));
  assert.ok(startsWithShebang(fs.realpathSync(binOf(ctx.project))), ".bin/hello is the JS launcher");
  await assertLazyInstallOnce(s, ctx, {
    packageDir: packageDirOf(ctx.project),
    firstRun: (arg) => yarn1(yarn, ["hello", arg], ctx),
    secondRun: (arg) => run(binOf(ctx.project), [arg], { cwd: ctx.project, env: ctx.env }),
  });
  assertNoRegistryRequests(ctx);
});
