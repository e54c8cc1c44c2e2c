"use strict";
// Just enough of ELF, PE and Mach-O to check what a built installer is
// without running it: its CPU, that it needs no shared library beyond the
// OS's own, its minimum macOS, and that an Apple build's ad-hoc code
// signature still matches its bytes (a strip after signing breaks it, and
// an arm64 Mac kills an unsigned or mis-signed binary at exec).

const crypto = require("crypto");

// ---------------------------------------------------------------- ELF

const EM = { 62: "x86_64", 183: "aarch64" };
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1;

/** { format: "elf", arch, interpreter, needed: [...] } of a 64-bit little-endian ELF. */
function parseElf(buf) {
  if (buf.readUInt32BE(0) !== 0x7f454c46) throw new Error("not an ELF file");
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error("not a 64-bit little-endian ELF file");
  const arch = EM[buf.readUInt16LE(0x12)] || `machine ${buf.readUInt16LE(0x12)}`;
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  let interpreter = null;
  let needed = 0;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    const type = buf.readUInt32LE(ph);
    const offset = Number(buf.readBigUInt64LE(ph + 8));
    const size = Number(buf.readBigUInt64LE(ph + 32));
    if (type === PT_INTERP) interpreter = buf.toString("latin1", offset, offset + size).replace(/\0+$/, "");
    if (type === PT_DYNAMIC) {
      for (let d = offset; d + 16 <= offset + size; d += 16) {
        if (buf.readBigUInt64LE(d) === BigInt(DT_NEEDED)) needed++;
      }
    }
  }
  return { format: "elf", arch, interpreter, needed };
}

// ---------------------------------------------------------------- PE

const PE_MACHINE = { 0x8664: "x86_64", 0xaa64: "aarch64" };

/** { format: "pe", arch, subsystem, imports: [dll names, lower case] }. */
function parsePe(buf) {
  if (buf.toString("latin1", 0, 2) !== "MZ") throw new Error("not a PE file");
  const pe = buf.readUInt32LE(0x3c);
  if (buf.readUInt32LE(pe) !== 0x00004550) throw new Error("no PE signature");
  const coff = pe + 4;
  const arch = PE_MACHINE[buf.readUInt16LE(coff)] || `machine 0x${buf.readUInt16LE(coff).toString(16)}`;
  const sectionCount = buf.readUInt16LE(coff + 2);
  const optSize = buf.readUInt16LE(coff + 16);
  const opt = coff + 20;
  if (buf.readUInt16LE(opt) !== 0x20b) throw new Error("not a PE32+ image");
  const subsystem = buf.readUInt16LE(opt + 68);
  const importRva = buf.readUInt32LE(opt + 112 + 8); // data directory 1
  const sections = [];
  for (let i = 0; i < sectionCount; i++) {
    const s = opt + optSize + i * 40;
    sections.push({ va: buf.readUInt32LE(s + 12), size: buf.readUInt32LE(s + 8), raw: buf.readUInt32LE(s + 20) });
  }
  const at = (rva) => {
    const s = sections.find((x) => rva >= x.va && rva < x.va + Math.max(x.size, 1));
    if (!s) throw new Error(`RVA 0x${rva.toString(16)} is in no section`);
    return rva - s.va + s.raw;
  };
  const imports = [];
  for (let d = at(importRva); buf.readUInt32LE(d + 12) !== 0; d += 20) {
    const name = at(buf.readUInt32LE(d + 12));
    imports.push(buf.toString("latin1", name, buf.indexOf(0, name)).toLowerCase());
  }
  return { format: "pe", arch, subsystem, imports };
}

// ---------------------------------------------------------------- Mach-O

const CPU = { 0x01000007: "x86_64", 0x0100000c: "aarch64" };
const LC_CODE_SIGNATURE = 0x1d;
const LC_VERSION_MIN_MACOSX = 0x24;
const LC_BUILD_VERSION = 0x32;
const LC_LOAD_DYLIB = 0xc;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_HASHTYPE = { 1: "sha1", 2: "sha256" };

