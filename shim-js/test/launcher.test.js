"use strict";
const test = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawnSync } = require("child_process");
const { resolveExecutable, nativePath, hostRuns, foreignTarget, retryBusy, isBusy, spawnRetrying,
  spawnSyncRetrying, oneLine, RETRY_DELAYS_MS } = require("../launcher");

const LAUNCHER = path.join(__dirname, "..", "launcher.js");

/** A package as a consumer's install lays it out: inside node_modules. */
function tempPackage() {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "postbin-launcher-"));
  const dir = path.join(project, "node_modules", "hello-tool");
  fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
  return dir;
}

/** The tool's own repository: a package that is not inside node_modules. */
function tempCheckout() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postbin-checkout-"));
  fs.mkdirSync(path.join(dir, "bin"));
  return dir;
}

function writeExecutable(file, body) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/**
 * A stand-in installer `<dir>/<name>` that records its arguments in `log`
 * and places a `hello` that echoes `says` (written aside, then renamed);
 * then runs the shell line `then`, if any.
 */
function stubInstaller(dir, name, log, says, then = "") {
  const file = path.join(dir, name);
  writeExecutable(
    file,
    `echo "$@" >> '${log}'
pkg="$3"
mkdir -p "$pkg/.postbin/bin"
printf '#!/bin/sh\\necho ${says}\\n' > "$pkg/.postbin/bin/hello.tmp"
chmod 755 "$pkg/.postbin/bin/hello.tmp"
mv "$pkg/.postbin/bin/hello.tmp" "$pkg/.postbin/bin/hello"${then ? `\n${then}` : ""}`
  );
  return file;
}

/** A stand-in installer that places `hello` and records its arguments. */
function fakeInstaller(dir, log) {
  return stubInstaller(dir, "fake-postbin", log, 'lazily installed "$@"');
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

/** The environment without any postbin or HELLO_ setting from outside. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(POSTBIN_|HELLO_|npm_)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

function runLauncher(pkg, args, env = {}) {
  return spawnSync(process.execPath, [launcherFile(pkg), ...args], {
    encoding: "utf8",
    env: cleanEnv(env),
  });
}

/** Runs `source` as a node script (a tool's launcher gone wrong); returns spawnSync's result. */
function runScript(dir, source, env = {}) {
  const file = path.join(dir, "script.js");
  fs.writeFileSync(file, source);
  return spawnSync(process.execPath, [file], { encoding: "utf8", env: cleanEnv(env) });
}

/** Asserts stderr is exactly one `postbin: ` line and holds no stack frame. */
function assertOneLine(stderr) {
  const lines = stderr.split("\n").filter(Boolean);
  assert.strictEqual(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0], /^postbin: /);
  assert.doesNotMatch(stderr, /^\s+at /m, "a stack frame leaked");
  assert.doesNotMatch(stderr, /node:internal|\.js:\d+/, "a source location leaked");
  return lines[0];
}

