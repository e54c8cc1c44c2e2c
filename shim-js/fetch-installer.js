"use strict";
// Fetches this host's postbin installer when its package (@postbin/<os>-<cpu>,
// an optional dependency of postbin) is not installed: `npm install
// --omit=optional`, yarn's --ignore-optional, a lockfile written on another
// OS that lacks the host's entry, a node_modules copied from another machine,
// or a cross install (`npm install --cpu=arm64`) whose optional dependencies
// are the target's, not the host's.
//
// How: `npm pack @postbin/<os>-<cpu>@<version>` into a temp dir, run with the
// project as cwd, so the tarball comes through everything npm itself uses
// (registry and scoped registries, .npmrc auth, proxy, CA, npm's cache,
// offline mode). Without npm (a bun-only image), a plain GET of the tarball
// from npm_config_registry, with no proxy or auth. Either way the tarball must
// match the integrity postbin's package.json pins before it is opened, and the
// executable inside it the pinned sha256. It is kept in postbin's own
// directory (native/<target>/), where later runs find it and check it again,
// or, when that is read-only, in a private per-user temp directory.

// Only fs and path at load: platform.js, and with it every launcher start,
// requires this file; crypto, zlib, os and child_process load when an
// installer is actually fetched (about 3 ms of start-up otherwise).
const fs = require("fs");
const path = require("path");

const NPM_TIMEOUT_MS = 180_000;
const DIRECT_TIMEOUT_MS = 120_000;
const MAX_TARBALL_BYTES = 32 << 20;
const MAX_REDIRECTS = 5;

/** The installer could not be fetched. `exitCode`: 9 offline, else 5 (as the installer's codes). */
class InstallerFetchError extends Error {
  constructor(message, exitCode) {
    super(message);
    this.name = "InstallerFetchError";
    this.exitCode = exitCode;
  }
}

function exeName(target) {
  return target.includes("-windows-") ? "postbin.exe" : "postbin";
}

function isTruthy(v) {
  return typeof v === "string" && !["", "0", "false", "no", "off"].includes(v.trim().toLowerCase());
}

/** npm's own CLI, run with this node: npm_execpath when npm runs us, else the one beside node. */
function npmCli(env, execPath = process.execPath) {
  const candidates = [];
  if (env.npm_execpath && /npm-cli\.[cm]?js$/.test(env.npm_execpath)) candidates.push(env.npm_execpath);
  const dir = path.dirname(execPath);
  candidates.push(path.join(dir, "node_modules", "npm", "bin", "npm-cli.js")); // Windows layout
  candidates.push(path.join(dir, "..", "lib", "node_modules", "npm", "bin", "npm-cli.js")); // Unix layout
  return candidates.find((c) => fs.existsSync(c));
}

/** The project the install is for: npm's INIT_CWD, else above the node_modules holding postbin. */
function projectDir(env, postbinDir) {
  if (env.INIT_CWD && fs.existsSync(env.INIT_CWD)) return env.INIT_CWD;
  const parts = postbinDir.split(path.sep);
  const at = parts.lastIndexOf("node_modules");
  return at > 0 ? parts.slice(0, at).join(path.sep) || path.sep : process.cwd();
}

/**
 * Runs `file args` with its stdout ignored and its stderr into a file, not
 * a pipe (Windows node under wine fails writing to a pipe; a file works
 * everywhere); returns { status, error, stderr }.
 */
function runQuiet(file, args, options) {
  const log = path.join(options.logDir, `stderr-${process.pid}-${Date.now()}.log`);
  const fd = fs.openSync(log, "w");
  try {
    const r = require("child_process").spawnSync(file, args, { ...options, stdio: ["ignore", "ignore", fd], windowsHide: true });
    return { status: r.status, error: r.error, stderr: fs.readFileSync(log, "utf8") };
  } finally {
    fs.closeSync(fd);
  }
}

