/**
 * Training-mode BatchNormalization built from standard ops, so it runs on every execution
 * provider (ORT's own training_mode=1 kernel is CPU-only and hides the batch statistics):
 *
 *   mean = ReduceMean(x, [0,2,3..])   xc = x - mean   var = ReduceSumSquare(xc)/M   (biased, as PyTorch normalises)
 *   y    = BatchNormalization(xc, gamma, beta, 0, var)   in inference mode, i.e. with the batch statistics
 *
 * Why centred: the one-pass E[x^2] - mean^2 (and an affine x*a + b with b ~ -mean*a) cancels
 * catastrophically once |mean| >> std, which BN-only training reaches: with lr 1.0 the betas
 * grow, the next block's conv outputs get large channel means, and the uncentred form changed
 * the fmnist-small supernet's loss curve by 0.1 over 300 steps against PyTorch's
 * (scripts/compare-curve.ts), although every single step matched the torch-tiny oracle. The
 * centred tensor xc is also what the gradient rule reads. Cost: one more pass over x.
 *
 * Reductions over (N, H, W) run in two stages, spatial then batch: onnxruntime's CPU reduce over
 * non-adjacent axes [0,2,3] measured 25-40% slower than [2,3] followed by [0] on [128,144,14,14].
 * The batch stage is a ReduceMean, so M = N*H*W never has to be computed from the dynamic batch
 * size: var = mean over N of (sum over H,W of xc^2) / (H*W), with H*W static. Per-channel values
 * stay [C]-shaped (no reshapes): the tiny per-channel nodes cost ~14 us each, and a step runs
 * hundreds of them.
 *
 * The lowering exposes mean and var ([C], for the running statistics), the [1,C,1,..] mean, the
 * [C] 1/std the gradient rule reads, and the centred input, under names derived from the BN's output.
 */
import { attr, type GraphBuilder } from "../../onnx/builder.js";
import type { NodeProto } from "../../onnx/proto.js";
import { attrFloat } from "../../onnx/graph.js";
import type { Shape } from "../types.js";
import { elementCount } from "../../onnx/tensor.js";

export interface LoweredBatchNorm {
  y: string;
  /** Batch mean and biased batch variance, shape [C]. */
  mean: string;
  var: string;
  /** The batch mean as [1,C,1,..] (what x - mean broadcasts). */
  meanB: string;
  /** 1/sqrt(var+eps), shape [C]; read by the gradient. */
  invStd: string;
  /** x - mean, x's shape. */
  centered: string;
}

/** Deterministic names of the lowering's side tensors for the BN whose output is `y`. */
export function loweredNames(y: string): Omit<LoweredBatchNorm, "y"> {
  return { mean: `${y}::batch_mean`, var: `${y}::batch_var`, meanB: `${y}::mean_b`, invStd: `${y}::inv_std`, centered: `${y}::centered` };
}

/** The spatial element count H*W*.. of the input of the BN named `bn`, which must be static. */
export function spatialCount(bn: string, shape: Shape): number {
  const spatial = shape.slice(2);
  if (!spatial.every((d): d is number => typeof d === "number")) throw new Error(`autodiff: BatchNormalization '${bn}': spatial dims must be static (got ${shape.join("x")}); re-export without dynamic spatial axes`);
  return elementCount(spatial);
}

/** Emits the training-mode lowering of `node` (inputs x, scale, B, mean, var; only x, scale, B are read). */
export function lowerBatchNorm(b: GraphBuilder, node: NodeProto, shape: Shape): LoweredBatchNorm {
  const [x, scale, bias] = node.input as [string, string, string];
  const y = node.output[0]!;
  const names = loweredNames(y);
  const eps = attrFloat(node, "epsilon", 1e-5);
  const base = node.name || y;
  const channels = shape[1];
  if (typeof channels !== "number") throw new Error(`autodiff: BatchNormalization '${base}': the channel count of its input is unknown`);
  const spatial = Array.from({ length: shape.length - 2 }, (_, i) => i + 2);
  const hw = spatialCount(base, shape);
  const overBatch = (keepdims: number) => ({ axes: attr.ints([0]), keepdims: attr.int(keepdims) });
  const spatialMean = spatial.length ? b.op("ReduceMean", [x], { axes: attr.ints(spatial), keepdims: attr.int(1) }, `${base}::spatial_mean`) : x;
  b.node("ReduceMean", [spatialMean], overBatch(1), { name: `${base}::mean_b`, outputs: [names.meanB] });
  b.node("Sub", [x, names.meanB], {}, { name: `${base}::centered`, outputs: [names.centered] });
  // [N,C] sums of squares over the spatial axes (rank 2: the squares themselves), then their batch mean / (H*W)
  const squares = spatial.length
    ? b.op("ReduceSumSquare", [names.centered], { axes: attr.ints(spatial), keepdims: attr.int(0) }, `${base}::spatial_sum_sq`)
    : b.op("Mul", [names.centered, names.centered], {}, `${base}::squares`);
  const meanSq = b.op("ReduceMean", [squares], overBatch(0), `${base}::batch_mean_sq`);
  if (hw === 1) b.node("Identity", [meanSq], {}, { name: `${base}::batch_var`, outputs: [names.var] });
  else b.node("Mul", [meanSq, b.floatInit(`${base}::inv_spatial`, [], [1 / hw])], {}, { name: `${base}::batch_var`, outputs: [names.var] });
  const std = b.op("Sqrt", [b.op("Add", [names.var, b.floatInit(`${base}::eps`, [], [eps])], {}, `${base}::var_eps`)], {}, `${base}::std`);
  b.node("Reciprocal", [std], {}, { name: `${base}::inv_std`, outputs: [names.invStd] });
  b.node("Reshape", [names.meanB, b.int64Init(`${base}::flat_shape`, [1], [-1])], {}, { name: `${base}::batch_mean`, outputs: [names.mean] });
  // Normalising xc (mean input 0): onnxruntime folds BN into x*scale' + (bias - mean*scale'), which would cancel again.
  const zeros = b.floatInit(`${base}::zero_mean`, [channels], new Float32Array(channels));
  b.node("BatchNormalization", [names.centered, scale, bias, zeros, names.var], { epsilon: attr.float(eps) }, { name: `${base}::normalize`, outputs: [y] });
  return { y, ...names };
}
