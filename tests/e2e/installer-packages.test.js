"use strict";
// postbin as published: seven npm packages, postbin itself (the JS, 15 KB)
// and one per installer (@postbin/linux-x64, ...: `os`/`cpu` set), listed as
// optionalDependencies of postbin at its exact version, so each package
// manager fetches only the host's. All seven (from scripts/pack, in
// target/pack/publish) are published to a real private registry, Verdaccio
// 6.8.0 on 127.0.0.1 (registry-tools.js), with the sample tool depending on
// `postbin@0.1.0` from it; the release archives come from server-fixture
// through POSTBIN_MIRROR. What the registry served is read from its log.
//
// Asserted: each manager (npm, pnpm 10 and 12, yarn 1, yarn berry
// node-modules and PnP, bun) fetches postbin and the host's installer
// package only, at most 1.25 MB of postbin in all, and the tool runs (by its
// postinstall where the manager runs it, else lazily); without the optional
// package (`--omit=optional`, a lockfile from another platform that lacks
// the host's entry) postbin fetches its installer itself, checked against
// the pinned integrity; offline that is one line and exit 9; a changed
// installer is refused before it runs (exit 6); `npm install --os=linux
// --cpu=arm64 --libc=musl` places the tool's aarch64 build (checked by its
// ELF header and run under qemu-aarch64) and runs only the host's installer.
// Run: node --test tests/e2e/installer-packages.test.js

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const { ROOT, run, runOk, explain, tempDir, cleanup, sample, isDownload } = require("./support");
const { pmProject, toolOrSkip, ensureTool, runTool, assertOk, assertHelloRan, extendPackageJson, berryProject } = require("./pm-tools");
const { ensureVerdaccio, startVerdaccio, plainPath, npmrcText, publisher, publishPostbin, retargetedTool } = require("./registry-tools");

const TEST_TIMEOUT_MS = 180_000;
const PUBLISH_DIR = path.join(ROOT, "target", "pack", "publish");
// The bound on what a consumer downloads of postbin: its own
// tarball plus the host's installer package.
const MAX_POSTBIN_BYTES = 1_250_000;
const { packages: PACKAGES } = require(path.join(ROOT, "shim-js", "installers.json"));
const HOST_PACKAGE = PACKAGES["x86_64-unknown-linux-musl"].name;
const ARM_TARGET = "aarch64-unknown-linux-musl";

let s; // the sample tool (support.sample)
let registry; // the running Verdaccio
let published; // { postbinVersion, sizes: { tarball path on the registry -> bytes }, tool: { name, version } }

