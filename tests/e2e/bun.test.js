"use strict";
// End to end with real bun 1 (installed into target/tools by pm-tools.js;
// skipped, saying why, where it cannot be installed or does not run): the
// sample tool from its packed tarball, postbin forced to the local tarball
// through `overrides`, the registry a trap on 127.0.0.1 that must see no
// request, the release archives from server-fixture through POSTBIN_MIRROR,
// bun's install cache in a temp dir.
//
// docs/package-managers.md, asserted here: bun blocks dependency postinstalls by
// default ("Blocked 1 postinstall"; the launcher installs on first run, also
// under bun's own runtime), runs them for trustedDependencies; `.bin` is a
// symlink, so the speed path makes `.bin/hello` the ELF. bun hard-links
// package files from its global cache, so postbin must replace the launcher
// by rename, never write it in place: the cache copy stays the launcher.

const { test } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const path = require("path");
const { run, explain, postbinTgz, newProject, isElf, startsWithShebang } = require("./support");
const { setUpSuite, toolOrSkip, runTool, pmProject, extendPackageJson, findFiles, assertOk, assertHelloRan,
  assertRanExecutable, assertOneDownload, assertLazyInstallOnce, assertNoRegistryRequests } = require("./pm-tools");

const TEST_TIMEOUT_MS = 90_000;

let s;
setUpSuite(["bun"], (built) => (s = built));

/** package.json fields that make bun take postbin from the local tarball. */
function overrides(extra = {}) {
  return { overrides: { postbin: `file:${postbinTgz()}` }, ...extra };
}

/** bun's install cache (and global dir) in the test's pmDir, no telemetry. */
function bunEnv(ctx) {
  const cache = path.join(ctx.pmDir, "bun-cache");
  const env = {};
  for (const [k, v] of Object.entries(ctx.env)) if (!/^BUN_/.test(k)) env[k] = v;
  return { ...env, BUN_INSTALL_CACHE_DIR: cache, BUN_INSTALL: path.join(ctx.pmDir, "bun-home"), DO_NOT_TRACK: "1" };
}

const binOf = (project) => path.join(project, "node_modules", ".bin", "hello");
const packageDirOf = (project) => path.join(project, "node_modules", "hello-tool");

test("bun blocks the postinstall by default: `bun run --bun hello` installs on first run, once", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const bun = toolOrSkip(t, "bun");
  if (!bun) return;
  const ctx = await pmProject(t, s, "bun-lazy", overrides());
  const env = bunEnv(ctx);
  const add = runTool(bun, ["add", s.tgz], { cwd: ctx.project, env });
  assertOk(add);
  assert.match(add.stdout + add.stderr, /Blocked 1 postinstall/, explain(add));
  assert.ok(startsWithShebang(fs.realpathSync(binOf(ctx.project))), ".bin/hello is the JS launcher");

  await assertLazyInstallOnce(s, ctx, {
    packageDir: packageDirOf(ctx.project),
    // --bun: the launcher runs in bun's runtime, as where node is absent.
    firstRun: (arg) => runTool(bun, ["run", "--bun", "hello", arg], { cwd: ctx.project, env }),
    secondRun: (arg) => runTool(bun, ["run", "hello", arg], { cwd: ctx.project, env }),
  });
  assertNoRegistryRequests(ctx);
});

test("`bun pm trust` after a lazy install runs the postinstall: the speed path from postbin's cache", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const bun = toolOrSkip(t, "bun");
  if (!bun) return;
  const ctx = await pmProject(t, s, "bun-trust-later", overrides());
  const env = bunEnv(ctx);
  assertOk(runTool(bun, ["add", s.tgz], { cwd: ctx.project, env }));
  assertHelloRan(run(binOf(ctx.project), [], { cwd: ctx.project, env }));
  const afterLazy = await assertOneDownload(s, ctx.fixture, "the lazy install");

  const trust = runTool(bun, ["pm", "trust", "hello-tool"], { cwd: ctx.project, env });
  assertOk(trust);
  const file = path.join(packageDirOf(ctx.project), "bin", "hello");
  assert.ok(isElf(fs.realpathSync(binOf(ctx.project))), `.bin/hello is the native executable now\n${explain(trust)}`);
  const hello = run(binOf(ctx.project), [], { cwd: ctx.project, env });
  assertHelloRan(hello);
  assertRanExecutable(hello, file, "the native file itself runs");
  assert.equal(hello.stderr, "", explain(hello));
  assert.equal((await ctx.fixture.requests()).length, afterLazy.length, "the postinstall used postbin's cache: no request");
  const cached = findFiles(env.BUN_INSTALL_CACHE_DIR, (p) => p.endsWith(path.join("bin", "hello")));
  assert.ok(cached.length > 0, "bun's cache holds the launcher");
  for (const f of cached) assert.ok(startsWithShebang(f), `${f} in bun's cache was rewritten`);
  assertNoRegistryRequests(ctx);
});