const version = (v) => `${v >>> 16}.${(v >> 8) & 0xff}`;

/** Checks the code directory's page hashes against the file's bytes. */
function verifyCodeSignature(buf, dataoff) {
  if (buf.readUInt32BE(dataoff) !== CSMAGIC_EMBEDDED_SIGNATURE) return { ok: false, why: "no embedded signature blob" };
  const count = buf.readUInt32BE(dataoff + 8);
  for (let i = 0; i < count; i++) {
    const blob = dataoff + buf.readUInt32BE(dataoff + 12 + i * 8 + 4);
    if (buf.readUInt32BE(blob) !== CSMAGIC_CODEDIRECTORY) continue;
    const flags = buf.readUInt32BE(blob + 12);
    const hashOffset = buf.readUInt32BE(blob + 16);
    const nCodeSlots = buf.readUInt32BE(blob + 28);
    const codeLimit = buf.readUInt32BE(blob + 32);
    const hashSize = buf[blob + 36];
    const hashType = CS_HASHTYPE[buf[blob + 37]];
    const pageSize = 2 ** buf[blob + 39];
    if (!hashType) return { ok: false, why: `unknown hash type ${buf[blob + 37]}` };
    if (codeLimit !== dataoff) return { ok: false, why: `signs ${codeLimit} bytes, but the code ends at ${dataoff}` };
    if (nCodeSlots !== Math.ceil(codeLimit / pageSize)) return { ok: false, why: "page count does not cover the code" };
    for (let page = 0; page < nCodeSlots; page++) {
      const start = page * pageSize;
      const actual = crypto.createHash(hashType).update(buf.subarray(start, Math.min(start + pageSize, codeLimit))).digest();
      const slot = blob + hashOffset + page * hashSize;
      if (!actual.equals(buf.subarray(slot, slot + hashSize))) return { ok: false, why: `page ${page} does not match its hash` };
    }
    return { ok: true, adhoc: (flags & 0x2) !== 0, pages: nCodeSlots, hashType };
  }
  return { ok: false, why: "no code directory" };
}

/** { format: "macho", arch, minos, dylibs, signature } of a thin 64-bit Mach-O. */
function parseMachO(buf) {
  if (buf.readUInt32LE(0) !== 0xfeedfacf) throw new Error("not a thin 64-bit Mach-O file");
  const arch = CPU[buf.readUInt32LE(4)] || `cputype 0x${buf.readUInt32LE(4).toString(16)}`;
  const ncmds = buf.readUInt32LE(16);
  let minos = null;
  let signature = { ok: false, why: "no LC_CODE_SIGNATURE" };
  const dylibs = [];
  for (let i = 0, at = 32; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(at);
    const size = buf.readUInt32LE(at + 4);
    if (cmd === LC_BUILD_VERSION) minos = version(buf.readUInt32LE(at + 12));
    if (cmd === LC_VERSION_MIN_MACOSX) minos = version(buf.readUInt32LE(at + 8));
    if (cmd === LC_LOAD_DYLIB) {
      const name = at + buf.readUInt32LE(at + 8);
      dylibs.push(buf.toString("latin1", name, buf.indexOf(0, name)));
    }
    if (cmd === LC_CODE_SIGNATURE) signature = verifyCodeSignature(buf, buf.readUInt32LE(at + 8));
    at += size;
  }
  return { format: "macho", arch, minos, dylibs, signature };
}

function parse(buf) {
  if (buf.readUInt32BE(0) === 0x7f454c46) return parseElf(buf);
  if (buf.toString("latin1", 0, 2) === "MZ") return parsePe(buf);
  return parseMachO(buf);
}

module.exports = { parse, parseElf, parsePe, parseMachO, verifyCodeSignature };
