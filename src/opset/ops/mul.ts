/** Mul: da = dy * b, db = dy * a (in the output's shape; the builder undoes broadcasting). */
import type { GradRule, OpDef } from "../types.js";
import { keepsType } from "../check-util.js";
import { broadcastOutput } from "../shape-util.js";

export const mulGrad: GradRule = {
  opTypes: ["Mul"],
  inputsToSave: [0, 1],
  outputsToSave: [],
  broadcasts: true,
  gradFunc(ctx, [dy]) {
    const [a, b] = ctx.node.input as [string, string];
    return { 0: () => ctx.op("Mul", [dy!, b], {}, "da"), 1: () => ctx.op("Mul", [dy!, a], {}, "db") };
  },
};

export const mul: OpDef = {
  opTypes: ["Mul"],
  infer: (ctx) => [broadcastOutput(ctx, (a, b) => a * b)],
  grad: mulGrad,
  checks: { sameTypeInputs: true, outputType: keepsType },
};
