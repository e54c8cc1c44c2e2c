"use strict";
// End to end with real pnpm 9, 10 and 12 (installed into target/tools by
// pm-tools.js): the sample tool from its packed tarball, postbin forced to
// the local tarball through pnpm.overrides, the registry a trap on 127.0.0.1
// that must see no request, the release archives from server-fixture
// through POSTBIN_MIRROR, pnpm's store, cache and state in a temp dir.
//
// docs/package-managers.md, asserted here: pnpm 10 blocks dependency build
// scripts by default (the launcher installs on first run), allows them with
// onlyBuiltDependencies (a tarball needs its full `name@file:<path>` key);
// pnpm 9 runs them; pnpm 12 blocks them and fails `pnpm add` (exit 1, the
// package installed all the same), allows them with allowBuilds in
// pnpm-workspace.yaml. pnpm 9/10 write the `.bin` sh shim after the build
// from the file itself, pnpm 12 rewrites it after the build, so after the
// speed path it execs the ELF directly; a global shim keeps `exec node
// <file>`, so postbin keeps the launcher there.

const { test } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { run, explain, postbinTgz, newProject, isElf, startsWithShebang, listDir } = require("./support");
const { setUpSuite, toolOrSkip, runTool, pmProject, extendPackageJson, findFiles, assertOk, assertHelloRan,
  assertRanExecutable, assertOneDownload, assertLazyInstallOnce, assertNoRegistryRequests,
  assertRunsMadeNoRequest,
} = require("./pm-tools");

const TEST_TIMEOUT_MS = 90_000;

let s;
setUpSuite(["pnpm10", "pnpm9", "pnpm12"], (built) => (s = built));

/** package.json fields that make pnpm take postbin from the local tarball. */
function overrides(extra = {}) {
  return { pnpm: { overrides: { postbin: `file:${postbinTgz()}` }, ...extra } };
}

/** pnpm's store, cache, state and global dirs, all under the test's pmDir. */
function pnpmEnv(ctx) {
  return {
    ...ctx.env,
    npm_config_store_dir: path.join(ctx.pmDir, "store"),
    npm_config_cache_dir: path.join(ctx.pmDir, "cache"),
    npm_config_state_dir: path.join(ctx.pmDir, "state"),
    npm_config_global_dir: path.join(ctx.pmDir, "global"),
    npm_config_global_bin_dir: path.join(ctx.pmDir, "global-bin"),
    PNPM_HOME: path.join(ctx.pmDir, "global-bin"),
    npm_config_confirm_modules_purge: "false",
    // support's "warn" hides pnpm's "Ignored build scripts" box.
    npm_config_loglevel: "info",
  };
}

const binOf = (project) => path.join(project, "node_modules", ".bin", "hello");
const packageDirOf = (project) => fs.realpathSync(path.join(project, "node_modules", "hello-tool"));

/** The allow-list entry pnpm matches for a tarball dependency. */
const tarballKey = (project) => `hello-tool@file:${path.relative(project, s.tgz)}`;

/**
 * pnpm's store is content-addressed: files/<xx>/<rest of the sha512 hex>
 * [-exec]. A file written in place through one of its hard links no longer
 * hashes to its name. Returns how many files were checked.
 */
function assertStoreIntact(store) {
  const files = findFiles(store, (p) => /[\\/]files[\\/][0-9a-f]{2}[\\/][0-9a-f]{126}(-exec)?$/.test(p));
  for (const f of files) {
    const name = path.basename(path.dirname(f)) + path.basename(f).replace(/-exec$/, "");
    const actual = crypto.createHash("sha512").update(fs.readFileSync(f)).digest("hex");
    assert.equal(actual, name, `${f} in pnpm's store was written in place`);
  }
  return files.length;
}

/**
 * The .bin shim starts the file itself, not `node <file>`: every line that
 * runs the bin file is its path, one shell word (pnpm 9/10 write
 * "$basedir/...", pnpm 12 `exec "$basedir_abs"/'...'`), then "$@".
 */
