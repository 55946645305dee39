/**
 * One entry for every command that reads data: `loadData(dir, split, {want, ...})` detects the
 * format (IDX, CIFAR-10/100 binary, an ImageFolder tree; or takes the one forced), reads the
 * split, and brings its images to the model's C x H x W (resize + centre crop, grayscale/RGB),
 * decoding through the on-disk cache. Data already at the model's shape is used as it is, so the
 * IDX route is byte for byte what it always was.
 *
 * Typical use:
 *   const train = await loadData(opts.data, "train", { want: { channels: 3, height: 64, width: 64 }, cacheDir, onNote });
 */
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { InputFileError } from "../errors.js";
import { defaultDataDir, hasIdx, idxFiles, loadDataset, sharedBytes, labelArray, type Dataset, type Split } from "./dataset.js";
import { cifarFiles, detectCifar, loadCifar, type CifarVariant } from "./cifar.js";
import { checkSameClasses, detectFolder, listSplit, type FolderListing } from "./folder.js";
import { decodeFile, imageSize, resizePlanar, type ImageShape } from "./image-decode.js";
import { defaultCacheDir, readCache, writeCache, type CacheKey } from "./cache.js";

export const DATA_FORMATS = ["idx", "folder", "cifar10", "cifar100"] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** How data is read, shared by train, eval, bench truth and the demo. */
export interface DataOptions {
  /** Force a format instead of detecting it. */
  format?: DataFormat;
  /** Where decoded images are cached (default: defaultCacheDir()). */
  cacheDir?: string;
  /** Stop at the first unreadable image or at mixed grayscale/colour images, instead of noting them. */
  strict?: boolean;
  /** Things worth telling a person (skipped images, converted channels, a cache that cannot be written). */
  onNote?: (text: string) => void;
  /** Decoding progress, images done of total (only when something is decoded). */
  onProgress?: (done: number, total: number) => void;
}

export interface LoadRequest extends DataOptions {
  /** The model's image shape; a dimension left out keeps the data's own. */
  want?: Partial<ImageShape>;
}

/** Known subfolder names of the CIFAR archives, so the folder they unpack to works as --data. */
const CIFAR_SUBFOLDERS = ["cifar-10-batches-bin", "cifar-100-binary"];

/** The folder the data is in: `dir`, or the CIFAR archive folder inside it. */
function dataRoot(dir: string): string {
  for (const sub of CIFAR_SUBFOLDERS) {
    const d = join(dir, sub);
    if (statSync(d, { throwIfNoEntry: false })?.isDirectory() && !hasIdx(dir) && !detectCifar(dir)) return d;
  }
  return dir;
}

/** The format of a data folder, by what it holds; undefined when bnnas reads nothing there. */
export function detectFormat(dir: string): DataFormat | undefined {
  const root = dataRoot(dir);
  if (hasIdx(root)) return "idx";
  const cifar = detectCifar(root);
  if (cifar) return cifar;
  if (detectFolder(root)) return "folder";
  return undefined;
}

const WHAT = "MNIST-style IDX files (train-images-idx3-ubyte[.gz], ...), CIFAR binary files (data_batch_*.bin + test_batch.bin, or train.bin + test.bin), or image folders (train/<class>/*.png|jpg, val/<class>/...)";

/** Checks `dir` exists and is a folder; the messages say what --data wants. */
function checkDir(dir: string | undefined): string {
  const root = resolve(dir ?? defaultDataDir());
  const st = statSync(root, { throwIfNoEntry: false });
  if (!st) {
    throw new InputFileError(root, (o) => dir === undefined
      ? `the default dataset is missing; pass ${o("data")} DIR (${WHAT}) or install dataset-fashion-mnist`
      : `no such directory (${o("data")} wants a folder with ${WHAT})`);
  }
  if (!st.isDirectory()) throw new InputFileError(root, (o) => `is not a directory (${o("data")} wants a folder with ${WHAT})`);
  return root;
}

/** Loads one split of the data in `dir` (default: the system Fashion-MNIST, else the shipped subset) at the wanted shape. */
export async function loadData(dir: string | undefined, split: Split, req: LoadRequest = {}): Promise<Dataset> {
  const given = checkDir(dir);
  const root = dataRoot(given);
  const format = req.format ?? detectFormat(given);
  if (!format) throw new InputFileError(given, (o) => `holds no data bnnas reads: ${WHAT}; name the format with ${o("dataFormat")} if it is one of these`);
  if (format === "folder") return loadFolder(root, split, req);
  const raw = format === "idx" ? loadDataset(root, split) : loadCifar(root, format as CifarVariant, split);
  const files = format === "idx" ? idxFiles(root, split)! : cifarFiles(root, format as CifarVariant, split);
  return fitShape(raw, { root, format, split, files }, req);
}

