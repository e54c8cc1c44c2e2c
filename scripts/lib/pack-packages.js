"use strict";
// Stages and packs postbin's npm packages from shim-js and the built
// installers (shim-js/native/<target>/). Called by scripts/pack.
//
//   node pack-packages.js publish OUT TARGET...
//     OUT/postbin-<os>-<cpu>-<v>.tgz  one package per installer (@postbin/<os>-<cpu>,
//                                     `os`/`cpu` set, the executable alone)
//     OUT/postbin-<v>.tgz             postbin itself: the JS, each installer package
//                                     an optional dependency at this exact version,
//                                     and `installers` pinning each one's tarball
//                                     integrity and executable sha256
//   node pack-packages.js embed OUT TARGET...
//     OUT/postbin-<v>.tgz             postbin with these installers inside
//                                     (native/<target>/): a local try-out and the
//                                     end-to-end tests' package; no optional
//                                     dependencies, the same pins
//
// Prints the path of postbin's tarball last. Everything is reproducible:
// npm pack fixes dates and modes, and the staged files are always the same.

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const SHIM = path.join(ROOT, "shim-js");
const { packages: PACKAGES } = require(path.join(SHIM, "installers.json"));

function exeName(target) {
  return target.includes("-windows-") ? "postbin.exe" : "postbin";
}

function sha256(file) {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function integrity(file) {
  return "sha512-" + crypto.createHash("sha512").update(fs.readFileSync(file)).digest("base64");
}

/**
 * `npm pack` of DIR into OUT; returns the tarball's path. The tar is npm's
 * (fixed dates, modes and order); its gzip is redone by GNU gzip -9n, which
 * packs an installer about 17 KB (1.4%) smaller than the zlib npm uses, at
 * the same level. -n leaves out name and time: the same input, the same bytes.
 */
function npmPack(dir, out) {
  const r = spawnSync("npm", ["pack", "--json", "--pack-destination", out], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npm pack in ${dir} failed:\n${r.stderr}`);
  const [info] = JSON.parse(r.stdout);
  const tgz = path.join(out, info.filename);
  const big = { maxBuffer: 256 << 20 };
  const tar = spawnSync("gzip", ["-dc", tgz], big);
  const packed = tar.status === 0 && spawnSync("gzip", ["-9n"], { ...big, input: tar.stdout });
  if (!packed || packed.status !== 0) throw new Error(`gzip could not repack ${tgz}`);
  fs.writeFileSync(tgz, packed.stdout);
  return tgz;
}

function fresh(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
}

/** Stages @postbin/<os>-<cpu> for TARGET and packs it; returns its pin. */
function packInstaller(target, base, stage, out) {
  const pkg = PACKAGES[target];
  if (!pkg) throw new Error(`shim-js/installers.json names no package for ${target}`);
  const exe = exeName(target);
  const built = path.join(SHIM, "native", target, exe);
  if (!fs.existsSync(built)) throw new Error(`${built} is missing; run scripts/build-installers ${target}`);
  const dir = fresh(path.join(stage, pkg.name.replace("/", "+")));
  fs.copyFileSync(built, path.join(dir, exe));
  fs.chmodSync(path.join(dir, exe), 0o755);
  writeJson(path.join(dir, "package.json"), {
    name: pkg.name,
    version: base.version,
    description: `The postbin installer for ${pkg.os} ${pkg.cpu} (${target}); installed by postbin, not used directly`,
    license: base.license,
    repository: base.repository,
    os: [pkg.os],
    cpu: [pkg.cpu],
    files: [exe],
    // yarn PnP must put the executable on disk to run it.
    preferUnplugged: true,
  });
  const tgz = npmPack(dir, out);
  return { package: pkg.name, integrity: integrity(tgz), sha256: sha256(built), tgz };
}

/** Stages postbin itself (the JS and the pins; `embed`: the installers too) and packs it. */
function packPostbin(mode, targets, pins, base, stage, out) {
  const dir = fresh(path.join(stage, "postbin"));
  // shim-js/package.json's `files` is the list of what postbin ships.
  for (const f of base.files) fs.copyFileSync(path.join(SHIM, f), path.join(dir, f));
  const manifest = { ...base, files: [...base.files] };
  manifest.installers = {};
  for (const t of targets) {
    const { package: name, integrity: i, sha256: s } = pins[t];
    manifest.installers[t] = { package: name, integrity: i, sha256: s };
  }
  if (mode === "publish") {
    manifest.optionalDependencies = {};
    for (const t of targets) manifest.optionalDependencies[pins[t].package] = base.version;
  } else {
    manifest.files.push("native/");
    for (const t of targets) {
      const exe = exeName(t);
      fs.mkdirSync(path.join(dir, "native", t), { recursive: true });
      fs.copyFileSync(path.join(SHIM, "native", t, exe), path.join(dir, "native", t, exe));
      fs.chmodSync(path.join(dir, "native", t, exe), 0o755);
    }
  }
  writeJson(path.join(dir, "package.json"), manifest);
  return npmPack(dir, out);
}

function main([mode, out, ...targets]) {
  if (!["publish", "embed"].includes(mode) || !out || targets.length === 0) {
    throw new Error("usage: pack-packages.js publish|embed OUT TARGET...");
  }
  out = path.resolve(out);
  fs.mkdirSync(out, { recursive: true });
  const base = JSON.parse(fs.readFileSync(path.join(SHIM, "package.json"), "utf8"));
  delete base.scripts; // the shim's own tests are not shipped
  const stage = path.join(ROOT, "target", "pack", `stage-${mode}`);
  // The installer packages are packed in both modes: their integrity is
  // what postbin pins, and what a fallback fetch checks.
  const installerOut = mode === "publish" ? out : fresh(path.join(stage, "installers"));
  const pins = {};
  for (const t of targets) pins[t] = packInstaller(t, base, stage, installerOut);
  const tgz = packPostbin(mode, targets, pins, base, stage, out);
  for (const t of targets) {
    const size = fs.statSync(pins[t].tgz).size;
    process.stderr.write(`${mode === "publish" ? "packed" : "pinned"} ${pins[t].package}: ${path.basename(pins[t].tgz)}, ${size} bytes\n`);
  }
  process.stderr.write(`packed postbin (${mode}): ${path.basename(tgz)}, ${fs.statSync(tgz).size} bytes\n`);
  console.log(tgz);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`pack-packages: ${e.message}\n`);
  process.exit(1);
}
