"use strict";
// End to end with pnpm 10 and 12, yarn berry, yarn 1 and bun: the sample tool from its
// packed tarball (it depends on postbin through a file: tarball, so nothing
// comes from a registry), its release archives from server-fixture on
// 127.0.0.1 through POSTBIN_MIRROR. The package managers themselves are
// installed from the npm registry into target/tools once (see ensureTool).
//
// What docs/package-managers.md says, asserted here: pnpm 10, yarn berry and bun
// skip dependency install scripts by default, so the launcher installs on
// first run (once); with the allow-list the postinstall runs and the bin
// file becomes the native executable (the speed path), which each manager's
// `.bin` entry then reaches (or, under yarn PnP, `yarn hello` runs); bun's
// hard-linked cache is never written through.

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const path = require("path");
const {
  ROOT,
  HELLO_OUTPUT,
  run,
  explain,
  tempDir,
  cleanup,
  sample,
  startFixture,
  isDownload,
  testEnv,
  newProject,
  isElf,
  startsWithShebang,
} = require("./support");

const TEST_TIMEOUT_MS = 240_000;
const NOTICE_LAZY = "not installed yet";
const TOOLS = path.join(ROOT, "target", "tools");

/**
 * Installs `spec` from the npm registry into target/tools/<dir> unless it is
 * there already, and returns the absolute path of `entry` inside it.
 * Returns null (the caller skips, saying why) if it cannot be installed.
 */
function ensureTool(dir, spec, entry) {
  const prefix = path.join(TOOLS, dir);
  const target = path.join(prefix, "node_modules", entry);
  const stamp = path.join(prefix, ".installed");
  if (fs.existsSync(stamp) && fs.existsSync(target)) return { path: target };
  fs.mkdirSync(prefix, { recursive: true });
  fs.writeFileSync(path.join(prefix, "package.json"), '{"private":true}\n');
  const r = run("npm", ["install", "--no-audit", "--no-fund", "--no-save", spec], {
    cwd: prefix,
    env: { ...process.env, npm_config_update_notifier: "false" },
    timeout: 300_000,
  });
  if (r.error || r.status !== 0 || !fs.existsSync(target)) {
    return { skip: `cannot install ${spec} from the npm registry\n${explain(r)}` };
  }
  // bun is a native binary that needs CPU features a VM may lack.
  const clean = { env: testEnv({}) }; // without NODE_TEST_CONTEXT, which changes a child node's output
  const probe = /\.[cm]?js$/.test(target) ? run(process.execPath, [target, "--version"], clean) : run(target, ["--version"], clean);
  if (probe.error || probe.status !== 0) return { skip: `${spec} does not run here\n${explain(probe)}` };
  fs.writeFileSync(stamp, spec + "\n");
  return { path: target };
}

let s;
const tools = {};
before(() => {
  s = sample();
  tools.pnpm = ensureTool("pnpm-10", "pnpm@10", "pnpm/bin/pnpm.cjs");
  tools.pnpm12 = ensureTool("pnpm-12", "pnpm@12", "pnpm/bin/pnpm.mjs");
  tools.berry = ensureTool("yarn-4", "@yarnpkg/cli-dist@4", "@yarnpkg/cli-dist/bin/yarn.js");
  tools.yarn1 = ensureTool("yarn-1", "yarn@1", "yarn/bin/yarn.js");
  tools.bun = ensureTool("bun-1", "bun@1", "bun/bin/bun.exe");
});
after(() => cleanup());

function tool(t, name) {
  const found = tools[name];
  if (found.skip) {
    t.skip(found.skip.split("\n")[0]);
    return null;
  }
  return found.path;
}

/** A fixture, a project, a private postbin cache and a private PM cache. */
async function setup(t, label, packageJsonExtra = {}) {
  const fixture = await startFixture(t, s.releases);
  const cacheDir = path.join(tempDir(`${label}-cache`), "postbin");
  const pmCache = tempDir(`${label}-pm-cache`);
  const env = testEnv({ mirror: fixture.url, cacheDir });
  const project = newProject(label);
  const pkgFile = path.join(project, "package.json");
  const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
  fs.writeFileSync(pkgFile, JSON.stringify({ ...pkg, ...packageJsonExtra }, null, 2) + "\n");
  return { fixture, env, project, pmCache };
}

function assertOk(r) {
  assert.ok(!r.error && r.status === 0, `expected success\n${explain(r)}`);
}

function assertHelloRan(r) {
  assertOk(r);
  assert.ok(r.stdout.includes(HELLO_OUTPUT), `the tool's output\n${explain(r)}`);
}

