"use strict";
// A publisher's whole path with real npm: a release as cargo-dist, goreleaser
// or cargo-dist's npm installer left it, `postbin init --from` (or plain
// `init` on the cargo-dist npm package), `postbin check`, `npm pack`, then a
// consumer's `npm install` of that tarball in a fresh project runs the tool.
// server-fixture serves the release files and a GitHub-REST-API-like view of
// them on 127.0.0.1 (POSTBIN_GITHUB_API points there).

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { HELLO_OUTPUT, run, runOk, explain, tempDir, cleanup, sample, postbinTgz, startFixture, testEnv,
  newProject, npm } = require("./support");

const TEST_TIMEOUT_MS = 180_000;
const TAG = "v1.0.0";
const MUSL = "x86_64-unknown-linux-musl";
const GNU = "x86_64-unknown-linux-gnu";

let s;
let exe; // the sample's native executable
let postbin; // the installer, from the packed postbin (as `npx postbin` runs it)
before(() => {
  s = sample();
  const unpacked = tempDir("sample-exe");
  runOk("tar", ["xzf", path.join(s.releaseDir, `hello-${MUSL}.tar.gz`), "-C", unpacked]);
  exe = path.join(unpacked, `hello-${MUSL}`, "hello");
  const tools = newProject("postbin-tools");
  const r = npm(["install", postbinTgz()], { cwd: tools, env: testEnv({}) });
  assert.ok(!r.error && r.status === 0, explain(r));
  postbin = path.join(tools, "node_modules", ".bin", "postbin");
});
after(() => cleanup());

const sha256 = (file) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** A release tree (owner acme, repo hello, tag v1.0.0) and its asset dir. */
function releaseTree(label) {
  const root = tempDir(`${label}-releases`);
  const dir = path.join(root, "acme", "hello", "releases", "download", TAG);
  fs.mkdirSync(dir, { recursive: true });
  return { root, dir };
}

/** A tar archive of `entries` ({ name: sourceFile }), compressed by `flag`. */
function tarOf(dest, flag, entries) {
  const stage = tempDir("stage");
  for (const [name, file] of Object.entries(entries)) {
    fs.mkdirSync(path.dirname(path.join(stage, name)), { recursive: true });
    fs.copyFileSync(file, path.join(stage, name));
    fs.chmodSync(path.join(stage, name), 0o755);
  }
  runOk("tar", [flag, dest, "-C", stage, ...Object.keys(entries)]);
  return dest;
}

function publisherProject(label, packageJson) {
  const dir = tempDir(label);
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(packageJson, null, 2) + "\n");
  return dir;
}

/**
 * init (with `args`), check, pack, then a consumer installs the tarball and
 * runs the tool; returns init's printed table.
 */
async function publishAndConsume(t, fixture, pkg, args) {
  const env = testEnv({ extra: { POSTBIN_GITHUB_API: fixture.url } });
  const init = run(postbin, ["init", "--package", pkg, ...args], { cwd: pkg, env });
  assert.ok(!init.error && init.status === 0, `init failed\n${explain(init)}`);
  t.diagnostic(init.stdout);
  const check = run(postbin, ["check", "--package", pkg], { cwd: pkg, env });
  assert.ok(!check.error && check.status === 0, `check failed\n${explain(check)}`);

  // Published, the tool depends on postbin from the registry; here on the
  // packed tarball. (pack --ignore-scripts: prepack's `postbin check` just ran.)
  const pj = JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8"));
  assert.equal(pj.scripts.prepack, "postbin check");
  pj.dependencies.postbin = `file:${postbinTgz()}`;
  fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify(pj, null, 2) + "\n");
  const packDir = tempDir("packed");
  const packed = npm(["pack", "--silent", "--ignore-scripts", pkg], { cwd: packDir, env });
  assert.ok(!packed.error && packed.status === 0, explain(packed));
  const tgz = path.join(packDir, packed.stdout.trim().split("\n").pop());

  const consumer = newProject(`${path.basename(pkg)}-consumer`);
  const install = npm(["install", tgz], { cwd: consumer, env: testEnv({}) });
  assert.ok(!install.error && install.status === 0, explain(install));
  const hello = run(path.join(consumer, "node_modules", ".bin", "hello"), ["x"], { cwd: consumer, env: testEnv({}) });
  assert.ok(!hello.error && hello.status === 0, explain(hello));
  assert.match(hello.stdout, new RegExp(`^${HELLO_OUTPUT}$`, "m"), explain(hello));
  return { init, packageJson: pj };
}

