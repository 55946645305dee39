/** LpPool: a sliding window like the other pools. */
import { windowAttributeProblem } from "../check-util.js";
import { poolShape } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const lpPool: OpDef = {
  opTypes: ["LpPool"],
  infer: (ctx) => [{ shape: poolShape(ctx) }],
  checks: { attributeProblem: windowAttributeProblem },
};
