/**
 * The gradient of the ops that only re-view their input's elements (Flatten, Reshape, Squeeze,
 * Unsqueeze): dx = dy reshaped to x's shape (static when known, else Shape(x)). Each of those
 * ops has its own module (their shape rules differ); they share this rule.
 */
import type { GradRule } from "../types.js";

export function reshapeGradFor(opType: string): GradRule {
  return {
    opTypes: [opType],
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
}