function assertShimExecsFile(project) {
  const shim = fs.readFileSync(binOf(project), "utf8");
  assert.ok(shim.startsWith("#!/bin/sh"), `pnpm's .bin entry is a sh shim:\n${shim}`);
  const runs = shim.split("\n").map((l) => l.trim()).filter((l) => /hello-tool\/bin\/hello["']/.test(l));
  assert.ok(runs.length > 0, `the shim runs the bin file:\n${shim}`);
  for (const line of runs) {
    assert.match(line, /^(?:exec +)?(?:"[^"]*"|'[^']*'|[^\s"'])+ +"\$@"$/, `the shim starts the bin file itself, no node:\n${shim}`);
  }
}

// The build was skipped: the bin file is still the JS launcher and nothing
// is installed; `firstRun` installs, once, and the .bin entry then runs the
// tool with no further download.
async function assertLazyAfterSkippedBuild(ctx, env, firstRun) {
  const packageDir = packageDirOf(ctx.project);
  assert.ok(startsWithShebang(path.join(packageDir, "bin", "hello")), "the bin file is still the JS launcher");
  assert.ok(!fs.existsSync(path.join(packageDir, ".postbin")), "nothing installed yet");
  await assertLazyInstallOnce(s, ctx, {
    packageDir,
    firstRun,
    secondRun: (arg) => run(binOf(ctx.project), [arg], { cwd: ctx.project, env }),
  });
}

// With the build allowed: `pnpm add` runs the postinstall (one download),
// the bin file becomes the native executable, and the .bin shim, run
// directly or through `pnpm exec`, execs it with no request and no launcher.
async function assertBuiltInstallRunsNative(pnpm, ctx, env) {
  const add = runTool(pnpm, ["add", s.tgz], { cwd: ctx.project, env });
  assertOk(add);
  assert.doesNotMatch(add.stdout + add.stderr, /Ignored build scripts/, explain(add));
  const afterInstall = await assertOneDownload(s, ctx.fixture, `the postinstall downloads the archive\n${explain(add)}`);

  const file = path.join(packageDirOf(ctx.project), "bin", "hello");
  assert.ok(isElf(file), `${file} is the native executable (speed path)`);
  assertShimExecsFile(ctx.project);
  const hello = run(binOf(ctx.project), ["x"], { cwd: ctx.project, env });
  assertHelloRan(hello);
  assertRanExecutable(hello, file, "the shim runs the native bin file itself, no launcher");
  assert.equal(hello.stderr, "", explain(hello));
  assertHelloRan(runTool(pnpm, ["exec", "hello"], { cwd: ctx.project, env }));
  assert.equal((await ctx.fixture.requests()).length, afterInstall.length, "running makes no request");
}

test("pnpm 10 blocks the postinstall by default: `pnpm exec hello` installs on first run, once", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const pnpm = toolOrSkip(t, "pnpm10");
  if (!pnpm) return;
  const ctx = await pmProject(t, s, "pnpm10-lazy", overrides());
  const env = pnpmEnv(ctx);
  const add = runTool(pnpm, ["add", s.tgz], { cwd: ctx.project, env });
  assertOk(add);
  // (pnpm boxes the message, and wraps it at its own width)
  assert.match(add.stdout + add.stderr, /Ignored build scripts:[\s│]*hello-tool@/, explain(add));
  await assertLazyAfterSkippedBuild(ctx, env, (arg) => runTool(pnpm, ["exec", "hello", arg], { cwd: ctx.project, env }));
  assert.ok(startsWithShebang(path.join(packageDirOf(ctx.project), "bin", "hello")), "a lazy install keeps the launcher");
  assertNoRegistryRequests(ctx);
});

test("pnpm 10 with onlyBuiltDependencies: postinstall downloads; the .bin shim execs the native bin file", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const pnpm = toolOrSkip(t, "pnpm10");
  if (!pnpm) return;
  const ctx = await pmProject(t, s, "pnpm10-built");
  // The name alone is not matched for a tarball dependency (measured with
  // pnpm 10.34): the full key is what `pnpm approve-builds` would write.
  const key = tarballKey(ctx.project);
  extendPackageJson(ctx.project, overrides({ onlyBuiltDependencies: ["hello-tool", key] }));
  const env = pnpmEnv(ctx);
  await assertBuiltInstallRunsNative(pnpm, ctx, env);
  assert.ok(assertStoreIntact(env.npm_config_store_dir) > 0, "the store holds files");
  assertNoRegistryRequests(ctx);
});

// Approving later (what `pnpm approve-builds` writes, then `pnpm install`)
// builds the package in place; pnpm rewrites the existing `exec node` shim
// from the ELF. (For a global install it does not: docs/package-managers.md.)
test("pnpm 10 approving the build after a lazy install: the shim is rewritten to exec the native bin file", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const pnpm = toolOrSkip(t, "pnpm10");
  if (!pnpm) return;
  const ctx = await pmProject(t, s, "pnpm10-later", overrides());
  const env = pnpmEnv(ctx);
  assertOk(runTool(pnpm, ["add", s.tgz], { cwd: ctx.project, env }));
  const shimBefore = fs.readFileSync(binOf(ctx.project), "utf8");
  assert.match(shimBefore, /exec node\s/, `before the build the shim runs the launcher with node:\n${shimBefore}`);
  assertHelloRan(run(binOf(ctx.project), [], { cwd: ctx.project, env }));
  const afterLazy = await assertOneDownload(s, ctx.fixture, "the lazy install");

  extendPackageJson(ctx.project, overrides({ onlyBuiltDependencies: [tarballKey(ctx.project)] }));
  const install = runTool(pnpm, ["install"], { cwd: ctx.project, env });
  assertOk(install);
  assert.match(install.stdout, /postinstall/, `the approved postinstall ran\n${explain(install)}`);
  const file = path.join(packageDirOf(ctx.project), "bin", "hello");
  assert.ok(isElf(file), `${file} is the native executable (speed path)`);
  assertShimExecsFile(ctx.project);
  const hello = run(binOf(ctx.project), [], { cwd: ctx.project, env });
  assertHelloRan(hello);
  assertRanExecutable(hello, file, "the shim runs the native bin file itself");
  assert.equal(hello.stderr, "", explain(hello));
  assert.equal((await ctx.fixture.requests()).length, afterLazy.length, "the build used postbin's cache: no request");
  assertNoRegistryRequests(ctx);
});

