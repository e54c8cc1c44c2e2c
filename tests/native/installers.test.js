"use strict";
// Structural checks of every installer in shim-js/installers.json, as built
// into shim-js/native by scripts/build-installers: the right CPU, no shared
// library outside the OS, a minimum macOS old enough, a valid code
// signature on Apple builds. The macOS builds cannot run here, so this is
// their test; the Linux and Windows builds also run under qemu and wine.

const test = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const { parse, parseMachO } = require("./binfmt");

const ROOT = path.resolve(__dirname, "..", "..");
const { installers } = require(path.join(ROOT, "shim-js", "installers.json"));

// What Windows itself ships in System32 (every Windows 10+); nothing from a
// toolchain (libgcc_s, libwinpthread, libunwind, vcruntime) may be imported.
const WINDOWS_SYSTEM_DLLS = new Set([
  "kernel32.dll",
  "ntdll.dll",
  "advapi32.dll",
  "bcrypt.dll",
  "bcryptprimitives.dll",
  "ws2_32.dll",
  "userenv.dll",
  "shell32.dll",
  "ole32.dll",
  "msvcrt.dll",
  "ucrtbase.dll",
  "user32.dll",
  "secur32.dll",
  "crypt32.dll",
  "synchronization.dll",
  "combase.dll",
]);
// Oldest macOS each Apple build must start on (x86_64 Macs still on
// Sierra; every Apple silicon Mac shipped with Big Sur or later).
const MACOS_MINIMUM = { x86_64: "10.12", aarch64: "11.0" };

const archOf = (target) => target.split("-")[0];
const fileOf = (target) =>
  path.join(ROOT, "shim-js", "native", target, target.includes("-windows-") ? "postbin.exe" : "postbin");
const versionKey = (v) => v.split(".").map(Number).reduce((a, n) => a * 1000 + n, 0);

for (const target of installers) {
  test(`${target}: structure`, () => {
    const file = fileOf(target);
    assert.ok(fs.existsSync(file), `${file} is missing: run scripts/build-installers`);
    const info = parse(fs.readFileSync(file));
    assert.strictEqual(info.arch, archOf(target), "CPU");
    if (target.includes("-linux-")) {
      assert.strictEqual(info.format, "elf");
      assert.strictEqual(info.interpreter, null, "a static binary has no ELF interpreter");
      assert.strictEqual(info.needed, 0, "a static binary needs no shared library");
    } else if (target.includes("-windows-")) {
      assert.strictEqual(info.format, "pe");
      assert.strictEqual(info.subsystem, 3, "console subsystem");
      const foreign = info.imports.filter((dll) => !WINDOWS_SYSTEM_DLLS.has(dll) && !dll.startsWith("api-ms-win-"));
      assert.deepStrictEqual(foreign, [], `imports DLLs Windows does not ship (all: ${info.imports.join(", ")})`);
    } else if (target.includes("-apple-")) {
      assert.strictEqual(info.format, "macho");
      const minimum = MACOS_MINIMUM[archOf(target)];
      assert.ok(info.minos, "declares a minimum macOS");
      assert.ok(versionKey(info.minos) <= versionKey(minimum), `needs macOS ${info.minos}, must start on ${minimum}`);
      const outside = info.dylibs.filter((d) => !d.startsWith("/usr/lib/") && !d.startsWith("/System/Library/"));
      assert.deepStrictEqual(outside, [], "links only the OS's own libraries");
      if (archOf(target) === "aarch64" || info.signature.why !== "no LC_CODE_SIGNATURE") {
        // Apple silicon kills unsigned arm64 code at exec; x86_64 code (native
        // or under Rosetta 2) may be unsigned, but a signature must be valid.
        assert.ok(info.signature.ok, `code signature: ${info.signature.why}`);
        assert.ok(info.signature.adhoc, "ad-hoc signed");
      }
    } else {
      assert.fail(`no structural check for ${target}`);
    }
  });
}

test("the signature check notices one changed byte", () => {
  const target = installers.find((t) => t.startsWith("aarch64-") && t.includes("-apple-"));
  const buf = Buffer.from(fs.readFileSync(fileOf(target)));
  assert.ok(parseMachO(buf).signature.ok);
  buf[0x4000 + 17] ^= 0xff; // inside the second page, which the signature covers
  const after = parseMachO(buf).signature;
  assert.strictEqual(after.ok, false);
  assert.match(after.why, /^page \d+ does not match its hash$/);
});
