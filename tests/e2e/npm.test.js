"use strict";
// End to end with real npm: the sample tool (scripts/make-sample) installed
// from its packed tarball, its release archives served by server-fixture on
// 127.0.0.1 through POSTBIN_MIRROR. Run: node --test tests/e2e/

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const path = require("path");
const { HELLO_OUTPUT, run, explain, tempDir, cleanup, sample, startFixture, isDownload, makeReadOnly, testEnv,
  newProject, npm, isElf, startsWithShebang, listDir, reportedExecutable, lazyNotice, postbinLines } = require("./support");

const TEST_TIMEOUT_MS = 150_000;
const NOTICE_LAZY = "not installed yet";

let s;
before(() => {
  s = sample();
});
after(() => cleanup());

/** A fixture, a project and a private postbin cache for one test. */
async function setup(t, label, extraEnv = {}) {
  const fixture = await startFixture(t, s.releases);
  const cacheDir = path.join(tempDir(`${label}-cache`), "postbin");
  const env = testEnv({ mirror: fixture.url, cacheDir, extra: extraEnv });
  const project = newProject(label);
  return { fixture, cacheDir, env, project };
}

function binOf(project, name = "hello") {
  return path.join(project, "node_modules", ".bin", name);
}

function packageDirOf(project) {
  return path.join(project, "node_modules", "hello-tool");
}

function assertOk(r) {
  assert.ok(!r.error && r.status === 0, `expected success\n${explain(r)}`);
}

function assertHelloRan(r) {
  assertOk(r);
  assert.match(r.stdout, new RegExp(`^${HELLO_OUTPUT}$`, "m"), explain(r));
}

function assertVersion(r) {
  assertOk(r);
  assert.equal(r.stdout.trim().split("\n").pop(), `hello ${s.version}`, explain(r));
}

function assetName(record) {
  return path.posix.basename(record.path.split("?")[0]);
}

/** Exactly one asset body was served, and it is one of the release's files. */
async function assertOneDownload(fixture, context) {
  const log = await fixture.requests();
  const downloads = log.filter(isDownload);
  assert.equal(downloads.length, 1, `expected one asset download, log: ${JSON.stringify(log, null, 1)}\n${context}`);
  const names = s.assetPaths.map((p) => path.posix.basename(p));
  assert.ok(names.includes(assetName(downloads[0])), `downloaded ${downloads[0].path}, not a release asset`);
  return log;
}

function pinnedHashes() {
  return Object.values(s.packageJson.postbin.targets).map((t) => t.sha256);
}

test("npm install runs postinstall: .bin/hello is the native executable (speed path)", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { fixture, env, project } = await setup(t, "speed");
  const install = npm(["install", s.tgz], { cwd: project, env });
  assertOk(install);

  const bin = binOf(project);
  const real = fs.realpathSync(bin);
  assert.equal(real, path.join(packageDirOf(project), "bin", "hello"), "the .bin link points at the package's bin entry");
  assert.ok(isElf(real), `${real} should be the native executable (ELF), not the JS launcher`);

  const hello = run(bin, ["a", "b"], { cwd: project, env });
  assertHelloRan(hello);
  assert.equal(reportedExecutable(hello.stdout), real, "the native file itself runs, no launcher in between");
  assert.match(hello.stdout, /arguments:\s+\["a", "b"\]/, "arguments are passed through");
  assert.equal(hello.stderr, "", "a placed tool runs silently");
  assertVersion(run(bin, ["--version"], { cwd: project, env }));

  await assertOneDownload(fixture, explain(install));
  const placed = path.join(packageDirOf(project), ".postbin", "bin", "hello");
  assert.ok(isElf(placed), ".postbin/bin/hello holds the native executable too");
});

