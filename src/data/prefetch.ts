/**
 * Where training batches come from: made on the main thread when asked (`syncSource`), or in a
 * worker thread (`workerSource`) so the next batch is ready while onnxruntime runs this step
 * (onnxruntime-node's run occupies the main thread, so only another thread overlaps with it).
 * Both call makeBatch on the same pixels with the same indices and the same (seed, step)
 * augmentation stream, so the batches, and the training run, are bit-identical.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Tensor } from "../onnx/tensor.js";
import type { Normalization } from "../structure/normalization.js";
import { augmentationFor, makeBatch, type Batch } from "./batches.js";
import type { Dataset } from "./dataset.js";

export interface BatchRequest {
  indices: Uint32Array;
  /** Augment with the draws of (seed, step) (see augmentationFor). */
  augment?: { seed: number; step: number };
}

export interface BatchSource {
  readonly kind: "worker" | "sync";
  get(req: BatchRequest): Promise<Batch>;
  close(): Promise<void>;
}

/** Batches made on the calling thread. */
export function syncSource(data: Dataset, norm: Normalization): BatchSource {
  return {
    kind: "sync",
    get: (req) => {
      try {
        return Promise.resolve(makeBatch(data, req.indices, norm, req.augment ? augmentationFor(req.augment.seed, req.augment.step) : undefined));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    close: async () => undefined,
  };
}

/**
 * The compiled worker script. From the compiled package it sits beside this module; when this
 * module runs from its TypeScript source (the tests), the build's copy is used.
 */
export function workerScript(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const beside = join(dirname(here), "batch-worker.js");
  if (existsSync(beside)) return beside;
  let dir = dirname(here);
  for (;;) {
    const built = join(dir, "dist", "src", "data", "batch-worker.js");
    if (existsSync(join(dir, "package.json"))) return existsSync(built) ? built : undefined;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** A dataset whose pixels live in shared memory (copied there once when they do not). */
function shared(data: Dataset): Dataset {
  if (data.images.buffer instanceof SharedArrayBuffer) return data;
  const images = new Uint8Array(new SharedArrayBuffer(data.images.length));
  images.set(data.images);
  return { ...data, images };
}

interface Reply {
  id: number;
  x?: Float32Array;
  dims?: number[];
  labels?: Int32Array;
  error?: string;
}

/** Batches made in a worker thread; requests are answered in order. */
export function workerSource(data: Dataset, norm: Normalization, script: string): BatchSource {
  const worker = new Worker(script, { workerData: { data: shared(data), norm } });
  // The worker keeps the process alive only while a batch is awaited from it: an idle worker
  // must not keep a finished process running, and an awaited one must not let it exit.
  worker.unref();
  const waiting = new Map<number, { resolve: (b: Batch) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let failed: Error | undefined;
  const failAll = (e: Error) => {
    failed = e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
    worker.unref();
  };
  worker.on("message", (r: Reply) => {
    const w = waiting.get(r.id);
    if (!w) return;
    waiting.delete(r.id);
    if (waiting.size === 0) worker.unref();
    if (r.error !== undefined) w.reject(new RangeError(r.error));
    else w.resolve({ x: { dims: r.dims!, data: r.x! } as Tensor<Float32Array>, labels: r.labels! });
  });
  worker.on("error", (e) => failAll(e));
  worker.on("exit", (code) => {
    if (waiting.size > 0) failAll(new Error(`the batch worker exited (code ${code})`));
  });
  return {
    kind: "worker",
    get: (req) => {
      if (failed) return Promise.reject(failed);
      const id = nextId++;
      return new Promise<Batch>((resolve, reject) => {
        if (waiting.size === 0) worker.ref();
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, indices: req.indices, augment: req.augment });
      });
    },
    close: async () => {
      failAll(new Error("the batch source is closed"));
      await worker.terminate();
    },
  };
}

/** Where batches are made: in a worker thread while the step runs, or on the main thread between steps. */
export type PrefetchMode = "worker" | "main";
export const PREFETCH_MODES: readonly PrefetchMode[] = ["worker", "main"];

/**
 * The source training uses (default: the worker). Either way a batch costs little (makeBatch:
 * 0.5-0.6 ms for 128 x 1x28x28 with augmentation, under 0.2% of a step, scripts/bench-data.ts);
 * the worker takes even that off the step, at the price of one more thread competing with
 * onnxruntime's on a machine without a free core ("main" avoids that). The batches are the same
 * bytes either way. Without the compiled worker script, batches are made on the main thread and
 * `note` says why.
 */
export function openBatchSource(data: Dataset, norm: Normalization, mode: PrefetchMode = "worker"): { source: BatchSource; note?: string } {
  if (mode === "main") return { source: syncSource(data, norm) };
  const script = workerScript();
  if (!script) return { source: syncSource(data, norm), note: "batch prefetching is off: the compiled worker (dist/src/data/batch-worker.js) is missing; run npm run build" };
  return { source: workerSource(data, norm, script) };
}