/** The full target shape: what the model wants, the data's own where the model leaves a dimension open. */
function targetShape(want: Partial<ImageShape> | undefined, own: ImageShape): ImageShape {
  return { channels: want?.channels ?? own.channels, height: want?.height ?? own.height, width: want?.width ?? own.width };
}

function sameShape(a: ImageShape, b: ImageShape): boolean {
  return a.channels === b.channels && a.height === b.height && a.width === b.width;
}

function fileStats(files: readonly string[]): [string, number, number][] {
  return files.map((f) => {
    const st = statSync(f);
    return [f, st.size, st.mtimeMs];
  });
}

const PIPELINE = "cover/centre/linear, PIL luma";

/** IDX and CIFAR images brought to the model's shape (through the cache), or as they are when they fit. */
async function fitShape(raw: Dataset, from: { root: string; format: DataFormat; split: Split; files: string[] }, req: LoadRequest): Promise<Dataset> {
  const own = { channels: raw.channels, height: raw.height, width: raw.width };
  const target = targetShape(req.want, own);
  if (target.channels !== 1 && target.channels !== 3) throw new InputFileError(from.root, `the model takes ${target.channels}-channel images; bnnas converts images to 1 (grayscale) or 3 (RGB) channels`);
  if (sameShape(own, target)) return raw;
  const key: CacheKey = { root: from.root, format: from.format, split: from.split, identity: { files: fileStats(from.files), target, pipeline: PIPELINE } };
  const cacheDir = req.cacheDir ?? defaultCacheDir();
  const hit = readCache(cacheDir, key);
  if (hit) return hit.data;
  const size = target.channels * target.height * target.width;
  const images = sharedBytes(raw.count * size);
  const rawSize = own.channels * own.height * own.width;
  await pool(raw.count, async (i) => {
    images.set(await resizePlanar(raw.images.subarray(i * rawSize, (i + 1) * rawSize), own, target), i * size);
  }, req.onProgress);
  const data: Dataset = { ...raw, images, ...target, source: `${raw.source} (as ${target.channels}x${target.height}x${target.width})` };
  const why = writeCache(cacheDir, key, data, { skipped: [], notes: [] });
  if (why) req.onNote?.(`could not cache the resized images in ${cacheDir} (${why}); the next run resizes them again`);
  return data;
}

/** Runs `work(0..n-1)` with as many in flight as there are cores (sharp decodes off the main thread). */
async function pool(n: number, work: (i: number) => Promise<void>, onProgress?: (done: number, total: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  const lanes = Math.max(2, Math.min(16, availableParallelism() * 2));
  const lane = async () => {
    while (next < n) {
      const i = next++;
      await work(i);
      done++;
      if (onProgress && (done % 64 === 0 || done === n)) onProgress(done, n);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, n) }, lane));
}