async function downloads(fixture) {
  return (await fixture.requests()).filter(isDownload);
}

const binOf = (project) => path.join(project, "node_modules", ".bin", "hello");
const packageBinOf = (project) => path.join(project, "node_modules", "hello-tool", "bin", "hello");

/**
 * Scripts were skipped: the first run installs (one notice line, one
 * download), the second run is silent and makes no request.
 */
async function assertLazyInstallOnce(fixture, runTool) {
  assert.deepEqual(await downloads(fixture), [], "no install script ran, so nothing was downloaded");
  const first = runTool("first");
  assertHelloRan(first);
  assert.match(first.stderr, new RegExp(NOTICE_LAZY), `one notice on the first run\n${explain(first)}`);
  assert.equal((await downloads(fixture)).length, 1, "the first run downloaded the archive once");
  const before = (await fixture.requests()).length;
  const second = runTool("second");
  assertHelloRan(second);
  assert.ok(!second.stderr.includes(NOTICE_LAZY), `no notice on the second run\n${explain(second)}`);
  assert.equal((await fixture.requests()).length, before, "the second run makes no request");
}

// ------------------------------------------------------------------ pnpm

function pnpm(exe, args, { cwd, env, pmCache }) {
  return run(process.execPath, [exe, ...args, "--store-dir", path.join(pmCache, "store"), "--config.confirmModulesPurge=false"], {
    cwd,
    env: { ...env, npm_config_cache_dir: path.join(pmCache, "cache"), CI: "true" },
  });
}

test("pnpm 10 skips the postinstall by default: the first run installs, once", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const exe = tool(t, "pnpm");
  if (!exe) return;
  const { fixture, env, project, pmCache } = await setup(t, "pnpm-lazy");
  const add = pnpm(exe, ["add", s.tgz], { cwd: project, env, pmCache });
  assertOk(add);
  assert.ok(startsWithShebang(fs.realpathSync(packageBinOf(project))), "the bin file is still the JS launcher");
  await assertLazyInstallOnce(fixture, (arg) => run(binOf(project), [arg], { cwd: project, env }));
});

test("pnpm 10 with onlyBuiltDependencies: postinstall installs, .bin reaches the native executable", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const exe = tool(t, "pnpm");
  if (!exe) return;
  const { fixture, env, project, pmCache } = await setup(t, "pnpm-built");
  // For a registry package the name is enough; a tarball dependency is
  // matched by its full `name@file:<relative path>` key (docs/package-managers.md).
  const key = `hello-tool@file:${path.relative(project, s.tgz)}`;
  const pkgFile = path.join(project, "package.json");
  const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
  fs.writeFileSync(pkgFile, JSON.stringify({ ...pkg, pnpm: { onlyBuiltDependencies: ["hello-tool", key] } }) + "\n");
  const add = pnpm(exe, ["add", s.tgz], { cwd: project, env, pmCache });
  assertOk(add);
  assert.equal((await downloads(fixture)).length, 1, `the postinstall downloaded the archive\n${explain(add)}`);
  const file = fs.realpathSync(packageBinOf(project));
  assert.ok(isElf(file), `${file} is the native executable (speed path)`);
  const hello = run(binOf(project), [], { cwd: project, env });
  assertHelloRan(hello);
  // pnpm's .bin entry is a shell shim, linked after the build from the ELF
  // file: it execs the executable directly (a `node <ELF>` would fail).
  assert.equal(hello.stderr, "", explain(hello));
});

// pnpm 12: ignored builds make `pnpm add` exit 1 (the package is installed
// all the same); `allowBuilds` in pnpm-workspace.yaml allows them, and the
// .bin shim, written as `exec node <file>` before the build, is rewritten
// from the ELF after it.
test("pnpm 12 fails the add on ignored builds, and the tool still installs on first run", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const exe = tool(t, "pnpm12");
  if (!exe) return;
  const { fixture, env, project, pmCache } = await setup(t, "pnpm12-lazy");
  const add = pnpm(exe, ["add", s.tgz], { cwd: project, env, pmCache });
  assert.equal(add.status, 1, `pnpm 12 exits 1 on ignored builds\n${explain(add)}`);
  assert.match(add.stdout + add.stderr, /Ignored build scripts: hello-tool/, explain(add));
  await assertLazyInstallOnce(fixture, (arg) => run(binOf(project), [arg], { cwd: project, env }));
});