/** False (after t.skip) when Verdaccio cannot be installed or run here. */
function registryReady(t) {
  if (!toolOrSkip(t, "verdaccio")) return false;
  assert.ok(registry && published, "the registry was started and the packages published in before()");
  return true;
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
const writeJson = (file, value) => fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
const sha256 = (data) => crypto.createHash("sha256").update(data).digest("hex");

/** A minimal tar.gz holding `dir/name` (mode 0755) with `data`: a release archive. */
function tarGz(dir, name, data) {
  const header = (entryName, size, type) => {
    const h = Buffer.alloc(512);
    h.write(entryName, 0, "utf8");
    h.write("0000755\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write(size.toString(8).padStart(11, "0") + "\0", 124);
    h.write("00000000000\0", 136);
    h.write("        ", 148);
    h.write(type, 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    return h;
  };
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  const tar = Buffer.concat([header(`${dir}/`, 0, "5"), header(`${dir}/${name}`, data.length, "0"), data, pad, Buffer.alloc(1024)]);
  return zlib.gzipSync(tar);
}

/**
 * The sample tool as its publisher would put it on the registry: depending
 * on `postbin@<version>` (not a local tarball), and offering one more
 * target, aarch64-unknown-linux-musl, whose archive (added to `releases`)
 * holds an aarch64 executable: the aarch64 postbin installer, which prints
 * its version under qemu. Returns the packed tool's path.
 */
function registryTool(postbinVersion, releases) {
  const asset = `hello-${ARM_TARGET}.tar.gz`;
  const exe = fs.readFileSync(path.join(ROOT, "shim-js", "native", ARM_TARGET, "postbin"));
  const archive = tarGz(`hello-${ARM_TARGET}`, "hello", exe);
  const releaseDir = path.join(releases, path.relative(s.releases, s.releaseDir));
  fs.writeFileSync(path.join(releaseDir, asset), archive);
  return retargetedTool(s.tgz, postbinVersion, (pj) => {
    pj.postbin.targets[ARM_TARGET] = { sha256: sha256(archive), size: archive.length };
  });
}

let releases; // the sample's release tree plus the aarch64 archive

before(
  async () => {
    s = sample();
    for (const name of ["pnpm10", "pnpm12", "yarn1", "berry", "bun"]) ensureTool(name);
    const verdaccio = ensureVerdaccio();
    if (verdaccio.skip) return;
    registry = await startVerdaccio(verdaccio, "verdaccio-installers");
    const pub = await publisher(registry);
    const { version: postbinVersion, sizes } = publishPostbin(pub, PUBLISH_DIR);
    releases = path.join(tempDir("releases"), "releases");
    fs.cpSync(s.releases, releases, { recursive: true });
    pub.publish(registryTool(postbinVersion, releases));
    published = { postbinVersion, sizes, tool: { name: "hello-tool", version: s.packageJson.version } };
  },
  { timeout: 900_000 }
);
after(async () => {
  if (registry) await registry.stop();
  cleanup();
});

/**
 * A consumer project (pm-tools.pmProject: mirror, private HOME, caches and
 * postbin cache of its own) whose registry is Verdaccio, with `.npmrc` and
 * the environment saying so.
 */
async function consumer(t, label) {
  const ctx = await pmProject(t, { ...s, releases }, label);
  ctx.env = { ...ctx.env, npm_config_registry: registry.url, NPM_CONFIG_REGISTRY: registry.url };
  fs.writeFileSync(path.join(ctx.project, ".npmrc"), npmrcText({ registry: registry.url }));
  ctx.mark = registry.requests().length;
  return ctx;
}

/** The tarballs of postbin's own packages the registry served since `ctx.mark`: [{ path, bytes }]. */
function postbinTarballs(ctx) {
  return registry
    .requests()
    .slice(ctx.mark)
    .filter((r) => r.method === "GET" && r.status === 200)
    .map((r) => plainPath(r.url).split("?")[0])
    .filter((p) => p in published.sizes)
    .map((p) => ({ path: p, bytes: published.sizes[p] }));
}

/** Only postbin and the host's installer package were fetched, at most MAX_POSTBIN_BYTES in all. */
function assertOnlyHostInstaller(ctx, context) {
  const fetched = postbinTarballs(ctx);
  const paths = fetched.map((f) => f.path).sort();
  const hostTarball = Object.keys(published.sizes).find((p) => p.startsWith(`/${HOST_PACKAGE}/`));
  const postbinTarball = Object.keys(published.sizes).find((p) => p.startsWith("/postbin/"));
  assert.deepEqual(paths, [hostTarball, postbinTarball].sort(), `postbin's tarballs fetched: ${paths}\n${context}`);
  const total = fetched.reduce((n, f) => n + f.bytes, 0);
  assert.ok(total <= MAX_POSTBIN_BYTES, `postbin costs ${total} bytes, more than ${MAX_POSTBIN_BYTES}`);
  return total;
}

/** The mirror served exactly one release archive since the start of the test. */
async function assertOneArchive(ctx, context) {
  const downloads = (await ctx.fixture.requests()).filter(isDownload);
  assert.equal(downloads.length, 1, `one archive download: ${JSON.stringify(downloads)}\n${context}`);
}

const binOf = (project) => path.join(project, "node_modules", ".bin", "hello");
const postbinDirOf = (project) => path.join(project, "node_modules", "postbin");
const toolSpec = () => `${published.tool.name}@${published.tool.version}`;

function npmIn(ctx, args, extraEnv = {}) {
  return run("npm", args, { cwd: ctx.project, env: { ...ctx.env, ...extraEnv } });
}

// ---------------------------------------------------------------- npm

test("npm: a cold install fetches postbin and the host's installer package only; the tool runs", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  const ctx = await consumer(t, "npm-cold");
  const install = npmIn(ctx, ["install", toolSpec()]);
  assertOk(install);
  const total = assertOnlyHostInstaller(ctx, explain(install));
  t.diagnostic(`postbin downloaded by a cold npm install: ${total} bytes`);
  assert.deepEqual(fs.readdirSync(path.join(ctx.project, "node_modules", "@postbin")), [HOST_PACKAGE.split("/")[1]]);
  assert.ok(!fs.existsSync(path.join(postbinDirOf(ctx.project), "native")), "postbin carries no installer of its own");
  await assertOneArchive(ctx, explain(install));
  assertHelloRan(run(binOf(ctx.project), [], { cwd: ctx.project, env: ctx.env }));
});

test("npm --omit=optional: postbin fetches the host's installer itself, checked against its pin", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  const ctx = await consumer(t, "npm-omit-optional");
  const install = npmIn(ctx, ["install", "--omit=optional", toolSpec()]);
  assertOk(install);
  assert.ok(!fs.existsSync(path.join(ctx.project, "node_modules", "@postbin")), "npm left the optional installer package out");
  const fetched = path.join(postbinDirOf(ctx.project), "native", "x86_64-unknown-linux-musl", "postbin");
  assert.ok(fs.existsSync(fetched), `the fetched installer is kept in postbin's directory\n${explain(install)}`);
  const pins = readJson(path.join(postbinDirOf(ctx.project), "package.json")).installers;
  assert.equal(sha256(fs.readFileSync(fetched)), pins["x86_64-unknown-linux-musl"].sha256, "it is the pinned installer");
  assertOnlyHostInstaller(ctx, explain(install));
  assertHelloRan(run(binOf(ctx.project), [], { cwd: ctx.project, env: ctx.env }));
});

test("a node_modules made for a Mac: the first run here fetches this host's installer and installs for this host", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  const ctx = await consumer(t, "npm-mac-node-modules");
  // What a node_modules made on a Mac (or a lockfile written there by an npm
  // with npm/cli#4828) holds: the darwin installer package, not this host's.
  assertOk(npmIn(ctx, ["install", "--os=darwin", "--cpu=arm64", "--ignore-scripts", toolSpec()]));
  assert.deepEqual(fs.readdirSync(path.join(ctx.project, "node_modules", "@postbin")), ["darwin-arm64"]);
  ctx.mark = registry.requests().length;
  const r = run(binOf(ctx.project), [], { cwd: ctx.project, env: ctx.env });
  assertHelloRan(r);
  const fetched = postbinTarballs(ctx).map((f) => f.path);
  assert.deepEqual(fetched, [`/${HOST_PACKAGE}/-/linux-x64-${published.postbinVersion}.tgz`], `the host's installer was fetched\n${explain(r)}`);
  await assertOneArchive(ctx, explain(r));
});

