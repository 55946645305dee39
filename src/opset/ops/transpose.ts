/** Transpose by `perm` (default: reversed axes). */
import { attrInts } from "../../onnx/graph.js";
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";
import type { OpDef } from "../types.js";

export const transpose: OpDef = {
  opTypes: ["Transpose"],
  infer(ctx) {
    const x = ctx.shape(0);
    const perm = attrInts(ctx.node, "perm", x.map((_, i) => x.length - 1 - i));
    return [{ shape: perm.map((p) => x[p]!) }];
  },
  checks: { attributes: { perm: AttrType.INTS }, outputType: keepsType },
};
