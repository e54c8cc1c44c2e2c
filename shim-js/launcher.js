"use strict";
// The tool's `bin` launcher. `postbin init` writes, per command, a file
// that calls `run()`. It runs the native executable placed by
// `postbin install`; when that is missing (install scripts were skipped:
// npm --ignore-scripts, pnpm 10+, yarn berry, bun) it installs first, and
// when the package directory is read-only it runs the executable from the
// cache. On Unix, postinstall usually replaces this launcher by the native
// executable itself (the speed path), so this file then never runs.
//
// Every failure reaches the user as one line, `postbin: ...`, that says what
// to do; never a Node stack trace.

const { spawn, spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");
const { installerPath, UnsupportedPlatformError, InstallerMissingError } = require("./platform");

const EXE = process.platform === "win32" ? ".exe" : "";

// Sleeps between attempts to exec a file that is busy, ~2 s in all. On Linux
// exec fails with ETXTBSY while any process still has the file open for
// writing (a concurrent install that has just renamed it into place, or a
// child forked elsewhere that inherited the descriptor); on Windows a
// sharing violation shows as EBUSY or EPERM. Both clear within moments.
const RETRY_DELAYS_MS = [10, 20, 40, 80, 150, 250, 250, 300, 400, 500];

function nativePath(packageDir, command) {
  return path.join(packageDir, ".postbin", "bin", command + EXE);
}

/** An error whose message is ready for the user, with the exit code to use. */
class LauncherError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.name = "LauncherError";
    this.exitCode = exitCode;
  }
}

/** `postbin: <message>` on one line, whatever the message holds. */
function oneLine(message) {
  const text = String(message).replace(/\s*[\r\n]+\s*/g, " ").trim();
  return text.startsWith("postbin: ") ? text : `postbin: ${text}`;
}

function note(message) {
  process.stderr.write(oneLine(message) + "\n");
}

/** Prints `error` as one line and exits with its code (1 unless it says). */
function fail(error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(oneLine(message) + "\n");
  process.exit(error && Number.isInteger(error.exitCode) && error.exitCode > 0 ? error.exitCode : 1);
}

/**
 * Turns any uncaught exception or rejection into one line and exit 1.
 * `hint` says what the user can do meanwhile.
 */
