"use strict";
// The release host unreachable, only the company's npm registry up: the
// sample tool, published as `@acme/hello-tool` with its release archives
// wrapped by `postbin pack-targets` into one npm package per target
// (`@acme/hello-tool-<target>`, the archive inside byte for byte, its sha512
// integrity recorded in the tool's package.json), installs from a real
// private registry, Verdaccio 6.8.0 on 127.0.0.1 (registry-tools.js; scope
// `@acme` readable with a token only, no uplinks).
//
// Why: many companies' machines reach only their registry (Artifactory,
// Nexus, Verdaccio), not github.com. Publishing the archives there as npm
// packages lets the tool install with the registry credentials the consumer
// already has in .npmrc, without a mirror of the releases. Asserted: the
// publisher side (one wrapper per pinned target, exactly the archive,
// integrity recorded); a consumer whose mirror refuses connections installs
// from the registry as the authenticated user; the token goes to the
// registry only, never to the mirror; a refused token is one line naming
// the registry, nothing half installed; POSTBIN_SOURCE=npm asks the registry
// first. "GitHub" is always POSTBIN_MIRROR (server-fixture, or a closed
// port): no test here reaches the internet. The default npm registry is a
// trap that must see no request. Run: node --test tests/e2e/npm-registry.test.js

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { run, runOk, explain, tempDir, cleanup, sample, postbinTgz, startFixture, testEnv, newProject, npm,
  listDir, postbinLines } = require("./support");
const { toolOrSkip, startRegistryTrap, assertOk, assertHelloRan, assertNoRegistryRequests } = require("./pm-tools");
const { ensureVerdaccio, startVerdaccio, closedPortUrl, formatRequests, plainPath, tarballPath,
  npmPackFileName, npmrcText, sha512Integrity, tgzEntries } = require("./registry-tools");

const TEST_TIMEOUT_MS = 150_000;
const SCOPED_NAME = "@acme/hello-tool";
const USER = "acme-ci";
const PASSWORD = "e2e-password-not-secret";
// Never issued by the registry: what a consumer with a stale token sends.
const WRONG_TOKEN = "e2e-stale-token-never-issued";

let s; // the sample tool (support.sample)
let postbin; // postbin's CLI from the packed tarball, as `npx postbin` runs it
let verdaccio; // the installed Verdaccio, or { skip }
let registry; // the running registry (registry-tools.startVerdaccio)
let token; // USER's token
let packed; // what pack-targets made (first test)
let published; // the wrappers on the registry and the packed tool (second test)

before(
  async () => {
    s = sample();
    const tools = newProject("postbin-tools");
    const r = npm(["install", postbinTgz()], { cwd: tools, env: testEnv({}) });
    assert.ok(!r.error && r.status === 0, `installing the packed postbin\n${explain(r)}`);
    postbin = path.join(tools, "node_modules", ".bin", "postbin");
    // Installed here (once, then cached in target/tools), not under a test's timeout.
    verdaccio = ensureVerdaccio();
    if (verdaccio.skip) return;
    registry = await startVerdaccio(verdaccio);
    token = await registry.addUser(USER, PASSWORD);
  },
  { timeout: 600_000 }
);
after(async () => {
  if (registry) await registry.stop();
  cleanup();
});

