"use strict";
// The tool's `bin` launcher. `postbin init` writes, per command, a file
// that calls `run()`. It runs the native executable placed by
// `postbin install`; when that is missing (install scripts were skipped:
// npm --ignore-scripts, pnpm 10+, yarn berry, bun) it installs first, and
// when the package directory is read-only it runs the executable from the
// cache. On Unix, postinstall usually replaces this launcher by the native
// executable itself (the speed path), so this file then never runs.

const { spawn, spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");
const { installerPath, UnsupportedPlatformError } = require("./platform");

const EXE = process.platform === "win32" ? ".exe" : "";

function nativePath(packageDir, command) {
  return path.join(packageDir, ".postbin", "bin", command + EXE);
}

function note(message) {
  process.stderr.write(`postbin: ${message}\n`);
}

function isWritable(dir) {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds (installing if needed) the executable to run. Returns its path, or
 * throws an Error whose message is ready for the user.
 */
function resolveExecutable({ packageDir, command, envPrefix, env = process.env, installer }) {
  const override = env[`${envPrefix}_BINARY_PATH`];
  if (override) return override;
  const placed = nativePath(packageDir, command);
  if (fs.existsSync(placed)) return placed;

  const bin = installer || installerPath({ env, envPrefix });
  if (isWritable(packageDir)) {
    note(`${command} is not installed yet (install scripts were skipped); installing it now`);
    const r = spawnSync(bin, ["install", "--package", packageDir], { stdio: ["ignore", "ignore", "inherit"], env });
    if (r.error) throw new Error(`postbin: cannot run the installer ${bin}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`postbin: installing ${command} failed (exit ${r.status}); see the message above`);
    if (fs.existsSync(placed)) return placed;
    throw new Error(`postbin: the installer finished but ${placed} is missing`);
  }
  // A read-only package (a shared or image-baked node_modules): the cache
  // can still hold the executable; nothing in the package is written.
  note(`${packageDir} is read-only; running ${command} from the postbin cache`);
  const r = spawnSync(bin, ["install", "--package", packageDir, "--cache-only"], {
    stdio: ["ignore", "pipe", "inherit"],
    env,
    encoding: "utf8",
  });
  if (r.error) throw new Error(`postbin: cannot run the installer ${bin}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`postbin: installing ${command} into the cache failed (exit ${r.status})`);
  const paths = r.stdout.split("\n").filter(Boolean);
  const match = paths.find((p) => path.basename(p) === command + EXE) || paths[0];
  if (!match) throw new Error(`postbin: the installer reported no executable for ${command}`);
  return match;
}

/** Runs the tool: stdio inherited, exit code and signals passed on. */
function run(options) {
  let executable;
  try {
    executable = resolveExecutable(options);
  } catch (e) {
    process.stderr.write((e instanceof UnsupportedPlatformError ? e.message : e.message || String(e)) + "\n");
    process.exit(1);
  }
  const child = spawn(executable, process.argv.slice(2), { stdio: "inherit" });
  // Ctrl-C reaches the whole foreground process group, the child included;
  // the launcher only has to outlive it. Signals aimed at the launcher alone
  // (kill PID, a supervisor's SIGTERM) are passed on.
  const forward = (signal) => () => {
    if (signal !== "SIGINT" || !process.stdin.isTTY) child.kill(signal);
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
  const handlers = signals.map((s) => [s, forward(s)]);
  for (const [s, h] of handlers) process.on(s, h);
  child.on("error", (e) => {
    process.stderr.write(`postbin: cannot run ${executable}: ${e.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    for (const [s, h] of handlers) process.removeListener(s, h);
    if (signal) {
      // Die the same way, so the caller sees the signal, not an exit code.
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code === null ? 1 : code);
  });
}

module.exports = { run, resolveExecutable, nativePath };