/** An ImageFolder split: listed, checked against the other split, decoded through the cache. */
async function loadFolder(root: string, split: Split, req: LoadRequest): Promise<Dataset> {
  const listing = listSplit(root, split);
  const other = split === "train" ? "test" : "train";
  let otherListing: FolderListing | undefined;
  try {
    otherListing = listSplit(root, other);
  } catch {
    otherListing = undefined; // a tree with only one split is checked when the other is asked for
  }
  if (otherListing) checkSameClasses(split === "train" ? listing : otherListing, split === "train" ? otherListing : listing);
  if (listing.ignored > 0) req.onNote?.(`${listing.dir}: ignored ${listing.ignored} file${listing.ignored > 1 ? "s" : ""} that ${listing.ignored > 1 ? "are" : "is"} not ${"an image"} (by extension)`);

  const first = await firstSize(listing, req.strict === true);
  const target = targetShape(req.want, first);
  if (target.channels !== 1 && target.channels !== 3) throw new InputFileError(root, `the model takes ${target.channels}-channel images; bnnas converts images to 1 (grayscale) or 3 (RGB) channels`);
  const key: CacheKey = {
    root, format: "folder", split,
    identity: { entries: listing.entries.map((e) => [e.file, e.size, e.mtimeMs, e.label]), classNames: listing.classNames, target, pipeline: PIPELINE },
  };
  const cacheDir = req.cacheDir ?? defaultCacheDir();
  const hit = readCache(cacheDir, key);
  if (hit) {
    for (const n of hit.extras.notes) req.onNote?.(n);
    if (req.strict && hit.extras.skipped.length > 0) throw strictError(hit.extras.skipped[0]!);
    return hit.data;
  }

  const n = listing.entries.length;
  const size = target.channels * target.height * target.width;
  const images = sharedBytes(n * size);
  const ok = new Uint8Array(n);
  const skipped: string[] = [];
  let gray = 0;
  let colour = 0;
  let firstGray = "";
  let firstColour = "";
  await pool(n, async (i) => {
    const e = listing.entries[i]!;
    try {
      const d = await decodeFile(e.file, target);
      images.set(d.pixels, i * size);
      ok[i] = 1;
      if (d.sourceChannels === 1) {
        gray++;
        firstGray ||= e.file;
      } else {
        colour++;
        firstColour ||= e.file;
      }
    } catch (err) {
      const why = `${e.file}: ${(err as Error).message.split("\n")[0]}`;
      if (req.strict) throw strictError(why);
      skipped.push(why);
    }
  }, req.onProgress);
  skipped.sort();

  const notes: string[] = [];
  if (gray > 0 && colour > 0) {
    const msg = `${listing.dir} mixes grayscale and colour images (${gray} grayscale, e.g. ${firstGray}; ${colour} colour, e.g. ${firstColour}); all were converted to ${target.channels === 1 ? "grayscale" : "RGB"} for the model's ${target.channels} channel${target.channels > 1 ? "s" : ""}`;
    if (req.strict) throw new InputFileError(gray < colour ? firstGray : firstColour, (o) => `${msg.replace(/; all were converted.*/, "")}; convert them to one kind, or drop ${o("strict")} to convert them as they are read`);
    notes.push(msg);
  }
  if (skipped.length > 0) notes.push(`skipped ${skipped.length} unreadable image${skipped.length > 1 ? "s" : ""} of ${n} in ${listing.dir} (first: ${skipped[0]}); pass --strict to stop on them instead`);
  const kept = n - skipped.length;
  if (kept === 0) throw new InputFileError(listing.dir, `none of its ${n} images could be decoded (first: ${skipped[0]})`);

  let data: Dataset;
  const labels = labelArray(kept, listing.classNames.length);
  if (kept === n) {
    listing.entries.forEach((e, i) => (labels[i] = e.label));
    data = { images, labels, count: n, ...target, classes: listing.classNames.length, classNames: listing.classNames, source: listing.dir };
  } else {
    const compact = sharedBytes(kept * size);
    let j = 0;
    for (let i = 0; i < n; i++) {
      if (!ok[i]) continue;
      compact.set(images.subarray(i * size, (i + 1) * size), j * size);
      labels[j++] = listing.entries[i]!.label;
    }
    data = { images: compact, labels, count: kept, ...target, classes: listing.classNames.length, classNames: listing.classNames, source: listing.dir };
  }
  for (const note of notes) req.onNote?.(note);
  const why = writeCache(cacheDir, key, data, { skipped, notes });
  if (why) req.onNote?.(`could not cache the decoded images in ${cacheDir} (${why}); the next run decodes them again`);
  return data;
}

function strictError(why: string): InputFileError {
  const at = why.indexOf(": ");
  return new InputFileError(why.slice(0, at), (o) => `cannot be decoded (${why.slice(at + 2)}); remove or replace it, or drop ${o("strict")} to skip unreadable images with a count`);
}

/** The size of the first readable image: the shape used where the model leaves dimensions open. */
async function firstSize(listing: FolderListing, strict: boolean): Promise<ImageShape> {
  for (const e of listing.entries) {
    try {
      return await imageSize(e.file);
    } catch (err) {
      if (strict) throw strictError(`${e.file}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  throw new InputFileError(listing.dir, "none of its images could be decoded");
}

/** The [C, H, W] a model's [N, C, H, W] input fixes (a symbolic dimension is left to the data). */
export function inputImageShape(shape: readonly (number | string)[]): Partial<ImageShape> | undefined {
  if (shape.length !== 4) return undefined;
  const [, c, h, w] = shape.map((d) => (typeof d === "number" && d > 0 ? d : undefined));
  return { channels: c, height: h, width: w };
}
