/** Add: both inputs receive dy (the builder sums broadcast axes away). */
import type { GradRule, OpDef } from "../types.js";
import { keepsType } from "../check-util.js";
import { broadcastOutput } from "../shape-util.js";

export const addGrad: GradRule = {
  opTypes: ["Add"],
  inputsToSave: [],
  outputsToSave: [],
  broadcasts: true,
  gradFunc: (_ctx, [dy]) => ({ 0: () => dy!, 1: () => dy! }),
};

export const add: OpDef = {
  opTypes: ["Add"],
  infer: (ctx) => [broadcastOutput(ctx, (a, b) => a + b)],
  // A Linear on a 3-D input exports as MatMul + Add(bias): the bias is a parameter.
  cost: (ctx) => ({ macs: 0, params: ctx.node.input.some((n) => ctx.producerOp(n) === "MatMul") ? ctx.node.input.filter((n) => ctx.isInitializer(n)) : [] }),
  grad: addGrad,
  checks: { sameTypeInputs: true, outputType: keepsType },
};
