"use strict";
// Shared by the end-to-end tests: the packed postbin tarball, the sample
// tool (published once per test file), a release server per test, clean
// environments and temp dirs. Zero npm dependencies; CommonJS.
//
// Nothing here reaches the internet: the tool and postbin are local
// tarballs, and the release assets come from server-fixture on 127.0.0.1
// through POSTBIN_MIRROR.
//
// POSTBIN_TGZ  the packed postbin (scripts/test sets it); when unset,
//              scripts/pack is run once.
// POSTBIN_E2E_KEEP=1  keep the temp dirs (their path is printed) for a look.

const { spawn, spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURE_BIN = path.join(ROOT, "target", "release", "server-fixture");
// A wedged npm or server must fail the run, not hang it.
const COMMAND_TIMEOUT_MS = 120_000;
const FIXTURE_LIFETIME_SECS = 300;
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

// ---------------------------------------------------------------- processes

/**
 * Runs a command (argument array, no shell) and returns what spawnSync
 * returns plus `command` for messages. Never throws on a non-zero exit.
 */
function run(command, args, { cwd, env, timeout = COMMAND_TIMEOUT_MS } = {}) {
  const r = spawnSync(command, args, {
    cwd,
    env,
    encoding: "utf8",
    timeout,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  r.command = [command, ...args].join(" ");
  r.cwd = cwd;
  return r;
}

/** A readable account of a finished command, for assertion messages. */
function explain(r) {
  const clip = (s) => {
    s = s || "";
    return s.length > 4000 ? `${s.slice(0, 2000)}\n[...]\n${s.slice(-2000)}` : s;
  };
  const how = r.error ? `error ${r.error.message}` : r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
  return `$ ${r.command}\n  (cwd ${r.cwd || process.cwd()}; ${how})\n--- stdout\n${clip(r.stdout)}--- stderr\n${clip(r.stderr)}---`;
}

/** Runs a command that must succeed; throws with its output otherwise. */
function runOk(command, args, options) {
  const r = run(command, args, options);
  if (r.error || r.status !== 0) throw new Error(`command failed\n${explain(r)}`);
  return r;
}

function lastLine(text) {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] || "";
}

// --------------------------------------------------------------- temp dirs

let tempBase = null;

function tempRoot() {
  if (!tempBase) tempBase = fs.mkdtempSync(path.join(os.tmpdir(), "postbin-e2e-"));
  return tempBase;
}

/** A fresh directory under this test file's temp root. */
function tempDir(label) {
  return fs.mkdtempSync(path.join(tempRoot(), `${label}-`));
}

/** Removes this file's temp root (unless POSTBIN_E2E_KEEP=1). */
function cleanup() {
  stopAllFixtures();
  releaseAllReadOnly();
  if (!tempBase) return;
  if (process.env.POSTBIN_E2E_KEEP === "1") {
    process.stderr.write(`e2e: kept ${tempBase}\n`);
  } else {
    try {
      fs.rmSync(tempBase, { recursive: true, force: true });
    } catch (e) {
      process.stderr.write(`e2e: could not remove ${tempBase}: ${e.message}\n`);
    }
  }
  tempBase = null;
}

// ------------------------------------------------------- read-only dirs

const readOnlyDirs = new Map(); // dir -> how to undo

/**
 * Makes `dir` read-only for this process and its children, undone in
 * t.after. Root ignores file modes, so as root a read-only bind mount is
 * put over it; otherwise chmod 555 does. Returns null, or why it could not.
 */
function makeReadOnly(t, dir) {
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (asRoot) {
    const bind = run("mount", ["--bind", dir, dir]);
    if (bind.error || bind.status !== 0) return `mount --bind is not permitted: ${why(bind)}`;
    readOnlyDirs.set(dir, "umount");
    t.after(() => releaseReadOnly(dir));
    const ro = run("mount", ["-o", "remount,ro,bind", dir]);
    if (ro.error || ro.status !== 0) return `mount -o remount,ro,bind is not permitted: ${why(ro)}`;
  } else {
    fs.chmodSync(dir, 0o555);
    readOnlyDirs.set(dir, "chmod");
    t.after(() => releaseReadOnly(dir));
  }
  // Whatever the means, check that it holds.
  const probe = path.join(dir, ".e2e-write-probe");
  try {
    fs.writeFileSync(probe, "x");
  } catch {
    return null;
  }
  fs.rmSync(probe, { force: true });
  return "the directory is still writable after making it read-only";
}

function why(r) {
  return (r.error && r.error.message) || (r.stderr || "").trim() || `exit ${r.status}`;
}

function releaseReadOnly(dir) {
  const how = readOnlyDirs.get(dir);
  readOnlyDirs.delete(dir);
  if (how === "umount") {
    const u = run("umount", [dir]);
    if (u.error || u.status !== 0) run("umount", ["-l", dir]);
  } else if (how === "chmod") {
    try {
      fs.chmodSync(dir, 0o755);
    } catch {}
  }
}

function releaseAllReadOnly() {
  for (const dir of [...readOnlyDirs.keys()]) releaseReadOnly(dir);
}

// ------------------------------------------------------ what the tests install

let postbinTgzCache = null;

/** The packed postbin: POSTBIN_TGZ, or the output of scripts/pack. */
function postbinTgz() {
  if (postbinTgzCache) return postbinTgzCache;
  let tgz = process.env.POSTBIN_TGZ;
  if (tgz) {
    tgz = path.resolve(tgz);
    if (!fs.existsSync(tgz)) throw new Error(`POSTBIN_TGZ=${tgz} does not exist; run scripts/pack`);
  } else {
    const r = runOk(path.join(ROOT, "scripts", "pack"), [], { cwd: ROOT, env: process.env, timeout: 600_000 });
    tgz = lastLine(r.stdout);
    if (!tgz.endsWith(".tgz") || !fs.existsSync(tgz)) {
      throw new Error(`scripts/pack did not print a tarball path\n${explain(r)}`);
    }
  }
  postbinTgzCache = tgz;
  return tgz;
}

let fixtureBuilt = false;

/** target/release/server-fixture, built (incrementally) once per process. */
function fixtureBin() {
  if (!fixtureBuilt) {
    runOk("cargo", ["build", "-q", "--release", "-p", "server-fixture", "--bin", "server-fixture"], {
      cwd: ROOT,
      env: process.env,
      timeout: 600_000,
    });
    fixtureBuilt = true;
  }
  return FIXTURE_BIN;
}

let sampleCache = null;

/**
 * The sample tool published by scripts/make-sample (once per test file):
 *   tgz          the packed hello-tool
 *   packageJson  its package.json (as published)
 *   releases     the release tree to serve (server-fixture --root)
 *   releaseDir   the directory of this version's assets
 *   assetPaths   URL paths of every file in it, as the mirror serves them
 *   version      the sample executable's own version (`hello --version`)
 */
function sample() {
  if (sampleCache) return sampleCache;
  const tgzOfPostbin = postbinTgz();
  const out = path.join(tempDir("sample"), "publish");
  const r = runOk(path.join(ROOT, "scripts", "make-sample"), [out, tgzOfPostbin], {
    cwd: ROOT,
    env: process.env,
    timeout: 600_000,
  });
  const tgz = lastLine(r.stdout);
  if (!tgz.endsWith(".tgz") || !fs.existsSync(tgz)) {
    throw new Error(`scripts/make-sample did not print a tarball path\n${explain(r)}`);
  }
  const packageJson = JSON.parse(fs.readFileSync(path.join(out, "hello-tool", "package.json"), "utf8"));
  const releases = path.join(out, "releases");
  // https://github.com/<owner>/<repo>/releases/download/<tag>/<asset>: the
  // mirror keeps the path, so the tree holds <owner>/<repo>/releases/download/<tag>.
  const urlPath = new URL(packageJson.postbin.url.replace("{version}", packageJson.version)).pathname;
  const tagPath = path.posix.dirname(urlPath);
  const releaseDir = path.join(releases, ...tagPath.split("/").filter(Boolean));
  const assetPaths = fs.readdirSync(releaseDir).map((f) => `${tagPath}/${f}`);
  sampleCache = {
    tgz,
    packageJson,
    releases,
    releaseDir,
    assetPaths,
    version: cargoWorkspaceVersion(),
  };
  return sampleCache;
}

/** The sample executable prints `hello <server-fixture's version>`, the workspace version. */
function cargoWorkspaceVersion() {
  const text = fs.readFileSync(path.join(ROOT, "server-fixture", "Cargo.toml"), "utf8");
  const own = /^\s*version\s*=\s*"([^"]+)"/m.exec(text);
  if (own) return own[1];
  const ws = fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8");
  const section = /\[workspace\.package\]([\s\S]*?)(?:\n\[|$)/.exec(ws);
  const m = section && /^\s*version\s*=\s*"([^"]+)"/m.exec(section[1]);
  if (!m) throw new Error("cannot find the server-fixture version in Cargo.toml");
  return m[1];
}

