/** Sum (variadic): every input receives dy. */
import type { GradRule, OpDef } from "../types.js";
import { keepsType } from "../check-util.js";
import { broadcastOutput } from "../shape-util.js";

export const sumGrad: GradRule = {
  opTypes: ["Sum"],
  inputsToSave: [],
  outputsToSave: [],
  broadcasts: true,
  gradFunc(ctx, [dy]) {
    return Object.fromEntries(ctx.node.input.map((_, i) => [i, () => dy!]));
  },
};

export const sum: OpDef = {
  opTypes: ["Sum"],
  infer: (ctx) => [broadcastOutput(ctx)],
  grad: sumGrad,
  checks: { sameTypeInputs: true, outputType: keepsType },
};
