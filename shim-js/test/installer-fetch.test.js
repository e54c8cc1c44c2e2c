"use strict";
// Where the installer comes from when postbin ships as seven packages: the
// host's @postbin/<os>-<cpu> package, checked against the sha256 postbin
// pins; else fetched (fetch-installer.js) through npm, checked against the
// pinned tarball integrity. npm is a stand-in npm-cli.js here (what `npm
// pack SPEC --pack-destination DIR --json` does, from a prepared tarball);
// tests/e2e/installer-packages.test.js runs the real one against a registry.

const test = require("node:test");
const assert = require("node:assert");
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");
const { installerPath, InstallerMismatchError, InstallerMissingError, InstallerFetchError } = require("../platform");
const { fetchInstaller, fileInTarball, tarballUrl } = require("../fetch-installer");

const TARGET = "x86_64-unknown-linux-musl";
const EXE = Buffer.from("#!/bin/sh\necho installer\n");
const sha256 = (b) => crypto.createHash("sha256").update(b).digest("hex");
const integrity = (b) => "sha512-" + crypto.createHash("sha512").update(b).digest("base64");

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postbin-fetch-test-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A .tgz as npm packs one: ustar entries under package/. */
function tgz(entries) {
  const blocks = [];
  for (const [name, data] of entries) {
    const h = Buffer.alloc(512);
    h.write(`package/${name}`, 0);
    h.write("0000755\0", 100);
    h.write(data.length.toString(8).padStart(11, "0") + "\0", 124);
    h.write("        ", 148);
    h.write("0", 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return zlib.gzipSync(Buffer.concat(blocks));
}

/**
 * A stand-in npm: `pack SPEC --pack-destination DIR` copies `tarball` there
 * (or fails as npm does offline with an empty cache), recording its argv.
 */
function fakeNpm(dir, tarball, { fail } = {}) {
  const src = path.join(dir, "served.tgz");
  fs.writeFileSync(src, tarball);
  const cli = path.join(dir, "npm-cli.js");
  fs.writeFileSync(
    cli,
    `const fs = require("fs"), path = require("path");
fs.writeFileSync(${JSON.stringify(path.join(dir, "argv.json"))}, JSON.stringify(process.argv.slice(2)));
if (${JSON.stringify(Boolean(fail))}) { console.error("npm error code ENOTCACHED"); console.error("npm error request to http://r/x failed: cache mode is 'only-if-cached' but no cached response is available."); process.exit(1); }
const dest = process.argv[process.argv.indexOf("--pack-destination") + 1];
fs.copyFileSync(${JSON.stringify(src)}, path.join(dest, "postbin-linux-x64-0.1.0.tgz"));
console.log(JSON.stringify([{ filename: "postbin-linux-x64-0.1.0.tgz" }]));
`
  );
  return cli;
}

function pinFor(tarball, exe = EXE) {
  return { package: "@postbin/linux-x64", integrity: integrity(tarball), sha256: sha256(exe) };
}

test("the host's installer package is used when its executable has the pinned sha256, and refused when not", (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, "postbin");
  fs.writeFileSync(file, EXE, { mode: 0o755 });
  const base = { platform: "linux", arch: "x64", env: {}, nativeDir: path.join(dir, "none"), packageInstaller: () => file };
  const pins = { [TARGET]: { sha256: sha256(EXE) } };
  assert.strictEqual(installerPath({ ...base, pins }), file);
  fs.writeFileSync(file, "#!/bin/sh\necho changed\n");
  assert.throws(
    () => installerPath({ ...base, pins }),
    (e) => e instanceof InstallerMismatchError && e.exitCode === 6 && /is not the one this postbin pins/.test(e.message)
  );
  // A checkout of postbin pins nothing: nothing to check against.
  assert.strictEqual(installerPath({ ...base, pins: {} }), file);
});

test("no installer on disk: it is fetched when postbin pins one, else the message says to reinstall", (t) => {
  const dir = tempDir(t);
  const fetched = path.join(dir, "fetched");
  fs.writeFileSync(fetched, EXE);
  const calls = [];
  const base = { platform: "linux", arch: "x64", env: {}, nativeDir: path.join(dir, "native"), packageInstaller: () => undefined, version: "0.1.0" };
  const pins = { [TARGET]: { package: "@postbin/linux-x64", integrity: "sha512-x", sha256: sha256(EXE) } };
  const got = installerPath({ ...base, pins, fetchInstaller: (args) => (calls.push(args), fetched) });
  assert.strictEqual(got, fetched);
  assert.strictEqual(calls.length, 1);
  assert.strictEqual(calls[0].target, TARGET);
  assert.strictEqual(calls[0].version, "0.1.0");
  assert.strictEqual(calls[0].postbinDir, dir);
  assert.throws(() => installerPath({ ...base, pins: {} }), InstallerMissingError);
});

test("fetchInstaller: through npm pack, checked, kept in postbin's native/<target>/", (t) => {
  const dir = tempDir(t);
  const tarball = tgz([["package.json", Buffer.from("{}")], ["postbin", EXE]]);
  const cli = fakeNpm(dir, tarball);
  const postbinDir = path.join(dir, "node_modules", "postbin");
  fs.mkdirSync(postbinDir, { recursive: true });
  const placed = fetchInstaller({ target: TARGET, pin: pinFor(tarball), version: "0.1.0", postbinDir, host: "linux x64", env: { npm_execpath: cli, INIT_CWD: dir } });
  assert.strictEqual(placed, path.join(postbinDir, "native", TARGET, "postbin"));
  assert.deepStrictEqual(fs.readFileSync(placed), EXE);
  if (process.platform !== "win32") assert.strictEqual(fs.statSync(placed).mode & 0o777, 0o755);
  const argv = JSON.parse(fs.readFileSync(path.join(dir, "argv.json"), "utf8"));
  assert.deepStrictEqual(argv.slice(0, 2), ["pack", "@postbin/linux-x64@0.1.0"]);
  assert.ok(argv.includes("--ignore-scripts"));
});

test("fetchInstaller: a tarball other than the pinned one, or an executable other than the pinned one, keeps nothing (exit 6)", (t) => {
  const dir = tempDir(t);
  const tarball = tgz([["postbin", EXE]]);
  const postbinDir = path.join(dir, "postbin");
  const env = { npm_execpath: fakeNpm(dir, tarball), INIT_CWD: dir };
  const wrongTarball = { ...pinFor(tarball), integrity: integrity(Buffer.from("other")) };
  assert.throws(
    () => fetchInstaller({ target: TARGET, pin: wrongTarball, version: "0.1.0", postbinDir, host: "linux x64", env }),
    (e) => e instanceof InstallerFetchError && e.exitCode === 6 && /not the one postbin pins/.test(e.message)
  );
  const wrongExe = { ...pinFor(tarball), sha256: sha256(Buffer.from("other")) };
  assert.throws(
    () => fetchInstaller({ target: TARGET, pin: wrongExe, version: "0.1.0", postbinDir, host: "linux x64", env }),
    (e) => e instanceof InstallerFetchError && e.exitCode === 6
  );
  assert.ok(!fs.existsSync(path.join(postbinDir, "native")), "nothing was kept");
});

test("fetchInstaller: npm failing offline is one line with npm's reason and the fix, exit 9", (t) => {
  const dir = tempDir(t);
  const tarball = tgz([["postbin", EXE]]);
  const env = { npm_execpath: fakeNpm(dir, tarball, { fail: true }), INIT_CWD: dir, POSTBIN_OFFLINE: "1" };
  assert.throws(
    () => fetchInstaller({ target: TARGET, pin: pinFor(tarball), version: "0.1.0", postbinDir: path.join(dir, "p"), host: "linux x64", env }),
    (e) =>
      e instanceof InstallerFetchError &&
      e.exitCode === 9 &&
      !e.message.includes("\n") &&
      /ENOTCACHED/.test(e.message) &&
      /npm install --no-save @postbin\/linux-x64@0\.1\.0/.test(e.message)
  );
});

test("fileInTarball finds package/<name>; tarballUrl is the registry's path", () => {
  const tarball = tgz([["package.json", Buffer.from("{}")], ["postbin", EXE]]);
  assert.deepStrictEqual(fileInTarball(tarball, "postbin"), EXE);
  assert.strictEqual(fileInTarball(tarball, "postbin.exe"), undefined);
  assert.strictEqual(
    tarballUrl("http://127.0.0.1:4873", "@postbin/linux-x64", "0.1.0"),
    "http://127.0.0.1:4873/@postbin/linux-x64/-/linux-x64-0.1.0.tgz"
  );
});
