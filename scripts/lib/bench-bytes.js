"use strict";
// What a cold `npm install` of a tool downloads, by way of shipping it,
// side by side (scripts/bench --bytes). Prints a Markdown table.
//
//   node bench-bytes.js PUBLISH_DIR ARCHIVE EXECUTABLE CARGO_DIST_PACKAGE_JSON
//
// PUBLISH_DIR  scripts/pack's seven packages (postbin + the host's installer counted)
// ARCHIVE      the tool's release archive (what postbin, cargo-dist's installer and
//              binary-install download besides their own packages)
// EXECUTABLE   the tool's executable (packed into a platform package, as the
//              optionalDependencies approach ships it)
// The dependency trees of cargo-dist's npm installer (its dependencies as a real
// cargo-dist package declares them) and of binary-install are resolved by npm
// from the registry and each tarball's size read with a HEAD request: these two
// rows need the npm registry and say so when it cannot be reached.

const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawnSync } = require("child_process");

const HOST_PACKAGE = "linux-x64";

function npm(args, cwd) {
  return spawnSync("npm", args, { cwd, encoding: "utf8", timeout: 300_000 });
}

/** [count, bytes] of the tarballs npm would fetch for `deps` ({ name: range }). */
async function registryTree(deps) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postbin-bench-bytes-"));
  try {
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench", version: "1.0.0", dependencies: deps }));
    const r = npm(["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"], dir);
    if (r.status !== 0) throw new Error(`npm could not resolve ${Object.keys(deps).join(", ")}: ${r.stderr.trim().split("\n").pop()}`);
    const lock = JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"));
    // `resolved` is left out where npm is set to omit registry URLs from
    // lockfiles; the registry's tarball path is then the standard one.
    const registry = (npm(["config", "get", "registry"], dir).stdout || "https://registry.npmjs.org/").trim().replace(/\/?$/, "/");
    const urls = Object.entries(lock.packages)
      .filter(([k, v]) => k && !v.link)
      .map(([k, v]) => {
        if (v.resolved) return v.resolved;
        const name = k.slice(k.lastIndexOf("node_modules/") + "node_modules/".length);
        return `${registry}${name}/-/${name.replace(/^@[^/]+\//, "")}-${v.version}.tgz`;
      });
    let bytes = 0;
    for (const url of urls) {
      const res = await fetch(url, { method: "HEAD" });
      const length = Number(res.headers.get("content-length"));
      if (!res.ok || !length) throw new Error(`HEAD ${url}: ${res.status}`);
      bytes += length;
    }
    return [urls.length, bytes];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The size of a platform package holding `exe` as `npm pack` makes it. */
function platformPackage(exe) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postbin-bench-platform-"));
  try {
    const pkg = path.join(dir, "pkg");
    fs.mkdirSync(pkg);
    fs.copyFileSync(exe, path.join(pkg, "hello"));
    fs.chmodSync(path.join(pkg, "hello"), 0o755);
    fs.writeFileSync(
      path.join(pkg, "package.json"),
      JSON.stringify({ name: "@acme/hello-linux-x64", version: "1.0.0", os: ["linux"], cpu: ["x64"], files: ["hello"] })
    );
    const r = npm(["pack", "--json", "--pack-destination", dir], pkg);
    if (r.status !== 0) throw new Error(`npm pack: ${r.stderr}`);
    return fs.statSync(path.join(dir, JSON.parse(r.stdout)[0].filename)).size;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const kb = (n) => `${(n / 1000).toLocaleString("en-US", { maximumFractionDigits: 0 })} KB`;

async function main([publishDir, archive, exe, cargoDistPackageJson]) {
  const files = fs.readdirSync(publishDir);
  const postbinFile = files.find((f) => /^postbin-\d/.test(f));
  const hostFile = files.find((f) => f.startsWith(`postbin-${HOST_PACKAGE}-`));
  if (!postbinFile || !hostFile) throw new Error(`${publishDir} lacks postbin's packages; run scripts/pack`);
  const archiveBytes = fs.statSync(archive).size;
  const postbin = fs.statSync(path.join(publishDir, postbinFile)).size + fs.statSync(path.join(publishDir, hostFile)).size;
  const rows = [
    ["postbin (postbin + the host's installer package)", "2", postbin, archiveBytes, ""],
    ["optionalDependencies platform packages (esbuild's way)", "1", 0, platformPackage(exe), "the executable in an npm package"],
  ];
  const remote = [
    ["cargo-dist's npm installer (its dependencies)", JSON.parse(fs.readFileSync(cargoDistPackageJson, "utf8")).dependencies],
    ["binary-install (and its dependencies)", { "binary-install": "1.1.2" }],
  ];
  for (const [label, deps] of remote) {
    try {
      const [count, bytes] = await registryTree(deps);
      rows.push([label, String(count), bytes, archiveBytes, `resolved by npm from the registry: ${Object.keys(deps).join(", ")}`]);
    } catch (e) {
      rows.push([label, "?", null, archiveBytes, `not measured: ${e.message}`]);
    }
  }
  console.log("| how the tool is shipped | packages | installer's own bytes | tool's bytes | total | note |");
  console.log("|---|---|---|---|---|---|");
  for (const [label, count, own, tool, note] of rows) {
    const total = own === null ? "?" : kb(own + tool);
    console.log(`| ${label} | ${count} | ${own === null ? "?" : kb(own)} | ${kb(tool)} | ${total} | ${note} |`);
  }
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`bench-bytes: ${e.message}\n`);
  process.exit(1);
});