// ---------------------------------------------------------- release server

const liveFixtures = new Set();

function stopAllFixtures() {
  for (const child of liveFixtures) {
    try {
      child.kill("SIGKILL");
    } catch {}
  }
  liveFixtures.clear();
}
// Backstop: a crashed test file leaves no server behind (each also has a --lifetime).
process.on("exit", () => {
  stopAllFixtures();
  releaseAllReadOnly();
});

/**
 * Starts server-fixture on 127.0.0.1 serving `root`, stopped in t.after.
 * Returns { url, objectsUrl, requests(), downloads(), reset(), fault() }.
 */
async function startFixture(t, root) {
  const bin = fixtureBin();
  const child = spawn(bin, ["--root", root, "--lifetime", String(FIXTURE_LIFETIME_SECS)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  liveFixtures.add(child);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    liveFixtures.delete(child);
  });

  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => (stderr += d));
  const lines = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server-fixture printed no URLs in 20 s; stderr: ${stderr}`)), 20_000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      out += d;
      const got = out.split("\n");
      if (got.length >= 3) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server-fixture exited (${signal || code}) before printing its URL; stderr: ${stderr}`));
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  const url = lines[0].trim();
  const objectsUrl = lines[1].replace(/^objects:\s*/, "").trim();
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`unexpected server-fixture URL ${JSON.stringify(url)}`);

  async function control(method, action) {
    const res = await fetch(`${url}/__fixture/${action}`, { method });
    const body = await res.text();
    if (!res.ok) throw new Error(`${method} /__fixture/${action}: ${res.status} ${body}`);
    return body;
  }
  const fixture = {
    url,
    objectsUrl,
    /** The request log (control requests are not logged). */
    async requests() {
      return JSON.parse(await control("GET", "requests"));
    },
    /** Asset bodies served: GETs answered 200/206 by the objects host. */
    async downloads() {
      return (await fixture.requests()).filter(isDownload);
    },
    async reset() {
      await control("POST", "reset");
    },
    /** Scripts a fault on an asset path, e.g. { kind: "status", status: 404 }. */
    async fault(assetPath, params) {
      const q = new URLSearchParams({ path: assetPath, ...params });
      await control("POST", `fault?${q}`);
    },
  };
  return fixture;
}

