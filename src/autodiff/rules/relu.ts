/**
 * Relu: dx = dy where y > 0 (PyTorch's convention at 0: no gradient). As for Clip, a float mask
 * and a Mul are faster on onnxruntime's CPU provider than Where with a broadcast scalar.
 */
import { attr } from "../../onnx/builder.js";
import { DataType } from "../../onnx/proto.js";
import type { GradRule } from "../rule.js";

export const reluGrad: GradRule = {
  opTypes: ["Relu"],
  inputsToSave: [],
  outputsToSave: [0],
  gradFunc(ctx, [dy]) {
    const y = ctx.node.output[0]!;
    return {
      0: () => {
        const positive = ctx.op("Cast", [ctx.op("Greater", [y, ctx.scalar(0)], {}, "positive")], { to: attr.int(DataType.FLOAT) }, "positive_f");
        return ctx.op("Mul", [dy!, positive], {}, "dx");
      },
    };
  },
};
