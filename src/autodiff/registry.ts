/**
 * All gradient rules, registered from one explicit list (no side-effect imports), and the
 * lookup that fails naming the op and listing what exists.
 */
import type { GradRule } from "./rule.js";
import { addGrad } from "./rules/add.js";
import { averagePoolGrad } from "./rules/average-pool.js";
import { batchNormalizationGrad } from "./rules/batch-normalization.js";
import { clipGrad } from "./rules/clip.js";
import { convGrad } from "./rules/conv.js";
import { gatherGrad } from "./rules/gather.js";
import { gemmGrad } from "./rules/gemm.js";
import { globalAveragePoolGrad } from "./rules/global-average-pool.js";
import { identityGrad } from "./rules/identity.js";
import { matMulGrad } from "./rules/matmul.js";
import { maxPoolGrad } from "./rules/max-pool.js";
import { mulGrad } from "./rules/mul.js";
import { reduceMeanGrad } from "./rules/reduce-mean.js";
import { reluGrad } from "./rules/relu.js";
import { reshapeGrad } from "./rules/reshape.js";
import { subGrad } from "./rules/sub.js";
import { sumGrad } from "./rules/sum.js";

export const GRAD_RULES: readonly GradRule[] = [
  addGrad, averagePoolGrad, batchNormalizationGrad, clipGrad, convGrad, gatherGrad, gemmGrad, globalAveragePoolGrad,
  identityGrad, matMulGrad, maxPoolGrad, mulGrad, reduceMeanGrad, reluGrad, reshapeGrad, subGrad, sumGrad,
];

const BY_OP = new Map<string, GradRule>();
for (const rule of GRAD_RULES) for (const op of rule.opTypes) {
  if (BY_OP.has(op)) throw new Error(`autodiff: two gradient rules for ${op}`);
  BY_OP.set(op, rule);
}

export class MissingGradientError extends Error {
  constructor(readonly opType: string) {
    super(`autodiff: no gradient rule for ONNX op type '${opType}'; rules exist for ${[...BY_OP.keys()].sort().join(", ")}`);
  }
}

export function lookupRule(opType: string): GradRule {
  const rule = BY_OP.get(opType);
  if (!rule) throw new MissingGradientError(opType);
  return rule;
}

export function differentiableOps(): string[] {
  return [...BY_OP.keys()].sort();
}
