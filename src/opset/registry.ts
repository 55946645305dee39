/**
 * Every op type bnnas knows, registered from one explicit list (no side-effect imports), and
 * the lookups: one that fails naming the op and listing what exists (as the ONNX reference
 * evaluator's), and the gradient-rule lookup the backward builder uses.
 */
import type { GradRule, OpDef } from "./types.js";
import { add } from "./ops/add.js";
import { argMaxMin } from "./ops/arg-max-min.js";
import { averagePool } from "./ops/average-pool.js";
import { batchNormalization } from "./ops/batch-normalization.js";
import { broadcasting } from "./ops/broadcasting.js";
import { cast } from "./ops/cast.js";
import { castLike } from "./ops/cast-like.js";
import { clip } from "./ops/clip.js";
import { concat } from "./ops/concat.js";
import { constant } from "./ops/constant.js";
import { constantOfShape } from "./ops/constant-of-shape.js";
import { conv } from "./ops/conv.js";
import { convTranspose } from "./ops/conv-transpose.js";
import { div } from "./ops/div.js";
import { dropout } from "./ops/dropout.js";
import { expand } from "./ops/expand.js";
import { flatten } from "./ops/flatten.js";
import { floatUnary } from "./ops/float-unary.js";
import { gather } from "./ops/gather.js";
import { gemm } from "./ops/gemm.js";
import { globalAveragePool } from "./ops/global-average-pool.js";
import { globalMaxPool } from "./ops/global-max-pool.js";
import { hardSigmoid } from "./ops/hard-sigmoid.js";
import { identity } from "./ops/identity.js";
import { leakyRelu } from "./ops/leaky-relu.js";
import { lpPool } from "./ops/lp-pool.js";
import { matMul } from "./ops/matmul.js";
import { maxMinMean } from "./ops/max-min-mean.js";
import { maxPool } from "./ops/max-pool.js";
import { mul } from "./ops/mul.js";
import { negAbsLog } from "./ops/neg-abs-log.js";
import { nonZero } from "./ops/non-zero.js";
import { normalization } from "./ops/normalization.js";
import { pad } from "./ops/pad.js";
import { prelu } from "./ops/prelu.js";
import { range } from "./ops/range.js";
import { reduce } from "./ops/reduce.js";
import { reduceMean } from "./ops/reduce-mean.js";
import { reduceSum } from "./ops/reduce-sum.js";
import { relu } from "./ops/relu.js";
import { reshape } from "./ops/reshape.js";
import { shape } from "./ops/shape.js";
import { size } from "./ops/size.js";
import { slice } from "./ops/slice.js";
import { softmax } from "./ops/softmax.js";
import { split } from "./ops/split.js";
import { squeeze } from "./ops/squeeze.js";
import { sub } from "./ops/sub.js";
import { sum } from "./ops/sum.js";
import { tile } from "./ops/tile.js";
import { transpose } from "./ops/transpose.js";
import { unary } from "./ops/unary.js";
import { unsqueeze } from "./ops/unsqueeze.js";

export const OP_DEFS: readonly OpDef[] = [
  add, argMaxMin, averagePool, batchNormalization, broadcasting, cast, castLike, clip, concat, constant,
  constantOfShape, conv, convTranspose, div, dropout, expand, flatten, floatUnary, gather, gemm,
  globalAveragePool, globalMaxPool, hardSigmoid, identity, leakyRelu, lpPool, matMul, maxMinMean, maxPool,
  mul, negAbsLog, nonZero, normalization, pad, prelu, range, reduce, reduceMean, reduceSum, relu, reshape,
  shape, size, slice, softmax, split, squeeze, sub, sum, tile, transpose, unary, unsqueeze,
];

const BY_OP = new Map<string, OpDef>();
const GRAD_BY_OP = new Map<string, GradRule>();
for (const def of OP_DEFS)
  for (const op of def.opTypes) {
    if (BY_OP.has(op)) throw new Error(`opset: two definitions of ${op}`);
    BY_OP.set(op, def);
    if (def.grad) GRAD_BY_OP.set(op, def.grad);
  }

/** An op type bnnas has no definition of. */
export class UnknownOpError extends Error {
  constructor(readonly opType: string) {
    super(`opset: bnnas has no definition of ONNX op type '${opType}'; it knows ${knownOps().join(", ")}`);
  }
}

export class MissingGradientError extends Error {
  constructor(readonly opType: string) {
    super(`autodiff: no gradient rule for ONNX op type '${opType}'; rules exist for ${differentiableOps().join(", ")}`);
  }
}

/** The definition of an op type, or undefined. */
export function findOp(opType: string): OpDef | undefined {
  return BY_OP.get(opType);
}

/** The definition of an op type; throws UnknownOpError naming it and listing what exists. */
export function lookupOp(opType: string): OpDef {
  const def = BY_OP.get(opType);
  if (!def) throw new UnknownOpError(opType);
  return def;
}

export function knownOps(): string[] {
  return [...BY_OP.keys()].sort();
}

/** The gradient rule of an op type; throws MissingGradientError naming it and listing the rules that exist. */
export function lookupRule(opType: string): GradRule {
  const rule = GRAD_BY_OP.get(opType);
  if (!rule) throw new MissingGradientError(opType);
  return rule;
}

export function differentiableOps(): string[] {
  return [...GRAD_BY_OP.keys()].sort();
}
