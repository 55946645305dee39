/**
 * What a training engine is (engine.ts creates one; engine/fused-trainer.ts and
 * engine/path-trainer.ts are the two layouts): its options, what one step returns, its interface.
 */
import type { Device } from "../../runtime/ort.js";
import type { Tensor } from "../../onnx/tensor.js";
import type { ActivationPolicy } from "./blocks.js";
import type { KindTiming } from "./sessions.js";

export interface EngineOptions {
  /**
   * "bn" (BN-NAS): only BatchNorm gamma/beta train, whose under `bn`, conv weights stay frozen
   * initializers; "all" (SPOS, retraining a subnet): every conv and linear weight and bias and
   * every BatchNorm's gamma/beta train, fed as graph inputs each step. Default "bn".
   */
  weights?: "bn" | "all";
  bn: "last" | "all";
  trainHead: boolean;
  labelSmoothing: number;
  device?: Device;
  threads?: number;
  /**
   * "fused": one session for the whole step; "blocks": one cached session per block and
   * direction, created when a path first samples it. Default "auto": fused unless the supernet's
   * weights exceed FUSED_MAX_WEIGHT_BYTES (see chooseLayout).
   */
  layout?: EngineLayout;
  /**
   * Where the backward gets the forward tensors it reads (see engine/blocks.ts ActivationPolicy).
   * Fused default "save": inside one session a saved tensor costs nothing to pass on, so nothing
   * is recomputed. Blocks default "checkpoint": BN statistics and centred BN inputs (conv outputs
   * where still needed) come from the forward run, the elementwise work between them is
   * recomputed. Measured on fmnist-small (batch 128, shared 2-core machine): with blocks, a few %
   * faster than "recompute" (which runs every conv twice) and than "save" (every saved tensor is
   * copied into JavaScript memory and back).
   */
  activations?: ActivationPolicy;
  /**
   * Keep onnxruntime's memory arenas: default true for the fused layout (one session, ~15% faster
   * steps), false for blocks (one arena per session would add up to gigabytes).
   */
  arena?: boolean;
  /** Let onnxruntime's idle worker threads spin-wait (ORT's default); default false: they sleep, see RuntimeOptions.noSpin. */
  spin?: boolean;
  /** Record wall time per block kind (see TrainEngine.timings). */
  profile?: boolean;
}

export interface StepResult {
  /** Mean over the batch (with label smoothing). */
  loss: number;
  /** Number of samples whose argmax == label. */
  correct: number;
  /** d loss / d param, keyed by initializer name. */
  grads: Map<string, Float32Array>;
  /** Per BatchNormalization node name on the path: batch mean, biased batch variance, count = N*H*W. */
  batchStats: Map<string, { mean: Float32Array; var: Float32Array; count: number }>;
}

export interface TrainEngine {
  /** Initializer names that receive gradients for this architecture. */
  trainableOnPath(arch: readonly number[]): string[];
  /** Forward+backward of one path on one batch; params holds the current BN scale/bias (and head weights). */
  step(arch: readonly number[], x: Tensor, labels: Int32Array, params: ReadonlyMap<string, Float32Array>): Promise<StepResult>;
  release(): Promise<void>;
  /** With options.profile: per block kind, session creation time, run count and total run time (ms). */
  timings?(): Map<string, KindTiming>;
}

export type EngineLayout = "auto" | "fused" | "blocks";
