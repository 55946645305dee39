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
import { elementCount, elementSize } from "../onnx/tensor.js";
import type { SupernetStructure } from "../structure/structure.js";
import { UsageError } from "../errors.js";
import { checkDifferentiable } from "../autodiff/differentiable.js";
import { partitionSupernet } from "./engine/partition.js";
import type { EngineOptions, EngineLayout, TrainEngine } from "./engine/types.js";
import { TrainingPlan, weightInitializers } from "./engine/plan.js";
import { PathTrainer } from "./engine/path-trainer.js";
import { FusedTrainer } from "./engine/fused-trainer.js";

export type { EngineOptions, EngineLayout, StepResult, TrainEngine } from "./engine/types.js";

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
  const graph = model.graph!;
  const weights = options.weights === "all" ? weightInitializers(graph.node, new Set(graph.initializer.map((t) => t.name))) : [];
  if (options.weights === "all" && weights.length === 0) throw new UsageError("the model has no weights to train (no Conv, Gemm, MatMul or BatchNormalization initializers)");
  checkDifferentiable(graph, structure.input, undefined, weights);
  const plan = new TrainingPlan(structure, partitionSupernet(model, structure), options);
  return chooseLayout(model, options.layout) === "fused" ? FusedTrainer.create(plan, options) : new PathTrainer(plan, options);
}
