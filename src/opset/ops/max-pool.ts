/**
 * MaxPool: the gradient goes to the arg-max of each window. The backward recomputes the pool
 * with its Indices output (flat positions into x) and scatter-adds dy there, so overlapping
 * windows accumulate correctly.
 */
import { attr, type Attr } from "../../onnx/builder.js";
import { attrInt } from "../../onnx/graph.js";
import type { GradRule, OpDef } from "../types.js";
import { POOL_ATTRIBUTES, keepsType, windowAttributeProblem } from "../check-util.js";
import { poolShape } from "../shape-util.js";

export const maxPoolGrad: GradRule = {
  opTypes: ["MaxPool"],
  inputsToSave: [0],
  outputsToSave: [],
  gradFunc(ctx, [dy]) {
    const { node, b } = ctx;
    const x = node.input[0]!;
    if (attrInt(node, "storage_order", 0) !== 0) throw new Error(`autodiff: MaxPool '${node.name}': storage_order=1 is not supported`);
    return {
      0: () => {
        const attrs: Record<string, Attr> = {};
        for (const a of node.attribute) attrs[a.name] = a;
        const base = `${node.name || x}_grad`;
        const [, indices] = b.node("MaxPool", [x], attrs, { name: `${base}/argmax`, outputs: 2 }) as [string, string];
        const xShape = ctx.op("Shape", [x], {}, "x_shape");
        const zeros = ctx.op("Reshape", [ctx.op("ConstantOfShape", [xShape], {}, "zeros"), ctx.ints([-1])], {}, "zeros_flat");
        const flatIdx = ctx.op("Reshape", [indices, ctx.ints([-1])], {}, "idx_flat");
        const flatDy = ctx.op("Reshape", [dy!, ctx.ints([-1])], {}, "dy_flat");
        const scattered = ctx.op("ScatterElements", [zeros, flatIdx, flatDy], { axis: attr.int(0), reduction: attr.str("add") }, "scatter");
        return ctx.op("Reshape", [scattered, xShape], {}, "dx");
      },
    };
  },
};

export const maxPool: OpDef = {
  opTypes: ["MaxPool"],
  infer(ctx) {
    const shape = poolShape(ctx);
    return [{ shape }, { shape }];
  },
  grad: maxPoolGrad,
  checks: { attributes: POOL_ATTRIBUTES, closedAttributes: true, attributeProblem: windowAttributeProblem, floatInputs: [0], outputType: keepsType },
};
