/**
 * Evaluation of a standalone (sub)network on an image dataset: top-1 accuracy and inference
 * throughput on onnxruntime-node, plus BatchNorm recalibration of a supernet path (SPOS).
 */
import { decodeModelProto, encodeModelProto, type ModelProto } from "../onnx/proto.js";
import { Session, type Device } from "./ort.js";
import { batchNormStatsGraph, RunningStats } from "./recalibrate.js";
import { makeBatch, sequentialBatches, epochOrder } from "../data/batches.js";
import type { Normalization } from "../structure/normalization.js";
import type { Dataset } from "../data/dataset.js";
import { BnnasError, OptionError, UsageError } from "../errors.js";
import { GraphIndex } from "../onnx/graph.js";

export interface EvalOptions {
  batch?: number;
  /** Evaluate only the first `limit` images. */
  limit?: number;
  device?: Device;
  threads?: number;
  /** Called after each batch with images done so far and the running accuracy. */
  onBatch?: (done: number, total: number, accuracy: number) => void;
}

/** One class's accuracy on the test images whose true class it is. */
export interface ClassAccuracy {
  label: string;
  /** Correct / n (0 when the class has no test images). */
  acc: number;
  /** Test images of this class. */
  n: number;
}

export interface EvalResult {
  accuracy: number;
  correct: number;
  images: number;
  /** Class names, in label (and logit) order. */
  classes: string[];
  per_class: ClassAccuracy[];
  /** confusion[true][predicted] = images; rows are true classes, columns predictions. */
  confusion: number[][];
  /** Images per second of inference alone (session.run), excluding batch preparation. */
  images_per_s: number;
  /** Seconds in session.run, and wall seconds including decoding images into float batches. */
  inference_s: number;
  wall_s: number;
  batch: number;
}

/** Index of the largest of `row` (first on ties), for argmax over one image's logits. */
export function argmax(data: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let k = 1; k < length; k++) if (data[offset + k]! > data[offset + best]!) best = k;
  return best;
}

/** Checks that the model's input matches the dataset's images ([N, C, H, W]) and returns the input name. */
export function modelInput(model: ModelProto, ds: Pick<Dataset, "channels" | "height" | "width">, file = "<model>"): { name: string; output: string } {
  const graph = model.graph!;
  const feeds = new GraphIndex(graph).feeds;
  if (feeds.length !== 1) {
    throw new BnnasError(`${file}: has ${feeds.length} inputs (${feeds.map((f) => f.name).join(", ")}); eval needs a model with one image input`);
  }
  const input = feeds[0]!;
  const dims = input.type?.tensorType?.shape?.dim;
  if (dims) {
    const want = [ds.channels, ds.height, ds.width];
    const got = dims.slice(1).map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : undefined));
    if (dims.length !== 4 || got.some((g, i) => g !== undefined && g !== want[i])) {
      const shown = dims.map((d) => d.dimParam || String(d.dimValue ?? "?")).join("x");
      throw new BnnasError(`${file}: input '${input.name}' has shape ${shown} but the data's images are ${want.join("x")} (C x H x W)`);
    }
  }
  return { name: input.name, output: graph.output[0]!.name };
}

