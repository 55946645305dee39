/**
 * Preloaded into a `bnnas train` child by test/train/kill.test.ts (node --import) to SIGKILL it
 * at an exact point of a file write, which a timer in the parent can hardly hit (a checkpoint is
 * written in well under a millisecond). The kill is a real SIGKILL sent by the process to itself;
 * nothing in bnnas is stubbed: the hooks only watch node:fs calls and die at the chosen one.
 *
 * BNNAS_KILL_AT = "<target>:<phase>:<n>"
 *   target  ckpt (the checkpoint's temporary file) | out (the output model's temporary file)
 *   phase   write  - after writing half of the first chunk of the n-th such temporary file
 *           rename - after the n-th temporary file is complete and fsynced, before its rename
 *           unlink - when the finished run deletes its checkpoint (target ckpt; n ignored)
 *
 * node:fs's ES-module named exports are live bindings to the CommonJS object's properties, kept
 * in sync by syncBuiltinESMExports(), so bnnas's `import { writeSync } from "node:fs"` sees the hooks.
 */
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

const spec = process.env.BNNAS_KILL_AT ?? "";
const [target, phase, nth] = spec.split(":");
const wanted = Number(nth ?? "1");
if (!["ckpt", "out"].includes(target) || !["write", "rename", "unlink"].includes(phase)) {
  throw new Error(`kill-inject: bad BNNAS_KILL_AT '${spec}'`);
}

function die() {
  process.kill(process.pid, "SIGKILL");
  for (;;) { /* SIGKILL is being delivered; run nothing else */ }
}

/** Which target a path is a temporary file of (writeTemp names them .<base>.tmp-<pid>-<n>). */
function tempKind(path) {
  const p = String(path);
  if (!/\.tmp-\d+-\d+$/.test(p)) return undefined;
  return /\.ckpt\.tmp-\d+-\d+$/.test(p) ? "ckpt" : "out";
}

const original = { openSync: fs.openSync, writeSync: fs.writeSync, fsyncSync: fs.fsyncSync, unlinkSync: fs.unlinkSync, closeSync: fs.closeSync };
/** fd -> ordinal of the temporary file of the target kind, for open temporaries of that kind. */
const open = new Map();
let seen = 0;

fs.openSync = function (path, ...rest) {
  const fd = original.openSync.call(fs, path, ...rest);
  if (tempKind(path) === target) open.set(fd, ++seen);
  return fd;
};
fs.writeSync = function (fd, buffer, offset, length, ...rest) {
  if (phase === "write" && open.get(fd) === wanted && ArrayBuffer.isView(buffer)) {
    const off = typeof offset === "number" ? offset : 0;
    const len = typeof length === "number" ? length : buffer.byteLength - off;
    original.writeSync.call(fs, fd, buffer, off, Math.max(1, Math.floor(len / 2)));
    die();
  }
  return original.writeSync.call(fs, fd, buffer, offset, length, ...rest);
};
fs.fsyncSync = function (fd) {
  original.fsyncSync.call(fs, fd);
  if (phase === "rename" && open.get(fd) === wanted) die();
};
fs.closeSync = function (fd) {
  open.delete(fd);
  return original.closeSync.call(fs, fd);
};
fs.unlinkSync = function (path) {
  if (phase === "unlink" && target === "ckpt" && String(path).endsWith(".ckpt")) die();
  return original.unlinkSync.call(fs, path);
};
syncBuiltinESMExports();
