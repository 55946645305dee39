/** Pad: pads as an attribute below opset 11, as input 1 from 11 (optional axes input 3 from 18). */
import { attrInts } from "../../onnx/graph.js";
import { keepsType } from "../check-util.js";
import { normalizeAxis } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const pad: OpDef = {
  opTypes: ["Pad"],
  infer(ctx) {
    const xs = ctx.shape(0);
    const pads = ctx.node.input[1] ? ctx.ints(1) ?? ctx.fail("its pads are not constant") : attrInts(ctx.node, "pads", []);
    const axes = ctx.node.input[3] ? ctx.ints(3) ?? ctx.fail("its axes are not constant") : xs.map((_, i) => i);
    const shape = xs.slice();
    axes.forEach((a0, i) => {
      const a = normalizeAxis(a0, xs.length);
      const added = pads[i]! + pads[i + axes.length]!;
      const d = shape[a]!;
      shape[a] = typeof d === "number" ? d + added : added === 0 ? d : `${d}+${added}`;
    });
    return [{ shape }];
  },
  checks: { indexInputs: [1], outputType: keepsType },
};
