/** Split: sizes from input 1 (opset 13+) or the `split` attribute, else equal parts (the last one smaller, opset 18's num_outputs rule). */
import { attrInt, attrInts } from "../../onnx/graph.js";
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";
import { normalizeAxis, staticDim } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const split: OpDef = {
  opTypes: ["Split"],
  infer(ctx) {
    const xs = ctx.shape(0);
    const axis = normalizeAxis(attrInt(ctx.node, "axis", 0), xs.length);
    const parts = ctx.node.output.length;
    let sizes = ctx.node.input[1] ? ctx.ints(1) ?? ctx.fail("its sizes are not constant") : attrInts(ctx.node, "split", []);
    if (sizes.length === 0) {
      const total = staticDim(ctx, xs, axis);
      const chunk = Math.ceil(total / parts);
      sizes = Array.from({ length: parts }, (_, i) => Math.min(chunk, total - chunk * i));
    }
    return sizes.map((n) => {
      const shape = xs.slice();
      shape[axis] = n;
      return { shape };
    });
  },
  checks: { attributes: { axis: AttrType.INT, split: AttrType.INTS, num_outputs: AttrType.INT }, indexInputs: [1], outputType: keepsType, typesAllOutputs: true },
};
