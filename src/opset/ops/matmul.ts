/** MatMul (rank >= 2): dA = dY B^T, dB = A^T dY; leading (batch) broadcasting is summed by the builder. */
import { attr } from "../../onnx/builder.js";
import type { GradContext, GradRule, OpDef } from "../types.js";
import { keepsType } from "../check-util.js";
import { broadcastShapes } from "../shape-util.js";
import { elementCount } from "../../onnx/tensor.js";

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

/** numpy matmul: 1-D operands are promoted to matrices and the added dim dropped from the result. */
export const matMul: OpDef = {
  opTypes: ["MatMul"],
  infer(ctx) {
    const a = ctx.shape(0), b = ctx.shape(1);
    const a2 = a.length === 1 ? [1, a[0]!] : a;
    const b2 = b.length === 1 ? [b[0]!, 1] : b;
    const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2), ctx.fail);
    return [{ shape: [...batch, ...(a.length === 1 ? [] : [a2[a2.length - 2]!]), ...(b.length === 1 ? [] : [b2[b2.length - 1]!])] }];
  },
  cost(ctx) {
    const { node } = ctx;
    const a = ctx.shape(node.input[0]!), b = ctx.shape(node.input[1]!);
    const a2 = a.length === 1 ? [1, a[0]!] : a;
    const b2 = b.length === 1 ? [b[0]!, 1] : b;
    const batch = elementCount(ctx.shape(node.output[0]!).slice(0, Math.max(a2.length, b2.length) - 2));
    return { macs: batch * a2[a2.length - 2]! * a2[a2.length - 1]! * b2[b2.length - 1]!, params: node.input.filter((t) => ctx.isInitializer(t)) };
  },
  grad: matMulGrad,
  checks: { sameTypeInputs: true, outputType: keepsType },
};