/** False (after t.skip) when Verdaccio cannot be installed or run here. */
function registryReady(t) {
  if (!toolOrSkip(t, "verdaccio")) return false;
  assert.ok(registry, "the registry was started in before()");
  return true;
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
const sha256 = (data) => crypto.createHash("sha256").update(data).digest("hex");
const wrapperName = (target) => `${SCOPED_NAME}-${target}`;

/** A private HOME (so no user .npmrc is read) under `base`, as environment variables. */
function privateHome(base) {
  const home = path.join(base, "home");
  fs.mkdirSync(home, { recursive: true });
  return {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    XDG_CACHE_HOME: path.join(home, ".cache"),
    XDG_DATA_HOME: path.join(home, ".local", "share"),
    XDG_STATE_HOME: path.join(home, ".local", "state"),
  };
}

// ------------------------------------------------------------- publisher

/**
 * The sample tool's package, as published, renamed `@acme/hello-tool`
 * (everything else kept: the targets, their pinned hashes, the dependency
 * on the packed postbin; the env prefix stays HELLO_TOOL).
 */
function scopedToolPackage() {
  const dir = tempDir("scoped-tool");
  runOk("tar", ["xzf", s.tgz, "-C", dir]);
  const pkg = path.join(dir, "package");
  const file = path.join(pkg, "package.json");
  const pj = readJson(file);
  assert.equal(pj.name, "hello-tool", "the sample tarball holds hello-tool");
  pj.name = SCOPED_NAME;
  fs.writeFileSync(file, JSON.stringify(pj, null, 2) + "\n");
  // The launchers name the package in their messages: `postbin init` writes
  // them again for the new name (and keeps everything else, the dependency
  // on the packed postbin included), as a publisher renaming would.
  runOk(postbin, ["init", "--package", pkg], { cwd: pkg, env: testEnv({}) });
  return pkg;
}

/** `postbin plan --json` for the package: the host's target, or every target with `targets`. */
function plan(pkg, env, targets) {
  const args = ["plan", "--package", pkg, "--json", ...(targets ? ["--targets", targets] : [])];
  const r = run(postbin, args, { cwd: pkg, env });
  assert.ok(!r.error && r.status === 0, `postbin plan\n${explain(r)}`);
  return JSON.parse(r.stdout).targets;
}

/** npm's os/cpu/libc for a Rust target triple. */
function npmPlatformOf(target) {
  const os = /-linux-/.test(target) ? "linux" : /-apple-/.test(target) ? "darwin" : /-windows-/.test(target) ? "win32" : null;
  const arch = target.split("-")[0];
  const cpu = { x86_64: "x64", aarch64: "arm64", i686: "ia32", armv7: "arm" }[arch] || null;
  const libc = os !== "linux" ? undefined : /-musl/.test(target) ? "musl" : "glibc";
  return { os, cpu, libc };
}

test("pack-targets wraps each pinned release archive, byte for byte, in an npm package per target", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  const fixture = await startFixture(t, s.releases);
  const pkg = scopedToolPackage();
  const out = tempDir("npm-targets");
  const env = testEnv({ mirror: fixture.url, extra: privateHome(tempDir("publisher-state")) });
  // Each target's asset file name, and the host's target, as install resolves them.
  const assets = Object.fromEntries(plan(pkg, env, "all").map((p) => [p.target, p.asset]));
  const [host] = plan(pkg, env);

  const r = run(postbin, ["pack-targets", "--package", pkg, "--out", out], { cwd: pkg, env });
  assert.ok(!r.error && r.status === 0, `pack-targets failed\n${explain(r)}`);
  t.diagnostic(`pack-targets:\n${r.stdout.trimEnd()}`);

  const pj = readJson(path.join(pkg, "package.json"));
  const pinned = Object.keys(pj.postbin.targets).filter((target) => pj.postbin.targets[target].sha256);
  assert.ok(pinned.length >= 2, `the sample pins two targets: ${JSON.stringify(pj.postbin.targets)}`);
  const expectedFiles = pinned.map((target) => npmPackFileName(wrapperName(target), pj.version)).sort();
  assert.deepEqual(listDir(out), expectedFiles, `one npm-pack-named tarball per pinned target in --out\n${explain(r)}`);

  const wrappers = {};
  for (const target of pinned) {
    const name = wrapperName(target);
    const file = path.join(out, npmPackFileName(name, pj.version));
    const integrity = sha512Integrity(file);
    assert.equal(
      pj.postbin.targets[target].integrity,
      integrity,
      `package.json records ${target}'s wrapper integrity as sha512-<base64 of the .tgz's SHA-512>`
    );

    const asset = assets[target];
    assert.ok(asset, `postbin plan names ${target}'s asset`);
    const entries = tgzEntries(file);
    const files = entries.filter((e) => e.type !== "dir");
    assert.deepEqual(
      files.map((e) => e.name).sort(),
      ["package/package.json", `package/${asset}`].sort(),
      `${path.basename(file)} holds exactly package/package.json and the archive: ${JSON.stringify(entries.map((e) => [e.name, e.type]))}`
    );
    assert.ok(files.every((e) => e.type === "file"), `regular files only: ${JSON.stringify(entries.map((e) => [e.name, e.type]))}`);

    const inside = files.find((e) => e.name === `package/${asset}`).data;
    const released = fs.readFileSync(path.join(s.releaseDir, asset));
    assert.ok(inside.equals(released), `${target}: the wrapped ${asset} is the release asset, byte for byte`);
    assert.equal(sha256(inside), pj.postbin.targets[target].sha256, `${target}: the wrapped archive has the pinned sha256`);

    const manifest = JSON.parse(files.find((e) => e.name === "package/package.json").data.toString("utf8"));
    assert.equal(manifest.name, name, `the wrapper's name: ${JSON.stringify(manifest)}`);
    assert.equal(manifest.version, pj.version, "the wrapper has the tool's version");
    const want = npmPlatformOf(target);
    assert.deepEqual(manifest.os, [want.os], `${name}: os`);
    assert.deepEqual(manifest.cpu, [want.cpu], `${name}: cpu`);
    if (want.libc) assert.deepEqual(manifest.libc, [want.libc], `${name}: libc`);
    assert.equal(manifest.scripts, undefined, `${name}: no scripts (installing it runs nothing)`);
    assert.equal(manifest.bin, undefined, `${name}: no bin (it is data, not a command)`);
    wrappers[target] = { name, file, integrity, asset };
  }

  // The archives came the usual way: through the mirror, each once at least.
  const downloaded = (await fixture.downloads()).map((d) => path.posix.basename(d.path.split("?")[0]));
  for (const target of pinned) {
    assert.ok(downloaded.includes(wrappers[target].asset), `${wrappers[target].asset} was downloaded from the mirror: ${downloaded}`);
  }

  assert.ok(wrappers[host.target], `the host's target ${host.target} has a wrapper`);
  packed = { pkg, version: pj.version, packageJson: pj, wrappers, hostTarget: host.target };
});

