/** MatMul (rank >= 2): dA = dY B^T, dB = A^T dY; leading (batch) broadcasting is summed by the builder. */
import { attr } from "../../onnx/builder.js";
import type { GradContext, GradRule } from "../rule.js";

function transposeLast(ctx: GradContext, t: string, hint: string): string {
  const r = ctx.shape(t).length;
  const perm = [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
  return ctx.op("Transpose", [t], { perm: attr.ints(perm) }, hint);
}

export const matMulGrad: GradRule = {
  opTypes: ["MatMul"],
  inputsToSave: [0, 1],
  outputsToSave: [],
  broadcasts: true,
  gradShape(ctx, i) {
    const out = ctx.shape(ctx.node.output[0]!);
    return [...out.slice(0, -2), ...ctx.shape(ctx.node.input[i]!).slice(-2)];
  },
  gradFunc(ctx, [dy]) {
    const [a, b] = ctx.node.input as [string, string];
    return {
      0: () => ctx.op("MatMul", [dy!, transposeLast(ctx, b, "b_t")], {}, "da"),
      1: () => ctx.op("MatMul", [transposeLast(ctx, a, "a_t"), dy!], {}, "db"),
    };
  },
};
