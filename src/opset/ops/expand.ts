/** Expand: x broadcast with a constant target shape. */
import { keepsType } from "../check-util.js";
import { broadcastShapes } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const expand: OpDef = {
  opTypes: ["Expand"],
  infer: (ctx) => [{ shape: broadcastShapes(ctx.shape(0), ctx.ints(1) ?? ctx.fail("its shape is not constant"), ctx.fail) }],
  checks: { indexInputs: [1], outputType: keepsType },
};