test("pnpm 12 with allowBuilds: the .bin shim execs the native executable, no node", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const exe = tool(t, "pnpm12");
  if (!exe) return;
  const { fixture, env, project, pmCache } = await setup(t, "pnpm12-built");
  const key = `hello-tool@file:${path.relative(project, s.tgz)}`;
  fs.writeFileSync(path.join(project, "pnpm-workspace.yaml"), `allowBuilds:\n  hello-tool: true\n  ${JSON.stringify(key)}: true\n`);
  const add = pnpm(exe, ["add", s.tgz], { cwd: project, env, pmCache });
  assertOk(add);
  assert.equal((await downloads(fixture)).length, 1, `the postinstall downloaded the archive\n${explain(add)}`);
  assert.ok(isElf(fs.realpathSync(packageBinOf(project))), "the bin file is the native executable");
  const shim = fs.readFileSync(binOf(project), "utf8");
  assert.ok(!/exec node /.test(shim), `the shim no longer starts node:\n${shim}`);
  const hello = run(binOf(project), [], { cwd: project, env });
  assertHelloRan(hello);
  assert.equal(hello.stderr, "", explain(hello));
});

// ------------------------------------------------------------- yarn berry

function berry(exe, args, { cwd, env, pmCache, linker = "node-modules" }) {
  return run(process.execPath, [exe, ...args], {
    cwd,
    env: {
      ...env,
      YARN_NODE_LINKER: linker,
      YARN_ENABLE_TELEMETRY: "0",
      YARN_ENABLE_GLOBAL_CACHE: "false",
      YARN_CACHE_FOLDER: path.join(pmCache, "cache"),
      YARN_ENABLE_IMMUTABLE_INSTALLS: "false",
      YARN_ENABLE_PROGRESS_BARS: "false",
    },
  });
}

test("yarn berry skips the postinstall by default: the first run installs, once", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const exe = tool(t, "berry");
  if (!exe) return;
  const { fixture, env, project, pmCache } = await setup(t, "berry-lazy");
  fs.writeFileSync(path.join(project, "yarn.lock"), "");
  assertOk(berry(exe, ["add", `hello-tool@file:${s.tgz}`], { cwd: project, env, pmCache }));
  assert.ok(startsWithShebang(fs.realpathSync(packageBinOf(project))), "the bin file is still the JS launcher");
  await assertLazyInstallOnce(fixture, (arg) => run(binOf(project), [arg], { cwd: project, env }));
});

test("yarn berry with dependenciesMeta.built: .bin/hello is the native executable", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const exe = tool(t, "berry");
  if (!exe) return;
  const { fixture, env, project, pmCache } = await setup(t, "berry-built", {
    dependenciesMeta: { "hello-tool": { built: true } },
  });
  fs.writeFileSync(path.join(project, "yarn.lock"), "");
  const add = berry(exe, ["add", `hello-tool@file:${s.tgz}`], { cwd: project, env, pmCache });
  assertOk(add);
  assert.equal((await downloads(fixture)).length, 1, `the postinstall downloaded the archive\n${explain(add)}`);
  assert.ok(isElf(fs.realpathSync(binOf(project))), ".bin/hello resolves to the native executable");
  assertHelloRan(run(binOf(project), [], { cwd: project, env }));
});

// Plug'n'Play: no node_modules, packages stay in zip files unless unplugged.
// postbin and every tool `postbin init` sets up declare preferUnplugged, so
// the native installer can run and the executable can be placed on disk.
test("yarn berry PnP: `yarn hello` installs on first run, once; the packages are unplugged", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const exe = tool(t, "berry");
  if (!exe) return;
  const { fixture, env, project, pmCache } = await setup(t, "berry-pnp");
  fs.writeFileSync(path.join(project, "yarn.lock"), "");
  const opts = { cwd: project, env, pmCache, linker: "pnp" };
  assertOk(berry(exe, ["add", `hello-tool@file:${s.tgz}`], opts));
  assert.ok(!fs.existsSync(path.join(project, "node_modules")), "PnP: no node_modules");
  const unplugged = fs.readdirSync(path.join(project, ".yarn", "unplugged"));
  for (const name of ["postbin", "hello-tool"]) {
    assert.ok(unplugged.some((d) => d.startsWith(`${name}-`)), `${name} is unplugged: ${unplugged}`);
  }
  await assertLazyInstallOnce(fixture, (arg) => berry(exe, ["hello", arg], opts));
});

