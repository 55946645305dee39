/**
 * The on-disk cache of decoded datasets: images decoded and preprocessed once are kept as uint8
 * C x H x W tensors under the cache directory (never in the user's data folder), keyed by the
 * list of source files (path, size, mtime) and the preprocessing. Changing a file, adding one or
 * asking for another input size gives another key; the entry it replaces is removed when the new
 * one is written. A cache file is written atomically, so a killed run leaves no torn entry.
 *
 * File layout: "BNNASDC1", a uint32 (LE) header length, the JSON header, the labels (uint8 or
 * uint16 LE by header.labelBytes), the images.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { commitTemp, writeTemp } from "../util/atomic.js";
import { labelArray, sharedBytes, type Dataset } from "./dataset.js";

const MAGIC = "BNNASDC1";
/** Bumped when decoding changes, so old entries are not read as new ones. */
export const CACHE_VERSION = 1;

/** The default cache: $XDG_CACHE_HOME/bnnas, else ~/.cache/bnnas (per user, outside any data folder). */
export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return xdg && xdg.startsWith("/") ? join(xdg, "bnnas") : join(homedir(), ".cache", "bnnas");
}

export interface CacheKey {
  /** The data folder (names the entry; the hash below decides whether it is current). */
  root: string;
  format: string;
  split: string;
  /** Everything the decoded bytes depend on. */
  identity: unknown;
}

/** What is kept beside the pixels: the run's notes (skipped files) are repeated on a cache hit. */
export interface CachedExtras {
  skipped: string[];
  notes: string[];
}

interface Header extends CachedExtras {
  key: string;
  count: number;
  channels: number;
  height: number;
  width: number;
  classes: number;
  classNames: string[];
  source: string;
  labelBytes: 1 | 2;
}

function hash(text: string, n: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, n);
}

/** The entry's prefix (one folder, format and split) and its full file name. */
function entryName(key: CacheKey): { prefix: string; file: string; digest: string } {
  const prefix = `${key.format}-${key.split}-${hash(resolve(key.root), 12)}-`;
  const digest = hash(JSON.stringify({ v: CACHE_VERSION, ...key, root: resolve(key.root) }), 32);
  return { prefix, file: `${prefix}${digest}.u8`, digest };
}

/** A cached dataset, or undefined on a miss (or an unreadable entry, which is then decoded again). */
export function readCache(dir: string, key: CacheKey): { data: Dataset; extras: CachedExtras } | undefined {
  const { file, digest } = entryName(key);
  const path = join(dir, file);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(12);
    if (readSync(fd, head, 0, 12, 0) !== 12 || head.toString("latin1", 0, 8) !== MAGIC) return undefined;
    const len = head.readUInt32LE(8);
    const hb = Buffer.alloc(len);
    if (readSync(fd, hb, 0, len, 12) !== len) return undefined;
    const h = JSON.parse(hb.toString("utf8")) as Header;
    if (h.key !== digest) return undefined;
    const size = h.channels * h.height * h.width;
    let at = 12 + len;
    const labels = labelArray(h.count, h.labelBytes === 2 ? 65536 : 256);
    const lb = new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength);
    if (readSync(fd, lb, 0, lb.length, at) !== lb.length) return undefined;
    at += lb.length;
    // Read straight into shared memory: the prefetch worker reads it without a copy.
    const images = sharedBytes(h.count * size);
    for (let off = 0; off < images.length;) {
      const n = readSync(fd, images, off, Math.min(1 << 30, images.length - off), at + off);
      if (n <= 0) return undefined;
      off += n;
    }
    if (statSync(path).size !== at + images.length) return undefined;
    return {
      data: { images, labels, count: h.count, channels: h.channels, height: h.height, width: h.width, classes: h.classes, classNames: h.classNames, source: h.source },
      extras: { skipped: h.skipped, notes: h.notes },
    };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes an entry (atomically) and removes the entries it replaces. Returns why it could not,
 * instead of throwing: a full disk or a read-only cache costs the next run a decode, not this run.
 */
export function writeCache(dir: string, key: CacheKey, data: Dataset, extras: CachedExtras): string | undefined {
  const { prefix, file, digest } = entryName(key);
  try {
    mkdirSync(dir, { recursive: true });
    const labelBytes = data.labels instanceof Uint16Array ? 2 : 1;
    const header: Header = {
      key: digest, count: data.count, channels: data.channels, height: data.height, width: data.width,
      classes: data.classes, classNames: data.classNames ?? [], source: data.source, labelBytes, ...extras,
    };
    const hb = Buffer.from(JSON.stringify(header), "utf8");
    const head = Buffer.alloc(12);
    head.write(MAGIC, 0, "latin1");
    head.writeUInt32LE(hb.length, 8);
    const labels = new Uint8Array(data.labels.buffer, data.labels.byteOffset, data.labels.byteLength);
    const path = join(dir, file);
    commitTemp(writeTemp(path, [head, hb, labels, data.images]), path);
    for (const name of readdirSync(dir)) {
      if (name.startsWith(prefix) && name !== file && name.endsWith(".u8")) {
        try { unlinkSync(join(dir, name)); } catch { /* another run removed it */ }
      }
    }
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
