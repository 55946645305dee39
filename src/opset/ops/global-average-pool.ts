/** GlobalAveragePool: dx = expand(dy) / (H*W). */
import type { GradRule, OpDef } from "../types.js";
import { keepsType, windowAttributeProblem } from "../check-util.js";
import { globalPoolShape } from "../shape-util.js";

export const globalAveragePoolGrad: GradRule = {
  opTypes: ["GlobalAveragePool"],
  inputsToSave: [],
  outputsToSave: [],
  gradFunc(ctx, [dy]) {
    const x = ctx.node.input[0]!;
    const spatial = ctx.shape(x).slice(2).reduce<number>((p, d) => p * (d as number), 1);
    return { 0: () => ctx.op("Mul", [ctx.op("Expand", [dy!, ctx.op("Shape", [x], {}, "x_shape")], {}, "expand"), ctx.scalar(1 / spatial)], {}, "dx") };
  },
};

export const globalAveragePool: OpDef = {
  opTypes: ["GlobalAveragePool"],
  infer: (ctx) => [{ shape: globalPoolShape(ctx) }],
  grad: globalAveragePoolGrad,
  checks: { attributeProblem: windowAttributeProblem, floatInputs: [0], outputType: keepsType },
};