test("pnpm 10 side-effects cache: a second project gets the built package from the store, and the store stays intact", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const pnpm = toolOrSkip(t, "pnpm10");
  if (!pnpm) return;
  const ctx = await pmProject(t, s, "pnpm10-sidefx");
  extendPackageJson(ctx.project, overrides({ onlyBuiltDependencies: [tarballKey(ctx.project)] }));
  const env = pnpmEnv(ctx);
  assertOk(runTool(pnpm, ["add", s.tgz], { cwd: ctx.project, env }));
  await assertOneDownload(s, ctx.fixture, "first project");
  const beforeB = (await ctx.fixture.requests()).length;

  // Same store, a fresh postbin cache: had the postinstall run again it
  // would have to download; pnpm restores the built files instead.
  const other = newProject("pnpm10-sidefx-b");
  extendPackageJson(other, overrides({ onlyBuiltDependencies: [tarballKey(other)] }));
  const otherCache = path.join(ctx.pmDir, "postbin-cache-b");
  const envB = { ...env, POSTBIN_CACHE_DIR: otherCache };
  const add = runTool(pnpm, ["add", s.tgz], { cwd: other, env: envB });
  assertOk(add);
  assert.equal((await ctx.fixture.requests()).length, beforeB, `no request for the second project\n${explain(add)}`);
  assert.deepEqual(listDir(otherCache), [], "the postinstall did not run (pnpm's side-effects cache)");

  const file = path.join(packageDirOf(other), "bin", "hello");
  assert.ok(isElf(file), "the restored bin file is the native executable");
  assertShimExecsFile(other);
  const hello = run(binOf(other), [], { cwd: other, env: envB });
  assertHelloRan(hello);
  assertRanExecutable(hello, file, "the second project runs its own bin file");
  assert.equal(hello.stderr, "", `no lazy install: the restored placement is complete\n${explain(hello)}`);
  assertHelloRan(run(binOf(ctx.project), [], { cwd: ctx.project, env }));
  assert.ok(assertStoreIntact(env.npm_config_store_dir) > 0, "the store holds files");
  assertNoRegistryRequests(ctx);
});

test("pnpm 9 runs the postinstall by default: the .bin shim execs the native bin file", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const pnpm = toolOrSkip(t, "pnpm9");
  if (!pnpm) return;
  const ctx = await pmProject(t, s, "pnpm9", overrides());
  const env = pnpmEnv(ctx);
  const add = runTool(pnpm, ["add", s.tgz], { cwd: ctx.project, env });
  assertOk(add);
  const afterInstall = await assertOneDownload(s, ctx.fixture, `the postinstall downloads the archive\n${explain(add)}`);
  const file = path.join(packageDirOf(ctx.project), "bin", "hello");
  assert.ok(isElf(file), `${file} is the native executable (speed path)`);
  assertShimExecsFile(ctx.project);
  const hello = runTool(pnpm, ["exec", "hello", "y"], { cwd: ctx.project, env });
  assertHelloRan(hello);
  assertRanExecutable(hello, file, "pnpm exec runs the native bin file");
  assert.equal(hello.stderr, "", explain(hello));
  await assertRunsMadeNoRequest(ctx, afterInstall);
});

