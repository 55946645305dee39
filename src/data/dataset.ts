/**
 * Image classification datasets in IDX form (MNIST, Fashion-MNIST): finding the files in a
 * directory, loading a split, and carving a validation split. Images stay as bytes (N x C x H x W,
 * row-major) until batching, so a 60,000-image set costs 47 MB, not 188 MB of floats.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { InputFileError, UsageError } from "../errors.js";
import { readIdx } from "./idx.js";
import { streamFor } from "../util/random.js";
import { iota, shuffleInPlace } from "./shuffle.js";
import { classNamesFor, FASHION_MNIST_CLASSES } from "./classes.js";

export type Split = "train" | "test";

export interface Dataset {
  /** Pixels 0..255, N x C x H x W row-major. */
  images: Uint8Array;
  /** Class index per image (16-bit when there are more than 256 classes). */
  labels: Uint8Array | Uint16Array;
  count: number;
  channels: number;
  height: number;
  width: number;
  /** 1 + the largest label. */
  classes: number;
  /**
   * A name per class (at least `classes` of them): folder names, CIFAR's names, or indices. The
   * loaders always set it; a dataset built by hand may leave it out (its classes are then "0", "1", ...).
   */
  classNames?: string[];
  /** Where the data came from (image file path, plus a note for subsets). */
  source: string;
}

/**
 * Pixel storage that a worker thread can read without a copy (src/data/prefetch.ts): the
 * loaders allocate images here, so a 600 MB set is never held twice.
 */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/** Labels typed by how many classes there are. */
export function labelArray(length: number, classes: number): Uint8Array | Uint16Array {
  return classes > 256 ? new Uint16Array(length) : new Uint8Array(length);
}

/** Debian's dataset-fashion-mnist package installs the full dataset here. */
export const SYSTEM_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";
/** The repository (or installed package) root: the nearest ancestor holding package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** The class-balanced subset shipped with bnnas (6,000 + 1,000 images; made by scripts/make-data-subset.ts). */
export const SHIPPED_SUBSET = join(packageRoot(), "data", "fashion-mnist-subset");

/** The data directory used without --data: the system Fashion-MNIST if installed, else the shipped subset. */
export function defaultDataDir(): string {
  if (findIdxPair(SYSTEM_FASHION_MNIST, "train")) return SYSTEM_FASHION_MNIST;
  return SHIPPED_SUBSET;
}

const PREFIX: Record<Split, string[]> = { train: ["train"], test: ["t10k", "test"] };

/** Whether `dir` holds IDX files of either split. */
export function hasIdx(dir: string): boolean {
  return findIdxPair(dir, "train") !== undefined || findIdxPair(dir, "test") !== undefined;
}

/** The IDX files of a split (for cache keys), or undefined. */
export function idxFiles(dir: string, split: Split): string[] | undefined {
  const p = findIdxPair(dir, split);
  return p ? [p.images, p.labels] : undefined;
}

/** Finds `<prefix>-images-idx3-ubyte[.gz]` and the matching labels file (MNIST also uses `.idx3-ubyte`). */
function findIdxPair(dir: string, split: Split): { images: string; labels: string } | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const prefix of PREFIX[split]) {
    const images = names.find((n) => new RegExp(`^${prefix}-images[-.]idx3-ubyte(\\.gz)?$`).test(n));
    const labels = names.find((n) => new RegExp(`^${prefix}-labels[-.]idx1-ubyte(\\.gz)?$`).test(n));
    if (images && labels) return { images: join(dir, images), labels: join(dir, labels) };
  }
  return undefined;
}

/**
 * Loads one split of an IDX dataset from `dir` (default: defaultDataDir()). Errors name the
 * directory or file and what is wrong.
 */