/** `npm pack SPEC` into DIR; the tarball's path, or throws with npm's reason. */
function packWithNpm(cli, spec, dir, cwd, env, logDir) {
  const out = fs.mkdtempSync(path.join(dir, "npm-"));
  const args = [cli, "pack", spec, "--pack-destination", out, "--ignore-scripts", "--loglevel=error"];
  const r = runQuiet(process.execPath, args, { cwd, env, timeout: NPM_TIMEOUT_MS, logDir });
  if (r.error) throw new Error(`npm could not be run: ${r.error.message}`);
  const tgz = fs.readdirSync(out).find((f) => f.endsWith(".tgz"));
  if (r.status !== 0 || !tgz) {
    const lines = r.stderr.split(/\r?\n/).filter((l) => /^npm (error|ERR!)/.test(l) && !/A complete log|npm (error|ERR!)\s*$/.test(l));
    throw new Error(`\`npm pack ${spec}\` failed: ${lines.slice(0, 3).join(" ").replace(/\s+/g, " ") || `exit ${r.status}`}`);
  }
  return path.join(out, tgz);
}

/** The tarball URL on a registry: <registry>/<@scope/name>/-/<name>-<version>.tgz. */
function tarballUrl(registry, name, version) {
  const base = registry.endsWith("/") ? registry : registry + "/";
  const unscoped = name.slice(name.indexOf("/") + 1);
  return `${base}${name}/-/${unscoped}-${version}.tgz`;
}

/** A plain GET into FILE, in a child process so this stays synchronous. */
function downloadDirect(url, file, env, logDir) {
  const r = runQuiet(process.execPath, [__filename, "--download", url, file], { env, timeout: DIRECT_TIMEOUT_MS, logDir });
  if (r.error) throw new Error(`GET ${url}: ${r.error.message}`);
  if (r.status !== 0 || !fs.existsSync(file)) throw new Error(r.stderr.trim() || `GET ${url} failed`);
  return file;
}

