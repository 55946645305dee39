/**
 * Relu: dx = dy where y > 0 (PyTorch's convention at 0: no gradient). y >= 0, so Sign(y) is that
 * mask as a float in one pass (Greater + Cast would be two); a float mask and a Mul are faster on
 * onnxruntime's CPU provider than Where with a broadcast scalar.
 */
import type { GradRule } from "../rule.js";

export const reluGrad: GradRule = {
  opTypes: ["Relu"],
  inputsToSave: [],
  outputsToSave: [0],
  gradFunc(ctx, [dy]) {
    const y = ctx.node.output[0]!;
    return {
      0: () => ctx.op("Mul", [dy!, ctx.op("Sign", [y], {}, "positive")], {}, "dx"),
    };
  },
};