test("pnpm 9 add -g: postinstall places the executable but keeps the launcher the global shim runs with node", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const pnpm = toolOrSkip(t, "pnpm9");
  if (!pnpm) return;
  const ctx = await pmProject(t, s, "pnpm9-global");
  const env = pnpmEnv(ctx);
  env.PATH = `${env.PNPM_HOME}${path.delimiter}${env.PATH}`;
  // A global install has no project package.json for overrides; hello-tool
  // itself depends on postbin as a file: tarball, and the registry is the trap.
  const add = runTool(pnpm, ["add", "-g", s.tgz], { cwd: ctx.project, env });
  assertOk(add);
  const afterInstall = await assertOneDownload(s, ctx.fixture, `the postinstall downloads the archive\n${explain(add)}`);

  const bin = path.join(env.PNPM_HOME, "hello");
  const shim = fs.readFileSync(bin, "utf8");
  assert.match(shim, /exec node\s/, `pnpm's global shim runs its target with node:\n${shim}`);
  const files = findFiles(env.npm_config_global_dir, (p) => p.endsWith(path.join("hello-tool", "bin", "hello")));
  assert.ok(files.length > 0, "the global package is installed");
  for (const f of files) assert.ok(startsWithShebang(f), `${f} is still the launcher (no speed path for a pnpm global shim)`);
  const placed = path.join(path.dirname(path.dirname(files[0])), ".postbin", "bin", "hello");
  assert.ok(isElf(placed), "postinstall placed the native executable");

  const hello = run(bin, ["g"], { cwd: ctx.project, env });
  assertHelloRan(hello);
  assertRanExecutable(hello, placed, "the launcher runs the placed executable");
  assert.equal(hello.stderr, "", `no install notice: postinstall placed it\n${explain(hello)}`);
  await assertRunsMadeNoRequest(ctx, afterInstall);
});

// pnpm 12 treats a build it ignored as an error: `pnpm add` exits 1
// (ERR_PNPM_IGNORED_BUILDS), though the package is installed all the same,
// so the launcher's first-run install is what makes the tool work.
test("pnpm 12 fails the add on ignored builds, and the tool still installs on first run, once", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const pnpm = toolOrSkip(t, "pnpm12");
  if (!pnpm) return;
  const ctx = await pmProject(t, s, "pnpm12-lazy", overrides());
  const env = pnpmEnv(ctx);
  const add = runTool(pnpm, ["add", s.tgz], { cwd: ctx.project, env });
  assert.ok(!add.error, explain(add));
  assert.equal(add.status, 1, `pnpm 12 exits 1 on ignored builds\n${explain(add)}`);
  assert.match(add.stdout + add.stderr, /Ignored build scripts:[\s│]*hello-tool@/, explain(add));
  await assertLazyAfterSkippedBuild(ctx, env, (arg) => run(binOf(ctx.project), [arg], { cwd: ctx.project, env }));
  assertNoRegistryRequests(ctx);
});

// The README's deny entry: `allowBuilds: {hello-tool: false}` makes pnpm 12
// exit 0 without running the postinstall (a deny matches the bare name, even
// for a tarball), and the launcher's first-run install takes over.
test("pnpm 12 with the build denied: add exits 0, the tool installs on first run, once", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const pnpm = toolOrSkip(t, "pnpm12");
  if (!pnpm) return;
  const ctx = await pmProject(t, s, "pnpm12-denied", overrides());
  fs.writeFileSync(path.join(ctx.project, "pnpm-workspace.yaml"), "allowBuilds:\n  hello-tool: false\n");
  const env = pnpmEnv(ctx);
  const add = runTool(pnpm, ["add", s.tgz], { cwd: ctx.project, env });
  assertOk(add);
  await assertLazyAfterSkippedBuild(ctx, env, (arg) => run(binOf(ctx.project), [arg], { cwd: ctx.project, env }));
  assertNoRegistryRequests(ctx);
});

// The .bin shim is written (`exec node <file>`) before the build; pnpm 12
// rewrites it from the built file afterwards, so it execs the ELF.
test("pnpm 12 with allowBuilds: postinstall downloads; the .bin shim execs the native bin file, no node", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const pnpm = toolOrSkip(t, "pnpm12");
  if (!pnpm) return;
  const ctx = await pmProject(t, s, "pnpm12-built", overrides());
  // As with pnpm 10, a tarball dependency is matched by its full key.
  fs.writeFileSync(
    path.join(ctx.project, "pnpm-workspace.yaml"),
    `allowBuilds:\n  hello-tool: true\n  ${JSON.stringify(tarballKey(ctx.project))}: true\n`
  );
  const env = pnpmEnv(ctx);
  await assertBuiltInstallRunsNative(pnpm, ctx, env);
  assertNoRegistryRequests(ctx);
});
