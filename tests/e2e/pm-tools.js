"use strict";
// The package managers for the end-to-end tests (pnpm.test.js,
// yarn.test.js, bun.test.js), and what those tests share beyond support.js
// (windows-wine.test.js uses its registry trap too).
//
// Each package manager is installed from the npm registry, once, into
// target/tools/<dir> (installed into a temp dir beside it, probed, then
// renamed into place, so a killed install never leaves a half tool behind).
// Later runs reuse it when its major version is the wanted one. This is the
// only use of a registry: the projects the tests set up get everything from
// local tarballs, and their package managers are pointed at a registry trap
// on 127.0.0.1 that answers 404 and logs every request, so a test can assert
// that nothing was looked up (the name `postbin` on the public registry is
// someone else's package).

const { spawn } = require("child_process");
const { before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const path = require("path");
const { ROOT, HELLO_OUTPUT, run, explain, tempDir, cleanup, sample, startFixture, isDownload, testEnv,
  newProject, reportedExecutable, lazyNotice } = require("./support");

const TOOLS = path.join(ROOT, "target", "tools");
const TOOL_INSTALL_TIMEOUT_MS = 300_000;

/**
 * name -> how to get it. `dir` is where it lives (target/tools/<dir>, kept
 * across runs), `pkg` is the npm package whose version is checked, `entry`
 * the file to run (with node when `node` is set). A spec may instead bring
 * the whole `packageJson` to install from (dependencies plus `overrides`),
 * for a tool that installs only with some of its dependencies pinned.
 */
const TOOL_SPECS = {
  pnpm9: { dir: "pnpm-9", spec: "pnpm@9", pkg: "pnpm", major: 9, entry: "pnpm/bin/pnpm.cjs", node: true },
  pnpm10: { dir: "pnpm-10", spec: "pnpm@10", pkg: "pnpm", major: 10, entry: "pnpm/bin/pnpm.cjs", node: true },
  // pnpm 12 ships its entry point as an ES module.
  pnpm12: { dir: "pnpm-12", spec: "pnpm@12", pkg: "pnpm", major: 12, entry: "pnpm/bin/pnpm.mjs", node: true },
  berry: {
    dir: "yarn-4",
    spec: "@yarnpkg/cli-dist@4",
    pkg: "@yarnpkg/cli-dist",
    major: 4,
    entry: "@yarnpkg/cli-dist/bin/yarn.js",
    node: true,
  },
  yarn1: { dir: "yarn-1", spec: "yarn@1", pkg: "yarn", major: 1, entry: "yarn/bin/yarn.js", node: true },
  // bun's npm package is a placeholder that its postinstall replaces by the
  // binary from an optional dependency (@oven/bun-<os>-<arch>[-baseline]).
  bun: { dir: "bun-1", spec: "bun@1", pkg: "bun", major: 1, entry: "bun/bin/bun.exe", node: false },
};

function installedVersion(prefix, pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(prefix, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return null;
  }
}

const majorOf = (version) => Number(String(version).split(".")[0]);

/** The environment the tools themselves run in: no test runner or enclosing npm state. */
function toolEnv() {
  return testEnv({});
}

/** Runs the tool's `--version`; returns the trimmed output or throws with why. */
function probe(spec, target) {
  const [file, args] = spec.node ? [process.execPath, [target, "--version"]] : [target, ["--version"]];
  const r = run(file, args, { env: toolEnv(), timeout: 60_000 });
  if (r.error || r.status !== 0) {
    const how = r.error ? r.error.message : r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
    throw new Error(`${spec.spec} does not run here (\`${spec.entry} --version\`: ${how})\n${explain(r)}`);
  }
  return r.stdout.trim().split("\n").pop();
}

const toolCache = new Map();

/**
 * The tool `name` (a TOOL_SPECS key, or any name with its `spec` given by
 * the caller): { name, version, command(args) -> [file, argv] }, or
 * { skip: "why" } if it cannot be installed or does not run on this machine.
 */
function ensureTool(name, spec = TOOL_SPECS[name]) {
  if (toolCache.has(name)) return toolCache.get(name);
  let result;
  try {
    result = ensureToolUncached(name, spec);
  } catch (e) {
    result = { name, skip: e.message };
  }
  toolCache.set(name, result);
  return result;
}

/** A complete install (stamp written last) of the wanted major version. */
function isInstalled(spec, prefix) {
  const have = installedVersion(prefix, spec.pkg);
  return (
    fs.existsSync(path.join(prefix, ".installed")) &&
    fs.existsSync(path.join(prefix, "node_modules", spec.entry)) &&
    have !== null &&
    majorOf(have) === spec.major
  );
}

function ensureToolUncached(name, spec) {
  if (!spec) throw new Error(`unknown tool ${name}`);
  const prefix = path.join(TOOLS, spec.dir);
  const target = path.join(prefix, "node_modules", spec.entry);

  if (!isInstalled(spec, prefix)) installTool(spec, prefix);
  const version = installedVersion(prefix, spec.pkg);
  const reported = probe(spec, target);
  return {
    name,
    version: reported || version,
    command: (args) => (spec.node ? [process.execPath, [target, ...args]] : [target, args]),
  };
}

function installTool(spec, prefix) {
  fs.mkdirSync(TOOLS, { recursive: true });
  const staging = fs.mkdtempSync(path.join(TOOLS, `.${spec.dir}-`));
  try {
    const manifest = spec.packageJson ? { private: true, ...spec.packageJson } : { private: true };
    fs.writeFileSync(path.join(staging, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
    // The inherited environment (a proxy or a registry mirror the machine
    // needs still applies), minus what an enclosing npm run would impose.
    const env = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (/^npm_(lifecycle|package|config_(global|prefix|ignore_scripts|dry_run|offline))/i.test(k)) continue;
      if (k === "NODE_TEST_CONTEXT") continue;
      env[k] = v;
    }
    env.npm_config_update_notifier = "false";
    const what = spec.packageJson ? [] : ["--no-save", spec.spec];
    const r = run("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", ...what], {
      cwd: staging,
      env,
      timeout: TOOL_INSTALL_TIMEOUT_MS,
    });
    if (r.error || r.status !== 0) throw new Error(`cannot install ${spec.spec} from the npm registry\n${explain(r)}`);
    const target = path.join(staging, "node_modules", spec.entry);
    if (!fs.existsSync(target)) throw new Error(`${spec.spec} installed, but ${spec.entry} is missing\n${explain(r)}`);
    // bun is a native binary that needs CPU features a VM may lack.
    probe(spec, target);
    fs.writeFileSync(path.join(staging, ".installed"), `${spec.spec} ${installedVersion(staging, spec.pkg)}\n`);
    // Another test process may have installed it meanwhile: keep theirs.
    if (isInstalled(spec, prefix)) return;
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.renameSync(staging, prefix);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * For a test: the tool `name`, or null after t.skip (saying why) if it is not
 * available here. The reason also goes to stderr, where a skip in a long run
 * is seen; the test's diagnostics name the version that ran.
 */
function toolOrSkip(t, name) {
  const found = ensureTool(name);
  if (found.skip) {
    process.stderr.write(`${path.basename(process.argv[1] || "e2e")}: skipping, ${found.skip}\n`);
    t.skip(found.skip.split("\n")[0]);
    return null;
  }
  t.diagnostic(`${name} ${found.version}`);
  return found;
}

/** Runs tool `tool` (from ensureTool) with `args`, like support.run. */
function runTool(tool, args, options) {
  const [file, argv] = tool.command(args);
  const r = run(file, argv, options);
  r.command = `${tool.name} ${args.join(" ")}`;
  return r;
}

// --------------------------------------------------------- registry trap

const TRAP_SOURCE = `
const http = require("http");
const fs = require("fs");
const log = process.argv[1];
const server = http.createServer((req, res) => {
  fs.appendFileSync(log, JSON.stringify({ method: req.method, url: req.url, host: req.headers.host || "" }) + "\\n");
  req.resume();
  res.writeHead(404, { "content-type": "application/json" });
  res.end('{"error":"Not found (postbin e2e registry trap)"}');
});
server.listen(0, "127.0.0.1", () => console.log("http://127.0.0.1:" + server.address().port));
setTimeout(() => process.exit(0), 300000).unref();
`;

/**
 * A stand-in npm registry on 127.0.0.1 that answers 404 to everything and
 * logs every request; a separate process, so it answers while a test waits
 * in spawnSync. Stopped in t.after. Returns { url, requests() }.
 */
async function startRegistryTrap(t) {
  const log = path.join(tempDir("registry-trap"), "requests.jsonl");
  fs.writeFileSync(log, "");
  const child = spawn(process.execPath, ["-e", TRAP_SOURCE, log], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
  });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("the registry trap printed no URL in 10 s")), 10_000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(out.trim());
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the registry trap exited (${code})`));
    });
  });
  return {
    url,
    requests() {
      return fs
        .readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
  };
}

// ------------------------------------------------------------- projects

/**
 * What one test needs: a release server, a registry trap, a project (its
 * package.json extended by `packageJson`), a private postbin cache, a
 * private directory for the package manager's caches and stores (`pmDir`)
 * and an environment whose HOME and XDG dirs are in there too, so no user
 * config is read and nothing is shared with other tests or the user.
 */
async function pmProject(t, s, label, packageJson = {}) {
  const fixture = await startFixture(t, s.releases);
  const registry = await startRegistryTrap(t);
  const base = tempDir(`${label}-state`);
  const pmDir = path.join(base, "pm");
  const home = path.join(base, "home");
  for (const d of [pmDir, home]) fs.mkdirSync(d, { recursive: true });
  const env = testEnv({
    mirror: fixture.url,
    cacheDir: path.join(base, "postbin-cache"),
    extra: {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, ".config"),
      XDG_CACHE_HOME: path.join(home, ".cache"),
      XDG_DATA_HOME: path.join(home, ".local", "share"),
      XDG_STATE_HOME: path.join(home, ".local", "state"),
      // Every package manager here reads the registry from this (yarn
      // berry from .yarnrc.yml, written by its tests).
      npm_config_registry: registry.url + "/",
      NPM_CONFIG_REGISTRY: registry.url + "/",
    },
  });
  const project = newProject(label);
  extendPackageJson(project, packageJson);
  return { fixture, registry, env, project, pmDir, cacheDir: env.POSTBIN_CACHE_DIR };
}

/**
 * Makes ctx.project a yarn berry project: an empty yarn.lock (the project
 * root) and a .yarnrc.yml with every cache in the test's pmDir and
 * ctx.registry (the trap, or a real registry) as the registry.
 */
function berryProject(ctx, { linker = "node-modules", nmMode } = {}) {
  const y = (v) => JSON.stringify(v);
  const lines = [
    `nodeLinker: ${y(linker)}`,
    "enableTelemetry: false",
    "enableGlobalCache: false",
    `cacheFolder: ${y(path.join(ctx.pmDir, "cache"))}`,
    `globalFolder: ${y(path.join(ctx.pmDir, "global"))}`,
    `npmRegistryServer: ${y(ctx.registry.url.replace(/\/$/, ""))}`,
    `unsafeHttpWhitelist: [${y("127.0.0.1")}]`,
    "enableImmutableInstalls: false",
    "enableProgressBars: false",
    // Yarn 4.18 quarantines versions published less than a day ago
    // (npmMinimalAgeGate, default 1d); a test's registry published them a
    // moment ago.
    "npmMinimalAgeGate: 0",
  ];
  if (nmMode) lines.push(`nmMode: ${y(nmMode)}`);
  fs.writeFileSync(path.join(ctx.project, ".yarnrc.yml"), lines.join("\n") + "\n");
  fs.writeFileSync(path.join(ctx.project, "yarn.lock"), "");
}

/** Merges `extra` into the project's package.json. */
function extendPackageJson(project, extra) {
  const file = path.join(project, "package.json");
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  fs.writeFileSync(file, JSON.stringify({ ...pkg, ...extra }, null, 2) + "\n");
}

/** Regular files under dir (recursively) for which pred(path) holds. */
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

// ----------------------------------------------------------- assertions

const NOTICE_LAZY = "not installed yet";

function assertOk(r) {
  assert.ok(!r.error && r.status === 0, `expected success\n${explain(r)}`);
}

/** The sample tool ran: its greeting on a line of its own. */
function assertHelloRan(r) {
  assertOk(r);
  assert.match(r.stdout, new RegExp(`^${HELLO_OUTPUT}$`, "m"), `the tool's output\n${explain(r)}`);
}

/** The tool reports running `expected` (compared as real paths). */
function assertRanExecutable(r, expected, what) {
  const exe = reportedExecutable(r.stdout);
  assert.ok(exe, `the tool names its executable\n${explain(r)}`);
  assert.equal(fs.realpathSync(exe), fs.realpathSync(expected), `${what}\n${explain(r)}`);
}

/** Exactly one asset body was served so far, and it is one of the release's files. */
async function assertOneDownload(s, fixture, context) {
  const log = await fixture.requests();
  const downloads = log.filter(isDownload);
  assert.equal(downloads.length, 1, `expected one asset download, log: ${JSON.stringify(log)}\n${context}`);
  const served = path.posix.basename(downloads[0].path.split("?")[0]);
  assert.ok(
    s.assetPaths.some((p) => path.posix.basename(p) === served),
    `downloaded ${downloads[0].path}, not a release asset`
  );
  return log;
}

/**
 * Install scripts were skipped: nothing was downloaded yet; the first run
 * prints the tool's output and the launcher's notice, whole, as the only
 * line on stderr, and downloads the archive once; the second run is silent and makes no request at all.
 * `firstRun`/`secondRun` run the tool with the given argument.
 */
async function assertLazyInstallOnce(s, { fixture }, { packageDir, firstRun, secondRun }) {
  assert.deepEqual(await fixture.requests(), [], "no install script ran, so nothing was requested");
  const first = firstRun("first");
  assertHelloRan(first);
  const notices = first.stderr.split("\n").filter((l) => l.trim());
  assert.deepEqual(notices, [lazyNotice("hello")], `the notice, alone on stderr on the first run\n${explain(first)}`);
  assert.ok(!first.stdout.includes(NOTICE_LAZY), `the notice stays off stdout\n${explain(first)}`);
  assertRanExecutable(first, path.join(packageDir, ".postbin", "bin", "hello"), "the launcher runs the placed executable");
  const afterFirst = await assertOneDownload(s, fixture, explain(first));

  const second = secondRun("second");
  assertHelloRan(second);
  assert.ok(!second.stderr.includes(NOTICE_LAZY), `no notice on the second run\n${explain(second)}`);
  assert.equal((await fixture.requests()).length, afterFirst.length, `the second run makes no request\n${explain(second)}`);
}

/**
 * A package-manager suite's set-up: before any test, the sample tool
 * (support.sample, built once) handed to `onSample` and each of `tools`
 * installed (once, then cached in target/tools), not under a test's
 * timeout; after the suite, every temp dir removed.
 */
function setUpSuite(tools, onSample) {
  before(() => {
    onSample(sample());
    for (const name of tools) ensureTool(name);
  });
  after(() => cleanup());
}

/** Nothing asked the (trap) registry for anything: every package came from a local tarball. */
function assertNoRegistryRequests({ registry }) {
  assert.deepEqual(registry.requests(), [], "no request reached the registry");
}

// After the install's requests (`afterInstall`), running the tool made none,
// to the release host or to the registry.
async function assertRunsMadeNoRequest(ctx, afterInstall) {
  assert.equal((await ctx.fixture.requests()).length, afterInstall.length, "running makes no request");
  assertNoRegistryRequests(ctx);
}

module.exports = {
  NOTICE_LAZY,
  assertRunsMadeNoRequest,
  setUpSuite,
  pmProject,
  assertOk,
  assertHelloRan,
  assertRanExecutable,
  assertOneDownload,
  assertLazyInstallOnce,
  assertNoRegistryRequests,
  TOOLS,
  TOOL_SPECS,
  ensureTool,
  toolOrSkip,
  runTool,
  startRegistryTrap,
  extendPackageJson,
  findFiles,
  berryProject,
};