test("the wrappers publish to the private registry, which serves them byte for byte; the tool packs with their integrity", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  assert.ok(packed, "needs the wrappers made by the pack-targets test above (see its failure)");
  const base = tempDir("publish-state");
  const userconfig = path.join(base, "publisher.npmrc");
  fs.writeFileSync(userconfig, npmrcText({ [`${registry.nerfDart}:_authToken`]: token }));
  const env = testEnv({ extra: privateHome(base) });

  for (const [target, w] of Object.entries(packed.wrappers)) {
    const pub = npm(["publish", w.file, "--registry", registry.url, "--userconfig", userconfig], { cwd: base, env });
    assertOk(pub);

    const packument = await registry.get(w.name.replace("/", "%2f"), token);
    assert.equal(packument.status, 200, `the registry has ${w.name}: ${packument.body}`);
    const dist = JSON.parse(packument.body).versions[packed.version].dist;
    assert.equal(dist.integrity, w.integrity, `${target}: the registry's integrity is the one recorded in package.json`);
    const tarball = tarballPath(w.name, packed.version);
    assert.equal(plainPath(new URL(dist.tarball).pathname), tarball, `the registry serves ${w.name} at ${tarball}`);

    const got = await registry.get(tarball.slice(1), token);
    assert.equal(got.status, 200, `GET ${tarball} with the token`);
    assert.equal(sha512Integrity(got.body), w.integrity, `${target}: the registry serves the published bytes unchanged`);
    const anonymous = await registry.get(tarball.slice(1));
    assert.equal(anonymous.status, 401, `the @acme scope is private: ${tarball} without a token is refused`);
  }

  // The tool itself, now carrying the integrity fields: checked, then packed
  // (prepack's `postbin check` run directly, as scripts/make-sample does).
  const check = run(postbin, ["check", "--package", packed.pkg], { cwd: packed.pkg, env });
  assert.ok(!check.error && check.status === 0, `postbin check accepts the integrity fields\n${explain(check)}`);
  const packDir = tempDir("tool-packed");
  const pack = npm(["pack", "--silent", "--ignore-scripts", packed.pkg], { cwd: packDir, env });
  assertOk(pack);
  const toolTgz = path.join(packDir, pack.stdout.trim().split("\n").pop());
  assert.equal(path.basename(toolTgz), npmPackFileName(SCOPED_NAME, packed.version), explain(pack));
  const manifest = JSON.parse(tgzEntries(toolTgz).find((e) => e.name === "package/package.json").data.toString("utf8"));
  for (const [target, w] of Object.entries(packed.wrappers)) {
    assert.equal(manifest.postbin.targets[target].integrity, w.integrity, `the packed tool records ${target}'s integrity`);
  }
  t.diagnostic(`registry requests while publishing:\n${formatRequests(registry.requests())}`);
  published = { ...packed, toolTgz };
});

// -------------------------------------------------------------- consumers

/**
 * A consumer project whose `.npmrc` (project-level, or the user's in its
 * private HOME with `where: "user"`) names the registry for @acme and a
 * token for it; the default registry is a trap; a private postbin cache.
 * `mirror` stands for GitHub.
 */
