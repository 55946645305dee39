/**
 * Clip (ReLU6 and friends): dx = dy where min <= x <= max, i.e. where clip(x) == x (torch.clamp's
 * convention, boundaries included). min/max get no gradient.
 *
 * Emitted as dy * float(x == y) rather than Where(x == y, dy, 0): onnxruntime's CPU Where with a
 * broadcast scalar walks the tensor generically and measured about twice as slow as Equal + Cast +
 * Mul on [128,144,14,14] (the expanded tensors of an MBConv, where this runs twice per block).
 */
import { attr } from "../../onnx/builder.js";
import { AttrType, DataType } from "../../onnx/proto.js";
import type { GradRule, OpDef } from "../types.js";
import { keepsType } from "../check-util.js";
import { sameAsInput } from "../shape-util.js";

export const clipGrad: GradRule = {
  opTypes: ["Clip"],
  inputsToSave: [0],
  outputsToSave: [0],
  nonDifferentiable: [1, 2],
  gradFunc(ctx, [dy]) {
    const x = ctx.node.input[0]!, y = ctx.node.output[0]!;
    return {
      0: () => {
        const inside = ctx.op("Cast", [ctx.op("Equal", [x, y], {}, "inside")], { to: attr.int(DataType.FLOAT) }, "inside_f");
        return ctx.op("Mul", [dy!, inside], {}, "dx");
      },
    };
  },
};

/** Clip from opset 11 takes min/max as inputs; below 11 as attributes (same shape rule, same gradient in x). */
export const clip: OpDef = {
  opTypes: ["Clip"],
  infer: (ctx) => [sameAsInput(ctx)],
  grad: clipGrad,
  checks: { attributes: { min: AttrType.FLOAT, max: AttrType.FLOAT }, sameTypeInputs: true, outputType: keepsType },
};
