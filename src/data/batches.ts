/**
 * From bytes to network inputs: normalised NCHW float batches, and seeded per-epoch orders.
 *
 * Typical use (training or evaluation):
 *   const ds = loadDataset(dir, "test");
 *   for (const idx of sequentialBatches(ds.count, 256)) {
 *     const { x, labels } = makeBatch(ds, idx, norm);   // x: [B, C, H, W] float32
 *   }
 */
import type { Tensor } from "../onnx/tensor.js";
import type { Dataset } from "./dataset.js";
import { streamFor, type Random } from "../util/random.js";
import { iota, shuffleInPlace } from "./shuffle.js";
import { UsageError } from "../errors.js";
import type { Normalization } from "../structure/normalization.js";

/** Fashion-MNIST's pixel statistics (the fmnist-small space's input normalisation). */
export const FASHION_MNIST_NORMALIZATION: Normalization = { mean: [0.286], std: [0.353] };

export interface Batch {
  x: Tensor<Float32Array>;
  labels: Int32Array;
}

/** Per-channel lookup tables byte -> normalised float (the normalisation done once, not per pixel). */
function lookupTables(norm: Normalization, channels: number): Float32Array[] {
  const tables: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const mean = norm.mean.length === 1 ? norm.mean[0]! : norm.mean[c];
    const std = norm.std.length === 1 ? norm.std[0]! : norm.std[c];
    if (mean === undefined || std === undefined) throw new UsageError(`the input normalisation has ${norm.mean.length} means and ${norm.std.length} stds for ${channels} channels`);
    if (!(std > 0)) throw new UsageError(`the input normalisation std must be > 0, not ${std}`);
    const t = new Float32Array(256);
    for (let p = 0; p < 256; p++) t[p] = (p / 255 - mean) / std;
    tables.push(t);
  }
  return tables;
}

const tableCache = new WeakMap<Normalization, Map<number, Float32Array[]>>();
function cachedTables(norm: Normalization, channels: number): Float32Array[] {
  let byC = tableCache.get(norm);
  if (!byC) tableCache.set(norm, (byC = new Map()));
  let t = byC.get(channels);
  if (!t) byC.set(channels, (t = lookupTables(norm, channels)));
  return t;
}

/**
 * Training-time augmentation, as torchvision's RandomCrop(size, padding=pad) followed by
 * RandomHorizontalFlip(): each image is shifted by (dy, dx) in [-pad, pad] with zero pixels
 * (byte 0, before normalisation, as torchvision pads the PIL image) filling what comes in, then
 * mirrored with probability 1/2. The draws come from `random`, so a seeded stream per step keeps
 * a resumed run exact.
 */
export interface Augmentation {
  random: Random;
  /** Crop padding in pixels (default 2). */
  pad?: number;
}

/** The augmentation draws of training step `step`: a stream of (seed, step), so a resumed run and the prefetch worker draw the same. */
export function augmentationFor(seed: number, step: number, pad?: number): Augmentation {
  return { random: streamFor(seed, `data/augment step ${step}`), ...(pad !== undefined ? { pad } : {}) };
}

/** The images at `indices` as a normalised [B, C, H, W] float tensor, with their labels. */
export function makeBatch(ds: Dataset, indices: ArrayLike<number>, norm: Normalization, augment?: Augmentation): Batch {
  const { height: h, width: w } = ds;
  const plane = h * w;
  const size = ds.channels * plane;
  const tables = cachedTables(norm, ds.channels);
  const x = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  const pad = augment?.pad ?? 2;
  for (let b = 0; b < indices.length; b++) {
    const j = indices[b]!;
    if (!(j >= 0 && j < ds.count)) throw new RangeError(`image index ${j} outside 0..${ds.count - 1}`);
    labels[b] = ds.labels[j]!;
    if (!augment) {
      for (let c = 0; c < ds.channels; c++) {
        const t = tables[c]!;
        const src = j * size + c * plane;
        const dst = b * size + c * plane;
        for (let k = 0; k < plane; k++) x[dst + k] = t[ds.images[src + k]!]!;
      }
      continue;
    }
    // Output (y, x) reads the source at (y + dy, x + dx) (mirrored: x' = w - 1 - x first).
    const dy = augment.random.int(2 * pad + 1) - pad;
    const dx = augment.random.int(2 * pad + 1) - pad;
    const flip = augment.random.uniform() < 0.5;
    for (let c = 0; c < ds.channels; c++) {
      const t = tables[c]!;
      const zero = t[0]!;
      const src = j * size + c * plane;
      const dst = b * size + c * plane;
      for (let y = 0; y < h; y++) {
        const sy = y + dy;
        for (let xx = 0; xx < w; xx++) {
          const sx = (flip ? w - 1 - xx : xx) + dx;
          x[dst + y * w + xx] = sy >= 0 && sy < h && sx >= 0 && sx < w ? t[ds.images[src + sy * w + sx]!]! : zero;
        }
      }
    }
  }
  return { x: { dims: [indices.length, ds.channels, h, w], data: x }, labels };
}

/**
 * The image order of one training epoch: a permutation of 0..count-1 that depends only on
 * (seed, epoch), so a resumed run recomputes it instead of storing it.
 */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  return shuffleInPlace(iota(count), streamFor(seed, `data/epoch ${epoch}`));
}

/** Full batches per epoch (the incomplete last batch is dropped, so every step sees `batch` images). */
export function batchesPerEpoch(count: number, batch: number): number {
  return Math.floor(count / batch);
}

/** Index ranges for evaluation in order: every image once, the last batch possibly smaller. */
export function* sequentialBatches(count: number, batch: number): Generator<Uint32Array> {
  for (let start = 0; start < count; start += batch) {
    const end = Math.min(count, start + batch);
    const idx = new Uint32Array(end - start);
    for (let i = 0; i < idx.length; i++) idx[i] = start + i;
    yield idx;
  }
}
