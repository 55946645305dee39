/**
 * Training checkpoints: everything a run needs to continue exactly where it stopped.
 *
 * One file, written atomically (a kill mid-write leaves the previous checkpoint intact):
 *   "BNNASCK1" | uint32 LE header length | header JSON | zero padding to 4 bytes | float32 data
 * The header holds the run's identity (supernet fingerprint and every option that changes the
 * result), its progress (step counter, metric accumulators, per-epoch history) as JSON (doubles
 * round-trip exactly), and the list of tensors (parameters, momentum buffers, running
 * statistics) whose little-endian float32 values follow in that order. Sampling and data order
 * are functions of (seed, step), so the step counter is their whole state.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../util/atomic.js";
import { InputFileError } from "../errors.js";

const MAGIC = "BNNASCK1";

export type TensorGroup = "param" | "momentum" | "running";

export interface Checkpoint<P = unknown> {
  /** Identifies the supernet and the options the run was started with. */
  identity: Record<string, unknown>;
  /** Training progress (JSON-safe). */
  progress: P;
  tensors: Record<TensorGroup, Map<string, Float32Array>>;
}

interface TensorEntry { group: TensorGroup; name: string; length: number }

export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
  const entries: TensorEntry[] = [];
  let floats = 0;
  for (const group of ["param", "momentum", "running"] as const) {
    for (const [name, v] of ck.tensors[group]) {
      entries.push({ group, name, length: v.length });
      floats += v.length;
    }
  }
  const header = new TextEncoder().encode(JSON.stringify({ identity: ck.identity, progress: ck.progress, tensors: entries }));
  const dataStart = Math.ceil((8 + 4 + header.length) / 4) * 4;
  const out = new Uint8Array(dataStart + 4 * floats);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  const data = new Float32Array(out.buffer, dataStart, floats);
  let off = 0;
  for (const group of ["param", "momentum", "running"] as const) {
    for (const v of ck.tensors[group].values()) {
      data.set(v, off);
      off += v.length;
    }
  }
  return out;
}

export function decodeCheckpoint<P>(bytes: Uint8Array, file: string): Checkpoint<P> {
  const bad = (why: string) => new InputFileError(file, `is not a usable bnnas checkpoint (${why}); delete it to start over`);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw bad("wrong magic");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw bad("truncated header");
  let header: { identity: Record<string, unknown>; progress: P; tensors: TensorEntry[] };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    throw bad("corrupt header");
  }
  if (!header || typeof header !== "object" || !Array.isArray(header.tensors)) throw bad("corrupt header");
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
  const floats = header.tensors.reduce((s, e) => s + (Number.isSafeInteger(e.length) && e.length >= 0 ? e.length : NaN), 0);
  if (!Number.isFinite(floats) || dataStart + 4 * floats !== bytes.length) throw bad(`expected ${dataStart + 4 * floats} bytes, found ${bytes.length}`);
  const aligned = new Float32Array(floats);
  new Uint8Array(aligned.buffer).set(bytes.subarray(dataStart));
  const tensors: Checkpoint["tensors"] = { param: new Map(), momentum: new Map(), running: new Map() };
  let off = 0;
  for (const e of header.tensors) {
    if (!(e.group in tensors) || typeof e.name !== "string") throw bad("corrupt tensor list");
    tensors[e.group].set(e.name, aligned.slice(off, off + e.length));
    off += e.length;
  }
  return { identity: header.identity, progress: header.progress, tensors };
}

export function writeCheckpoint(file: string, ck: Checkpoint): void {
  writeFileAtomic(file, encodeCheckpoint(ck));
}

/** Reads a checkpoint, or undefined when there is none at `file`. */
export function readCheckpoint<P>(file: string): Checkpoint<P> | undefined {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new InputFileError(file, `cannot read the checkpoint: ${(e as Error).message}`);
  }
  return decodeCheckpoint<P>(bytes, file);
}
