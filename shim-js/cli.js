#!/usr/bin/env node
"use strict";
// `postbin` on the command line and in `postinstall`: runs the native
// installer for this host with the same arguments (no shell), stdio
// inherited, exit code and signals passed on. Every failure of its own is
// one line on stderr, `postbin: ...`, never a Node stack trace.

const fs = require("fs");
const path = require("path");

// Installed first, before anything can throw: an unexpected error is one
// line and exit 1.
function guard(e) {
  const message = String((e && e.message) || e).replace(/\s*[\r\n]+\s*/g, " ");
  try {
    process.stderr.write(`postbin: unexpected error: ${message}; this is a postbin bug, please report it\n`);
  } finally {
    process.exit(1);
  }
}
if (require.main === module) {
  process.on("uncaughtException", guard);
  process.on("unhandledRejection", guard);
}

const { installerPath, envPrefixOf, isInstallerError, UnsupportedPlatformError } = require("./platform");
const { spawnSyncRetrying, oneLine, describeExecError, exitKilledBy } = require("./launcher");

// Commands that work on one tool package (`--package DIR`, default: cwd).
const PACKAGE_COMMANDS = new Set(["install", "which", "init", "pin", "check", "plan", "doctor"]);

function readManifest(dir) {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    return manifest && typeof manifest === "object" ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** The value of `--package DIR` / `--package=DIR` / `-p DIR` / `-pDIR`, if given (as the installer reads them). */
function packageArg(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--") break;
    if (args[i] === "--package" || args[i] === "-p") return args[i + 1];
    if (args[i].startsWith("--package=")) return args[i].slice("--package=".length);
    if (args[i].startsWith("-p")) return args[i].slice(2).replace(/^=/, "");
  }
  return undefined;
}

/**
 * The env prefix of the tool this run is for (`@acme/hello-tool` ->
 * `HELLO_TOOL`), or undefined when no tool is known: from `--package DIR`'s
 * package.json, else npm_package_name (set when a package manager runs the
 * tool's postinstall, in the tool's directory), else package.json in cwd.
 * A package.json without a `postbin` section is not a tool.
 */
function toolEnvPrefix(args = process.argv.slice(2), env = process.env, cwd = process.cwd()) {
  const first = args.find((a) => !a.startsWith("-"));
  if (!PACKAGE_COMMANDS.has(first)) return undefined;
  const isTool = (m) => Boolean(m && typeof m.name === "string" && m.name && m.postbin && typeof m.postbin === "object");
  const dir = packageArg(args);
  if (dir) {
    const manifest = readManifest(path.resolve(cwd, dir));
    if (manifest) return isTool(manifest) ? envPrefixOf(manifest.name, manifest) : undefined;
  }
  const here = readManifest(cwd);
  if (env.npm_package_name) {
    if (here && here.name === env.npm_package_name) return isTool(here) ? envPrefixOf(here.name, here) : undefined;
    return envPrefixOf(env.npm_package_name);
  }
  return isTool(here) ? envPrefixOf(here.name, here) : undefined;
}

function main(args = process.argv.slice(2)) {
  let installer;
  try {
    installer = installerPath({ envPrefix: toolEnvPrefix(args) });
  } catch (e) {
    if (isInstallerError(e)) {
      process.stderr.write(oneLine(e.message) + "\n");
      // The installer's own codes (docs/cli.md): 4, no binary for this
      // platform; 5 or 9, fetching the host's installer failed (network,
      // offline); 6, an installer that is not the pinned one.
      if (e instanceof UnsupportedPlatformError) return 4;
      return Number.isInteger(e.exitCode) ? e.exitCode : 1;
    }
    throw e;
  }
  const result = spawnSyncRetrying(installer, args, { stdio: "inherit" });
  if (result.error) {
    const fromEnv = process.env.POSTBIN_INSTALLER_PATH ? " (from POSTBIN_INSTALLER_PATH)" : "";
    const todo = fromEnv
      ? "point POSTBIN_INSTALLER_PATH at a working postbin, or unset it"
      : "reinstall postbin (delete node_modules and install again), or set POSTBIN_INSTALLER_PATH to a working postbin";
    process.stderr.write(oneLine(`cannot run the postbin installer ${installer}${fromEnv}: ${describeExecError(result.error)}; ${todo}`) + "\n");
    return 1;
  }
  if (result.signal) {
    exitKilledBy(result.signal); // exits now, or dies of the signal, or exits shortly
    return 1;
  }
  // The installer prints its own message on failure; its code is documented.
  return result.status === null ? 1 : result.status;
}

if (require.main === module) {
  process.exitCode = main();
}

module.exports = { main, toolEnvPrefix, packageArg };
