"use strict";
// A real private npm registry for the end-to-end tests: Verdaccio 6.8.0 on
// 127.0.0.1, what a company that reaches only its own registry runs (or
// Artifactory, Nexus, GitHub Packages: the npm registry protocol is the
// same). Used by npm-registry.test.js.
//
// Verdaccio is installed from the npm registry once, into
// target/tools/verdaccio-6.8.0, by pm-tools.js's installer (temp dir beside
// it, probed, renamed into place; later runs reuse it). 6.8.0 with
// node-fetch pinned to 2.7.0: 6.10 wants Node 22, and no 6.x installs as
// published (its `node-fetch@cjs` dependency matches no version).
//
// Each registry gets its own config, storage and htpasswd in a temp dir,
// `uplinks: {}` (it never leaves the machine), listens on 127.0.0.1 only,
// and logs every request as JSON lines (method, url, status, user) to a
// file the test reads. It ends with the test file (after(), and a kill on
// process exit), and by itself when the test process is gone (its stdin,
// a pipe from the test process, closes) or after REGISTRY_LIFETIME_SECS.
//
//   node tests/e2e/registry-tools.js            install (once) and print the version
//   node tests/e2e/registry-tools.js serve      start one, create a user, print URL and
//                                               token, serve until Ctrl-C or the lifetime

const { spawn } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const net = require("net");
const path = require("path");
const zlib = require("zlib");
const { tempDir } = require("./support");
const { ensureTool } = require("./pm-tools");

const VERDACCIO_VERSION = "6.8.0";
const VERDACCIO_SPEC = {
  dir: `verdaccio-${VERDACCIO_VERSION}`,
  spec: `verdaccio@${VERDACCIO_VERSION}`,
  pkg: "verdaccio",
  major: 6,
  entry: "verdaccio/bin/verdaccio",
  node: true,
  packageJson: {
    dependencies: { verdaccio: VERDACCIO_VERSION },
    overrides: { "node-fetch": "2.7.0" },
  },
};
const REGISTRY_LIFETIME_SECS = 300;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** Verdaccio from target/tools (installed on first use), like ensureTool: the tool or { skip }. */
function ensureVerdaccio() {
  return ensureTool("verdaccio", VERDACCIO_SPEC);
}

/** A port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * An http:// base URL on 127.0.0.1 where nothing listens: connections are
 * refused at once, as from a release host that is down or firewalled.
 */
async function closedPortUrl() {
  return `http://127.0.0.1:${await freePort()}`;
}

// Preloaded into the registry's process (node --require): it ends when the
// test process is gone, which closes the pipe that is its stdin, or after
// its lifetime, whichever comes first. Verdaccio itself never reads stdin.
const WATCHDOG_SOURCE = `"use strict";
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), ${REGISTRY_LIFETIME_SECS * 1000}).unref();
`;

/** JSON strings are YAML strings: any path is quoted safely. */
const yamlString = (s) => JSON.stringify(s);

/**
 * The registry's config: everything in `dir`, no uplinks, `@acme/*` for
 * authenticated users only (reading too), everything else readable by all;
 * publishing needs a user. Request log as JSON on stdout, level http (one
 * line per answered request).
 */
function verdaccioConfig(dir) {
  return [
    `storage: ${yamlString(path.join(dir, "storage"))}`,
    "auth:",
    "  htpasswd:",
    `    file: ${yamlString(path.join(dir, "htpasswd"))}`,
    "    max_users: 100",
    "uplinks: {}",
    "packages:",
    "  '@acme/*':",
    "    access: $authenticated",
    "    publish: $authenticated",
    "  '**':",
    "    access: $all",
    "    publish: $authenticated",
    "web:",
    "  enable: false",
    "log: { type: stdout, format: json, level: http }",
    "",
  ].join("\n");
}

const liveRegistries = new Set();
// Backstop: a test file that dies leaves no registry behind (each also
// watches its stdin and has a lifetime).
process.on("exit", () => {
  for (const child of liveRegistries) {
    try {
      child.kill("SIGKILL");
    } catch {}
  }
});

