/** Neg, Abs, Log: elementwise, keep the element type. */
import { keepsType } from "../check-util.js";
import { sameAsInput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const negAbsLog: OpDef = {
  opTypes: ["Neg", "Abs", "Log"],
  infer: (ctx) => [sameAsInput(ctx)],
  checks: { outputType: keepsType },
};
