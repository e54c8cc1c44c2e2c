"use strict";
// The tool's `bin` launcher. `postbin init` writes, per command, a file
// that calls `run()`. It runs the native executable placed by
// `postbin install`; when that is missing (install scripts were skipped:
// npm --ignore-scripts, pnpm 10+, yarn berry, bun) it installs first, and
// when the package directory is read-only, or is not inside a node_modules
// tree (the tool's own repository, where nothing may be written that
// `npm pack` would ship), it runs the executable from the cache. On Unix, postinstall usually replaces this launcher by the native
// executable itself (the speed path), so this file then never runs.
//
// Every failure reaches the user as one line, `postbin: ...`, that says what
// to do; never a Node stack trace.

const { spawn, spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { installerPath, isInstallerError } = require("./platform");

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

// Which target triples each host can run, for a package whose node_modules
// may come from elsewhere (Docker `COPY` from a Mac, WSL, a tarball of
// node_modules): the receipt names the target the executables were placed
// for. A host missing here is not second-guessed.
const RUNNABLE_TARGETS = {
  "linux x64": [/^x86_64-[^-]+-linux-/],
  "linux arm64": [/^aarch64-[^-]+-linux-/],
  "linux arm": [/^(arm|armv7|thumbv7neon)-[^-]+-linux-/],
  "linux ia32": [/^i[3-6]86-[^-]+-linux-/],
  "darwin x64": [/^x86_64-apple-darwin$/, /^universal2?-apple-darwin$/],
  // Apple silicon runs x86_64 builds under Rosetta 2.
  "darwin arm64": [/^(aarch64|arm64|x86_64)-apple-darwin$/, /^universal2?-apple-darwin$/],
  "win32 x64": [/^(x86_64|i[3-6]86)-[^-]+-windows-/],
  // Windows 11 on Arm emulates x64 and x86.
  "win32 arm64": [/^(aarch64|x86_64|i[3-6]86)-[^-]+-windows-/],
  "win32 ia32": [/^i[3-6]86-[^-]+-windows-/],
  "freebsd x64": [/^x86_64-[^-]+-freebsd/],
  "freebsd arm64": [/^aarch64-[^-]+-freebsd/],
};

/** Whether this host (process.platform + arch) can run executables built for `target`. */
function hostRuns(target, platform = process.platform, arch = process.arch) {
  const patterns = RUNNABLE_TARGETS[`${platform} ${arch}`];
  return !patterns || patterns.some((p) => p.test(target));
}

/**
 * The target the package's executables were placed for, when this host
 * cannot run it; otherwise undefined (also when there is no readable
 * receipt: a placement in progress writes it last, and when POSTBIN_TARGET
 * asks for that very target: binfmt_misc and qemu-user run foreign
 * executables). One small file read.
 */
function foreignTarget(packageDir, { platform, arch, env = process.env } = {}) {
  let target;
  try {
    target = JSON.parse(fs.readFileSync(path.join(packageDir, ".postbin", "receipt.json"), "utf8")).target;
  } catch {
    return undefined;
  }
  if (typeof target !== "string" || target === env.POSTBIN_TARGET) return undefined;
  return hostRuns(target, platform, arch) ? undefined : target;
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

/**
 * Whether `dir` is an installed package: a node_modules directory is among
 * its ancestors once symlinks are resolved, or yarn PnP unplugged it
 * (.yarn/unplugged). The installer judges the same way (installer/src/link/mod.rs).
 */
function insideNodeModules(dir) {
  let real = dir;
  try {
    real = fs.realpathSync(dir);
  } catch {}
  const parts = real.split(/[\\/]+/).map((p) => p.toLowerCase());
  return parts.includes("node_modules") || parts.some((p, i) => p === ".yarn" && parts[i + 1] === "unplugged");
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
  const override = binaryOverride(env, envPrefix, command);
  if (override) return override;
  const placed = nativePath(packageDir, command);
  const { platform, arch } = options;
  // Outside node_modules (the tool's own checkout) nothing in the package
  // is used or written: the executable runs from the cache.
  const installed = insideNodeModules(packageDir);
  // Placed, and for a target this host runs: the common case, one stat and
  // one small read. Placed for another platform (node_modules copied from
  // elsewhere): never exec'd; installed again for this host instead.
  let foreign;
  if (installed && fs.existsSync(placed)) {
    foreign = foreignTarget(packageDir, { platform, arch, env });
    if (!foreign) return placed;
  }

  const bin = installer || installerPath({ env, envPrefix });
  const context = { command, envPrefix, retry: options.retry };
  const host = `${platform || process.platform} ${arch || process.arch}`;
  if (installed && isWritable(packageDir)) {
    note(
      foreign
        ? `${command} in ${packageDir} was installed for ${foreign}, which this host (${host}) cannot run ` +
            `(node_modules copied from another machine?); installing it for this host now`
        : `${command} is not installed yet (install scripts were skipped); installing it now`
    );
    runInstaller(bin, ["install", "--package", packageDir], { stdio: ["ignore", "ignore", "inherit"], env }, context);
    const still = fs.existsSync(placed) && foreignTarget(packageDir, { platform, arch, env });
    if (still) {
      throw new LauncherError(
        `the installer placed ${command} for ${still}, which this host (${host}) cannot run; unset POSTBIN_TARGET ` +
          `if it is set, or set ${envPrefix}_BINARY_PATH to a ${command} executable`
      );
    }
    if (fs.existsSync(placed)) return placed;
    throw new LauncherError(
      `the installer finished but ${placed} is missing; run ${command} again, or set ${envPrefix}_BINARY_PATH to a ${command} executable`
    );
  }
  // A read-only package (a shared or image-baked node_modules): the cache
  // can still hold the executable; nothing in the package is written.
  note(
    !installed
      ? `${packageDir} is not inside node_modules (the tool's own repository?); running ${command} from the postbin cache`
      : foreign
      ? `${command} in the read-only ${packageDir} was installed for ${foreign}, which this host (${host}) cannot run; running it from the postbin cache`
      : `${packageDir} is read-only; running ${command} from the postbin cache`
  );
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

/**
 * `<PREFIX>_BINARY_PATH`, or undefined when unset or blank (as for the
 * installer). A relative path is refused, as the installer refuses it (exit
 * 3, its code for a setting that cannot be used): it would name another
 * file in each directory the tool is run from, or be looked up on PATH.
 */
function binaryOverride(env, envPrefix, command) {
  const name = `${envPrefix}_BINARY_PATH`;
  const value = env[name];
  if (!value || !value.trim()) return undefined;
  // On Windows, `\hello` and `C:hello` depend on the current drive or
  // directory: Rust does not call them absolute, nor does this.
  const absolute = path.isAbsolute(value) && !(process.platform === "win32" && /^[\\/](?![\\/])/.test(value));
  if (!absolute) {
    throw new LauncherError(
      `${name} is ${value}, a relative path, which means something else in every directory; ` +
        `set it to the absolute path of a ${command} executable, or unset it`,
      3
    );
  }
  return value;
}

// Signals that kill Node just as they killed the tool, so re-raising one
// makes the caller see the signal itself: their default action ends the
// process and Node leaves them so. Not SIGPIPE (Node ignores it: the
// launcher would exit 0, failure reported as success), nor SIGUSR1 (starts
// Node's inspector); a tool cannot die of the signals ignored by default.
const RERAISED_SIGNALS = new Set([
  "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
  "SIGUSR2", "SIGSEGV", "SIGALRM", "SIGTERM", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGSYS",
]);

/**
 * Ends this process as a child that was killed by `signal` ended, the way a
 * shell reports it: exit 128 + the signal's number, after dying of the same
 * signal where Node would (the caller's own handlers for it must be removed
 * first). Windows has no such signals: exit 1.
 */
function exitKilledBy(signal) {
  const number = os.constants.signals[signal];
  if (process.platform === "win32" || !number) process.exit(1);
  const status = 128 + number;
  if (RERAISED_SIGNALS.has(signal)) {
    process.kill(process.pid, signal);
    // Still alive a moment later: the signal is blocked, or someone else
    // handles it. The status says what happened anyway.
    setTimeout(() => process.exit(status), 100);
    return;
  }
  process.exit(status);
}

/** Runs the tool: stdio inherited, exit code and signals passed on. */
function run(options = {}) {
  const { command = "the tool", envPrefix = "POSTBIN" } = options;
  installProcessGuard(`meanwhile ${envPrefix}_BINARY_PATH=/path/to/${command} runs an executable without postbin`);
  let executable;
  try {
    executable = resolveExecutable(options);
  } catch (e) {
    if (e instanceof LauncherError || isInstallerError(e)) fail(e);
    throw e; // a bug: the process guard reports it
  }
  const env = options.env || process.env;
  const override = Boolean(binaryOverride(env, envPrefix, command));
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
    if (signal) exitKilledBy(signal);
    else process.exit(code === null ? 1 : code);
  });
}

module.exports = {
  run,
  resolveExecutable,
  nativePath,
  insideNodeModules,
  hostRuns,
  foreignTarget,
  RUNNABLE_TARGETS,
  LauncherError,
  exitKilledBy,
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