async function consumer(t, label, { mirror, authToken = token, where = "project", extraEnv = {} }) {
  const trap = await startRegistryTrap(t);
  const base = tempDir(`${label}-state`);
  // A private HOME: no user .npmrc but the one written here, and an npm
  // cache without the wrappers (postbin takes a wrapper from npm's cache
  // when it holds it, which would hide whether the registry was asked).
  const home = privateHome(base);
  const cacheDir = path.join(base, "postbin-cache");
  const env = testEnv({
    mirror,
    cacheDir,
    extra: { ...home, npm_config_registry: `${trap.url}/`, NPM_CONFIG_REGISTRY: `${trap.url}/`, ...extraEnv },
  });
  const project = newProject(label);
  const npmrc = where === "user" ? path.join(home.HOME, ".npmrc") : path.join(project, ".npmrc");
  fs.writeFileSync(
    npmrc,
    npmrcText({ "@acme:registry": registry.url, [`${registry.nerfDart}:_authToken`]: authToken })
  );
  const packageDir = path.join(project, "node_modules", "@acme", "hello-tool");
  return { env, project, trap, cacheDir, packageDir, bin: path.join(project, "node_modules", ".bin", "hello") };
}

function needPublished() {
  assert.ok(published, "needs the wrappers published by the tests above (see their failures)");
  return published;
}

/** `npm install <tool.tgz> <postbin.tgz> --foreground-scripts` (postinstall's output in the result). */
function installTool(c, extra = []) {
  return npm(["install", "--foreground-scripts", ...extra, published.toolTgz, postbinTgz()], { cwd: c.project, env: c.env });
}

/** The registry's requests since `mark` (a count from before) for the wrapper of `target`'s tarball. */
function wrapperRequests(mark, target) {
  const wanted = tarballPath(wrapperName(target), published.version);
  return registry.requests().slice(mark).filter((r) => r.method === "GET" && plainPath(r.url.split("?")[0]) === wanted);
}

/** The registry served the host's wrapper tarball (status `status`, to `user`) since `mark`. */
function assertWrapperServed(mark, { status = 200, user = USER } = {}, context = "") {
  const target = published.hostTarget;
  const hits = wrapperRequests(mark, target);
  assert.ok(
    hits.some((r) => r.status === status && r.user === user),
    `expected GET ${tarballPath(wrapperName(target), published.version)} answered ${status} ` +
      `${user ? `to ${user}` : "anonymously"}; the registry's requests:\n${formatRequests(registry.requests().slice(mark))}\n${context}`
  );
}

/** The tool was placed for the host's target, from an archive verified and cached under its pinned sha256. */
function assertInstalledForHost(c, context) {
  const receipt = readJson(path.join(c.packageDir, ".postbin", "receipt.json"));
  assert.equal(receipt.target, published.hostTarget, `installed for the host's target\n${context}`);
  const pinnedSha = published.packageJson.postbin.targets[published.hostTarget].sha256;
  assert.deepEqual(listDir(path.join(c.cacheDir, "v1", "archives")), [pinnedSha], `the archive is cached under its pinned sha256\n${context}`);
}

test("GitHub unreachable: npm install gets the archive from the wrapper on the private registry, as the token's user", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  needPublished();
  // The release host refuses connections (nothing listens there), and the
  // mirror replaces the origin: no request can leave the machine.
  const c = await consumer(t, "registry-only", { mirror: await closedPortUrl() });
  const mark = registry.requests().length;

  const install = installTool(c);
  assertOk(install);
  const hello = run(c.bin, ["from-the-registry"], { cwd: c.project, env: c.env });
  assertHelloRan(hello);
  assertInstalledForHost(c, explain(install));

  const during = registry.requests().slice(mark);
  t.diagnostic(`registry requests during the install:\n${formatRequests(during)}`);
  assertWrapperServed(mark, {}, explain(install));
  const hostTarball = tarballPath(wrapperName(published.hostTarget), published.version);
  const tarballs = during.filter((r) => r.url.includes("/-/"));
  assert.ok(
    tarballs.every((r) => plainPath(r.url.split("?")[0]) === hostTarball),
    `only the host's wrapper was fetched:\n${formatRequests(tarballs)}`
  );
  assertNoRegistryRequests({ registry: c.trap });
});