function isDownload(r) {
  return r.host === "objects" && r.method === "GET" && (r.status === 200 || r.status === 206);
}

// ------------------------------------------------------------ environments

const PROXY_VARS = /^(https?_proxy|all_proxy|no_proxy)$/i;

/**
 * The environment of one test: the inherited one without anything that
 * would change npm's or postbin's behaviour (npm_* from an enclosing npm
 * run, POSTBIN_*, HELLO_TOOL_*, proxies), plus the mirror and a private
 * postbin cache. npm's own cache stays shared.
 */
function testEnv({ mirror, cacheDir, extra = {} }) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || /^POSTBIN_/.test(k) || /^HELLO_TOOL_/.test(k) || PROXY_VARS.test(k)) continue;
    if (k === "INIT_CWD" || k === "NODE_TEST_CONTEXT") continue;
    env[k] = v;
  }
  env.npm_config_update_notifier = "false";
  env.npm_config_loglevel = "warn";
  if (mirror) env.POSTBIN_MIRROR = mirror;
  if (cacheDir) env.POSTBIN_CACHE_DIR = cacheDir;
  return { ...env, ...extra };
}

/** A new npm project dir with a minimal package.json. */
function newProject(label) {
  const dir = tempDir(label);
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: `e2e-${label}`, version: "1.0.0", private: true }, null, 2) + "\n"
  );
  return dir;
}

/** `npm <args...> --no-audit --no-fund` in `cwd`. */
function npm(args, { cwd, env }) {
  return run("npm", [...args, "--no-audit", "--no-fund"], { cwd, env });
}

// ---------------------------------------------------------------- files

function head(file, n) {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(n);
    const got = fs.readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

function isElf(file) {
  return head(file, 4).equals(ELF_MAGIC);
}

function startsWithShebang(file) {
  return head(file, 2).toString("latin1") === "#!";
}

/** Files directly under dir, or [] if it does not exist. */
function listDir(dir) {
  try {
    return fs.readdirSync(dir).sort();
  } catch (e) {
    if (e.code === "ENOENT") return [];
    throw e;
  }
}

/** The `executable: <path>` line the sample tool prints. */
function reportedExecutable(stdout) {
  const m = /^\s*executable:\s*(.+)$/m.exec(stdout);
  return m ? m[1].trim() : null;
}

const HELLO_OUTPUT = "hello from a native tool installed by postbin";

// ------------------------------------------------------- postbin's messages
//
// Where postbin's message is what the user gets, tests compare the whole
// line: a substring would let a wrong or garbled message through.

/** The launcher's notice when it installs on first run (shim-js/launcher.js). */
function lazyNotice(command) {
  return `postbin: ${command} is not installed yet (install scripts were skipped); installing it now`;
}

/**
 * The lines of `text` that postbin printed (`postbin: ...`), without the
 * prefix npm puts before a failed script's output (`npm error `).
 */
function postbinLines(text) {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/^npm error /, "").trimEnd())
    .filter((l) => l.startsWith("postbin: "));
}

module.exports = {
  ROOT,
  HELLO_OUTPUT,
  run,
  runOk,
  explain,
  tempDir,
  cleanup,
  postbinTgz,
  sample,
  startFixture,
  isDownload,
  makeReadOnly,
  testEnv,
  newProject,
  npm,
  isElf,
  startsWithShebang,
  listDir,
  reportedExecutable,
  lazyNotice,
  postbinLines,
};
