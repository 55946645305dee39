/** ReduceSum: axes as input 1 from opset 13 (an attribute before). */
import { attrInt } from "../../onnx/graph.js";
import { keepsType } from "../check-util.js";
import { axesOf, reducedShape } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const reduceSum: OpDef = {
  opTypes: ["ReduceSum"],
  infer: (ctx) => [{ shape: reducedShape(ctx.shape(0), axesOf(ctx), attrInt(ctx.node, "keepdims", 1) === 1) }],
  checks: { indexInputs: [1], outputType: keepsType },
};