function installProcessGuard(hint) {
  const handler = (e) => {
    const message = (e && e.message) || String(e);
    try {
      process.stderr.write(oneLine(`unexpected error: ${message}; this is a postbin bug, please report it${hint ? `; ${hint}` : ""}`) + "\n");
    } finally {
      process.exit(1);
    }
  };
  process.on("uncaughtException", handler);
  process.on("unhandledRejection", handler);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Whether a failed exec is worth another try shortly: the file is busy. */
function isBusy(error, platform = process.platform) {
  const code = error && error.code;
  if (code === "ETXTBSY") return true;
  return platform === "win32" && (code === "EBUSY" || code === "EPERM");
}

/**
 * Runs `attempt()` until it does not throw a busy error (see isBusy), with
 * short synchronous sleeps between tries, ~2 s in all; then throws the last
 * error. Any other error is thrown at once.
 */
function retryBusy(attempt, { platform = process.platform, sleep = sleepSync, delays = RETRY_DELAYS_MS } = {}) {
  for (let i = 0; ; i++) {
    try {
      return attempt();
    } catch (e) {
      if (!isBusy(e, platform) || i >= delays.length) throw e;
      sleep(delays[i]);
    }
  }
}

/** spawnSync that retries a busy executable; the result's `error` as spawnSync gives it. */
function spawnSyncRetrying(file, args, options, retry = {}) {
  const spawnSyncFn = retry.spawnSync || spawnSync;
  try {
    return retryBusy(() => {
      const r = spawnSyncFn(file, args, options);
      if (r.error && isBusy(r.error, retry.platform)) throw r.error;
      return r;
    }, retry);
  } catch (e) {
    if (isBusy(e, retry.platform)) return { error: e, status: null, signal: null };
    throw e;
  }
}

/** spawn that retries a busy executable (Node throws ETXTBSY synchronously). */
function spawnRetrying(file, args, options, retry = {}) {
  const spawnFn = retry.spawn || spawn;
  return retryBusy(() => spawnFn(file, args, options), retry);
}

function isWritable(dir) {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why an executable could not be started, in words, with the error code. */
function describeExecError(error) {
  const code = (error && error.code) || "";
  if (code === "ENOENT") return "it does not exist, or its interpreter or dynamic loader does not (ENOENT)";
  if (code === "EACCES") return "permission denied: not executable, or on a noexec file system (EACCES)";
  if (isBusy(error)) return `it stayed busy, open for writing by another process, through several tries (${code})`;
  const message = (error && error.message) || String(error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/**
 * One line for an executable that could not be started: what, why, and what
 * to do (`todo`, or by default the tool's own <PREFIX>_BINARY_PATH).
 */
function execFailure(what, file, error, { command, envPrefix, override, todo }) {
  if (!todo) {
    if (isBusy(error)) todo = `run ${command} again`;
    else if (override) todo = `point ${envPrefix}_BINARY_PATH at a working ${command} executable, or unset it`;
    else todo = `set ${envPrefix}_BINARY_PATH to a working ${command} executable to run it without postbin`;
  }
  return oneLine(`cannot run ${what} ${file}: ${describeExecError(error)}; ${todo}`);
}

function runInstaller(bin, args, options, context) {
  const { command, envPrefix } = context;
  const r = spawnSyncRetrying(bin, args, options, context.retry);
  if (r.error) {
    const todo =
      `reinstall the tool (postbin ships the installer), or set POSTBIN_INSTALLER_PATH to a working postbin ` +
      `or ${envPrefix}_BINARY_PATH to a ${command} executable`;
    throw new LauncherError(execFailure("the postbin installer", bin, r.error, { ...context, todo }));
  }
  if (r.signal) {
    throw new LauncherError(`the postbin installer was stopped by ${r.signal} while installing ${command}; run ${command} again`);
  }
  if (r.status !== 0) {
    // The installer has already said what failed and what to do.
    throw new LauncherError(
      `installing ${command} failed (exit ${r.status}, see the message above); fix that and run ${command} again, ` +
        `or set ${envPrefix}_BINARY_PATH to a ${command} executable`,
      r.status
    );
  }
  return r;
}

/**
 * Finds (installing if needed) the executable to run. Returns its path, or
 * throws an Error whose message is ready for the user (a LauncherError
 * carries the exit code).
 */
function resolveExecutable(options) {
  const { packageDir, command, envPrefix, env = process.env, installer } = options;
  const override = env[`${envPrefix}_BINARY_PATH`];
  if (override) return override;
  const placed = nativePath(packageDir, command);
  if (fs.existsSync(placed)) return placed;

  const bin = installer || installerPath({ env, envPrefix });
  const context = { command, envPrefix, retry: options.retry };
  if (isWritable(packageDir)) {
    note(`${command} is not installed yet (install scripts were skipped); installing it now`);
    runInstaller(bin, ["install", "--package", packageDir], { stdio: ["ignore", "ignore", "inherit"], env }, context);
    if (fs.existsSync(placed)) return placed;
    throw new LauncherError(
      `the installer finished but ${placed} is missing; run ${command} again, or set ${envPrefix}_BINARY_PATH to a ${command} executable`
    );
  }
  // A read-only package (a shared or image-baked node_modules): the cache
  // can still hold the executable; nothing in the package is written.
  note(`${packageDir} is read-only; running ${command} from the postbin cache`);
  const r = runInstaller(
    bin,
    ["install", "--package", packageDir, "--cache-only"],
    { stdio: ["ignore", "pipe", "inherit"], env, encoding: "utf8" },
    context
  );
  const paths = String(r.stdout || "").split(/\r?\n/).filter(Boolean);
  const match = paths.find((p) => path.basename(p) === command + EXE) || paths[0];
  if (!match) {
    throw new LauncherError(
      `the installer reported no cached executable for ${command}; run ${command} again, or set ${envPrefix}_BINARY_PATH to a ${command} executable`
    );
  }
  return match;
}

/** Runs the tool: stdio inherited, exit code and signals passed on. */
function run(options = {}) {
  const { command = "the tool", envPrefix = "POSTBIN" } = options;
  installProcessGuard(`meanwhile ${envPrefix}_BINARY_PATH=/path/to/${command} runs an executable without postbin`);
  let executable;
  try {
    executable = resolveExecutable(options);
  } catch (e) {
    if (e instanceof LauncherError || e instanceof UnsupportedPlatformError || e instanceof InstallerMissingError) fail(e);
    throw e; // a bug: the process guard reports it
  }
  const env = options.env || process.env;
  const override = Boolean(env[`${envPrefix}_BINARY_PATH`]);
  const context = { command, envPrefix, override };
  // Ctrl-C reaches the whole foreground process group, the child included;
  // the launcher only has to outlive it. Signals aimed at the launcher alone
  // (kill PID, a supervisor's SIGTERM) are passed on. The handlers are in
  // place before the spawn: the tool can be running (and be seen running)
  // before spawn() returns, and a signal in between must not kill the
  // launcher alone and orphan the tool.
  let child;
  const pending = [];
  const forward = (signal) => () => {
    if (signal === "SIGINT" && process.stdin.isTTY) return;
    if (child) child.kill(signal);
    else pending.push(signal);
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
  const handlers = signals.map((s) => [s, forward(s)]);
  for (const [s, h] of handlers) process.on(s, h);
  try {
    child = spawnRetrying(executable, process.argv.slice(2), { stdio: "inherit" }, options.retry);
  } catch (e) {
    fail(execFailure(command, executable, e, context));
  }
  for (const signal of pending) child.kill(signal);
  child.on("error", (e) => {
    fail(execFailure(command, executable, e, context));
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

module.exports = {
  run,
  resolveExecutable,
  nativePath,
  LauncherError,
  describeExecError,
  oneLine,
  installProcessGuard,
  isBusy,
  retryBusy,
  spawnRetrying,
  spawnSyncRetrying,
  sleepSync,
  RETRY_DELAYS_MS,
};