/**
 * Starts Verdaccio (`tool` from ensureVerdaccio) on a free port of
 * 127.0.0.1 and waits (bounded) until it answers. The caller stops it with
 * stop() (e.g. in after()). Returns
 *   { url, port, configFile, logFile, addUser(), requests(), stop() }
 * where url ends with "/" as npm writes registry URLs.
 */
async function startVerdaccio(tool, label = "verdaccio") {
  const dir = tempDir(label);
  const configFile = path.join(dir, "config.yaml");
  const logFile = path.join(dir, "verdaccio.log");
  const stderrFile = path.join(dir, "verdaccio.stderr");
  const watchdog = path.join(dir, "watchdog.js");
  fs.writeFileSync(configFile, verdaccioConfig(dir));
  fs.writeFileSync(watchdog, WATCHDOG_SOURCE);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;

  const [file, argv] = tool.command(["--config", configFile, "--listen", `127.0.0.1:${port}`]);
  const out = fs.openSync(logFile, "a");
  const err = fs.openSync(stderrFile, "a");
  let child;
  try {
    child = spawn(file, ["--require", watchdog, ...argv], {
      cwd: dir,
      env: registryEnv(),
      stdio: ["pipe", out, err],
      detached: false,
    });
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
  liveRegistries.add(child);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal || code)));
  child.once("error", () => {});

  const tail = () => {
    const read = (f) => {
      try {
        return fs.readFileSync(f, "utf8").slice(-3000);
      } catch {
        return "";
      }
    };
    return `--- ${logFile}\n${read(logFile)}--- stderr\n${read(stderrFile)}---`;
  };

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS, "timeout"));
      if ((await Promise.race([exited, timer])) === "timeout") {
        child.kill("SIGKILL");
        await exited;
      }
    }
    liveRegistries.delete(child);
  }

  // Ready when /-/ping answers 200; an early exit fails at once.
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = "no answer yet";
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      liveRegistries.delete(child);
      throw new Error(`Verdaccio exited (${child.signalCode || child.exitCode}) before answering on ${url}\n${tail()}`);
    }
    try {
      const res = await fetch(`${url}-/ping`, { signal: AbortSignal.timeout(2_000) });
      await res.text();
      if (res.status === 200) break;
      lastError = `GET /-/ping answered ${res.status}`;
    } catch (e) {
      lastError = (e.cause && e.cause.code) || e.message;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Verdaccio did not answer on ${url} within ${START_TIMEOUT_MS / 1000} s (${lastError})\n${tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    port,
    /** The nerf-darted key npm uses for this registry's settings (`//127.0.0.1:PORT/`). */
    nerfDart: `//127.0.0.1:${port}/`,
    configFile,
    logFile,
    /**
     * Creates user `name` the way `npm adduser` does (the CouchDB user API)
     * and returns its bearer token.
     */
    async addUser(name, password) {
      const res = await fetch(`${url}-/user/org.couchdb.user:${encodeURIComponent(name)}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ _id: `org.couchdb.user:${name}`, name, password, type: "user", roles: [] }),
      });
      const body = await res.text();
      let token;
      try {
        token = JSON.parse(body).token;
      } catch {}
      if (res.status !== 201 || !token) throw new Error(`creating user ${name}: ${res.status} ${body}\n${tail()}`);
      return token;
    },
    /** GET `urlPath` (relative to the registry, no leading "/"); { status, body: Buffer }. */
    async get(urlPath, token) {
      const headers = token ? { authorization: `Bearer ${token}` } : {};
      const res = await fetch(`${url}${urlPath}`, { headers });
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
    },
    /** The answered requests so far, in order: [{ method, url, status, user, error }]. */
    requests() {
      return parseRequestLog(fs.readFileSync(logFile, "utf8"));
    },
    /** Where the log and stderr end, for failure messages. */
    tail,
    stop,
  };
}

/** The environment Verdaccio runs in: the test's, minus an enclosing npm or test runner. */
function registryEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === "NODE_TEST_CONTEXT" || k === "NODE_OPTIONS") continue;
    env[k] = v;
  }
  return env;
}

/**
 * Verdaccio's JSON log -> one record per request. It writes a "requested"
 * line (level 30, `req`) when a request arrives, and an http line (level
 * 25, `request`, `status`, `user`) both when the request body has been read
 * and when the response ends: the first may be early (status 200 before the
 * answer was decided, user not yet known). The last http line of a request
 * is its answer, so each one overwrites what the request has so far.
 */
function parseRequestLog(text) {
  const records = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry.req && entry.req.method && /requested/.test(entry.msg || "")) {
      records.push({ method: entry.req.method, url: entry.req.url, status: null, user: null, error: null });
    } else if (entry.request && typeof entry.status === "number") {
      const { method, url } = entry.request;
      let record = null;
      for (let i = records.length - 1; i >= 0; i--) {
        if (records[i].method === method && records[i].url === url) {
          record = records[i];
          break;
        }
      }
      if (!record) {
        record = { method, url, status: null, user: null, error: null };
        records.push(record);
      }
      record.status = entry.status;
      record.user = entry.user || null;
      record.error = entry.error || null;
    }
  }
  return records;
}

/** One line per request, for t.diagnostic and messages. */
function formatRequests(records) {
  if (records.length === 0) return "(none)";
  return records
    .map((r) => `${r.method} ${r.url} -> ${r.status}${r.user ? ` (user ${r.user})` : " (anonymous)"}${r.error ? `: ${r.error}` : ""}`)
    .join("\n");
}

/** A registry path with any `%2f`/`%2F` decoded, so `@acme%2fx` and `@acme/x` compare equal. */
function plainPath(urlPath) {
  return urlPath.replace(/%2f/gi, "/");
}

/**
 * The tarball path a registry serves for `name@version`, as npm's registry
 * and Verdaccio spell it: `/@scope/name/-/name-1.0.0.tgz` (the file name
 * without the scope).
 */
function tarballPath(name, version) {
  const unscoped = name.startsWith("@") ? name.split("/")[1] : name;
  return `/${name}/-/${unscoped}-${version}.tgz`;
}

/** The file name `npm pack` gives `name@version`: `@acme/x` -> `acme-x-1.0.0.tgz`. */
function npmPackFileName(name, version) {
  return `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
}

/** An .npmrc's text from { key: value } (in order). */
function npmrcText(settings) {
  return Object.entries(settings)
    .map(([k, v]) => `${k}=${v}\n`)
    .join("");
}

/** `sha512-<base64>` of a file: npm's (and SRI's) integrity string for a tarball. */
function sha512Integrity(fileOrBuffer) {
  const data = Buffer.isBuffer(fileOrBuffer) ? fileOrBuffer : fs.readFileSync(fileOrBuffer);
  return `sha512-${crypto.createHash("sha512").update(data).digest("base64")}`;
}

/**
 * The entries of a .tgz, read here rather than by tar(1) so that the test
 * sees exactly what is in it: [{ name, type, mode, data }], type "file",
 * "dir", "symlink", "link" or the raw type flag. Understands pax (`x`, `g`)
 * and GNU long-name (`L`) headers, which carry the next entry's path.
 */
function tgzEntries(file) {
  const tar = zlib.gunzipSync(fs.readFileSync(file));
  const entries = [];
  let longName = null;
  let paxPath = null;
  const str = (buf) => {
    const nul = buf.indexOf(0);
    return buf.subarray(0, nul === -1 ? buf.length : nul).toString("utf8");
  };
  const octal = (buf) => parseInt(str(buf).trim() || "0", 8);
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const size = octal(header.subarray(124, 136));
    const flag = String.fromCharCode(header[156] || 0x30);
    const prefix = str(header.subarray(345, 500));
    let name = str(header.subarray(0, 100));
    if (prefix) name = `${prefix}/${name}`;
    const data = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (flag === "L") {
      longName = str(data);
      continue;
    }
    if (flag === "x" || flag === "g") {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
      if (m && flag === "x") paxPath = m[1];
      continue;
    }
    name = paxPath || longName || name;
    paxPath = null;
    longName = null;
    const type = { 0: "file", "\0": "file", 5: "dir", 2: "symlink", 1: "link" }[flag] || flag;
    entries.push({ name, type, mode: octal(header.subarray(100, 108)), data: Buffer.from(data) });
  }
  return entries;
}

/**
 * A publisher of `registry` (a user is created for it): publish(tgz) puts
 * a packed tarball on it with npm, as `npm publish <tgz>` does.
 */
async function publisher(registry, user = "postbin-release", password = "e2e-password-not-secret") {
  const token = await registry.addUser(user, password);
  const base = tempDir("publisher");
  const userconfig = path.join(base, "publisher.npmrc");
  fs.writeFileSync(userconfig, npmrcText({ registry: registry.url, [`${registry.nerfDart}:_authToken`]: token }));
  const env = { ...registryEnv(), npm_config_userconfig: userconfig, npm_config_cache: path.join(base, "npm-cache") };
  return {
    publish(tgz) {
      const { spawnSync } = require("child_process");
      const r = spawnSync("npm", ["publish", tgz, "--registry", registry.url], { cwd: base, env, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`npm publish ${tgz}: exit ${r.status}\n${r.stderr}`);
    },
  };
}

/**
 * Publishes postbin's seven packages from `publishDir` (scripts/pack's
 * target/pack/publish): the six installer packages, then postbin, as the
 * release workflow does. Returns { version, sizes } with sizes by the
 * registry's tarball path (`/@postbin/linux-x64/-/linux-x64-0.1.0.tgz`).
 */
function publishPostbin(pub, publishDir) {
  const files = fs.existsSync(publishDir) ? fs.readdirSync(publishDir).filter((f) => f.endsWith(".tgz")) : [];
  if (files.length !== 7) throw new Error(`scripts/pack puts seven packages in ${publishDir}: ${files}`);
  const last = (f) => (/^postbin-\d/.test(f) ? 1 : 0);
  const sizes = {};
  let version;
  for (const f of files.sort((a, b) => last(a) - last(b))) {
    const file = path.join(publishDir, f);
    pub.publish(file);
    const entry = tgzEntries(file).find((e) => e.name === "package/package.json");
    const manifest = JSON.parse(entry.data.toString("utf8"));
    sizes[tarballPath(manifest.name, manifest.version)] = fs.statSync(file).size;
    if (manifest.name === "postbin") version = manifest.version;
  }
  return { version, sizes };
}

/**
 * A tool's packed tarball with its dependency on postbin made
 * `postbin@<version>` (from the registry) and `edit(packageJson, dir)`
 * applied: the package as its publisher puts it on a registry. Returns the
 * new tarball's path.
 */
function retargetedTool(tgz, version, edit = () => {}) {
  const { spawnSync } = require("child_process");
  const dir = tempDir("registry-tool");
  const untar = spawnSync("tar", ["xzf", tgz, "-C", dir]);
  if (untar.status !== 0) throw new Error(`tar xzf ${tgz} failed`);
  const pkg = path.join(dir, "package");
  const file = path.join(pkg, "package.json");
  const pj = JSON.parse(fs.readFileSync(file, "utf8"));
  pj.dependencies.postbin = version;
  edit(pj, pkg);
  fs.writeFileSync(file, JSON.stringify(pj, null, 2) + "\n");
  const out = tempDir("registry-tool-packed");
  const r = spawnSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", out], { cwd: pkg, env: registryEnv(), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npm pack in ${pkg}: ${r.stderr}`);
  return path.join(out, JSON.parse(r.stdout)[0].filename);
}

module.exports = {
  publisher,
  publishPostbin,
  retargetedTool,
  VERDACCIO_VERSION,
  VERDACCIO_SPEC,
  ensureVerdaccio,
  startVerdaccio,
  freePort,
  closedPortUrl,
  parseRequestLog,
  formatRequests,
  plainPath,
  tarballPath,
  npmPackFileName,
  npmrcText,
  sha512Integrity,
  tgzEntries,
};

if (require.main === module) {
  const { cleanup } = require("./support");
  (async () => {
    const tool = ensureVerdaccio();
    if (tool.skip) throw new Error(tool.skip);
    console.log(`verdaccio ${tool.version}`);
    if (process.argv[2] !== "serve") return;
    const registry = await startVerdaccio(tool);
    const token = await registry.addUser("e2e", "e2e-password");
    console.log(`${registry.url}\n${registry.nerfDart}:_authToken=${token}\nlog: ${registry.logFile}`);
    const stop = async () => {
      await registry.stop();
      cleanup();
      process.exit(0);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    setTimeout(stop, REGISTRY_LIFETIME_SECS * 1000);
  })().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
