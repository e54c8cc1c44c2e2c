"use strict";
const test = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawnSync } = require("child_process");
const { resolveExecutable, nativePath } = require("../launcher");

const LAUNCHER = path.join(__dirname, "..", "launcher.js");

function tempPackage() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postbin-launcher-"));
  fs.mkdirSync(path.join(dir, "bin"));
  return dir;
}

function writeExecutable(file, body) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/** A stand-in installer that places `hello` and records its arguments. */
function fakeInstaller(dir, log) {
  const file = path.join(dir, "fake-postbin");
  writeExecutable(
    file,
    `echo "$@" >> '${log}'
pkg="$3"
mkdir -p "$pkg/.postbin/bin"
printf '#!/bin/sh\\necho lazily installed "$@"\\n' > "$pkg/.postbin/bin/hello.tmp"
chmod 755 "$pkg/.postbin/bin/hello.tmp"
mv "$pkg/.postbin/bin/hello.tmp" "$pkg/.postbin/bin/hello"`
  );
  return file;
}

/** A launcher file like the one `postbin init` writes, at <pkg>/bin/hello. */
function launcherFile(pkg) {
  const file = path.join(pkg, "bin", "hello");
  fs.writeFileSync(
    file,
    `#!/usr/bin/env node\n// postbin-launcher\nrequire(${JSON.stringify(LAUNCHER)}).run({ packageDir: require("path").join(__dirname, ".."), command: "hello", envPrefix: "HELLO" });\n`,
    { mode: 0o755 }
  );
  return file;
}

function runLauncher(pkg, args, env = {}) {
  return spawnSync(process.execPath, [launcherFile(pkg), ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
}

test("an installed executable is used as is", () => {
  const pkg = tempPackage();
  writeExecutable(nativePath(pkg, "hello"), "echo native");
  assert.strictEqual(resolveExecutable({ packageDir: pkg, command: "hello", envPrefix: "HELLO", env: {} }), nativePath(pkg, "hello"));
});

test("<PREFIX>_BINARY_PATH wins over everything", () => {
  const pkg = tempPackage();
  const got = resolveExecutable({ packageDir: pkg, command: "hello", envPrefix: "HELLO", env: { HELLO_BINARY_PATH: "/opt/hello" } });
  assert.strictEqual(got, "/opt/hello");
});

test("a missing executable is installed lazily, once", () => {
  const pkg = tempPackage();
  const log = path.join(pkg, "installer.log");
  const installer = fakeInstaller(pkg, log);
  const env = { POSTBIN_INSTALLER_PATH: installer };
  const first = runLauncher(pkg, ["a", "b c"], env);
  assert.strictEqual(first.status, 0, first.stderr);
  assert.strictEqual(first.stdout, "lazily installed a b c\n");
  assert.match(first.stderr, /not installed yet .*installing it now/);
  const second = runLauncher(pkg, ["x"], env);
  assert.strictEqual(second.stdout, "lazily installed x\n");
  assert.strictEqual(second.stderr, "");
  assert.strictEqual(fs.readFileSync(log, "utf8").trim().split("\n").length, 1, "installer ran once");
  assert.match(fs.readFileSync(log, "utf8"), /^install --package /);
});

test("a failing lazy install exits non-zero and leaves nothing to run", () => {
  const pkg = tempPackage();
  const installer = path.join(pkg, "failing-postbin");
  writeExecutable(installer, "echo 'postbin: error: boom' >&2; exit 5");
  const r = runLauncher(pkg, [], { POSTBIN_INSTALLER_PATH: installer });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /boom/);
  assert.match(r.stderr, /installing hello failed \(exit 5\)/);
  assert.ok(!fs.existsSync(nativePath(pkg, "hello")));
});

test("exit codes pass through", () => {
  const pkg = tempPackage();
  writeExecutable(nativePath(pkg, "hello"), "exit 7");
  assert.strictEqual(runLauncher(pkg, []).status, 7);
});

test("a signal that kills the tool kills the launcher the same way", () => {
  const pkg = tempPackage();
  writeExecutable(nativePath(pkg, "hello"), "kill -TERM $$");
  const r = runLauncher(pkg, []);
  assert.strictEqual(r.status, null);
  assert.strictEqual(r.signal, "SIGTERM");
});

test("SIGTERM sent to the launcher reaches the tool", () => {
  const pkg = tempPackage();
  const marker = path.join(pkg, "got-term");
  writeExecutable(nativePath(pkg, "hello"), `trap 'echo term > "${marker}"; exit 3' TERM; echo ready; while :; do sleep 0.05; done`);
  const child = require("child_process").spawn(process.execPath, [launcherFile(pkg)], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error("tool never became ready")); }, 10000);
    child.stdout.once("data", () => child.kill("SIGTERM"));
    child.on("exit", (code) => {
      clearTimeout(timer);
      try {
        assert.strictEqual(code, 3);
        assert.strictEqual(fs.readFileSync(marker, "utf8"), "term\n");
        resolve();
      } catch (e) {
        reject(e);
      }
    });
  });
});