test("yarn berry PnP with dependenciesMeta.built: `yarn hello` runs the native executable", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const exe = tool(t, "berry");
  if (!exe) return;
  const { fixture, env, project, pmCache } = await setup(t, "berry-pnp-built", {
    dependenciesMeta: { "hello-tool": { built: true } },
  });
  fs.writeFileSync(path.join(project, "yarn.lock"), "");
  const opts = { cwd: project, env, pmCache, linker: "pnp" };
  const add = berry(exe, ["add", `hello-tool@file:${s.tgz}`], opts);
  assertOk(add);
  assert.equal((await downloads(fixture)).length, 1, `the postinstall downloaded the archive\n${explain(add)}`);
  const dir = fs.readdirSync(path.join(project, ".yarn", "unplugged")).find((d) => d.startsWith("hello-tool-"));
  const file = path.join(project, ".yarn", "unplugged", dir, "node_modules", "hello-tool", "bin", "hello");
  assert.ok(isElf(file), `${file} is the native executable (speed path)`);
  const hello = berry(exe, ["hello"], opts);
  assertHelloRan(hello);
  assert.equal(hello.stdout.match(/executable:\s*(.+)/)[1].trim(), fs.realpathSync(file), "yarn ran the ELF itself");
});

// ----------------------------------------------------------------- yarn 1

test("yarn 1 runs the postinstall: .bin/hello is the native executable", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const exe = tool(t, "yarn1");
  if (!exe) return;
  const { fixture, env, project, pmCache } = await setup(t, "yarn1");
  const add = run(process.execPath, [exe, "add", `file:${s.tgz}`, "--cache-folder", path.join(pmCache, "cache"), "--non-interactive", "--no-progress"], {
    cwd: project,
    env,
  });
  assertOk(add);
  assert.equal((await downloads(fixture)).length, 1, `the postinstall downloaded the archive\n${explain(add)}`);
  assert.ok(isElf(fs.realpathSync(binOf(project))), ".bin/hello resolves to the native executable");
  assertHelloRan(run(binOf(project), [], { cwd: project, env }));
});

// -------------------------------------------------------------------- bun

function bun(exe, args, { cwd, env, pmCache }) {
  return run(exe, args, { cwd, env: { ...env, BUN_INSTALL_CACHE_DIR: pmCache, DO_NOT_TRACK: "1" } });
}

test("bun skips the postinstall by default: the first run installs, once", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const exe = tool(t, "bun");
  if (!exe) return;
  const { fixture, env, project, pmCache } = await setup(t, "bun-lazy");
  assertOk(bun(exe, ["add", s.tgz], { cwd: project, env, pmCache }));
  assert.ok(startsWithShebang(fs.realpathSync(packageBinOf(project))), "the bin file is still the JS launcher");
  await assertLazyInstallOnce(fixture, (arg) => run(binOf(project), [arg], { cwd: project, env }));
});

test("bun with trustedDependencies: native .bin, and bun's shared cache is never written through", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const exe = tool(t, "bun");
  if (!exe) return;
  const { fixture, env, project, pmCache } = await setup(t, "bun-trusted", { trustedDependencies: ["hello-tool"] });
  const add = bun(exe, ["add", s.tgz], { cwd: project, env, pmCache });
  assertOk(add);
  assert.equal((await downloads(fixture)).length, 1, `the postinstall downloaded the archive\n${explain(add)}`);
  assert.ok(isElf(fs.realpathSync(binOf(project))), ".bin/hello resolves to the native executable");
  assertHelloRan(run(binOf(project), [], { cwd: project, env }));

  // Every copy of bin/hello in bun's cache must still be the launcher: the
  // speed path renamed a new file into the project instead of writing the
  // (hard-linked) one in place.
  const cached = findFiles(pmCache, (p) => p.endsWith(path.join("bin", "hello")));
  assert.ok(cached.length > 0, `bun's cache holds the package's files (${pmCache})`);
  for (const f of cached) assert.ok(startsWithShebang(f), `${f} in bun's cache was rewritten`);

  // A second project from the same bun cache gets the launcher, then its own
  // native copy; the first project's executable is unchanged.
  const other = newProject("bun-trusted-2");
  const pkgFile = path.join(other, "package.json");
  fs.writeFileSync(pkgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(pkgFile, "utf8")), trustedDependencies: ["hello-tool"] }) + "\n");
  assertOk(bun(exe, ["add", s.tgz], { cwd: other, env, pmCache }));
  assertHelloRan(run(binOf(other), [], { cwd: other, env }));
  assertHelloRan(run(binOf(project), [], { cwd: project, env }));
  for (const f of cached) assert.ok(startsWithShebang(f), `${f} in bun's cache was rewritten`);
});

function findFiles(dir, pred, out = []) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(p, pred, out);
    else if (e.isFile() && pred(p)) out.push(p);
  }
  return out;
}
