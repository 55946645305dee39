/**
 * Atomic file output: data goes to a temporary file in the target's directory, is flushed, and
 * is renamed over the target only when complete, so a failed or killed write never leaves a
 * half-written file and never destroys what the user had at that path.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, statSync, readdirSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { OutputError } from "../errors.js";

let counter = 0;

/** A temporary path beside `file` (same filesystem, so rename is atomic). */
export function tempPathFor(file: string): string {
  counter += 1;
  return join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${counter}`);
}

/** Whether process `pid` is alive (EPERM: it exists but belongs to someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes temporary files of `file` left by writers that died mid-write (SIGKILL, power loss):
 * a killed process cannot clean up after itself, so the next writer of the same target does.
 * Temporaries of live processes (a concurrent writer) are kept. Best effort: never throws.
 * Returns the paths removed.
 */
export function removeStaleTemps(file: string): string[] {
  const dir = dirname(file);
  const prefix = `.${basename(file)}.tmp-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-\d+$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(join(dir, name));
    } catch { /* gone already, or not ours to remove */ }
  }
  return removed;
}

function describe(e: unknown, file: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT": return `directory ${dirname(file)} does not exist`;
    case "EACCES": case "EPERM": return "permission denied";
    case "EISDIR": return "it is a directory";
    case "ENOSPC": return "no space left on the device";
    case "EROFS": return "the file system is read-only";
    case "ENOTDIR": return `a part of the path ${dirname(file)} is not a directory`;
    default: return (e as Error).message ?? String(e);
  }
}

/** Writes chunks to a temporary file and fsyncs it; returns the temporary path. */
export function writeTemp(file: string, chunks: readonly Uint8Array[]): string {
  try {
    if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
  } catch (e) {
    throw new OutputError(file, describe(e, file));
  }
  removeStaleTemps(file);
  const tmp = tempPathFor(file);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", 0o644);
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += writeSync(fd, c, off, c.length - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    return tmp;
  } catch (e) {
    if (fd !== undefined) try { closeSync(fd); } catch { /* already failing */ }
    try { unlinkSync(tmp); } catch { /* never created */ }
    throw new OutputError(file, describe(e, file));
  }
}

/** Moves a finished temporary file over its target. */
export function commitTemp(tmp: string, file: string): void {
  try {
    renameSync(tmp, file);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw new OutputError(file, describe(e, file));
  }
}

export function discardTemp(tmp: string): void {
  try { unlinkSync(tmp); } catch { /* gone */ }
}

/** Writes `data` to `file` atomically. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  commitTemp(writeTemp(file, [bytes]), file);
}