test("install scripts skipped: the launcher's first run installs from the registry (user .npmrc)", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  needPublished();
  // Outside npm there is no INIT_CWD, so postbin reads the user's .npmrc.
  const c = await consumer(t, "registry-lazy", { mirror: await closedPortUrl(), where: "user" });
  assertOk(installTool(c, ["--ignore-scripts"]));
  assert.ok(!fs.existsSync(path.join(c.packageDir, ".postbin")), "no install script ran, nothing is installed yet");
  const mark = registry.requests().length;

  const first = run(c.bin, ["first"], { cwd: c.project, env: c.env });
  assertHelloRan(first);
  assertInstalledForHost(c, explain(first));
  assertWrapperServed(mark, {}, explain(first));
  t.diagnostic(`registry requests during the first run:\n${formatRequests(registry.requests().slice(mark))}`);
  assertNoRegistryRequests({ registry: c.trap });
});

test("the token goes to the registry only: the mirror (answering 404) is tried first and sees no Authorization", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  needPublished();
  const fixture = await startFixture(t, s.releases);
  // Every file of the release: whichever asset the host's target picks is missing.
  for (const assetPath of s.assetPaths) await fixture.fault(assetPath, { kind: "status", status: "404" });
  const c = await consumer(t, "token-scope", { mirror: fixture.url });
  const mark = registry.requests().length;

  const install = installTool(c);
  assertOk(install);
  assertHelloRan(run(c.bin, [], { cwd: c.project, env: c.env }));
  assertInstalledForHost(c, explain(install));

  const log = await fixture.requests();
  assert.ok(log.length >= 1, `the mirror was tried before the registry\n${explain(install)}`);
  assert.ok(log.every((r) => r.status === 404), `the mirror served nothing: ${JSON.stringify(log, null, 1)}`);
  assert.deepEqual(
    log.filter((r) => r.authorization !== null),
    [],
    "no request to the mirror carries an Authorization header (the token is for the registry's host:port only)"
  );
  assert.ok(!JSON.stringify(log).includes(token), "the token appears nowhere in the mirror's log");
  assertWrapperServed(mark, {}, explain(install));
  assertNoRegistryRequests({ registry: c.trap });
});

test("a refused token: npm install fails with one line naming the registry and its 401/403; nothing half installed", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  needPublished();
  const c = await consumer(t, "wrong-token", { mirror: await closedPortUrl(), authToken: WRONG_TOKEN });
  const mark = registry.requests().length;

  const install = installTool(c);
  assert.ok(!install.error, explain(install));
  assert.notEqual(install.status, 0, `npm install must fail: the postinstall cannot get the archive\n${explain(install)}`);
  const output = install.stdout + install.stderr;
  assert.ok(
    postbinLines(output).some((l) => l.startsWith("postbin: error: ")),
    `postbin's error ends the install\n${explain(install)}`
  );
  // The refusal is one line (alone, or one attempt's line in postbin's
  // paragraph after the mirror's): which registry, and what it answered.
  const lines = output.split(/\r?\n/).map((l) => l.replace(/^npm error /, "").trim());
  const refused = lines.filter((l) => l.includes(registry.url) && /\b40[13]\b/.test(l));
  assert.equal(refused.length, 1, `one line names ${registry.url} and the 401/403 it answered\n${explain(install)}`);
  assert.ok(!output.includes(WRONG_TOKEN), `the token is never printed\n${explain(install)}`);
  assertWrapperServed(mark, { status: 401, user: null }, explain(install));

  assert.ok(!fs.existsSync(path.join(c.packageDir, ".postbin", "bin", "hello")), "no executable placed");
  assert.ok(!fs.existsSync(path.join(c.packageDir, ".postbin", "receipt.json")), "no receipt written");
  assert.deepEqual(listDir(path.join(c.cacheDir, "v1", "archives")), [], "nothing cached");
  t.diagnostic(refused[0]);
});

test("POSTBIN_SOURCE=npm: the registry is asked first; the reachable mirror serves nothing", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!registryReady(t)) return;
  needPublished();
  const fixture = await startFixture(t, s.releases);
  const c = await consumer(t, "source-npm", { mirror: fixture.url, extraEnv: { POSTBIN_SOURCE: "npm" } });
  const mark = registry.requests().length;

  const install = installTool(c);
  assertOk(install);
  assertHelloRan(run(c.bin, [], { cwd: c.project, env: c.env }));
  assertInstalledForHost(c, explain(install));
  assertWrapperServed(mark, {}, explain(install));
  const log = await fixture.requests();
  assert.deepEqual(await fixture.downloads(), [], `no download from the mirror, log: ${JSON.stringify(log, null, 1)}`);
  assert.deepEqual(log, [], "the mirror is not asked at all when the registry answers");
  assertNoRegistryRequests({ registry: c.trap });
});