function busyError(code = "ETXTBSY") {
  return Object.assign(new Error(`spawn ${code}`), { code, syscall: "spawn" });
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

test("a relative <PREFIX>_BINARY_PATH is refused, as the installer refuses it", () => {
  const pkg = tempPackage();
  for (const value of ["./hello", "hello", "bin/hello"]) {
    assert.throws(
      () => resolveExecutable({ packageDir: pkg, command: "hello", envPrefix: "HELLO", env: { HELLO_BINARY_PATH: value } }),
      (e) => e.name === "LauncherError" && e.exitCode === 3 && /HELLO_BINARY_PATH/.test(e.message) && /absolute path/.test(e.message),
      value
    );
  }
});

test("a blank <PREFIX>_BINARY_PATH counts as unset, as for the installer", () => {
  const pkg = tempPackage();
  writeExecutable(nativePath(pkg, "hello"), "echo native");
  for (const value of ["", "  "]) {
    assert.strictEqual(resolveExecutable({ packageDir: pkg, command: "hello", envPrefix: "HELLO", env: { HELLO_BINARY_PATH: value } }), nativePath(pkg, "hello"));
    const r = runLauncher(pkg, [], { HELLO_BINARY_PATH: value });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(r.stdout, "native\n");
  }
});

test("run: a relative <PREFIX>_BINARY_PATH runs nothing, one line saying to make it absolute, exit 3", () => {
  const pkg = tempPackage();
  // A `hello` in the current directory and on PATH that leaves a marker if run.
  const cwd = tempCheckout();
  const marker = path.join(cwd, "ran");
  writeExecutable(path.join(cwd, "hello"), `touch '${marker}'`);
  for (const value of ["./hello", "hello"]) {
    const r = spawnSync(process.execPath, [launcherFile(pkg)], {
      cwd,
      encoding: "utf8",
      env: cleanEnv({ HELLO_BINARY_PATH: value, PATH: `${cwd}${path.delimiter}${process.env.PATH}` }),
    });
    assert.strictEqual(r.status, 3, `${value}: ${r.stderr}`);
    assert.match(assertOneLine(r.stderr), /^postbin: HELLO_BINARY_PATH is .*relative.*; set it to the absolute path of a hello executable, or unset it$/);
    assert.ok(!fs.existsSync(marker), `${value}: the command ran`);
  }
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

test("a failing lazy install exits with the installer's code, one line after its message", () => {
  const pkg = tempPackage();
  const installer = path.join(pkg, "failing-postbin");
  writeExecutable(installer, "echo 'postbin: error: boom' >&2; exit 5");
  const r = runLauncher(pkg, [], { POSTBIN_INSTALLER_PATH: installer });
  assert.strictEqual(r.status, 5);
  const lines = r.stderr.trim().split("\n");
  assert.strictEqual(lines.length, 3, r.stderr); // the notice, the installer's line, ours
  assert.match(lines[0], /not installed yet/);
  assert.strictEqual(lines[1], "postbin: error: boom");
  assert.match(lines[2], /^postbin: installing hello failed \(exit 5, see the message above\); .*HELLO_BINARY_PATH/);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  assert.ok(!fs.existsSync(nativePath(pkg, "hello")));
});

test("a missing installer is one line naming the tool's variable", () => {
  const pkg = tempPackage();
  const r = runLauncher(pkg, [], { POSTBIN_INSTALLER_PATH: path.join(pkg, "no-such-postbin") });
  assert.strictEqual(r.status, 1);
  const lines = r.stderr.trim().split("\n");
  assert.strictEqual(lines.length, 2, r.stderr);
  assert.match(lines[1], /^postbin: cannot run the postbin installer .*no-such-postbin: it does not exist.*\(ENOENT\); .*POSTBIN_INSTALLER_PATH.*HELLO_BINARY_PATH/);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
});

test("an unsupported host is one line naming the host and HELLO_BINARY_PATH", () => {
  const pkg = tempPackage();
  const r = runScript(
    pkg,
    `Object.defineProperty(process, "platform", { value: "aix" });
Object.defineProperty(process, "arch", { value: "ppc64" });
require(${JSON.stringify(LAUNCHER)}).run({ packageDir: ${JSON.stringify(pkg)}, command: "hello", envPrefix: "HELLO" });`
  );
  assert.strictEqual(r.status, 1);
  const line = assertOneLine(r.stderr);
  assert.match(line, /aix ppc64/);
  assert.match(line, /HELLO_BINARY_PATH/);
  assert.match(line, /POSTBIN_INSTALLER_PATH/);
  assert.doesNotMatch(line, /<TOOL>|cargo install postbin/);
});

test("a <PREFIX>_BINARY_PATH that does not exist is one line, exit 1", () => {
  const pkg = tempPackage();
  const r = runLauncher(pkg, [], { HELLO_BINARY_PATH: path.join(pkg, "nope") });
  assert.strictEqual(r.status, 1);
  const line = assertOneLine(r.stderr);
  assert.match(line, /cannot run hello .*nope: .*ENOENT.*point HELLO_BINARY_PATH at a working hello executable, or unset it/);
});

test("an unexpected exception while resolving is one line without a stack trace", () => {
  const pkg = tempPackage();
  const r = runScript(
    pkg,
    `require("fs").existsSync = () => { throw new TypeError("disk on fire\\nsecond line"); };
require(${JSON.stringify(LAUNCHER)}).run({ packageDir: ${JSON.stringify(pkg)}, command: "hello", envPrefix: "HELLO" });`
  );
  assert.strictEqual(r.status, 1);
  const line = assertOneLine(r.stderr);
  assert.match(line, /unexpected error: disk on fire second line; this is a postbin bug.*HELLO_BINARY_PATH/);
});

test("an exception thrown later in the process is one line too", () => {
  const pkg = tempPackage();
  writeExecutable(nativePath(pkg, "hello"), "sleep 0.5");
  const r = runScript(
    pkg,
    `require(${JSON.stringify(LAUNCHER)}).run({ packageDir: ${JSON.stringify(pkg)}, command: "hello", envPrefix: "HELLO" });
setTimeout(() => { throw new Error("late"); }, 10);
Promise.reject(new Error("rejected")).catch(() => {});`
  );
  assert.strictEqual(r.status, 1);
  assert.match(assertOneLine(r.stderr), /unexpected error: late/);
});

test("busy errors: ETXTBSY everywhere, EBUSY and EPERM on Windows only", () => {
  assert.ok(isBusy(busyError("ETXTBSY"), "linux"));
  assert.ok(isBusy(busyError("ETXTBSY"), "win32"));
  assert.ok(isBusy(busyError("EBUSY"), "win32"));
  assert.ok(isBusy(busyError("EPERM"), "win32"));
  assert.ok(!isBusy(busyError("EBUSY"), "linux"));
  assert.ok(!isBusy(busyError("EPERM"), "linux"));
  assert.ok(!isBusy(busyError("ENOENT"), "win32"));
  assert.ok(!isBusy(undefined));
});

test("retryBusy retries ETXTBSY with short sleeps, then succeeds", () => {
  const slept = [];
  let calls = 0;
  const got = retryBusy(
    () => {
      calls++;
      if (calls <= 3) throw busyError();
      return "child";
    },
    { platform: "linux", sleep: (ms) => slept.push(ms) }
  );
  assert.strictEqual(got, "child");
  assert.strictEqual(calls, 4);
  assert.deepStrictEqual(slept, RETRY_DELAYS_MS.slice(0, 3));
});

test("retryBusy gives up after about 2 s of sleeps and throws the busy error", () => {
  const slept = [];
  let calls = 0;
  assert.throws(
    () => retryBusy(() => { calls++; throw busyError(); }, { platform: "linux", sleep: (ms) => slept.push(ms) }),
    (e) => e.code === "ETXTBSY"
  );
  const total = slept.reduce((a, b) => a + b, 0);
  assert.ok(total >= 1500 && total <= 2500, `slept ${total} ms`);
  assert.strictEqual(calls, slept.length + 1);
});

test("retryBusy does not retry other errors, nor EPERM off Windows", () => {
  for (const [code, platform] of [["ENOENT", "linux"], ["EACCES", "linux"], ["EPERM", "linux"]]) {
    let calls = 0;
    assert.throws(() => retryBusy(() => { calls++; throw busyError(code); }, { platform, sleep: () => assert.fail("slept") }), (e) => e.code === code);
    assert.strictEqual(calls, 1, code);
  }
  let calls = 0;
  retryBusy(() => { if (++calls < 3) throw busyError("EBUSY"); }, { platform: "win32", sleep: () => {} });
  assert.strictEqual(calls, 3);
});

test("spawnRetrying retries the synchronous spawn ETXTBSY that Node throws", () => {
  let calls = 0;
  const child = spawnRetrying("/x/hello", ["a"], { stdio: "inherit" }, {
    platform: "linux",
    sleep: () => {},
    spawn: (file, args, options) => {
      calls++;
      if (calls < 3) throw busyError();
      return { file, args, options };
    },
  });
  assert.strictEqual(calls, 3);
  assert.deepStrictEqual(child, { file: "/x/hello", args: ["a"], options: { stdio: "inherit" } });
});

test("spawnSyncRetrying retries an ETXTBSY result and returns other errors as results", () => {
  let calls = 0;
  const r = spawnSyncRetrying("/x/postbin", [], {}, {
    platform: "linux",
    sleep: () => {},
    spawnSync: () => (++calls < 4 ? { error: busyError(), status: null } : { status: 0 }),
  });
  assert.strictEqual(calls, 4);
  assert.strictEqual(r.status, 0);
  const enoent = spawnSyncRetrying("/x/postbin", [], {}, { sleep: () => assert.fail("slept"), spawnSync: () => ({ error: busyError("ENOENT"), status: null }) });
  assert.strictEqual(enoent.error.code, "ENOENT");
  const busy = spawnSyncRetrying("/x/postbin", [], {}, { platform: "linux", sleep: () => {}, spawnSync: () => ({ error: busyError(), status: null }) });
  assert.strictEqual(busy.error.code, "ETXTBSY");
});

test("a tool still open for writing (real ETXTBSY) is run once it is closed", { skip: process.platform !== "linux" }, async () => {
  const pkg = tempPackage();
  const tool = nativePath(pkg, "hello");
  fs.mkdirSync(path.dirname(tool), { recursive: true });
  const fd = fs.openSync(tool, "w", 0o755);
  fs.writeSync(fd, "#!/bin/sh\necho ran \"$@\"\n");
  // Exec of a file open for writing fails with ETXTBSY: check this kernel does that.
  const probe = spawnSync(tool, []);
  assert.strictEqual(probe.error && probe.error.code, "ETXTBSY");
  const child = require("child_process").spawn(process.execPath, [launcherFile(pkg), "x"], {
    env: cleanEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  await new Promise((resolve) => setTimeout(resolve, 400));
  fs.closeSync(fd);
  const code = await new Promise((resolve) => child.on("exit", resolve));
  assert.strictEqual(stderr, "");
  assert.strictEqual(code, 0);
  assert.strictEqual(stdout, "ran x\n");
});

test("a tool that stays busy is one line telling to run it again", { skip: process.platform !== "linux" }, () => {
  const pkg = tempPackage();
  const tool = nativePath(pkg, "hello");
  fs.mkdirSync(path.dirname(tool), { recursive: true });
  const fd = fs.openSync(tool, "w", 0o755);
  try {
    // How long it retries is checked with an injected sleep (retryBusy
    // above); timings belong in scripts/bench, not here.
    const r = runLauncher(pkg, []);
    assert.strictEqual(r.status, 1);
    assert.match(assertOneLine(r.stderr), /cannot run hello .*busy.*\(ETXTBSY\); run hello again/);
  } finally {
    fs.closeSync(fd);
  }
});

test("oneLine joins lines and adds the prefix once", () => {
  assert.strictEqual(oneLine("a\n  b\r\nc"), "postbin: a b c");
  assert.strictEqual(oneLine("postbin: x"), "postbin: x");
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

/** A tool that kills itself with `signal` (`kill -PIPE $$`), run through the launcher. */
function runToolKilledBy(signal, env = {}) {
  const pkg = tempPackage();
  writeExecutable(nativePath(pkg, "hello"), `kill -${signal.replace(/^SIG/, "")} $$`);
  return runLauncher(pkg, [], env);
}

// A shell reports a command killed by signal N as exit 128 + N.
const shellStatus = (signal) => 128 + os.constants.signals[signal];

test("a tool killed by SIGPIPE makes the launcher exit 141, not 0", { skip: process.platform === "win32" }, () => {
  const r = runToolKilledBy("SIGPIPE");
  assert.strictEqual(r.signal, null, "Node ignores SIGPIPE: re-raising it would end in exit 0");
  assert.strictEqual(r.status, shellStatus("SIGPIPE"));
  assert.strictEqual(shellStatus("SIGPIPE"), 141);
  assert.strictEqual(r.stderr, "");
});

test("a tool killed by SIGUSR1 makes the launcher exit 128 + SIGUSR1, no debugger started", { skip: process.platform === "win32" }, () => {
  const r = runToolKilledBy("SIGUSR1");
  assert.strictEqual(r.signal, null);
  assert.strictEqual(r.status, shellStatus("SIGUSR1")); // 138 on Linux
  assert.doesNotMatch(r.stderr, /Debugger listening|inspector/i);
  assert.strictEqual(r.stderr, "");
});

test("signals that kill Node as they kill the tool are re-raised: SIGHUP, SIGINT, SIGKILL", { skip: process.platform === "win32" }, () => {
  for (const signal of ["SIGHUP", "SIGINT", "SIGKILL"]) {
    const r = runToolKilledBy(signal);
    assert.strictEqual(r.signal, signal, `${signal}: exit ${r.status} ${r.stderr}`);
    assert.strictEqual(r.status, null);
  }
});

test("a re-raised signal that does not kill the launcher (someone else handles it) still exits 128 + N", { skip: process.platform === "win32" }, () => {
  const pkg = tempPackage();
  writeExecutable(nativePath(pkg, "hello"), "kill -TERM $$");
  const r = runScript(
    pkg,
    `process.on("SIGTERM", () => {});
require(${JSON.stringify(LAUNCHER)}).run({ packageDir: ${JSON.stringify(pkg)}, command: "hello", envPrefix: "HELLO" });`
  );
  assert.strictEqual(r.signal, null);
  assert.strictEqual(r.status, shellStatus("SIGTERM"));
});

test("SIGTERM sent to the launcher reaches the tool", (t) => {
  const pkg = tempPackage();
  const marker = path.join(pkg, "got-term");
  const pidFile = path.join(pkg, "tool.pid");
  writeExecutable(
    nativePath(pkg, "hello"),
    `echo $$ > "${pidFile}"; trap 'echo term > "${marker}"; exit 3' TERM; echo ready; while :; do sleep 0.05; done`
  );
  // Should the tool outlive a failed test, it would hold the test's pipe open forever.
  t.after(() => {
    try {
      process.kill(Number(fs.readFileSync(pidFile, "utf8")), "SIGKILL");
    } catch {
      // already gone
    }
  });
  const child = require("child_process").spawn(process.execPath, [launcherFile(pkg)], { stdio: ["ignore", "pipe", "inherit"], env: cleanEnv() });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error("tool never became ready")); }, 10000);
    // Sent as soon as the tool runs: the launcher may not be past spawn() yet.
    child.stdout.once("data", () => child.kill("SIGTERM"));
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      child.stdout.destroy();
      try {
        assert.strictEqual(code, 3, `launcher exit ${code} ${signal}`);
        assert.strictEqual(fs.readFileSync(marker, "utf8"), "term\n");
        resolve();
      } catch (e) {
        reject(e);
      }
    });
  });
});

