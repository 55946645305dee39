/** Concat along `axis`; known 1-D integer values are concatenated too (shape arithmetic). */
import { attrInt } from "../../onnx/graph.js";
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";
import { dimSum, normalizeAxis } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const concat: OpDef = {
  opTypes: ["Concat"],
  infer(ctx) {
    const ins = ctx.node.input.map((_, k) => ctx.input(k));
    const rank = ins[0]!.shape.length;
    const axis = normalizeAxis(attrInt(ctx.node, "axis", 0), rank);
    const shape = ins[0]!.shape.slice();
    shape[axis] = dimSum(ins.map((i) => i.shape[axis]!));
    const value = rank === 1 && ins.every((i) => i.value) ? ins.flatMap((i) => i.value!) : undefined;
    return [{ shape, value }];
  },
  checks: { attributes: { axis: AttrType.INT }, sameTypeInputs: true, outputType: keepsType },
};
