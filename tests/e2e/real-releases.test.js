"use strict";
// The corpus of real release metadata (tests/fixtures/real-releases), the
// last two steps of each input's way to a user, with real npm: the package
// `postbin init --from` wrote is packed as its publisher would pack it
// (`npm pack`, whose prepack runs `postbin check`), and a consumer's
// `npm install` of that tarball runs the command, its postinstall
// downloading the stand-in archive from a local release server. An input
// whose package pins the real archive's hash (the metadata stated it) must
// instead fail the install with postbin's integrity error: the stand-in is
// not the real archive.
//
// The earlier steps (init --from, check, plan, an install through the
// installer alone) are the Rust corpus test, installer/tests/it/
// real_releases.rs, which this file runs with CORPUS_EXPORT_DIR set so that
// it leaves each input's package and release tree behind.
// Run: POSTBIN_TGZ=target/pack/postbin-0.1.0.tgz node --test tests/e2e/real-releases.test.js

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const path = require("path");
const { ROOT, run, explain, tempDir, cleanup, postbinTgz, startFixture, testEnv, newProject, npm,
  postbinLines } = require("./support");

const TEST_TIMEOUT_MS = 120_000;
// What every stand-in executable prints (installer/tests/it/support.rs SCRIPT).
const STAND_IN_OUTPUT = "hello from postbin";

let exported; // [{ name, dir, expect }]

/** This host's glibc as [major, minor] (node reports the one it runs on). */
const HOST_GLIBC = String(process.report.getReport().header.glibcVersionRuntime || "0.0").split(".").map(Number);

/**
 * Why a consumer here cannot install the package at all, or undefined: it
 * offers no static Linux x64 build, and its gnu build needs a newer glibc
 * than this host has. Then postbin must refuse with that reason (exit 4).
 */
function glibcTooNew(manifest) {
  const targets = manifest.postbin.targets || {};
  if (targets["x86_64-unknown-linux-musl"]) return undefined;
  const gnu = targets["x86_64-unknown-linux-gnu"];
  const needs = gnu && gnu.glibc ? String(gnu.glibc).split(".").map(Number) : undefined;
  if (!needs) return undefined;
  const newer = needs[0] > HOST_GLIBC[0] || (needs[0] === HOST_GLIBC[0] && needs[1] > HOST_GLIBC[1]);
  return newer ? `needs glibc ${gnu.glibc}` : undefined;
}
let tools; // a node_modules with the packed postbin, linked into each package for its prepack

before(
  () => {
    const out = tempDir("corpus-export");
    const r = run("cargo", ["test", "-q", "-p", "postbin", "--test", "it", "--", "real_releases::every_real_input"], {
      cwd: ROOT,
      env: { ...process.env, CORPUS_EXPORT_DIR: out },
      timeout: 900_000,
    });
    assert.ok(!r.error && r.status === 0, `the Rust corpus test\n${explain(r)}`);
    exported = fs
      .readdirSync(out)
      .sort()
      .map((name) => ({ name, dir: path.join(out, name), expect: fs.readFileSync(path.join(out, name, "expect"), "utf8") }));
    tools = newProject("corpus-publisher-tools");
    const install = npm(["install", "--ignore-scripts", postbinTgz()], { cwd: tools, env: testEnv({}) });
    assert.ok(!install.error && install.status === 0, `installing the packed postbin\n${explain(install)}`);
  },
  { timeout: 900_000 }
);
after(() => cleanup());

test("the corpus exported every input that init set up (at least 25)", () => {
  assert.ok(exported.length >= 25, `${exported.length} inputs: ${exported.map((e) => e.name)}`);
  assert.ok(exported.every((e) => ["runs", "refused"].includes(e.expect)), JSON.stringify(exported));
});

/**
 * The publisher's step: the package depends on the packed postbin (as it
 * would on postbin from the registry) and is packed with npm, prepack and
 * all. Returns the tarball and its package.json.
 */
function publish(input) {
  const pkg = path.join(input.dir, "package");
  const file = path.join(pkg, "package.json");
  const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
  assert.ok(manifest.dependencies && manifest.dependencies.postbin, `init added the dependency on postbin: ${JSON.stringify(manifest)}`);
  assert.match(String(manifest.scripts && manifest.scripts.prepack), /postbin check/, "init added the prepack check");
  manifest.dependencies.postbin = `file:${postbinTgz()}`;
  fs.writeFileSync(file, JSON.stringify(manifest, null, 2) + "\n");
  fs.symlinkSync(path.join(tools, "node_modules"), path.join(pkg, "node_modules"));
  const out = tempDir(`corpus-packed-${input.name}`);
  const r = npm(["pack", "--json", "--pack-destination", out], { cwd: pkg, env: testEnv({}) });
  assert.ok(!r.error && r.status === 0, `npm pack (prepack: postbin check)\n${explain(r)}`);
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf("[")));
  const packed = info.files.map((f) => f.path);
  assert.ok(!packed.some((p) => p.startsWith(".postbin/") || p.startsWith("node_modules/")), `nothing installed is shipped: ${packed}`);
  return { tgz: path.join(out, info.filename), manifest };
}

test("every input: npm pack, then a consumer's npm install runs its commands (or refuses the stand-in)", async (t) => {
  for (const [i, input] of exported.entries()) {
    await t.test(input.name, { timeout: TEST_TIMEOUT_MS }, async (st) => {
      const { tgz, manifest } = publish(input);
      const fixture = await startFixture(st, path.join(input.dir, "releases"));
      const consumer = newProject(`corpus-consumer-${i}`);
      const env = testEnv({ mirror: fixture.url, cacheDir: tempDir(`corpus-cache-${i}`) });
      const install = npm(["install", tgz], { cwd: consumer, env });
      if (input.expect === "refused") {
        assert.notEqual(install.status, 0, `the stand-in must be refused\n${explain(install)}`);
        const lines = postbinLines(install.stdout + install.stderr).join("\n");
        assert.match(lines, /SHA-256|sha256/, `postbin says the hash does not match\n${explain(install)}`);
        return;
      }
      const tooNew = glibcTooNew(manifest);
      if (tooNew) {
        assert.equal(install.status, 4, `no build this host can run: postbin's exit 4\n${explain(install)}`);
        assert.match(install.stderr, new RegExp(tooNew.replace(/\./g, "\\.")), explain(install));
        return;
      }
      assert.ok(!install.error && install.status === 0, `npm install\n${explain(install)}`);
      const commands = typeof manifest.bin === "string" ? [manifest.name.replace(/^@[^/]+\//, "")] : Object.keys(manifest.bin);
      for (const command of commands) {
        const r = run(path.join(consumer, "node_modules", ".bin", command), [], { cwd: consumer, env });
        assert.ok(!r.error && r.status === 0, `${command}\n${explain(r)}`);
        assert.match(r.stdout, new RegExp(STAND_IN_OUTPUT), `${command} ran the stand-in\n${explain(r)}`);
      }
    });
  }
});
