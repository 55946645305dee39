/**
 * Clip (ReLU6 and friends): dx = dy where min <= x <= max, i.e. where clip(x) == x (torch.clamp's
 * convention, boundaries included). Comparing the saved input and output is two passes over
 * memory instead of four for two comparisons and an And. min/max get no gradient.
 */
import type { GradRule } from "../rule.js";

export const clipGrad: GradRule = {
  opTypes: ["Clip"],
  inputsToSave: [0],
  outputsToSave: [0],
  nonDifferentiable: [1, 2],
  gradFunc(ctx, [dy]) {
    const x = ctx.node.input[0]!, y = ctx.node.output[0]!;
    return { 0: () => ctx.op("Where", [ctx.op("Equal", [x, y], {}, "inside"), dy!, ctx.scalar(0)], {}, "dx") };
  },
};
