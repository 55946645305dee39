/** Cast: same shape and values, element type from `to`. */
import { attrInt } from "../../onnx/graph.js";
import { AttrType } from "../../onnx/proto.js";
import { sameAsInput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const cast: OpDef = {
  opTypes: ["Cast"],
  infer: (ctx) => [sameAsInput(ctx, true)],
  checks: {
    attributes: { to: AttrType.INT, saturate: AttrType.INT },
    outputType: (node) => (node.attribute.some((a) => a.name === "to") ? attrInt(node, "to", 0) : undefined),
  },
};
