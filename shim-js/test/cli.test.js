"use strict";
const test = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawnSync } = require("child_process");
const { toolEnvPrefix, packageArg } = require("../cli");

const CLI = path.join(__dirname, "..", "cli.js");

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "postbin-cli-"));
}

/** A tool package: package.json with a `postbin` section. */
function toolPackage(name, postbin = { url: "https://example.invalid/{target}" }) {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", postbin }));
  return dir;
}

/** The environment without any postbin or npm setting from outside (npm test sets npm_package_name). */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(POSTBIN_|npm_)/.test(k) && !k.endsWith("_BINARY_PATH")) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Runs cli.js as `postbin ARGS` in `cwd`. `host` ("aix ppc64") pretends to
 * be that host; `preload` is more code to run first.
 */
function runCli(args, { cwd, env = {}, host, preload = "" } = {}) {
  const dir = tempDir();
  const pre = path.join(dir, "preload.js");
  let source = preload;
  if (host) {
    const [platform, arch] = host.split(" ");
    source =
      `Object.defineProperty(process, "platform", { value: ${JSON.stringify(platform)} });\n` +
      `Object.defineProperty(process, "arch", { value: ${JSON.stringify(arch)} });\n` +
      source;
  }
  fs.writeFileSync(pre, source);
  return spawnSync(process.execPath, ["--require", pre, CLI, ...args], { cwd: cwd || dir, env: cleanEnv(env), encoding: "utf8" });
}

function assertOneLine(stderr) {
  const lines = stderr.split("\n").filter(Boolean);
  assert.strictEqual(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0], /^postbin: /);
  assert.doesNotMatch(stderr, /^\s+at /m, "a stack frame leaked");
  return lines[0];
}

test("postinstall on an unsupported host: one line naming the host and the tool's own variable", () => {
  const pkg = toolPackage("@acme/hello-tool");
  const r = runCli(["install"], { cwd: pkg, env: { npm_package_name: "@acme/hello-tool" }, host: "aix ppc64" });
  assert.strictEqual(r.status, 4);
  const line = assertOneLine(r.stderr);
  assert.strictEqual(
    line,
    "postbin: no prebuilt postbin installer for aix ppc64; set HELLO_TOOL_BINARY_PATH to the tool's executable built for this host, " +
      "or POSTBIN_INSTALLER_PATH to a postbin built with `cargo install --path installer` in a checkout of the postbin repository"
  );
});

test("the tool is found from --package, npm_package_name, or package.json in cwd, in that order", () => {
  const a = toolPackage("@acme/alpha-tool");
  const b = toolPackage("beta.tool");
  const empty = tempDir();
  assert.strictEqual(toolEnvPrefix(["install", "--package", a], { npm_package_name: "beta.tool" }, b), "ALPHA_TOOL");
  assert.strictEqual(toolEnvPrefix(["install", `--package=${a}`], {}, empty), "ALPHA_TOOL");
  assert.strictEqual(toolEnvPrefix(["install", "--package", path.relative(empty, a)], {}, empty), "ALPHA_TOOL");
  assert.strictEqual(toolEnvPrefix(["install"], { npm_package_name: "@x/gamma-tool" }, empty), "GAMMA_TOOL");
  assert.strictEqual(toolEnvPrefix(["install"], { npm_package_name: "beta.tool" }, b), "BETA_TOOL");
  assert.strictEqual(toolEnvPrefix(["install"], {}, b), "BETA_TOOL");
  assert.strictEqual(toolEnvPrefix(["doctor", "--check"], {}, b), "BETA_TOOL");
});

test("postbin.envPrefix in the tool's package.json wins", () => {
  const a = toolPackage("@acme/alpha-tool", { url: "u", envPrefix: "ALPHA" });
  assert.strictEqual(toolEnvPrefix(["install", "--package", a], {}, tempDir()), "ALPHA");
  assert.strictEqual(toolEnvPrefix(["install"], { npm_package_name: "@acme/alpha-tool" }, a), "ALPHA");
});

test("no tool is known: not a tool package, or a command that is not about one package", () => {
  const plain = tempDir();
  fs.writeFileSync(path.join(plain, "package.json"), JSON.stringify({ name: "my-app" }));
  const tool = toolPackage("hello-tool");
  assert.strictEqual(toolEnvPrefix(["install"], {}, tempDir()), undefined);
  assert.strictEqual(toolEnvPrefix(["install"], {}, plain), undefined);
  assert.strictEqual(toolEnvPrefix(["install"], { npm_package_name: "my-app" }, plain), undefined);
  assert.strictEqual(toolEnvPrefix(["install", "--package", plain], { npm_package_name: "hello-tool" }, tool), undefined);
  assert.strictEqual(toolEnvPrefix(["cache", "dir"], {}, tool), undefined);
  assert.strictEqual(toolEnvPrefix(["prefill", tool], {}, tool), undefined);
  assert.strictEqual(toolEnvPrefix(["--version"], {}, tool), undefined);
  assert.strictEqual(toolEnvPrefix([], {}, tool), undefined);
});