test("npm install --ignore-scripts: the launcher installs lazily on first run, once", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { fixture, env, project } = await setup(t, "lazy");
  assertOk(npm(["install", "--ignore-scripts", s.tgz], { cwd: project, env }));
  assert.deepEqual(await fixture.requests(), [], "no postinstall, so no download during install");

  const bin = binOf(project);
  assert.ok(startsWithShebang(fs.realpathSync(bin)), ".bin/hello is still the JS launcher");
  assert.ok(!fs.existsSync(path.join(packageDirOf(project), ".postbin")), "nothing installed yet");

  const first = run(bin, ["first"], { cwd: project, env });
  assertHelloRan(first);
  const notices = first.stderr.split("\n").filter(Boolean);
  assert.deepEqual(notices, [lazyNotice("hello")], `the notice, alone on stderr\n${explain(first)}`);
  assert.ok(!first.stdout.includes(NOTICE_LAZY), "the notice stays off stdout");
  const placed = path.join(packageDirOf(project), ".postbin", "bin", "hello");
  assert.equal(reportedExecutable(first.stdout), fs.realpathSync(placed), "the launcher runs the placed executable");
  const afterFirst = await assertOneDownload(fixture, explain(first));

  const second = run(bin, ["second"], { cwd: project, env });
  assertHelloRan(second);
  assert.ok(!second.stderr.includes(NOTICE_LAZY), `no notice on the second run\n${explain(second)}`);
  assert.equal(second.stderr, "", explain(second));
  assert.equal((await fixture.requests()).length, afterFirst.length, "the second run makes no request");
  assert.ok(startsWithShebang(fs.realpathSync(bin)), "a lazy install keeps the launcher (no speed path outside postinstall)");
});

test("npm install -g --prefix: the global bin runs the tool", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { fixture, env } = await setup(t, "global");
  const prefix = tempDir("prefix");
  const cwd = tempDir("global-cwd");
  const install = npm(["install", "-g", "--prefix", prefix, s.tgz], { cwd, env });
  assertOk(install);

  const bin = path.join(prefix, "bin", "hello");
  const hello = run(bin, [], { cwd, env });
  assertHelloRan(hello);
  assertVersion(run(bin, ["--version"], { cwd, env }));
  assert.ok(isElf(fs.realpathSync(bin)), "npm global links by symlink, so the speed path applies");
  await assertOneDownload(fixture, explain(install));
});

test("npm exec --package=<tool.tgz> (npx) runs the tool", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const npxCache = tempDir("npx-cache");
  const { fixture, env } = await setup(t, "npx", { npm_config_cache: npxCache });
  const cwd = tempDir("npx-cwd");
  const r = run("npm", ["exec", "--yes", `--package=${s.tgz}`, "--", "hello", "--version"], { cwd, env });
  assertVersion(r);
  await assertOneDownload(fixture, explain(r));
});

test("a 404 from the release host fails npm install with postbin's message", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { fixture, env, project, cacheDir } = await setup(t, "404");
  // Every file of the release: whichever asset the host's target picks is missing.
  for (const assetPath of s.assetPaths) await fixture.fault(assetPath, { kind: "status", status: "404" });

  const install = npm(["install", s.tgz], { cwd: project, env });
  assert.ok(!install.error, explain(install));
  assert.notEqual(install.status, 0, `npm install must fail\n${explain(install)}`);
  const log = await fixture.requests();
  assert.ok(log.length >= 1 && log.every((r) => r.status === 404), `only 404s were served: ${JSON.stringify(log)}`);
  // The one line the user gets: which URL failed, how, and where to look
  // (npm shows it behind its own "npm error " prefix).
  const url = `${fixture.url}${log[log.length - 1].path}`;
  assert.deepEqual(
    postbinLines(install.stdout + install.stderr),
    [`postbin: error: ${url} answered 404 Not Found; the mirror lacks this release asset; check that it holds the file at that path`],
    `postbin's error, whole\n${explain(install)}`
  );
  assert.equal(log.filter(isDownload).length, 0);
  assert.deepEqual(listDir(path.join(cacheDir, "v1", "archives")), [], "nothing is cached");
});

