/** Flatten: [prod(dims before axis), prod(dims from axis)]. */
import { attrInt } from "../../onnx/graph.js";
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";
import { dimProduct, normalizeAxis } from "../shape-util.js";
import type { OpDef } from "../types.js";
import { reshapeGradFor } from "./reshape-grad.js";

export const flatten: OpDef = {
  opTypes: ["Flatten"],
  infer(ctx) {
    const x = ctx.shape(0);
    const axis = normalizeAxis(attrInt(ctx.node, "axis", 1), x.length);
    return [{ shape: [dimProduct(x.slice(0, axis)), dimProduct(x.slice(axis))] }];
  },
  grad: reshapeGradFor("Flatten"),
  checks: { attributes: { axis: AttrType.INT }, closedAttributes: true, outputType: keepsType },
};
