/** ReduceMean (axes attribute up to opset 17, constant input 1 from 18): dx = expand(dy with kept dims) / count. */
import { attr } from "../../onnx/builder.js";
import { attrInt, attrInts } from "../../onnx/graph.js";
import type { GradRule, OpDef } from "../types.js";
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";
import { axesOf, reducedShape } from "../shape-util.js";

export const reduceMeanGrad: GradRule = {
  opTypes: ["ReduceMean"],
  inputsToSave: [],
  outputsToSave: [],
  nonDifferentiable: [1],
  gradFunc(ctx, [dy]) {
    const { node } = ctx;
    const x = node.input[0]!;
    const xs = ctx.shape(x);
    const rank = xs.length;
    const all = xs.map((_, i) => i);
    const axesInput = node.input[1] ? ctx.constant(node.input[1]) : undefined;
    if (node.input[1] && !axesInput) throw new Error(`autodiff: ReduceMean '${node.name}': its axes must be a constant`);
    const given = axesInput ? Array.from(axesInput.data as BigInt64Array, Number) : node.attribute.some((a) => a.name === "axes") ? attrInts(node, "axes", all) : [];
    const axes = given.length ? given.map((a) => (a < 0 ? a + rank : a)) : all;
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

/** ReduceMean: axes as an attribute up to opset 17, as input 1 from opset 18. */
export const reduceMean: OpDef = {
  opTypes: ["ReduceMean"],
  infer: (ctx) => [{ shape: reducedShape(ctx.shape(0), axesOf(ctx), attrInt(ctx.node, "keepdims", 1) === 1) }],
  grad: reduceMeanGrad,
  checks: { attributes: { axes: AttrType.INTS, keepdims: AttrType.INT, noop_with_empty_axes: AttrType.INT }, indexInputs: [1], outputType: keepsType },
};