test("packageArg reads --package DIR, --package=DIR, -p DIR and -pDIR (as the installer does), not past --", () => {
  assert.strictEqual(packageArg(["install", "--package", "d"]), "d");
  assert.strictEqual(packageArg(["install", "--package=d"]), "d");
  assert.strictEqual(packageArg(["install", "-p", "d"]), "d");
  assert.strictEqual(packageArg(["install", "-pd"]), "d");
  assert.strictEqual(packageArg(["install", "--", "--package", "d"]), undefined);
  assert.strictEqual(packageArg(["install"]), undefined);
});

test("with no tool known, the message names POSTBIN_INSTALLER_PATH only", () => {
  const r = runCli(["cache", "dir"], { host: "freebsd x64" });
  assert.strictEqual(r.status, 4);
  const line = assertOneLine(r.stderr);
  assert.match(line, /freebsd x64/);
  assert.match(line, /POSTBIN_INSTALLER_PATH/);
  assert.doesNotMatch(line, /[A-Z]_BINARY_PATH|<TOOL>|undefined|cargo install postbin/);
});

test("the installer runs with the same arguments and its exit code passes through", () => {
  const dir = tempDir();
  const installer = path.join(dir, "fake-postbin");
  const log = path.join(dir, "args");
  fs.writeFileSync(installer, `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}'\necho 'postbin: error: integrity' >&2\nexit 6\n`, { mode: 0o755 });
  const r = runCli(["install", "--package", "a b"], { env: { POSTBIN_INSTALLER_PATH: installer } });
  assert.strictEqual(r.status, 6);
  assert.strictEqual(r.stderr, "postbin: error: integrity\n", "nothing added to the installer's own message");
  assert.strictEqual(fs.readFileSync(log, "utf8"), "install\n--package\na b\n");
});

test("an installer that cannot be started is one line", () => {
  const r = runCli(["install"], { env: { POSTBIN_INSTALLER_PATH: "/nonexistent/postbin" } });
  assert.strictEqual(r.status, 1);
  assert.match(
    assertOneLine(r.stderr),
    /^postbin: cannot run the postbin installer \/nonexistent\/postbin \(from POSTBIN_INSTALLER_PATH\): .*ENOENT.*; point POSTBIN_INSTALLER_PATH at a working postbin, or unset it$/
  );
});

test("an unexpected exception is one line without a stack trace", () => {
  const r = runCli(["install"], {
    env: { POSTBIN_INSTALLER_PATH: "/bin/true" },
    preload: `require("child_process").spawnSync = () => { throw new TypeError("wires crossed\\nat nowhere"); };`,
  });
  assert.strictEqual(r.status, 1);
  assert.match(assertOneLine(r.stderr), /^postbin: unexpected error: wires crossed at nowhere; this is a postbin bug, please report it$/);
});

/** Runs cli.js with an installer that kills itself with `signal`. */
function runCliKilledBy(signal) {
  const dir = tempDir();
  const installer = path.join(dir, "fake-postbin");
  fs.writeFileSync(installer, `#!/bin/sh\nkill -${signal.replace(/^SIG/, "")} $$\n`, { mode: 0o755 });
  return runCli(["install"], { env: { POSTBIN_INSTALLER_PATH: installer } });
}

test("an installer killed by SIGPIPE is exit 141, not 0", { skip: process.platform === "win32" }, () => {
  const r = runCliKilledBy("SIGPIPE");
  assert.strictEqual(r.signal, null);
  assert.strictEqual(r.status, 128 + os.constants.signals.SIGPIPE);
  assert.strictEqual(r.stderr, "");
});

test("an installer killed by SIGUSR1 is exit 128 + SIGUSR1, no debugger started", { skip: process.platform === "win32" }, () => {
  const r = runCliKilledBy("SIGUSR1");
  assert.strictEqual(r.signal, null);
  assert.strictEqual(r.status, 128 + os.constants.signals.SIGUSR1);
  assert.doesNotMatch(r.stderr, /Debugger listening/);
});

test("an installer killed by SIGTERM kills postbin by SIGTERM", { skip: process.platform === "win32" }, () => {
  const r = runCliKilledBy("SIGTERM");
  assert.strictEqual(r.status, null);
  assert.strictEqual(r.signal, "SIGTERM");
});
