/** Relu: dx = dy where y > 0 (PyTorch's convention at 0: no gradient). */
import type { GradRule } from "../rule.js";

export const reluGrad: GradRule = {
  opTypes: ["Relu"],
  inputsToSave: [],
  outputsToSave: [0],
  gradFunc(ctx, [dy]) {
    const y = ctx.node.output[0]!;
    return { 0: () => ctx.op("Where", [ctx.op("Greater", [y, ctx.scalar(0)], {}, "positive"), dy!, ctx.scalar(0)], {}, "dx") };
  },
};
