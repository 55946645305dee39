/** Max, Min, Mean (variadic, numpy broadcasting, one element type). */
import { keepsType } from "../check-util.js";
import { broadcastOutput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const maxMinMean: OpDef = {
  opTypes: ["Max", "Min", "Mean"],
  infer: (ctx) => [broadcastOutput(ctx)],
  checks: { sameTypeInputs: true, outputType: keepsType },
};
