"use strict";
// Which prebuilt postbin installer runs on this host. The installers are
// static where the OS allows (musl on Linux), so libc does not matter here;
// the installer itself detects glibc vs musl for the tool it installs.

const path = require("path");
const fs = require("fs");

// `${process.platform} ${process.arch}` -> installer targets, best first.
// Keep in step with scripts/installer-targets (the list that is built).
const INSTALLER_TARGETS = {
  "linux x64": ["x86_64-unknown-linux-musl"],
  "linux arm64": ["aarch64-unknown-linux-musl"],
  "linux arm": ["armv7-unknown-linux-musleabihf"],
  "darwin arm64": ["aarch64-apple-darwin", "x86_64-apple-darwin"],
  "darwin x64": ["x86_64-apple-darwin"],
  "win32 x64": ["x86_64-pc-windows-msvc"],
  "win32 arm64": ["aarch64-pc-windows-msvc", "x86_64-pc-windows-msvc"],
  "freebsd x64": ["x86_64-unknown-freebsd"],
};

const NATIVE_DIR = path.join(__dirname, "native");

function hostKey(platform = process.platform, arch = process.arch) {
  return `${platform} ${arch}`;
}

function installerName(target) {
  return target.includes("-windows-") ? "postbin.exe" : "postbin";
}

/** Candidate installer paths for a host, best first. */
function installerCandidates(platform = process.platform, arch = process.arch, nativeDir = NATIVE_DIR) {
  const targets = INSTALLER_TARGETS[hostKey(platform, arch)] || [];
  return targets.map((t) => path.join(nativeDir, t, installerName(t)));
}

class UnsupportedPlatformError extends Error {}

/**
 * The installer for this host. POSTBIN_INSTALLER_PATH overrides it (for
 * hosts without a prebuilt installer: build postbin with cargo and point at it).
 */
function installerPath(options = {}) {
  const env = options.env || process.env;
  if (env.POSTBIN_INSTALLER_PATH) return env.POSTBIN_INSTALLER_PATH;
  const platform = options.platform || process.platform;
  const arch = options.arch || process.arch;
  const exists = options.exists || fs.existsSync;
  const found = installerCandidates(platform, arch, options.nativeDir).find((p) => exists(p));
  if (found) return found;
  const prefix = options.envPrefix || "<TOOL>";
  throw new UnsupportedPlatformError(
    `postbin: no prebuilt installer for ${platform} ${arch}. ` +
      `Set ${prefix}_BINARY_PATH to the tool's executable (built yourself), ` +
      `or POSTBIN_INSTALLER_PATH to a postbin installer built with \`cargo install postbin\`.`
  );
}

module.exports = { INSTALLER_TARGETS, installerCandidates, installerPath, installerName, UnsupportedPlatformError };
