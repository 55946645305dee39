/**
 * The prefetch worker (see prefetch.ts): holds the dataset's pixels in shared memory and makes
 * the batches it is asked for with the same makeBatch as the main thread, so a batch is the same
 * bytes whichever thread made it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { augmentationFor, makeBatch } from "./batches.js";
import type { Dataset } from "./dataset.js";
import type { Normalization } from "../structure/normalization.js";

interface Init {
  data: Dataset;
  norm: Normalization;
}

interface Request {
  id: number;
  indices: Uint32Array;
  augment?: { seed: number; step: number };
}

const { data, norm } = workerData as Init;

parentPort!.on("message", (req: Request) => {
  try {
    const batch = makeBatch(data, req.indices, norm, req.augment ? augmentationFor(req.augment.seed, req.augment.step) : undefined);
    parentPort!.postMessage({ id: req.id, x: batch.x.data, dims: batch.x.dims, labels: batch.labels }, [batch.x.data.buffer as ArrayBuffer, batch.labels.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: req.id, error: (e as Error).message });
  }
});