/** Top-1 accuracy and throughput of `model` on `data`. */
export async function evaluate(model: ModelProto, data: Dataset, norm: Normalization, options: EvalOptions = {}, file = "<model>"): Promise<EvalResult> {
  const batch = options.batch ?? 256;
  const total = Math.min(data.count, options.limit ?? data.count);
  if (total < 1) throw new OptionError("limit", (o) => `nothing to evaluate (${o} must be at least 1)`);
  const io = modelInput(model, data, file);
  const session = await Session.create(model, { device: options.device, threads: options.threads });
  // Rows: the data's classes; columns: the model's outputs too, should it have more.
  let k = Math.max(data.classes, data.classNames?.length ?? 0);
  let confusion: number[][] | undefined;
  let correct = 0;
  let done = 0;
  let inferenceMs = 0;
  const wallStart = performance.now();
  try {
    for (const idx of sequentialBatches(total, batch)) {
      const { x, labels } = makeBatch(data, idx, norm);
      const t0 = performance.now();
      const out = await session.run({ [io.name]: x }, [io.output]);
      inferenceMs += performance.now() - t0;
      const logits = out[io.output]!;
      const classes = logits.dims[1] ?? 0;
      if (logits.dims.length !== 2 || logits.dims[0] !== idx.length || classes < 1) {
        throw new BnnasError(`${file}: output '${io.output}' has shape [${logits.dims}], expected [${idx.length}, classes]`);
      }
      if (!confusion) {
        if (classes < data.classes) throw new BnnasError(`${file}: outputs ${classes} classes but ${data.source} has ${data.classes}; evaluate it on data with at most ${classes} classes`);
        k = Math.max(k, classes);
        confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
      }
      const values = logits.data as Float32Array;
      for (let i = 0; i < idx.length; i++) {
        const predicted = argmax(values, i * classes, classes);
        if (predicted === labels[i]) correct++;
        confusion[labels[i]!]![predicted]! += 1;
      }
      done += idx.length;
      options.onBatch?.(done, total, correct / done);
    }
  } finally {
    await session.release();
  }
  const wall = (performance.now() - wallStart) / 1000;
  const names = Array.from({ length: k }, (_, i) => data.classNames?.[i] ?? String(i));
  const matrix = confusion ?? [];
  return {
    accuracy: correct / total,
    correct,
    images: total,
    classes: names,
    per_class: names.map((label, c) => {
      const n = matrix[c]?.reduce((a, b) => a + b, 0) ?? 0;
      return { label, acc: n > 0 ? matrix[c]![c]! / n : 0, n };
    }),
    confusion: matrix,
    images_per_s: total / (inferenceMs / 1000),
    inference_s: inferenceMs / 1000,
    wall_s: wall,
    batch,
  };
}

export interface RecalibrateOptions {
  /** Number of training batches. */
  batches: number;
  batch?: number;
  /** Chooses which training images (a seeded shuffle); the same seed gives the same statistics. */
  seed?: number;
  device?: Device;
  threads?: number;
  onBatch?: (done: number, total: number) => void;
}

/**
 * The training images of each recalibration batch: a seeded shuffle of the set, taken in order and
 * wrapping around a small set rather than failing (each batch is still a fair sample).
 */
export function recalibrationBatches(count: number, batches: number, batch: number, seed = 0): Uint32Array[] {
  const order = epochOrder(count, seed, 0);
  return Array.from({ length: batches }, (_, b) => Uint32Array.from({ length: batch }, (_, i) => order[(b * batch + i) % count]!));
}

/**
 * Returns a copy of `model` whose BatchNorm running statistics are recomputed from `train`
 * (see recalibrate.ts: train-mode forward, cumulative average, unbiased variance).
 */
export async function recalibrateBatchNorm(model: ModelProto, train: Dataset, norm: Normalization, options: RecalibrateOptions, file = "<model>"): Promise<{ model: ModelProto; batchNorms: number; images: number }> {
  const batch = options.batch ?? 128;
  if (options.batches < 1) throw new OptionError("recalibrateBn", (o) => `${o} takes a number of batches >= 1`);
  if (batch < 2) throw new UsageError("BatchNorm recalibration needs batches of at least 2 images");
  const stats = batchNormStatsGraph(model, file);
  const io = modelInput(stats.model, train, file);
  const session = await Session.create(stats.model, { device: options.device, threads: options.threads });
  const running = new RunningStats(stats);
  const fetches = stats.batchNorms.flatMap((s) => [s.meanOut, s.varOut, s.shapeOut]);
  let images = 0;
  try {
    const plan = recalibrationBatches(train.count, options.batches, batch, options.seed ?? 0);
    for (const [b, idx] of plan.entries()) {
      const { x } = makeBatch(train, idx, norm);
      running.add(await session.run({ [io.name]: x }, fetches));
      images += batch;
      options.onBatch?.(b + 1, options.batches);
    }
  } finally {
    await session.release();
  }
  const out = decodeModelProto(encodeModelProto(model));
  running.apply(out);
  return { model: out, batchNorms: stats.batchNorms.length, images };
}
