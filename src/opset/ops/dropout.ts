/** Dropout: the output and the optional mask have the input's shape. */
import { keepsType } from "../check-util.js";
import { sameAsInput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const dropout: OpDef = {
  opTypes: ["Dropout"],
  infer: (ctx) => (ctx.node.output.length > 1 ? [sameAsInput(ctx), sameAsInput(ctx)] : [sameAsInput(ctx)]),
  checks: { outputType: keepsType },
};
