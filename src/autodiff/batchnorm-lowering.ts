/**
 * Training-mode BatchNormalization built from standard ops, so it runs on every execution
 * provider (ORT's own training_mode=1 kernel is CPU-only and hides the batch statistics):
 *
 *   mean = ReduceMean(x, [0,2,3..])     var = ReduceSumSquare(x)/M - mean^2   (biased, as PyTorch normalises)
 *   y    = BatchNormalization(x, gamma, beta, mean, var)   in inference mode, i.e. with the batch statistics
 *
 * Why this form: ORT cannot fuse elementwise chains on CPU, so every full-size op is a pass over
 * memory. Two reading passes for the statistics plus one fused normalisation pass replace the
 * seven passes of (x-mean)*invStd*gamma+beta. E[x^2]-mean^2 loses precision only when |mean| is
 * far above the std; the torch-tiny oracle (1e-4) guards it.
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
}

/** Deterministic names of the lowering's side tensors for the BN whose output is `y`. */
export function loweredNames(y: string): Omit<LoweredBatchNorm, "y"> {
  return { mean: `${y}::batch_mean`, var: `${y}::batch_var`, meanB: `${y}::mean_b`, invStd: `${y}::inv_std` };
}

/** Emits the training-mode lowering of `node` (inputs x, scale, B, mean, var; only x, scale, B are read). */
export function lowerBatchNorm(b: GraphBuilder, node: NodeProto, rank: number, channels: number): LoweredBatchNorm {
  const [x, scale, bias] = node.input as [string, string, string];
  const y = node.output[0]!;
  const names = loweredNames(y);
  const eps = attrFloat(node, "epsilon", 1e-5);
  const base = node.name || y;
  const axes = attr.ints([0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)]);
  const flat = b.int64Init(`${base}::flat_shape`, [1], [-1]);
  b.node("ReduceMean", [x], { axes, keepdims: attr.int(1) }, { name: `${base}::mean_b`, outputs: [names.meanB] });
  const ssq = b.op("ReduceSumSquare", [x], { axes, keepdims: attr.int(1) }, `${base}::sum_sq`);
  // M = N*H*W = size(x)/C; N is dynamic.
  const m = b.op("Div", [b.op("Cast", [b.op("Size", [x], {}, `${base}::size`)], { to: attr.int(1) }, `${base}::size_f`), b.floatInit(`${base}::channels`, [], [channels])], {}, `${base}::count`);
  const ex2 = b.op("Div", [ssq, m], {}, `${base}::mean_sq`);
  const var4 = b.op("Max", [b.op("Sub", [ex2, b.op("Mul", [names.meanB, names.meanB], {}, `${base}::mean2`)], {}, `${base}::var_raw`), b.floatInit(`${base}::zero`, [], [0])], {}, `${base}::var_b`);
  const std = b.op("Sqrt", [b.op("Add", [var4, b.floatInit(`${base}::eps`, [], [eps])], {}, `${base}::var_eps`)], {}, `${base}::std`);
  b.node("Reciprocal", [std], {}, { name: `${base}::inv_std`, outputs: [names.invStd] });
  b.node("Reshape", [names.meanB, flat], {}, { name: `${base}::batch_mean`, outputs: [names.mean] });
  b.node("Reshape", [var4, flat], {}, { name: `${base}::batch_var`, outputs: [names.var] });
  b.node("BatchNormalization", [x, scale, bias, names.mean, names.var], { epsilon: attr.float(eps) }, { name: `${base}::normalize`, outputs: [y] });
  return { y, ...names };
}
