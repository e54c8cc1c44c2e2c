"use strict";
// Which prebuilt postbin installer runs on this host, and where it is. The
// installers are static where the OS allows (musl on Linux), so libc does not
// matter here; the installer itself detects glibc vs musl for the tool it
// installs. installers.json is the one list: what is built and shipped
// (`installers`), the npm package each ships in (`packages`), and which of
// them each host can run, best first (`hosts`).
//
// Where an installer is found, in order: POSTBIN_INSTALLER_PATH (used as
// given); native/<target>/ in this package (a postbin packed with its
// installers inside, or one fetched earlier); the package @postbin/<os>-<cpu>
// (an optional dependency, so npm and the others install only the host's);
// else it is fetched (fetch-installer.js). Whatever is found is checked
// against the sha256 postbin's package.json pins for it (`installers`)
// before it runs, every time: 2 MB hashed, a few milliseconds.

const path = require("path");
const fs = require("fs");
const { installers: INSTALLERS, hosts: HOSTS, packages: PACKAGES } = require("./installers.json");
// fetch-installer.js loads only when an installer must be fetched: the
// launcher requires this file on every start.
const fetchInstallerModule = () => require("./fetch-installer");

const NATIVE_DIR = path.join(__dirname, "native");
let ownManifest;

/** postbin's own package.json (its pins), read when an installer is wanted, not at every launcher start. */
function readOwnManifest() {
  if (ownManifest === undefined) {
    try {
      ownManifest = JSON.parse(fs.readFileSync(path.join(__dirname, "package.json"), "utf8"));
    } catch {
      ownManifest = {};
    }
  }
  return ownManifest;
}

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

/** An installer on disk is not the one postbin pins: changed after install. Exit 6, as an integrity failure. */
class InstallerMismatchError extends Error {
  constructor(message, file) {
    super(message);
    this.name = "InstallerMismatchError";
    this.file = file;
    this.exitCode = 6;
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

/** Where the installer package for `target` is installed, seen from this package; undefined if it is not. */
function packageInstaller(target, fromDir = __dirname) {
  const pkg = PACKAGES[target];
  if (!pkg) return undefined;
  try {
    const manifest = require.resolve(`${pkg.name}/package.json`, { paths: [fromDir] });
    return path.join(path.dirname(manifest), installerName(target));
  } catch {
    return undefined;
  }
}

function sha256File(file) {
  // crypto loads only when an installer is about to run, not on every launcher start.
  return require("crypto").createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** Throws InstallerMismatchError unless `file` has the pinned sha256 (no pin: nothing to check, a checkout). */
function checkPinned(file, target, pins) {
  const pin = pins[target];
  if (!pin || !pin.sha256) return file;
  const sha = sha256File(file);
  if (sha !== pin.sha256) {
    throw new InstallerMismatchError(
      `postbin: the installer ${file} is not the one this postbin pins for ${target} (sha256 ${sha}, pinned ${pin.sha256}): ` +
        `it was changed after it was installed; nothing was run; reinstall postbin (delete node_modules and install again)`,
      file
    );
  }
  return file;
}

/**
 * The installer for this host, checked against its pin: see the top of this
 * file for where it is looked for. Throws UnsupportedPlatformError,
 * InstallerMismatchError, InstallerFetchError or InstallerMissingError,
 * whose messages name the tool's own variable when `envPrefix` is given.
 */
function installerPath(options = {}) {
  const env = options.env || process.env;
  if (env.POSTBIN_INSTALLER_PATH) return env.POSTBIN_INSTALLER_PATH;
  const platform = options.platform || process.platform;
  const arch = options.arch || process.arch;
  const exists = options.exists || fs.existsSync;
  const pins = options.pins || readOwnManifest().installers || {};
  const host = hostKey(platform, arch);
  const targets = HOSTS[host] || [];
  const nativeDir = options.nativeDir || NATIVE_DIR;
  const findPackage = options.packageInstaller || packageInstaller;
  for (const t of targets) {
    const embedded = path.join(nativeDir, t, installerName(t));
    if (exists(embedded)) return checkPinned(embedded, t, pins);
    const fromPackage = findPackage(t);
    if (fromPackage && exists(fromPackage)) return checkPinned(fromPackage, t, pins);
  }
  if (targets.length === 0) {
    throw new UnsupportedPlatformError(
      `postbin: no prebuilt postbin installer for ${host}; ${wayOut(options.envPrefix)}`,
      host
    );
  }
  const fetchable = targets.find((t) => pins[t] && pins[t].integrity && pins[t].package);
  if (fetchable) {
    const fetch = options.fetchInstaller || fetchInstallerModule().fetchInstaller;
    const file = fetch({
      target: fetchable,
      pin: pins[fetchable],
      version: options.version || readOwnManifest().version,
      postbinDir: path.dirname(nativeDir),
      host,
      env,
    });
    return checkPinned(file, fetchable, pins);
  }
  const candidates = installerCandidates(platform, arch, nativeDir);
  throw new InstallerMissingError(
    `postbin: the postbin package is missing its installer for ${host} (${candidates[0]}); ` +
      `reinstall it (delete node_modules and install again), or ${wayOut(options.envPrefix)}`,
    host,
    candidates
  );
}

/** Whether `e` is one of the errors installerPath throws for the user (one line, maybe an exit code). */
function isInstallerError(e) {
  return (
    e instanceof UnsupportedPlatformError ||
    e instanceof InstallerMissingError ||
    e instanceof InstallerMismatchError ||
    // Without loading fetch-installer.js just to ask: only it throws these.
    (e instanceof Error && e.name === "InstallerFetchError")
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
  packageInstaller,
  isInstallerError,
  UnsupportedPlatformError,
  InstallerMissingError,
  InstallerMismatchError,
  get InstallerFetchError() {
    return fetchInstallerModule().InstallerFetchError;
  },
  PACKAGES,
};