export function loadDataset(dir: string | undefined, split: Split): Dataset {
  const root = resolve(dir ?? defaultDataDir());
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new InputFileError(root, (o) => dir === undefined
      ? `the default dataset is missing; pass ${o("data")} DIR (a folder with MNIST/Fashion-MNIST IDX files) or install dataset-fashion-mnist`
      : `no such directory (${o("data")} wants a folder with MNIST/Fashion-MNIST IDX files)`);
  }
  if (!st.isDirectory()) throw new InputFileError(root, (o) => `is not a directory (${o("data")} wants a folder with MNIST/Fashion-MNIST IDX files)`);
  const pair = findIdxPair(root, split);
  if (!pair) {
    const p = PREFIX[split][0];
    throw new InputFileError(root, `has no ${split} IDX files (expected ${p}-images-idx3-ubyte[.gz] and ${p}-labels-idx1-ubyte[.gz], as MNIST and Fashion-MNIST ship them)`);
  }
  const img = readIdx(pair.images, 3);
  const lab = readIdx(pair.labels, 1);
  const [count, height, width] = img.dims as [number, number, number];
  if (lab.dims[0] !== count) {
    throw new InputFileError(pair.labels, `has ${lab.dims[0]} labels but ${pair.images} has ${count} images; the two files must match`);
  }
  if (count === 0) throw new InputFileError(pair.images, "holds no images");
  if (height === 0 || width === 0) throw new InputFileError(pair.images, `has empty images (${height} x ${width})`);
  let maxLabel = 0;
  for (const l of lab.data) if (l > maxLabel) maxLabel = l;
  const classes = maxLabel + 1;
  const images = sharedBytes(img.data.length);
  images.set(img.data);
  return { images, labels: lab.data, count, channels: 1, height, width, classes, classNames: classNamesFor(root, classes, fashionLike(root) ? FASHION_MNIST_CLASSES : undefined), source: pair.images };
}

/**
 * IDX files do not name their classes: the Fashion-MNIST locations bnnas knows (and folders
 * whose path says fashion) get Fashion-MNIST's names; MNIST and the rest get indices (or a
 * classes.txt beside the files).
 */
function fashionLike(root: string): boolean {
  return root === resolve(SYSTEM_FASHION_MNIST) || root === resolve(SHIPPED_SUBSET) || /fashion/i.test(root);
}

/** A dataset holding the images at `indices` (copied, in that order). */
export function subset(ds: Dataset, indices: ArrayLike<number>, note = "subset"): Dataset {
  const size = ds.channels * ds.height * ds.width;
  const images = sharedBytes(indices.length * size);
  const labels = labelArray(indices.length, ds.classes);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    images.set(ds.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = ds.labels[j]!;
  }
  return { ...ds, images, labels, count: indices.length, source: `${ds.source} (${note})` };
}

export interface ValidationSplit {
  train: Dataset;
  val: Dataset;
  /** Indices into the original dataset, ascending. */
  trainIndices: Uint32Array;
  valIndices: Uint32Array;
}

/**
 * Carves a validation set of `valCount` images (or a fraction of the set when 0 < valCount < 1)
 * out of a training set, chosen by `seed`; the same seed always gives the same split, so
 * training (which excludes it) and search (which evaluates on it) agree.
 */
export function splitValidation(ds: Dataset, valCount: number, seed: number): ValidationSplit {
  const n = valCount > 0 && valCount < 1 ? Math.round(ds.count * valCount) : valCount;
  if (!Number.isInteger(n) || n < 1 || n >= ds.count) {
    throw new UsageError(`a validation split of ${valCount} does not fit a dataset of ${ds.count} images (use 1..${ds.count - 1} images or a fraction in (0, 1))`);
  }
  const order = shuffleInPlace(iota(ds.count), streamFor(seed, "data/validation-split"));
  const valIndices = order.slice(0, n).sort();
  const trainIndices = order.slice(n).sort();
  return {
    train: subset(ds, trainIndices, `without a validation split of ${n}, seed ${seed}`),
    val: subset(ds, valIndices, `validation split of ${n}, seed ${seed}`),
    trainIndices,
    valIndices,
  };
}