test("offline without the installer package: one line naming the package and the fix, exit 9", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  const ctx = await consumer(t, "npm-offline");
  assertOk(npmIn(ctx, ["install", "--omit=optional", "--ignore-scripts", toolSpec()]));
  const r = run(binOf(ctx.project), [], { cwd: ctx.project, env: { ...ctx.env, POSTBIN_OFFLINE: "1", npm_config_cache: tempDir("empty-npm-cache") } });
  assert.equal(r.status, 9, explain(r));
  const lines = r.stderr.split("\n").filter((l) => l.startsWith("postbin: "));
  assert.equal(lines.length, 1, `one line\n${explain(r)}`);
  assert.match(lines[0], new RegExp(`${HOST_PACKAGE.replace("/", "\\/")}@${published.postbinVersion}`));
  assert.match(lines[0], /npm install --no-save/);
  assert.ok(!fs.existsSync(path.join(postbinDirOf(ctx.project), "native")), "nothing half fetched is left");
});

test("an installer changed after install is refused before it runs (exit 6)", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  const ctx = await consumer(t, "npm-tampered");
  assertOk(npmIn(ctx, ["install", "--ignore-scripts", toolSpec()]));
  const installer = path.join(ctx.project, "node_modules", HOST_PACKAGE, "postbin");
  const marker = path.join(ctx.project, "ran");
  fs.writeFileSync(installer, `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
  const r = run(process.execPath, [path.join(postbinDirOf(ctx.project), "cli.js"), "--version"], { cwd: ctx.project, env: ctx.env });
  assert.equal(r.status, 6, explain(r));
  assert.match(r.stderr, /is not the one this postbin pins/);
  assert.ok(!fs.existsSync(marker), "the changed installer never ran");
});

test("npm install --os=linux --cpu=arm64 --libc=musl places the tool's aarch64 build; only the host's installer runs", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  const ctx = await consumer(t, "npm-cross");
  const install = npmIn(ctx, ["install", "--os=linux", "--cpu=arm64", "--libc=musl", "--foreground-scripts", toolSpec()]);
  assertOk(install);
  // npm installed the target's installer package (for the machine the
  // node_modules is for); the postinstall here fetched the host's.
  assert.deepEqual(fs.readdirSync(path.join(ctx.project, "node_modules", "@postbin")), ["linux-arm64"]);
  const placed = fs.realpathSync(binOf(ctx.project));
  const header = fs.readFileSync(placed).subarray(0, 20);
  assert.equal(header.subarray(0, 4).toString("latin1"), "\x7fELF", `${placed} is an ELF executable`);
  assert.equal(header.readUInt16LE(18), 183, `${placed} is built for aarch64 (e_machine 183)`);
  const receipt = readJson(path.join(ctx.project, "node_modules", "hello-tool", ".postbin", "receipt.json"));
  assert.equal(receipt.target, ARM_TARGET);
  const qemu = run("qemu-aarch64", [placed, "--version"], { cwd: ctx.project, env: ctx.env });
  assertOk(qemu);
  assert.match(qemu.stdout, /postbin/, `the aarch64 executable runs under qemu\n${explain(qemu)}`);
});

// ------------------------------------------------------ other managers

const envWithout = (env, re) => Object.fromEntries(Object.entries(env).filter(([k]) => !re.test(k)));

/** name -> how it installs the tool and runs it afterwards (the postinstall's result, or lazily). */
const MANAGERS = {
  pnpm10: {
    add: (tool, ctx) => runTool(tool, ["add", toolSpec()], { cwd: ctx.project, env: ctx.env }),
    run: (tool, ctx) => run(binOf(ctx.project), [], { cwd: ctx.project, env: ctx.env }),
  },
  // pnpm 12 fails `add` while a dependency's build is neither allowed nor
  // denied; allowed here, so its postinstall runs.
  pnpm12: {
    setup: (ctx) => fs.writeFileSync(path.join(ctx.project, "pnpm-workspace.yaml"), "allowBuilds:\n  hello-tool: true\n"),
    add: (tool, ctx) => runTool(tool, ["add", toolSpec()], { cwd: ctx.project, env: ctx.env }),
    run: (tool, ctx) => run(binOf(ctx.project), [], { cwd: ctx.project, env: ctx.env }),
  },
  yarn1: {
    fetchesEveryOptional: true,
    add: (tool, ctx) => runTool(tool, ["add", toolSpec(), "--registry", registry.url], { cwd: ctx.project, env: envWithout(ctx.env, /^YARN_/i) }),
    run: (tool, ctx) => run(binOf(ctx.project), [], { cwd: ctx.project, env: ctx.env }),
  },
  "berry (node-modules)": {
    tool: "berry",
    setup: (ctx) => berryProject({ ...ctx, registry }, { linker: "node-modules" }),
    add: (tool, ctx) => runTool(tool, ["add", toolSpec()], { cwd: ctx.project, env: envWithout(ctx.env, /^YARN_/i) }),
    run: (tool, ctx) => run(binOf(ctx.project), [], { cwd: ctx.project, env: ctx.env }),
  },
  // The install script allowed: under PnP the postinstall places the
  // executable in the unplugged package.
  "berry (PnP)": {
    tool: "berry",
    setup: (ctx) => {
      berryProject({ ...ctx, registry }, { linker: "pnp" });
      extendPackageJson(ctx.project, { dependenciesMeta: { "hello-tool": { built: true } } });
    },
    add: (tool, ctx) => runTool(tool, ["add", toolSpec()], { cwd: ctx.project, env: envWithout(ctx.env, /^YARN_/i) }),
    run: (tool, ctx) => runTool(tool, ["hello"], { cwd: ctx.project, env: envWithout(ctx.env, /^YARN_/i) }),
  },
  bun: {
    env: (ctx) => ({
      ...envWithout(ctx.env, /^BUN_/),
      BUN_INSTALL_CACHE_DIR: path.join(ctx.pmDir, "bun-cache"),
      BUN_INSTALL: path.join(ctx.pmDir, "bun-home"),
      DO_NOT_TRACK: "1",
    }),
    add: (tool, ctx) => runTool(tool, ["add", toolSpec()], { cwd: ctx.project, env: ctx.env }),
    run: (tool, ctx) => run(binOf(ctx.project), [], { cwd: ctx.project, env: ctx.env }),
  },
};

for (const [label, m] of Object.entries(MANAGERS)) {
  test(`${label}: installs only the host's installer package, and the tool runs`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    if (!registryReady(t)) return;
    const tool = toolOrSkip(t, m.tool || label);
    if (!tool) return;
    const ctx = await consumer(t, label.replace(/\W+/g, "-"));
    if (m.env) ctx.env = m.env(ctx);
    if (m.setup) m.setup(ctx);
    const add = m.add(tool, ctx);
    assertOk(add);
    if (m.fetchesEveryOptional) {
      // yarn 1 downloads every optional dependency's tarball, then links
      // only those for this platform: the known exception, asserted so that
      // a yarn 1 that stops doing it is noticed.
      const fetched = postbinTarballs(ctx).map((f) => f.path).sort();
      assert.deepEqual(fetched, Object.keys(published.sizes).sort(), `yarn 1 fetches all seven\n${explain(add)}`);
      assert.deepEqual(fs.readdirSync(path.join(ctx.project, "node_modules", "@postbin")), [HOST_PACKAGE.split("/")[1]]);
    } else {
      const total = assertOnlyHostInstaller(ctx, explain(add));
      t.diagnostic(`${label}: postbin downloaded: ${total} bytes`);
    }
    const r = m.run(tool, ctx);
    assertHelloRan(r);
    await assertOneArchive(ctx, explain(r));
  });
}

