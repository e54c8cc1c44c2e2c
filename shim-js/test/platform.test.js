"use strict";
const test = require("node:test");
const assert = require("node:assert");
const path = require("path");
const { INSTALLER_TARGETS, installerCandidates, installerPath, UnsupportedPlatformError } = require("../platform");

test("every table entry maps to at least one installer target", () => {
  for (const [host, targets] of Object.entries(INSTALLER_TARGETS)) {
    assert.ok(Array.isArray(targets) && targets.length > 0, host);
    for (const t of targets) assert.match(t, /^[a-z0-9_]+-[a-z]+-[a-z0-9]+(-[a-z0-9]+)?$/, t);
  }
});

test("linux x64 uses the static musl installer whatever the libc", () => {
  assert.deepStrictEqual(installerCandidates("linux", "x64", "/n"), [path.join("/n", "x86_64-unknown-linux-musl", "postbin")]);
});

test("windows installers end in .exe and apple silicon falls back to x64", () => {
  assert.ok(installerCandidates("win32", "x64", "/n")[0].endsWith("postbin.exe"));
  const mac = installerCandidates("darwin", "arm64", "/n");
  assert.strictEqual(mac.length, 2);
  assert.ok(mac[1].includes("x86_64-apple-darwin"));
  const found = installerPath({ platform: "darwin", arch: "arm64", nativeDir: "/n", env: {}, exists: (p) => p === mac[1] });
  assert.strictEqual(found, mac[1]);
});

test("an unknown host gets one message naming the platform and the way out", () => {
  assert.throws(
    () => installerPath({ platform: "aix", arch: "ppc64", env: {}, envPrefix: "HELLO" }),
    (e) => e instanceof UnsupportedPlatformError && /aix ppc64/.test(e.message) && /HELLO_BINARY_PATH/.test(e.message)
  );
});

test("POSTBIN_INSTALLER_PATH overrides the table", () => {
  assert.strictEqual(installerPath({ platform: "aix", arch: "ppc64", env: { POSTBIN_INSTALLER_PATH: "/x/postbin" } }), "/x/postbin");
});