test("bun trustedDependencies: native .bin, and bun's shared cache copy is never written through", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const bun = toolOrSkip(t, "bun");
  if (!bun) return;
  const ctx = await pmProject(t, s, "bun-trusted", overrides({ trustedDependencies: ["hello-tool"] }));
  const env = bunEnv(ctx);
  const add = runTool(bun, ["add", s.tgz], { cwd: ctx.project, env });
  assertOk(add);
  assert.doesNotMatch(add.stdout + add.stderr, /Blocked/, explain(add));
  await assertOneDownload(s, ctx.fixture, `the postinstall downloads the archive\n${explain(add)}`);

  const file = path.join(packageDirOf(ctx.project), "bin", "hello");
  const real = fs.realpathSync(binOf(ctx.project));
  assert.equal(real, fs.realpathSync(file), ".bin/hello links to the package's bin file");
  assert.ok(isElf(real), `${real} is the native executable (speed path)`);
  const hello = run(binOf(ctx.project), ["x"], { cwd: ctx.project, env });
  assertHelloRan(hello);
  assertRanExecutable(hello, file, "the native file itself runs, no launcher");
  assert.equal(hello.stderr, "", explain(hello));
  assertHelloRan(runTool(bun, ["run", "hello"], { cwd: ctx.project, env }));

  // bun's cache holds the package as extracted; the project's files are
  // hard links to it (the test means something only if they are).
  const cache = env.BUN_INSTALL_CACHE_DIR;
  const cachedPkgJson = findFiles(cache, (p) => p.endsWith("package.json") && fs.readFileSync(p, "utf8").includes('"hello-tool"'));
  assert.equal(cachedPkgJson.length, 1, `bun's cache holds hello-tool (${cache})`);
  const cachedDir = path.dirname(cachedPkgJson[0]);
  assert.equal(
    fs.statSync(cachedPkgJson[0]).ino,
    fs.statSync(path.join(packageDirOf(ctx.project), "package.json")).ino,
    "bun hard-linked the package's files from its cache"
  );
  const cachedBin = path.join(cachedDir, "bin", "hello");
  const assertCacheIsLauncher = (projectFiles, when) => {
    assert.ok(startsWithShebang(cachedBin) && !isElf(cachedBin), `${cachedBin} in bun's cache is still the launcher ${when}`);
    assert.match(fs.readFileSync(cachedBin, "utf8"), /postbin-launcher/, `${cachedBin} ${when}`);
    for (const f of projectFiles) {
      assert.notEqual(fs.statSync(cachedBin).ino, fs.statSync(f).ino, `${f} is a new file, not the cache's ${when}`);
    }
  };
  assertCacheIsLauncher([file], "after the first project's install");

  // A second project from the same bun cache and the same postbin cache:
  // the launcher comes from bun's cache intact, the archive from postbin's.
  const before = (await ctx.fixture.requests()).length;
  const other = newProject("bun-trusted-b");
  extendPackageJson(other, overrides({ trustedDependencies: ["hello-tool"] }));
  const addB = runTool(bun, ["add", s.tgz], { cwd: other, env });
  assertOk(addB);
  assert.equal((await ctx.fixture.requests()).length, before, `postbin's cache served the second project\n${explain(addB)}`);
  const fileB = path.join(packageDirOf(other), "bin", "hello");
  assert.ok(isElf(fs.realpathSync(binOf(other))), "the second project gets the speed path too");
  assert.notEqual(fs.statSync(fileB).ino, fs.statSync(file).ino, "each project has its own executable");
  const helloB = run(binOf(other), [], { cwd: other, env });
  assertHelloRan(helloB);
  assertRanExecutable(helloB, fileB, "the second project runs its own executable");
  assertHelloRan(run(binOf(ctx.project), [], { cwd: ctx.project, env }));
  assertCacheIsLauncher([file, fileB], "after the second project's install");
  assertNoRegistryRequests(ctx);
});
