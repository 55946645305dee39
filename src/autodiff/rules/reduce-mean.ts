/** ReduceMean (opset 17: axes attribute): dx = expand(dy with kept dims) / count. */
import { attr } from "../../onnx/builder.js";
import { attrInt, attrInts } from "../../onnx/graph.js";
import type { GradRule } from "../rule.js";

export const reduceMeanGrad: GradRule = {
  opTypes: ["ReduceMean"],
  inputsToSave: [],
  outputsToSave: [],
  gradFunc(ctx, [dy]) {
    const { node } = ctx;
    const x = node.input[0]!;
    const xs = ctx.shape(x);
    const rank = xs.length;
    const all = xs.map((_, i) => i);
    const axes = node.attribute.some((a) => a.name === "axes") ? attrInts(node, "axes", all).map((a) => (a < 0 ? a + rank : a)) : all;
    const keep = attrInt(node, "keepdims", 1) === 1;
    return {
      0: () => {
        let g = dy!;
        if (!keep) g = ctx.op("Unsqueeze", [g, ctx.ints(axes)], {}, "keepdims");
        const expanded = ctx.op("Expand", [g, ctx.op("Shape", [x], {}, "x_shape")], {}, "expand");
        const counts = axes.map((a) => xs[a]!);
        if (counts.every((c) => typeof c === "number")) return ctx.op("Mul", [expanded, ctx.scalar(1 / counts.reduce<number>((p, c) => p * (c as number), 1))], {}, "dx");
        // A symbolic reduced dim (the batch): count = size(x) / size(dy), at run time.
        const count = ctx.op("Div", [ctx.op("Cast", [ctx.op("Size", [x], {}, "size_x")], { to: attr.int(1) }, "size_x_f"), ctx.op("Cast", [ctx.op("Size", [dy!], {}, "size_dy")], { to: attr.int(1) }, "size_dy_f")], {}, "count");
        return ctx.op("Div", [expanded, count], {}, "dx");
      },
    };
  },
};
