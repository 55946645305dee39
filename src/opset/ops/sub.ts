/** Sub: da = dy, db = -dy. */
import type { GradRule, OpDef } from "../types.js";
import { keepsType } from "../check-util.js";
import { broadcastOutput } from "../shape-util.js";

export const subGrad: GradRule = {
  opTypes: ["Sub"],
  inputsToSave: [],
  outputsToSave: [],
  broadcasts: true,
  gradFunc: (ctx, [dy]) => ({ 0: () => dy!, 1: () => ctx.op("Neg", [dy!], {}, "db") }),
};

export const sub: OpDef = {
  opTypes: ["Sub"],
  infer: (ctx) => [broadcastOutput(ctx, (a, b) => a - b)],
  grad: subGrad,
  checks: { sameTypeInputs: true, outputType: keepsType },
};
