/**
 * The training engine: forward and backward of one sampled path of a supernet on one batch, on
 * onnxruntime-node. The supernet is cut into stem, per-candidate segments and head
 * (engine/partition.ts); each segment gets a forward and a backward model (engine/blocks.ts).
 * Two layouts run them: "fused" (default; engine/fused-trainer.ts) composes every block of the
 * supernet into one model with an If per layer choosing the candidate, one session run per step;
 * "blocks" (engine/path-trainer.ts) runs each block of the path in its own cached session.
 *
 * BN scale/bias (and head weights with trainHead) are fed as inputs on every run; frozen conv
 * weights stay initializers. Every BN on the path runs in training mode (batch statistics) and
 * passes gradients, whatever `bn` says; `bn` only decides whose gamma/beta get gradients.
 */
import type { ModelProto } from "../onnx/proto.js";
import type { Device } from "../runtime/ort.js";
import { elementCount, elementSize, type Tensor } from "../onnx/tensor.js";
import type { SupernetStructure } from "../supernet/structure.js";
import { UsageError } from "../errors.js";
import { partitionSupernet } from "./engine/partition.js";
import type { ActivationPolicy } from "./engine/blocks.js";
import type { KindTiming } from "./engine/sessions.js";
import { TrainingPlan } from "./engine/plan.js";
import { PathTrainer } from "./engine/path-trainer.js";
import { FusedTrainer } from "./engine/fused-trainer.js";

export interface EngineOptions {
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

/**
 * The fused model holds every candidate's weights twice (forward, and rotated for the backward)
 * and onnxruntime prepacks both: measured on bnnas-mbv2 (112 MB of weights) 2.1 GB resident and
 * 7 s to create, against 0.5 GB and lazy creation for blocks. Past this size blocks is the default.
 */
export const FUSED_MAX_WEIGHT_BYTES = 64 * 2 ** 20;

export function chooseLayout(model: ModelProto, layout: EngineLayout = "auto"): "fused" | "blocks" {
  if (layout !== "auto") return layout;
  let bytes = 0;
  for (const t of model.graph!.initializer) bytes += elementCount(t.dims.map(Number)) * (elementSize(t.dataType) ?? 4);
  return bytes <= FUSED_MAX_WEIGHT_BYTES ? "fused" : "blocks";
}

export async function createEngine(model: ModelProto, structure: SupernetStructure, options: EngineOptions): Promise<TrainEngine> {
  if (!(options.labelSmoothing >= 0 && options.labelSmoothing < 1)) throw new UsageError(`label smoothing must be in [0, 1), got ${options.labelSmoothing}`);
  const plan = new TrainingPlan(structure, partitionSupernet(model, structure), options);
  return chooseLayout(model, options.layout) === "fused" ? FusedTrainer.create(plan, options) : new PathTrainer(plan, options);
}
