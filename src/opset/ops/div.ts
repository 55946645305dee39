/** Div: numpy broadcasting; known integer values divide truncating (shape arithmetic). */
import { keepsType } from "../check-util.js";
import { broadcastOutput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const div: OpDef = {
  opTypes: ["Div"],
  infer: (ctx) => [broadcastOutput(ctx, (a, b) => Math.trunc(a / b))],
  checks: { sameTypeInputs: true, outputType: keepsType },
};
