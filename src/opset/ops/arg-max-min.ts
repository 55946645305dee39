/** ArgMax, ArgMin: int64 indices along `axis` (kept as 1 by default). */
import { attrInt } from "../../onnx/graph.js";
import { int64Output } from "../check-util.js";
import { reducedShape } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const argMaxMin: OpDef = {
  opTypes: ["ArgMax", "ArgMin"],
  infer: (ctx) => [{ shape: reducedShape(ctx.shape(0), [attrInt(ctx.node, "axis", 0)], attrInt(ctx.node, "keepdims", 1) === 1) }],
  checks: { outputType: int64Output },
};
