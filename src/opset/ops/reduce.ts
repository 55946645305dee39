/** Reductions bnnas only needs the shape of: axes as an attribute up to opset 17, as input 1 from 18. */
import { attrInt } from "../../onnx/graph.js";
import { axesOf, reducedShape } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const reduce: OpDef = {
  opTypes: ["ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2"],
  infer: (ctx) => [{ shape: reducedShape(ctx.shape(0), axesOf(ctx), attrInt(ctx.node, "keepdims", 1) === 1) }],
};
