/**
 * `oneshot`: the one-shot accuracy SPOS (Guo et al., ECCV 2020) ranks by, and which BN-NAS sets out
 * to replace: each path is taken out of the supernet with its shared weights, its BatchNorm
 * statistics are recomputed from training images (SPOS's recalibration), and its accuracy on
 * held-out images is its score. It only means something on a supernet whose convolutions were
 * trained (`train --weights all`); the ranking study measures it beside the BN indicator.
 *
 * Held-out images: the supernet's own validation split when it was trained with `--holdout` (the
 * images it never saw, as the training record names them), otherwise the first images of the test
 * split, with a note, since selecting on the test split biases any accuracy later reported on it.
 */
import type { LoadedSupernet } from "../supernet/load.js";
import { pathIndicator } from "./path-indicator.js";
import { inputImageShape, loadData } from "../data/load.js";
import { splitValidation, type Dataset } from "../data/dataset.js";
import { evaluate, recalibrateBatchNorm } from "../runtime/eval.js";
import { FASHION_MNIST_NORMALIZATION } from "../data/batches.js";
import type { ArchIndicator } from "./arch-indicator.js";
import type { ProxyOptions } from "./proxy-options.js";

export const ONESHOT = {
  name: "oneshot",
  description: "one-shot accuracy (SPOS, Guo et al. 2020): the path's accuracy with the supernet's shared weights, BatchNorm recalibrated, on held-out images; for a supernet trained with --weights all",
} as const;

/**
 * Defaults: 8 recalibration batches of 128 training images (SPOS's code uses 20 batches; fewer keep
 * one path near 1-2 s on 2 cores), and 2,000 held-out images, which resolve accuracy to 0.05 points.
 */
export const ONESHOT_DEFAULTS = { images: 2000, recalibrateBatches: 8, recalibrateBatch: 128 } as const;

/** The validation split a bnnas training record names (images held out of training), if any. */
function recordedHoldout(loaded: LoadedSupernet): { holdout: number; seed: number } | null {
  const data = (loaded.manifest?.training as { data?: { holdout?: unknown; holdoutSeed?: unknown } } | null | undefined)?.data;
  const holdout = data?.holdout;
  const seed = data?.holdoutSeed;
  return typeof holdout === "number" && holdout > 0 && typeof seed === "number" ? { holdout, seed } : null;
}

export function oneshotIndicator(loaded: LoadedSupernet, options: ProxyOptions = {}): ArchIndicator {
  const norm = options.norm ?? loaded.manifest?.input.normalize ?? FASHION_MNIST_NORMALIZATION;
  const engine = { device: options.device, threads: options.threads };
  const images = options.oneshotImages ?? ONESHOT_DEFAULTS.images;
  return pathIndicator(
    loaded,
    { ...ONESHOT, onEvaluated: options.onEvaluated },
    async (): Promise<{ recalibrate: Dataset; heldOut: Dataset }> => {
      const want = inputImageShape(loaded.structure.input.shape);
      const request = { ...options.dataOptions, ...(want ? { want } : {}) };
      const train = await loadData(options.data, "train", request);
      const holdout = recordedHoldout(loaded);
      if (holdout) {
        const split = splitValidation(train, holdout.holdout, holdout.seed);
        return { recalibrate: split.train, heldOut: split.val };
      }
      options.dataOptions?.onNote?.(`${loaded.file} records no validation split (train it with --holdout N): oneshot scores on the test split's first ${images} images`);
      return { recalibrate: train, heldOut: await loadData(options.data, "test", request) };
    },
    async (subnet, sets) => {
      const recalibrated = await recalibrateBatchNorm(subnet, sets.recalibrate, norm, { batches: ONESHOT_DEFAULTS.recalibrateBatches, batch: ONESHOT_DEFAULTS.recalibrateBatch, seed: options.seed ?? 0, ...engine }, loaded.file);
      return (await evaluate(recalibrated.model, sets.heldOut, norm, { limit: images, ...engine }, loaded.file)).accuracy;
    },
  );
}
