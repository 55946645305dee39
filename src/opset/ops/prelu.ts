/** PRelu: broadcasts its slope, which is a parameter. */
import { broadcastOutput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const prelu: OpDef = {
  opTypes: ["PRelu"],
  infer: (ctx) => [broadcastOutput(ctx)],
  cost: (ctx) => ({ macs: 0, params: ctx.node.input.slice(1).filter((t) => ctx.isInitializer(t)) }),
};
