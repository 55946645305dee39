/** InstanceNormalization and LayerNormalization: same shape; scale and bias are parameters. */
import { sameAsInput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const normalization: OpDef = {
  opTypes: ["InstanceNormalization", "LayerNormalization"],
  infer: (ctx) => [sameAsInput(ctx)],
  cost: (ctx) => ({ macs: 0, params: ctx.node.input.slice(1, 3).filter((t) => ctx.isInitializer(t)) }),
};
