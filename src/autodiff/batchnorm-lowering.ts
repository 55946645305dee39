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
 *
 * The lowering exposes mean and var ([C], for the running statistics) and the [1,C,1,..] mean and
 * 1/std the gradient rule reads, under names derived from the BN's output.
 */
import { attr, type GraphBuilder } from "../onnx/builder.js";
import type { NodeProto } from "../onnx/proto.js";
import { attrFloat } from "../onnx/graph.js";

export interface LoweredBatchNorm {
  y: string;
  /** Batch mean and biased batch variance, shape [C]. */
  mean: string;
  var: string;
  /** Saved for the gradient, shape [1,C,1,..]: the batch mean and 1/sqrt(var+eps). */
  meanB: string;
  invStd: string;
  /** x - mean, x's shape. */
  centered: string;
}

/** Deterministic names of the lowering's side tensors for the BN whose output is `y`. */
export function loweredNames(y: string): Omit<LoweredBatchNorm, "y"> {
  return { mean: `${y}::batch_mean`, var: `${y}::batch_var`, meanB: `${y}::mean_b`, invStd: `${y}::inv_std`, centered: `${y}::centered` };
}

/** Emits the training-mode lowering of `node` (inputs x, scale, B, mean, var; only x, scale, B are read). */
export function lowerBatchNorm(b: GraphBuilder, node: NodeProto, rank: number, channels: number): LoweredBatchNorm {
  const [x, scale, bias] = node.input as [string, string, string];
  const y = node.output[0]!;
  const names = loweredNames(y);
  const eps = attrFloat(node, "epsilon", 1e-5);
  const base = node.name || y;
  const spatial = Array.from({ length: rank - 2 }, (_, i) => i + 2);
  const flat = b.int64Init(`${base}::flat_shape`, [1], [-1]);
  const keep = attr.int(1);
  let ssq: string;
  if (spatial.length === 0) {
    b.node("ReduceMean", [x], { axes: attr.ints([0]), keepdims: keep }, { name: `${base}::mean_b`, outputs: [names.meanB] });
    b.node("Sub", [x, names.meanB], {}, { name: `${base}::centered`, outputs: [names.centered] });
    ssq = b.op("ReduceSumSquare", [names.centered], { axes: attr.ints([0]), keepdims: keep }, `${base}::sum_sq`);
  } else {
    const spatialMean = b.op("ReduceMean", [x], { axes: attr.ints(spatial), keepdims: keep }, `${base}::spatial_mean`);
    b.node("ReduceMean", [spatialMean], { axes: attr.ints([0]), keepdims: keep }, { name: `${base}::mean_b`, outputs: [names.meanB] });
    b.node("Sub", [x, names.meanB], {}, { name: `${base}::centered`, outputs: [names.centered] });
    const spatialSsq = b.op("ReduceSumSquare", [names.centered], { axes: attr.ints(spatial), keepdims: keep }, `${base}::spatial_sum_sq`);
    ssq = b.op("ReduceSum", [spatialSsq, b.int64Init(`${base}::batch_axis`, [1], [0])], { keepdims: keep }, `${base}::sum_sq`);
  }
  // M = N*H*W = size(x)/C; N is dynamic.
  const m = b.op("Div", [b.op("Cast", [b.op("Size", [x], {}, `${base}::size`)], { to: attr.int(1) }, `${base}::size_f`), b.floatInit(`${base}::channels`, [], [channels])], {}, `${base}::count`);
  const var4 = b.op("Div", [ssq, m], {}, `${base}::var_b`);
  const std = b.op("Sqrt", [b.op("Add", [var4, b.floatInit(`${base}::eps`, [], [eps])], {}, `${base}::var_eps`)], {}, `${base}::std`);
  b.node("Reciprocal", [std], {}, { name: `${base}::inv_std`, outputs: [names.invStd] });
  b.node("Reshape", [names.meanB, flat], {}, { name: `${base}::batch_mean`, outputs: [names.mean] });
  b.node("Reshape", [var4, flat], {}, { name: `${base}::batch_var`, outputs: [names.var] });
  // Normalising xc (mean input 0): onnxruntime folds BN into x*scale' + (bias - mean*scale'), which would cancel again.
  const zeros = b.floatInit(`${base}::zero_mean`, [channels], new Float32Array(channels));
  b.node("BatchNormalization", [names.centered, scale, bias, zeros, names.var], { epsilon: attr.float(eps) }, { name: `${base}::normalize`, outputs: [y] });
  return { y, ...names };
}
