/** Flatten / Reshape / Squeeze / Unsqueeze: dx = dy reshaped to x's shape (static when known, else Shape(x)). */
import type { GradRule } from "../rule.js";

export const reshapeGrad: GradRule = {
  opTypes: ["Flatten", "Reshape", "Squeeze", "Unsqueeze"],
  inputsToSave: [],
  outputsToSave: [],
  nonDifferentiable: [1],
  gradFunc(ctx, [dy]) {
    const x = ctx.node.input[0]!;
    const xs = ctx.shape(x);
    const target = xs.every((d) => typeof d === "number") ? ctx.ints(xs as number[]) : ctx.op("Shape", [x], {}, "x_shape");
    return { 0: () => ctx.op("Reshape", [dy!, target], {}, "dx") };
  },
};
