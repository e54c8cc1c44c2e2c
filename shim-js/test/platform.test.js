"use strict";
const test = require("node:test");
const assert = require("node:assert");
const path = require("path");
const { INSTALLERS, HOSTS, envPrefixOf, installerCandidates, installerPath, installerName,
  UnsupportedPlatformError, InstallerMissingError } = require("../platform");
const list = require("../installers.json");

// Every process.platform and process.arch value Node documents.
const PLATFORMS = ["aix", "android", "darwin", "freebsd", "linux", "openbsd", "sunos", "win32", "cygwin", "netbsd"];
const ARCHES = ["arm", "arm64", "ia32", "loong64", "mips", "mipsel", "ppc", "ppc64", "riscv64", "s390", "s390x", "x64"];

const N = path.join(path.sep, "n");
const file = (target) => path.join(N, target, installerName(target));

// The supported hosts: the installer each picks when every installer is
// shipped, and when only its fallback is (if it has one).
const SUPPORTED = {
  "linux x64": { best: "x86_64-unknown-linux-musl" },
  "linux arm64": { best: "aarch64-unknown-linux-musl" },
  "darwin x64": { best: "x86_64-apple-darwin" },
  "darwin arm64": { best: "aarch64-apple-darwin", fallback: "x86_64-apple-darwin" },
  "win32 x64": { best: "x86_64-pc-windows-gnu" },
  "win32 arm64": { best: "aarch64-pc-windows-gnullvm", fallback: "x86_64-pc-windows-gnu" },
};

test("platform.js uses installers.json, the list that is built", () => {
  assert.deepStrictEqual(INSTALLERS, list.installers);
  assert.deepStrictEqual(HOSTS, list.hosts);
  assert.strictEqual(INSTALLERS.length, 6);
  assert.deepStrictEqual(Object.keys(HOSTS).sort(), Object.keys(SUPPORTED).sort());
});

test("every target of `hosts` is built, and every built installer serves some host", () => {
  const reachable = new Set();
  for (const [host, targets] of Object.entries(HOSTS)) {
    assert.ok(Array.isArray(targets) && targets.length > 0, `${host} lists no installer`);
    for (const t of targets) {
      assert.ok(INSTALLERS.includes(t), `${host} -> ${t}, which is not in installers`);
      reachable.add(t);
    }
  }
  for (const t of INSTALLERS) assert.ok(reachable.has(t), `${t} is built but no host uses it`);
  assert.strictEqual(new Set(INSTALLERS).size, INSTALLERS.length, "installers has duplicates");
});

test("installer file names: postbin.exe for Windows targets only", () => {
  for (const t of INSTALLERS) assert.strictEqual(installerName(t), t.includes("-windows-") ? "postbin.exe" : "postbin", t);
  assert.strictEqual(installerName("x86_64-pc-windows-gnu"), "postbin.exe");
  assert.strictEqual(installerName("aarch64-pc-windows-gnullvm"), "postbin.exe");
  assert.strictEqual(installerName("aarch64-apple-darwin"), "postbin");
});

test("every platform x arch pair: the six supported hosts pick the right installer, all others are unsupported", () => {
  let supported = 0;
  for (const platform of PLATFORMS) {
    for (const arch of ARCHES) {
      const host = `${platform} ${arch}`;
      const base = { platform, arch, nativeDir: N, env: {}, envPrefix: "HELLO_TOOL" };
      const expected = SUPPORTED[host];
      if (!expected) {
        assert.deepStrictEqual(installerCandidates(platform, arch, N), [], host);
        // Unsupported even when every installer file is present.
        assert.throws(
          () => installerPath({ ...base, exists: () => true }),
          (e) => e instanceof UnsupportedPlatformError && e.host === host && e.message.includes(host),
          host
        );
        continue;
      }
      supported++;
      // All shipped: the best one.
      assert.strictEqual(installerPath({ ...base, exists: () => true }), file(expected.best), host);
      // Only the best one shipped: still it.
      assert.strictEqual(installerPath({ ...base, exists: (p) => p === file(expected.best) }), file(expected.best), host);
      if (expected.fallback) {
        // The best one absent: the fallback (x64 under emulation).
        assert.strictEqual(installerPath({ ...base, exists: (p) => p === file(expected.fallback) }), file(expected.fallback), host);
      } else {
        assert.strictEqual(installerCandidates(platform, arch, N).length, 1, host);
      }
      // None shipped: a supported host, but the package is broken.
      assert.throws(
        () => installerPath({ ...base, exists: () => false }),
        (e) => e instanceof InstallerMissingError && !(e instanceof UnsupportedPlatformError) && e.message.includes(host),
        host
      );
    }
  }
  assert.strictEqual(supported, 6);
});

