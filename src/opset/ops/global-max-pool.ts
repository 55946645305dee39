/** GlobalMaxPool: [N, C, 1, ...]. */
import { keepsType, windowAttributeProblem } from "../check-util.js";
import { globalPoolShape } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const globalMaxPool: OpDef = {
  opTypes: ["GlobalMaxPool"],
  infer: (ctx) => [{ shape: globalPoolShape(ctx) }],
  checks: { attributeProblem: windowAttributeProblem, floatInputs: [0], outputType: keepsType },
};
