"use strict";
// Which prebuilt postbin installer runs on this host. The installers are
// static where the OS allows (musl on Linux), so libc does not matter here;
// the installer itself detects glibc vs musl for the tool it installs.
// installers.json is the one list: what is built and shipped (`installers`)
// and which of them each host can run, best first (`hosts`).

const path = require("path");
const fs = require("fs");
const { installers: INSTALLERS, hosts: HOSTS } = require("./installers.json");

const NATIVE_DIR = path.join(__dirname, "native");

// How to get an installer where none is shipped (there is no crates.io
// release yet, so `cargo install postbin` would not work).
const BUILD_HINT = "a postbin built with `cargo install --path installer` in a checkout of the postbin repository";

function hostKey(platform = process.platform, arch = process.arch) {
  return `${platform} ${arch}`;
}

function installerName(target) {
  return target.includes("-windows-") ? "postbin.exe" : "postbin";
}

/** Candidate installer paths for a host, best first. */
function installerCandidates(platform = process.platform, arch = process.arch, nativeDir = NATIVE_DIR) {
  const targets = HOSTS[hostKey(platform, arch)] || [];
  return targets.map((t) => path.join(nativeDir, t, installerName(t)));
}

/**
 * The prefix of a tool's own variables: the package name without scope,
 * upper-cased, non-alphanumerics as `_` (`@acme/hello-tool` -> `HELLO_TOOL`),
 * unless the package says otherwise (`postbin.envPrefix`). Same rule as the
 * installer. Returns undefined when no name is known.
 */
function envPrefixOf(name, manifest) {
  const own = manifest && manifest.postbin && manifest.postbin.envPrefix;
  if (typeof own === "string" && own) return own;
  if (typeof name !== "string" || !name) return undefined;
  const unscoped = name.startsWith("@") && name.includes("/") ? name.slice(name.indexOf("/") + 1) : name;
  return unscoped.replace(/[^A-Za-z0-9]/g, "_").toUpperCase() || undefined;
}

/** This host has no prebuilt installer. The message is one line, ready for the user. */
class UnsupportedPlatformError extends Error {
  constructor(message, host) {
    super(message);
    this.name = "UnsupportedPlatformError";
    this.host = host;
  }
}

/** This host has a prebuilt installer, but the postbin package on disk lacks it. */
class InstallerMissingError extends Error {
  constructor(message, host, candidates) {
    super(message);
    this.name = "InstallerMissingError";
    this.host = host;
    this.candidates = candidates;
  }
}

function wayOut(envPrefix) {
  return envPrefix
    ? `set ${envPrefix}_BINARY_PATH to the tool's executable built for this host, or POSTBIN_INSTALLER_PATH to ${BUILD_HINT}`
    : `set POSTBIN_INSTALLER_PATH to ${BUILD_HINT}`;
}

/**
 * The installer for this host. POSTBIN_INSTALLER_PATH overrides it (for
 * hosts without a prebuilt installer). Throws UnsupportedPlatformError or
 * InstallerMissingError, whose messages name the tool's own variable when
 * `envPrefix` is given.
 */
function installerPath(options = {}) {
  const env = options.env || process.env;
  if (env.POSTBIN_INSTALLER_PATH) return env.POSTBIN_INSTALLER_PATH;
  const platform = options.platform || process.platform;
  const arch = options.arch || process.arch;
  const exists = options.exists || fs.existsSync;
  const host = hostKey(platform, arch);
  const candidates = installerCandidates(platform, arch, options.nativeDir);
  const found = candidates.find((p) => exists(p));
  if (found) return found;
  if (candidates.length === 0) {
    throw new UnsupportedPlatformError(
      `postbin: no prebuilt postbin installer for ${host}; ${wayOut(options.envPrefix)}`,
      host
    );
  }
  throw new InstallerMissingError(
    `postbin: the postbin package is missing its installer for ${host} (${candidates[0]}); ` +
      `reinstall it (delete node_modules and install again), or ${wayOut(options.envPrefix)}`,
    host,
    candidates
  );
}

module.exports = {
  INSTALLERS,
  HOSTS,
  hostKey,
  envPrefixOf,
  installerCandidates,
  installerPath,
  installerName,
  UnsupportedPlatformError,
  InstallerMissingError,
};