test("scripts/pack: each installer package holds its executable alone, for its own os and cpu", { timeout: TEST_TIMEOUT_MS }, () => {
  const pj = JSON.parse(runOk("tar", ["xzOf", path.join(PUBLISH_DIR, "postbin-0.1.0.tgz"), "package/package.json"]).stdout);
  const names = Object.values(PACKAGES).map((p) => p.name).sort();
  assert.deepEqual(Object.keys(pj.optionalDependencies).sort(), names, "every installer package is an optional dependency");
  for (const [target, p] of Object.entries(PACKAGES)) {
    assert.equal(pj.optionalDependencies[p.name], pj.version, `${p.name} at postbin's exact version`);
    const file = path.join(PUBLISH_DIR, `postbin-${p.name.split("/")[1]}-${pj.version}.tgz`);
    const entries = runOk("tar", ["tzf", file]).stdout.split("\n").filter(Boolean).sort();
    const exe = target.includes("-windows-") ? "postbin.exe" : "postbin";
    assert.deepEqual(entries, ["package/package.json", `package/${exe}`].sort(), `${file}`);
    const manifest = JSON.parse(runOk("tar", ["xzOf", file, "package/package.json"]).stdout);
    assert.deepEqual([manifest.os, manifest.cpu], [[p.os], [p.cpu]], `${p.name}: os and cpu`);
    assert.equal(manifest.libc, undefined, `${p.name}: static, so no libc`);
    const integrity = "sha512-" + crypto.createHash("sha512").update(fs.readFileSync(file)).digest("base64");
    assert.equal(pj.installers[target].integrity, integrity, `postbin pins ${p.name}'s integrity`);
    assert.equal(pj.installers[target].sha256, sha256(fs.readFileSync(path.join(ROOT, "shim-js", "native", target, exe))), `postbin pins ${target}'s sha256`);
  }
});
