"use strict";
// Progress that npm cannot hide: npm 7+ swallows an install script's output,
// so a long download in postinstall looks like a hang. postbin then draws
// its one-line progress on the controlling terminal (/dev/tty) once the
// download has run for about a second, and erases it when done. Tested under
// a real pseudo-terminal (util-linux `script`), with npm running the
// postinstall and the release server throttled so the download takes a few
// seconds; `script` records every byte written to the terminal.

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const path = require("path");
const { run, explain, tempDir, cleanup, sample, startFixture, testEnv, newProject } = require("./support");

const TEST_TIMEOUT_MS = 150_000;
// The download should take about this long.
const DOWNLOAD_SECS = 3;

let s;
before(() => {
  s = sample();
});
after(() => cleanup());

function shellQuote(text) {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * `npm install <tool>` under a pseudo-terminal, the asset throttled;
 * returns the bytes the terminal received and npm's result.
 */
async function installUnderPty(t, label, extraEnv) {
  const fixture = await startFixture(t, s.releases);
  // Whichever archive this host's target uses, it comes slowly.
  for (const assetPath of s.assetPaths) {
    const size = fs.statSync(path.join(s.releaseDir, path.posix.basename(assetPath))).size;
    const bytesPerSec = Math.max(1, Math.floor(size / DOWNLOAD_SECS));
    await fixture.fault(assetPath, { kind: "slow", bytes_per_sec: String(bytesPerSec) });
  }
  const cacheDir = path.join(tempDir(`${label}-cache`), "postbin");
  const env = testEnv({ mirror: fixture.url, cacheDir, extra: extraEnv });
  // The suite itself may run in CI; only the test decides whether CI is set.
  if (!("CI" in extraEnv)) delete env.CI;
  const project = newProject(label);
  const typescript = path.join(tempDir(`${label}-pty`), "typescript");
  const command = `npm install ${shellQuote(s.tgz)} --no-audit --no-fund`;
  const r = run("script", ["-q", "-e", "-f", "-c", command, typescript], { cwd: project, env });
  assert.ok(!r.error && r.status === 0, `npm install under a pty failed\n${explain(r)}`);
  assert.ok(fs.existsSync(path.join(project, "node_modules", "hello-tool", ".postbin")), "the postinstall installed");
  return fs.readFileSync(typescript, "latin1");
}

// `\r`, erase line, then `postbin: <asset> 0.1/0.2 MiB [###...`.
const BAR = /\r\x1b\[2Kpostbin: hello-[\w.-]+ [0-9.]+\/[0-9.]+ MiB \[/;

test("a download in npm's hidden postinstall draws its progress on the terminal, then erases it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const screen = await installUnderPty(t, "pty-progress", {});
  const bars = screen.split(BAR).length - 1;
  assert.ok(bars >= 1, `the terminal got the progress line\n${JSON.stringify(screen.slice(-2000))}`);
  const lastBar = screen.lastIndexOf("\r\x1b[2Kpostbin: hello-");
  assert.ok(screen.indexOf("\r\x1b[2K", lastBar + 1) > lastBar, "the line is erased when done");
});

for (const [label, env] of [
  ["CI set", { CI: "true" }],
  ["POSTBIN_PROGRESS=0", { POSTBIN_PROGRESS: "0" }],
  ["npm --silent", { npm_config_loglevel: "silent" }],
]) {
  test(`no progress on the terminal with ${label}`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const screen = await installUnderPty(t, `pty-${label.replace(/\W+/g, "-")}`, env);
    assert.doesNotMatch(screen, BAR, JSON.stringify(screen.slice(-2000)));
    assert.ok(!screen.includes("\x1b[2Kpostbin:"), "postbin wrote nothing to the terminal");
  });
}
