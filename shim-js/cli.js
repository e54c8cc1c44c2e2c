#!/usr/bin/env node
"use strict";
// `postbin` on the command line and in `postinstall`: runs the native
// installer for this host with the same arguments (no shell), stdio
// inherited, exit code and signals passed on.

const { spawnSync } = require("child_process");
const { installerPath, UnsupportedPlatformError } = require("./platform");

function main() {
  let installer;
  try {
    installer = installerPath();
  } catch (e) {
    if (e instanceof UnsupportedPlatformError) {
      process.stderr.write(e.message + "\n");
      return 1;
    }
    throw e;
  }
  const result = spawnSync(installer, process.argv.slice(2), { stdio: "inherit" });
  if (result.error) {
    process.stderr.write(`postbin: cannot run ${installer}: ${result.error.message}\n`);
    return 1;
  }
  if (result.signal) {
    process.kill(process.pid, result.signal);
    return 1;
  }
  return result.status;
}

process.exitCode = main();
