/** NonZero: int64 [rank, count], the count known only at run time. */
import { int64Output } from "../check-util.js";
import type { OpDef } from "../types.js";

export const nonZero: OpDef = {
  opTypes: ["NonZero"],
  infer: (ctx) => [{ shape: [ctx.shape(0).length, `${ctx.node.output[0]}_count`] }],
  checks: { outputType: int64Output },
};