test("npm uninstall keeps the cache; a new project installs from it with no request", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { fixture, env, project, cacheDir } = await setup(t, "cache");
  assertOk(npm(["install", s.tgz], { cwd: project, env }));
  await assertOneDownload(fixture, "first install");
  const archivesDir = path.join(cacheDir, "v1", "archives");
  const archives = listDir(archivesDir);
  assert.equal(archives.length, 1, `one archive cached: ${archives}`);
  assert.ok(pinnedHashes().includes(archives[0]), `the archive is stored under its pinned sha256 (${archives[0]})`);

  const uninstall = npm(["uninstall", "hello-tool"], { cwd: project, env });
  assertOk(uninstall);
  assert.ok(!fs.existsSync(packageDirOf(project)), "the package is gone");
  assert.ok(!fs.existsSync(binOf(project)), "its .bin link is gone");
  assert.deepEqual(listDir(archivesDir), archives, "the cache keeps the archive");

  await fixture.reset();
  const other = newProject("cache-reinstall");
  const reinstall = npm(["install", s.tgz], { cwd: other, env });
  assertOk(reinstall);
  assert.deepEqual(await fixture.requests(), [], `a cache hit makes no request\n${explain(reinstall)}`);
  const bin = binOf(other);
  assert.ok(isElf(fs.realpathSync(bin)), "the speed path works from the cache as well");
  assertHelloRan(run(bin, [], { cwd: other, env }));
});

test("read-only package dir: the launcher runs the tool from the cache", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { fixture, env, project, cacheDir } = await setup(t, "readonly");
  assertOk(npm(["install", "--ignore-scripts", s.tgz], { cwd: project, env }));
  const pkg = packageDirOf(project);

  const cannot = makeReadOnly(t, pkg);
  if (cannot) {
    t.skip(`cannot make ${pkg} read-only: ${cannot}`);
    return;
  }

  const hello = run(binOf(project), ["ro"], { cwd: project, env });
  assertHelloRan(hello);
  assert.deepEqual(
    hello.stderr.split("\n").filter(Boolean),
    [`postbin: ${fs.realpathSync(pkg)} is read-only; running hello from the postbin cache`],
    `the notice, alone on stderr\n${explain(hello)}`
  );
  const exe = reportedExecutable(hello.stdout);
  assert.ok(
    exe && exe.startsWith(fs.realpathSync(cacheDir) + path.sep),
    `the executable runs from the cache (${exe}, cache ${cacheDir})`
  );
  assert.ok(!fs.existsSync(path.join(pkg, ".postbin")), "nothing was written into the package");
  await assertOneDownload(fixture, explain(hello));

  // Later runs use the cache without another download.
  const again = run(binOf(project), ["again"], { cwd: project, env });
  assertHelloRan(again);
  assert.equal((await fixture.requests()).filter(isDownload).length, 1, "the second run is a cache hit");
});

test("POSTBIN_SPEED_PATH=0: npm install keeps the JS launcher, which runs the placed executable", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { fixture, env, project } = await setup(t, "nospeed", { POSTBIN_SPEED_PATH: "0" });
  const install = npm(["install", s.tgz], { cwd: project, env });
  assertOk(install);
  const afterInstall = await assertOneDownload(fixture, explain(install));

  const bin = binOf(project);
  assert.ok(startsWithShebang(fs.realpathSync(bin)), ".bin/hello is still the JS launcher");
  const placed = path.join(packageDirOf(project), ".postbin", "bin", "hello");
  assert.ok(isElf(placed), "postinstall placed the native executable");

  const hello = run(bin, [], { cwd: project, env });
  assertHelloRan(hello);
  assert.equal(hello.stderr, "", `no install notice: postinstall placed it\n${explain(hello)}`);
  assert.equal(reportedExecutable(hello.stdout), fs.realpathSync(placed), "the launcher runs the placed executable");
  assertVersion(run(bin, ["--version"], { cwd: project, env }));
  const failing = run(bin, ["--exit=3"], { cwd: project, env });
  assert.equal(failing.status, 3, `the launcher passes the tool's exit code on\n${explain(failing)}`);
  assert.equal((await fixture.requests()).length, afterInstall.length, "running makes no request");
});