test("windows installers end in .exe; apple silicon and windows arm64 fall back to x64", () => {
  assert.ok(installerCandidates("win32", "x64", N)[0].endsWith("postbin.exe"));
  assert.deepStrictEqual(installerCandidates("win32", "arm64", N), [file("aarch64-pc-windows-gnullvm"), file("x86_64-pc-windows-gnu")]);
  assert.deepStrictEqual(installerCandidates("darwin", "arm64", N), [file("aarch64-apple-darwin"), file("x86_64-apple-darwin")]);
  assert.deepStrictEqual(installerCandidates("linux", "x64", N), [file("x86_64-unknown-linux-musl")]);
});

test("an unsupported host gets one line naming the host and the tool's own variable", () => {
  let message;
  try {
    installerPath({ platform: "aix", arch: "ppc64", env: {}, envPrefix: "HELLO_TOOL" });
  } catch (e) {
    assert.ok(e instanceof UnsupportedPlatformError);
    message = e.message;
  }
  assert.ok(message, "it threw");
  assert.ok(!message.includes("\n"), message);
  assert.match(message, /^postbin: /);
  assert.match(message, /aix ppc64/);
  assert.match(message, /HELLO_TOOL_BINARY_PATH/);
  assert.match(message, /POSTBIN_INSTALLER_PATH/);
  assert.match(message, /cargo install --path installer/);
  assert.doesNotMatch(message, /<TOOL>|<PREFIX>|cargo install postbin/);
});

test("with no tool known, the message names POSTBIN_INSTALLER_PATH only", () => {
  assert.throws(
    () => installerPath({ platform: "freebsd", arch: "x64", env: {} }),
    (e) =>
      e instanceof UnsupportedPlatformError &&
      /freebsd x64/.test(e.message) &&
      /POSTBIN_INSTALLER_PATH/.test(e.message) &&
      !/_BINARY_PATH|<TOOL>|undefined/.test(e.message)
  );
});

test("POSTBIN_INSTALLER_PATH overrides the table", () => {
  assert.strictEqual(installerPath({ platform: "aix", arch: "ppc64", env: { POSTBIN_INSTALLER_PATH: "/x/postbin" } }), "/x/postbin");
  assert.strictEqual(installerPath({ platform: "linux", arch: "x64", env: { POSTBIN_INSTALLER_PATH: "/x/postbin" }, exists: () => true }), "/x/postbin");
});

test("env prefix: unscoped, upper-cased, non-alphanumerics as _, unless postbin.envPrefix says otherwise", () => {
  assert.strictEqual(envPrefixOf("@acme/hello-tool"), "HELLO_TOOL");
  assert.strictEqual(envPrefixOf("hello-tool"), "HELLO_TOOL");
  assert.strictEqual(envPrefixOf("hello.tool2"), "HELLO_TOOL2");
  assert.strictEqual(envPrefixOf("@acme/hello-tool", { postbin: { envPrefix: "HT" } }), "HT");
  assert.strictEqual(envPrefixOf(undefined), undefined);
  assert.strictEqual(envPrefixOf(""), undefined);
});
