/**
 * Gemm: Y = alpha * A' B' + beta * C (A' = A or A^T, B' = B or B^T).
 *   dA' = alpha * dY B'^T,  dB' = alpha * A'^T dY,  dC = beta * dY (summed down by the builder).
 */
import { attr } from "../../onnx/builder.js";
import { attrFloat, attrInt } from "../../onnx/graph.js";
import type { GradRule, OpDef } from "../types.js";
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";

export const gemmGrad: GradRule = {
  opTypes: ["Gemm"],
  inputsToSave: [0, 1],
  outputsToSave: [],
  broadcasts: true,
  // only C broadcasts; dA and dB come out in their own shapes
  gradShape: (ctx, i) => ctx.shape(i === 2 ? ctx.node.output[0]! : ctx.node.input[i]!),
  gradFunc(ctx, [dy]) {
    const { node } = ctx;
    const [a, b] = node.input as [string, string];
    const alpha = attrFloat(node, "alpha", 1), beta = attrFloat(node, "beta", 1);
    const ta = attrInt(node, "transA", 0), tb = attrInt(node, "transB", 0);
    return {
      // transA: dA = (dY B'^T)^T = B' dY^T
      0: () => ta
        ? ctx.op("Gemm", [b, dy!], { alpha: attr.float(alpha), transA: attr.int(tb), transB: attr.int(1) }, "da")
        : ctx.op("Gemm", [dy!, b], { alpha: attr.float(alpha), transB: attr.int(tb ? 0 : 1) }, "da"),
      // transB: dB = (A'^T dY)^T = dY^T A'
      1: () => tb
        ? ctx.op("Gemm", [dy!, a], { alpha: attr.float(alpha), transA: attr.int(1), transB: attr.int(ta) }, "db")
        : ctx.op("Gemm", [a, dy!], { alpha: attr.float(alpha), transA: attr.int(ta ? 0 : 1) }, "db"),
      2: () => (beta === 1 ? dy! : ctx.op("Mul", [dy!, ctx.scalar(beta)], {}, "dc")),
    };
  },
};

export const gemm: OpDef = {
  opTypes: ["Gemm"],
  infer(ctx) {
    const a = ctx.shape(0), b = ctx.shape(1);
    const m = attrInt(ctx.node, "transA", 0) ? a[1]! : a[0]!;
    const n = attrInt(ctx.node, "transB", 0) ? b[0]! : b[1]!;
    return [{ shape: [m, n] }];
  },
  cost(ctx) {
    const { node } = ctx;
    const a = ctx.shape(node.input[0]!), b = ctx.shape(node.input[1]!);
    const [m, k] = attrInt(node, "transA", 0) ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
    const n = attrInt(node, "transB", 0) ? b[0]! : b[1]!;
    return { macs: m * k * n, params: node.input.slice(1).filter((t) => ctx.isInitializer(t)) };
  },
  grad: gemmGrad,
  checks: {
    attributes: { alpha: AttrType.FLOAT, beta: AttrType.FLOAT, transA: AttrType.INT, transB: AttrType.INT, broadcast: AttrType.INT },
    closedAttributes: true,
    floatInputs: [0, 1, 2],
    outputType: keepsType,
  },
};