/** The child of downloadDirect: GET with redirects and a size cap. */
function downloadMain(url, file, redirects = 0) {
  const client = url.startsWith("https:") ? require("https") : require("http");
  const req = client.get(url, { headers: { accept: "application/octet-stream" } }, (res) => {
    if ([301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location && redirects < MAX_REDIRECTS) {
      res.resume();
      downloadMain(new URL(res.headers.location, url).href, file, redirects + 1);
      return;
    }
    if (res.statusCode !== 200) {
      process.stderr.write(`GET ${url}: HTTP ${res.statusCode}`);
      process.exit(1);
    }
    const chunks = [];
    let size = 0;
    res.on("data", (c) => {
      size += c.length;
      if (size > MAX_TARBALL_BYTES) {
        process.stderr.write(`GET ${url}: larger than ${MAX_TARBALL_BYTES} bytes`);
        process.exit(1);
      }
      chunks.push(c);
    });
    res.on("end", () => fs.writeFileSync(file, Buffer.concat(chunks)));
  });
  req.setTimeout(30_000, () => req.destroy(new Error("no data for 30 s")));
  req.on("error", (e) => {
    process.stderr.write(`GET ${url}: ${e.message}`);
    process.exit(1);
  });
}

function integrityOf(bytes) {
  return "sha512-" + require("crypto").createHash("sha512").update(bytes).digest("base64");
}

/** The contents of `package/<name>` in a tarball (ustar, as npm packs), or undefined. */
function fileInTarball(tgz, name) {
  const tar = require("zlib").gunzipSync(tgz, { maxOutputLength: MAX_TARBALL_BYTES * 4 });
  let longName;
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from, len) => header.subarray(from, from + len).toString("utf8").replace(/\0[\s\S]*$/, "");
    const size = parseInt(field(124, 12).trim() || "0", 8);
    const type = String.fromCharCode(header[156] || 48);
    const body = tar.subarray(at + 512, at + 512 + size);
    const prefix = field(345, 155);
    const entry = longName || (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    if (type === "x") {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString("utf8"));
      if (m) longName = m[1];
    } else if ((type === "0" || type === "\0") && entry.replace(/^[^/]+\//, "") === name) {
      return Buffer.from(body);
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

/** A directory only this user can write, for an installer that cannot live in postbin's own. */
function privateDir(version, target) {
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  const os = require("os");
  const root = path.join(os.tmpdir(), `postbin-installers-${uid === undefined ? os.userInfo().username : uid}`);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(root);
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (process.platform !== "win32" && (st.mode & 0o022) !== 0)) {
    throw new Error(`${root} is not a private directory of this user`);
  }
  const dir = path.join(root, version, target);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Writes BYTES as an executable at DIR/NAME (temp file, then rename); returns its path. */
function place(dir, name, bytes) {
  fs.mkdirSync(dir, { recursive: true });
  const dest = path.join(dir, name);
  const temp = `${dest}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, bytes, { mode: 0o755 });
    fs.chmodSync(temp, 0o755);
    fs.renameSync(temp, dest);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
  return dest;
}

/**
 * Fetches, checks and places the installer for `target`; returns its path.
 * `pin`: { package, integrity, sha256 } from postbin's package.json.
 * Throws InstallerFetchError, one line ready for the user.
 */
function fetchInstaller({ target, pin, version, postbinDir, host, env = process.env }) {
  const spec = `${pin.package}@${version}`;
  const offline = isTruthy(env.POSTBIN_OFFLINE) || isTruthy(env.npm_config_offline);
  const project = projectDir(env, postbinDir);
  const missing =
    `postbin's installer for ${host} (the optional dependency ${spec}) is not installed ` +
    `(optional dependencies omitted, a lockfile written on another platform, or an install for another platform)`;
  const fix =
    `run \`npm install --no-save ${spec}\` in ${project} where the registry is reachable, or set POSTBIN_INSTALLER_PATH ` +
    `to a postbin installer for this host`;
  const temp = fs.mkdtempSync(path.join(require("os").tmpdir(), "postbin-installer-"));
  try {
    let tgz;
    const cli = npmCli(env);
    const reasons = [];
    if (cli) {
      try {
        tgz = packWithNpm(cli, spec, temp, project, offline ? { ...env, npm_config_offline: "true" } : env, temp);
      } catch (e) {
        reasons.push(e.message);
      }
    } else {
      reasons.push("npm was not found beside this node");
    }
    if (!tgz && !offline) {
      // Without npm, or when npm itself failed: a plain GET (no proxy, no auth).
      const registry = env.npm_config_registry || "https://registry.npmjs.org/";
      try {
        tgz = downloadDirect(tarballUrl(registry, pin.package, version), path.join(temp, "installer.tgz"), env, temp);
      } catch (e) {
        reasons.push(e.message);
      }
    }
    if (!tgz) {
      throw new InstallerFetchError(`postbin: ${missing}, and fetching it failed: ${reasons.join("; ")}; ${fix}`, offline ? 9 : 5);
    }
    const bytes = fs.readFileSync(tgz);
    const got = integrityOf(bytes);
    if (got !== pin.integrity) {
      throw new InstallerFetchError(
        `postbin: ${missing}; the ${spec} tarball fetched is not the one postbin pins (integrity ${got}, pinned ` +
          `${pin.integrity}): the registry serves something else; nothing was run or kept; check the registry, or ${fix}`,
        6
      );
    }
    const exe = exeName(target);
    const content = fileInTarball(bytes, exe);
    const sha = content && require("crypto").createHash("sha256").update(content).digest("hex");
    if (sha !== pin.sha256) {
      throw new InstallerFetchError(`postbin: ${spec} holds no ${exe} with the pinned sha256 ${pin.sha256}; nothing was run or kept; ${fix}`, 6);
    }
    try {
      return place(path.join(postbinDir, "native", target), exe, content);
    } catch {
      return place(privateDir(version, target), exe, content);
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

if (require.main === module && process.argv[2] === "--download") {
  downloadMain(process.argv[3], process.argv[4]);
}

module.exports = { fetchInstaller, fileInTarball, tarballUrl, npmCli, projectDir, InstallerFetchError, exeName };