/**
 * node_modules copied from a Mac (Docker `COPY`, a tarball): the package's
 * executable and receipt are for aarch64-apple-darwin, and the speed path
 * made `.bin/hello` that Mac executable too. It cannot run here ("exec
 * format error"); `npm rebuild hello-tool` runs postinstall again, which
 * installs for this host and replaces the `.bin` entry.
 */
function moveInFromAMac(pkg) {
  const foreign = Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0x00, 0x00, 0x01]), Buffer.from("not for this host\n")]);
  const placed = path.join(pkg, ".postbin", "bin", "hello");
  const receiptFile = path.join(pkg, ".postbin", "receipt.json");
  const receipt = JSON.parse(fs.readFileSync(receiptFile, "utf8"));
  const sha256 = require("crypto").createHash("sha256").update(foreign).digest("hex");
  receipt.target = "aarch64-apple-darwin";
  receipt.bins = receipt.bins.map((b) => ({ ...b, size: foreign.length, sha256 }));
  for (const file of [placed, path.join(pkg, "bin", "hello")]) {
    // A COPY makes separate files: the speed path's hard link is not kept.
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, foreign, { mode: 0o755 });
  }
  fs.writeFileSync(receiptFile, JSON.stringify(receipt));
}

test("node_modules moved from another platform: npm rebuild repairs the speed path", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { env, project } = await setup(t, "moved");
  assertOk(npm(["install", s.tgz], { cwd: project, env }));
  const bin = binOf(project);
  assert.ok(isElf(fs.realpathSync(bin)), "speed path");
  moveInFromAMac(packageDirOf(project));

  const broken = run(bin, [], { cwd: project, env });
  assert.ok(broken.error || broken.status !== 0, `a Mac executable does not run here\n${explain(broken)}`);

  const rebuild = npm(["rebuild", "hello-tool"], { cwd: project, env });
  assertOk(rebuild);
  assert.ok(isElf(fs.realpathSync(bin)), `.bin/hello is this host's executable again\n${explain(rebuild)}`);
  const receipt = JSON.parse(fs.readFileSync(path.join(packageDirOf(project), ".postbin", "receipt.json"), "utf8"));
  assert.notEqual(receipt.target, "aarch64-apple-darwin");
  const hello = run(bin, ["after"], { cwd: project, env });
  assertHelloRan(hello);
  assert.equal(hello.stderr, "", explain(hello));
});

test("node_modules moved from another platform: the JS launcher reinstalls for this host instead of running it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { env, project } = await setup(t, "moved-launcher", { POSTBIN_SPEED_PATH: "0" });
  assertOk(npm(["install", s.tgz], { cwd: project, env }));
  const pkg = packageDirOf(project);
  const launcher = fs.readFileSync(path.join(pkg, "bin", "hello"));
  moveInFromAMac(pkg);
  fs.writeFileSync(path.join(pkg, "bin", "hello"), launcher, { mode: 0o755 });

  const hello = run(binOf(project), ["moved"], { cwd: project, env });
  assertHelloRan(hello);
  assert.deepEqual(
    hello.stderr.split("\n").filter(Boolean),
    [
      `postbin: hello in ${fs.realpathSync(pkg)} was installed for aarch64-apple-darwin, which this host ` +
        `(${process.platform} ${process.arch}) cannot run (node_modules copied from another machine?); installing it for this host now`,
    ],
    `the notice, alone on stderr\n${explain(hello)}`
  );
  assert.ok(isElf(path.join(pkg, ".postbin", "bin", "hello")), "this host's executable is placed");
  const again = run(binOf(project), [], { cwd: project, env });
  assertHelloRan(again);
  assert.equal(again.stderr, "", explain(again));
});
