/**
 * Relu: dx = dy where y > 0 (PyTorch's convention at 0: no gradient).
 *
 * The float mask [y > 0] is one HardSigmoid: clamp(2^126 * y, 0, 1) is 0 at y = 0 and 1 for every
 * y >= 2^-126 (the smallest normal float; 2^126 * y overflows to +inf for large y, clamped to 1),
 * so it differs from the exact step only on positive denormals. Measured on [128,144,14,14]
 * (onnxruntime 1.30 CPU, 2 threads): HardSigmoid 1.5 ms, Sign 7.0 ms (Sign is not vectorised),
 * Greater + Cast 3.4 ms; a float mask and a Mul are also faster than Where with a broadcast scalar.
 */
import { attr } from "../../onnx/builder.js";
import type { GradRule, OpDef } from "../types.js";
import { keepsType } from "../check-util.js";
import { sameAsInput } from "../shape-util.js";

/** 2^126: the largest power of two whose product with the smallest normal float is exactly 1. */
const STEP_SLOPE = 2 ** 126;

export const reluGrad: GradRule = {
  opTypes: ["Relu"],
  inputsToSave: [],
  outputsToSave: [0],
  gradFunc(ctx, [dy]) {
    const y = ctx.node.output[0]!;
    return {
      0: () => ctx.op("Mul", [dy!, ctx.op("HardSigmoid", [y], { alpha: attr.float(STEP_SLOPE), beta: attr.float(0) }, "positive")], {}, "dx"),
    };
  },
};

export const relu: OpDef = {
  opTypes: ["Relu"],
  infer: (ctx) => [sameAsInput(ctx)],
  grad: reluGrad,
  checks: { floatInputs: [0], outputType: keepsType },
};