test("a cargo-dist release (tar.xz, .sha256 files, dist-manifest.json): init --from, pack, a consumer runs it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { root, dir } = releaseTree("cargo-dist");
  const manifest = { dist_version: "0.30.0", announcement_tag: TAG, releases: [{ app_name: "hello", app_version: "1.0.0" }], artifacts: {} };
  for (const target of [MUSL, GNU]) {
    const name = `hello-${target}.tar.xz`;
    const archive = tarOf(path.join(dir, name), "-cJf", { [`hello-${target}/hello`]: exe });
    const hash = sha256(archive);
    fs.writeFileSync(path.join(dir, `${name}.sha256`), `${hash} *${name}\n`);
    manifest.artifacts[name] = {
      name,
      kind: "executable-zip",
      target_triples: [target],
      checksum: `${name}.sha256`,
      assets: [{ name: "hello", path: "hello", kind: "executable" }],
      checksums: { sha256: hash },
    };
  }
  fs.writeFileSync(path.join(dir, "dist-manifest.json"), JSON.stringify(manifest));
  fs.writeFileSync(path.join(dir, "hello-installer.sh"), "#!/bin/sh\n");
  fs.writeFileSync(path.join(dir, "source.tar.gz"), "src");
  const fixture = await startFixture(t, root);
  const pkg = publisherProject("cargo-dist-tool", { name: "hello-cargo-dist", version: "1.0.0", bin: { hello: "bin/hello" } });

  const { init, packageJson } = await publishAndConsume(t, fixture, pkg, ["--from", `acme/hello@${TAG}`]);
  assert.match(init.stdout, /skipped hello-installer\.sh: installer script/);
  assert.match(init.stdout, /skipped source\.tar\.gz: source tarball/);
  for (const target of [MUSL, GNU]) {
    assert.equal(packageJson.postbin.targets[target].sha256, sha256(path.join(dir, `hello-${target}.tar.xz`)), target);
  }
  assert.equal(packageJson.postbin.format, "tar.xz");
});

test("a goreleaser release (checksums.txt, {os}_{arch} names): init --from its page URL, pack, a consumer runs it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { root, dir } = releaseTree("goreleaser");
  const names = ["hello_1.0.0_linux_amd64.tar.gz", "hello_1.0.0_linux_arm64.tar.gz"];
  for (const name of names) tarOf(path.join(dir, name), "-czf", { hello: exe });
  fs.writeFileSync(path.join(dir, "hello_1.0.0_amd64.deb"), "not an archive postbin installs");
  fs.writeFileSync(path.join(dir, "checksums.txt"), names.map((n) => `${sha256(path.join(dir, n))}  ${n}\n`).join(""));
  const fixture = await startFixture(t, root);
  const pkg = publisherProject("goreleaser-tool", { name: "hello-goreleaser", version: "1.0.0", bin: { hello: "bin/hello" } });

  const page = `https://github.com/acme/hello/releases/tag/${TAG}`;
  const { init, packageJson } = await publishAndConsume(t, fixture, pkg, ["--from", page]);
  assert.match(init.stdout, /skipped hello_1\.0\.0_amd64\.deb/);
  assert.match(packageJson.postbin.url, /hello_\{version\}_\{os\}_\{arch\}\.\{format\}$/);
  assert.deepEqual(Object.keys(packageJson.postbin.targets).sort(), ["aarch64-unknown-linux-musl", MUSL]);
});

test("a cargo-dist npm package is migrated in place by plain init, packed, and a consumer runs it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { root, dir } = releaseTree("cargo-dist-npm");
  for (const target of [MUSL, GNU]) tarOf(path.join(dir, `hello-${target}.tar.gz`), "-czf", { [`hello-${target}/hello`]: exe });
  const fixture = await startFixture(t, root);
  const platform = (target) => ({ artifactName: `hello-${target}.tar.gz`, bins: { hello: "hello" }, zipExt: ".tar.gz" });
  const pkg = publisherProject("cargo-dist-npm-tool", {
    name: "hello-cargo-dist-npm",
    version: "1.0.0",
    artifactDownloadUrls: [`${fixture.url}/acme/hello/releases/download/${TAG}`],
    bin: { hello: "run-hello.js" },
    dependencies: { axios: "^1.13.5", "axios-proxy-builder": "^0.1.2", "console.table": "^0.10.0", "detect-libc": "^2.1.2", rimraf: "^6.1.3" },
    glibcMinimum: { major: 2, series: 31 },
    scripts: { postinstall: "node ./install.js" },
    supportedPlatforms: { [GNU]: platform(GNU), [`${MUSL}-static`]: platform(MUSL) },
  });
  fs.writeFileSync(path.join(pkg, "install.js"), '#!/usr/bin/env node\n\nconst { install } = require("./binary");\ninstall(false);\n');
  fs.writeFileSync(path.join(pkg, "run-hello.js"), 'const { run } = require("./binary");\nrun("hello");\n');
  fs.writeFileSync(path.join(pkg, "binary.js"), 'const { artifactDownloadUrls } = require("./package.json");\n');

  const { init, packageJson } = await publishAndConsume(t, fixture, pkg, []);
  for (const file of ["install.js", "run-hello.js", "binary.js"]) {
    assert.ok(!fs.existsSync(path.join(pkg, file)), `${file} removed`);
    assert.match(init.stdout, new RegExp(`removed ${file.replace(".", "\\.")}`));
  }
  assert.equal(packageJson.artifactDownloadUrls, undefined);
  assert.deepEqual(Object.keys(packageJson.dependencies), ["postbin"]);
  assert.equal(packageJson.postbin.targets[GNU].glibc, "2.31");
});