test("eight concurrent first runs all succeed while installs still hold the file open", { skip: process.platform !== "linux" }, async () => {
  const pkg = tempPackage();
  const installer = path.join(pkg, "slow-postbin");
  // Like a real install racing others: write, rename into place, and only
  // then close, so the placed file is open for writing for a moment.
  writeExecutable(
    installer,
    `pkg="$3"
mkdir -p "$pkg/.postbin/bin"
tmp="$pkg/.postbin/bin/hello.$$"
exec 3>"$tmp"
printf '#!/bin/sh\\necho ok\\n' >&3
chmod 755 "$tmp"
mv "$tmp" "$pkg/.postbin/bin/hello"
sleep 0.3
exec 3>&-`
  );
  const file = launcherFile(pkg);
  const runs = Array.from({ length: 8 }, () =>
    new Promise((resolve) => {
      const child = require("child_process").spawn(process.execPath, [file], {
        env: cleanEnv({ POSTBIN_INSTALLER_PATH: installer }),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    })
  );
  for (const r of await Promise.all(runs)) {
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(r.stdout, "ok\n");
    assert.doesNotMatch(r.stderr, /ETXTBSY|^\s+at /m);
  }
});

/** Writes `<pkg>/.postbin/receipt.json` naming `target`. */
function writeReceipt(pkg, target) {
  fs.mkdirSync(path.join(pkg, ".postbin"), { recursive: true });
  fs.writeFileSync(
    path.join(pkg, ".postbin", "receipt.json"),
    JSON.stringify({ target, archive: "ab".repeat(32), bins: [{ name: "hello", path: ".postbin/bin/hello", size: 1, sha256: "cd".repeat(32) }] })
  );
}

/** A stand-in installer that places `hello` (printing "for this host") and a receipt for `target`. */
function hostInstaller(dir, log, target) {
  const receipt = `printf '{"target":"${target}","archive":"","bins":[]}' > "$pkg/.postbin/receipt.json"`;
  return stubInstaller(dir, "host-postbin", log, "for this host", receipt);
}

test("hostRuns: what each host can run, by target triple", () => {
  const cases = [
    ["linux", "x64", "x86_64-unknown-linux-musl", true],
    ["linux", "x64", "x86_64-unknown-linux-gnu", true],
    ["linux", "x64", "aarch64-unknown-linux-musl", false],
    ["linux", "x64", "aarch64-apple-darwin", false],
    ["linux", "x64", "x86_64-pc-windows-msvc", false],
    ["linux", "arm64", "aarch64-unknown-linux-gnu", true],
    ["linux", "arm64", "x86_64-unknown-linux-musl", false],
    ["darwin", "arm64", "aarch64-apple-darwin", true],
    ["darwin", "arm64", "universal2-apple-darwin", true],
    ["darwin", "arm64", "x86_64-apple-darwin", true],
    ["darwin", "arm64", "aarch64-unknown-linux-musl", false],
    ["darwin", "x64", "aarch64-apple-darwin", false],
    ["darwin", "x64", "x86_64-apple-darwin", true],
    ["win32", "arm64", "aarch64-pc-windows-msvc", true],
    ["win32", "arm64", "x86_64-pc-windows-gnu", true],
    ["win32", "x64", "aarch64-pc-windows-msvc", false],
    ["win32", "x64", "x86_64-unknown-linux-musl", false],
    ["sunos", "x64", "x86_64-pc-solaris", true], // a host not in the table is not second-guessed
  ];
  for (const [platform, arch, target, expected] of cases) {
    assert.strictEqual(hostRuns(target, platform, arch), expected, `${platform} ${arch} ${target}`);
  }
});

test("foreignTarget: only a readable receipt for a target this host cannot run, unless POSTBIN_TARGET asks for it", () => {
  const pkg = tempPackage();
  const host = { platform: "linux", arch: "x64", env: {} };
  assert.strictEqual(foreignTarget(pkg, host), undefined, "no receipt");
  writeReceipt(pkg, "x86_64-unknown-linux-musl");
  assert.strictEqual(foreignTarget(pkg, host), undefined);
  writeReceipt(pkg, "aarch64-apple-darwin");
  assert.strictEqual(foreignTarget(pkg, host), "aarch64-apple-darwin");
  assert.strictEqual(foreignTarget(pkg, { ...host, env: { POSTBIN_TARGET: "aarch64-apple-darwin" } }), undefined);
  fs.writeFileSync(path.join(pkg, ".postbin", "receipt.json"), "{not json");
  assert.strictEqual(foreignTarget(pkg, host), undefined);
});

test("a package moved from another platform is installed again for this host, the foreign file never run", () => {
  const pkg = tempPackage();
  const log = path.join(pkg, "installer.log");
  // The Mac's executable: were it run, it would print "foreign".
  writeExecutable(nativePath(pkg, "hello"), "echo foreign");
  writeReceipt(pkg, "aarch64-apple-darwin");
  const installer = hostInstaller(pkg, log, "x86_64-unknown-linux-musl");
  const got = resolveExecutable({ packageDir: pkg, command: "hello", envPrefix: "HELLO", env: {}, installer, platform: "linux", arch: "x64" });
  assert.strictEqual(got, nativePath(pkg, "hello"));
  assert.match(fs.readFileSync(log, "utf8"), /^install --package /, "the installer ran");
  assert.match(fs.readFileSync(got, "utf8"), /for this host/);
  // Now current: the installer does not run again.
  resolveExecutable({ packageDir: pkg, command: "hello", envPrefix: "HELLO", env: {}, installer, platform: "linux", arch: "x64" });
  assert.strictEqual(fs.readFileSync(log, "utf8").trim().split("\n").length, 1);
});

test("an installer that still leaves a foreign target is one line, not an exec of it", () => {
  const pkg = tempPackage();
  writeExecutable(nativePath(pkg, "hello"), "echo foreign");
  writeReceipt(pkg, "aarch64-apple-darwin");
  const installer = hostInstaller(pkg, path.join(pkg, "log"), "aarch64-apple-darwin");
  assert.throws(
    () => resolveExecutable({ packageDir: pkg, command: "hello", envPrefix: "HELLO", env: {}, installer, platform: "linux", arch: "x64" }),
    (e) => e.name === "LauncherError" && /cannot run/.test(e.message) && /HELLO_BINARY_PATH/.test(e.message)
  );
});

test("run: a moved package's launcher runs the tool reinstalled for this host", { skip: !hostRuns("x86_64-unknown-linux-musl") || process.platform !== "linux" }, () => {
  const pkg = tempPackage();
  const log = path.join(pkg, "installer.log");
  writeExecutable(nativePath(pkg, "hello"), "echo foreign");
  writeReceipt(pkg, "aarch64-apple-darwin");
  const installer = hostInstaller(pkg, log, "x86_64-unknown-linux-musl");
  const r = runLauncher(pkg, [], { POSTBIN_INSTALLER_PATH: installer });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout, "for this host\n");
  assert.match(assertOneLine(r.stderr), /installed for aarch64-apple-darwin, which this host \(linux x64\) cannot run/);
});

test("insideNodeModules: installed packages, by path component, symlinks resolved", () => {
  const { insideNodeModules } = require("../launcher");
  assert.ok(insideNodeModules("/p/node_modules/hello-tool"));
  assert.ok(insideNodeModules("/p/node_modules/.pnpm/hello-tool@1.0.0/node_modules/hello-tool"));
  assert.ok(insideNodeModules("/home/u/.npm/_npx/1a2b/node_modules/hello-tool"));
  assert.ok(insideNodeModules("/p/.yarn/unplugged/hello-tool-npm-1.0.0-abc/node_modules/hello-tool"));
  assert.ok(!insideNodeModules("/home/u/src/hello-tool"));
  assert.ok(!insideNodeModules("/home/u/src/node_modules_old/hello-tool"));
  const checkout = tempCheckout();
  const project = tempCheckout();
  fs.mkdirSync(path.join(project, "node_modules"));
  const link = path.join(project, "node_modules", "hello-tool");
  fs.symlinkSync(checkout, link, "dir");
  assert.ok(!insideNodeModules(link), "an npm-linked checkout is where it really is");
});

test("the tool's own checkout: the launcher runs the tool from the cache and writes nothing in the package", () => {
  const pkg = tempCheckout();
  const cached = path.join(tempCheckout(), "cache", "hello");
  writeExecutable(cached, 'echo "from the cache $*"');
  // Even an executable left in .postbin by an older postbin is not used.
  writeExecutable(nativePath(pkg, "hello"), "echo stale");
  const log = path.join(path.dirname(cached), "installer.log");
  const installer = path.join(path.dirname(cached), "fake-postbin");
  writeExecutable(installer, `echo "$@" >> '${log}'\necho '${cached}'`);
  const r = runLauncher(pkg, ["x"], { POSTBIN_INSTALLER_PATH: installer });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout, "from the cache x\n");
  assert.strictEqual(
    assertOneLine(r.stderr),
    `postbin: ${pkg} is not inside node_modules (the tool's own repository?); running hello from the postbin cache`
  );
  assert.strictEqual(fs.readFileSync(log, "utf8"), `install --package ${pkg} --cache-only\n`);
  assert.deepStrictEqual(fs.readdirSync(path.join(pkg, "bin")), ["hello"], "bin/ holds the launcher only");
  assert.match(fs.readFileSync(path.join(pkg, "bin", "hello"), "utf8"), /postbin-launcher/);
});
