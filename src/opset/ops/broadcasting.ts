/** Numpy-broadcasting ops bnnas only needs the shape of: Pow, Where, comparisons and logic. */
import { broadcastOutput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const broadcasting: OpDef = {
  opTypes: ["Pow", "Where", "Equal", "Less", "Greater", "And", "Or"],
  infer: (ctx) => [broadcastOutput(ctx)],
};
