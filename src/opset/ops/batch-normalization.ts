/**
 * BatchNormalization in training mode (batch statistics), on top of the lowering in
 * ./batch-normalization-lowering.ts, which keeps the [C] 1/std and the centred input xc = x - mean.
 * With xhat = xc * inv and M = N*H*W per channel:
 *   dbeta  = sum(dy)                 dgamma = sum(dy * xhat) = inv * sum(dy * xc)
 *   dx     = gamma*inv * (dy - dbeta/M - xhat * dgamma/M) = dy*K + xc*A + B   (K, A, B per channel)
 * Gradients through the batch mean and variance are included, exactly as PyTorch's train mode.
 * Written on xc, not on x with the mean subtracted afterwards (sum(dy*x) - mean*dbeta, x*A - A*mean):
 * those cancel catastrophically when |mean| >> std (see the lowering). The per-channel affine
 * xc*A + B is one inference-mode BatchNormalization (mean 0, var 1, epsilon 0), so dx is
 * dy*K + BN(xc): measured a third faster on onnxruntime's CPU provider than Sum(dy*K, xc*A, B),
 * whose broadcast [1,C,1,1] operand takes the generic path. Sums over (N, H, W) run spatial axes
 * first, then the batch (faster than one reduce over [0,2,3], see ./batch-normalization-lowering.ts).
 * A and B need sums / M: the batch stage is then a ReduceMean and H*W a constant, so M is never
 * computed from the dynamic batch size, and the per-channel algebra stays in [C] (one reshape,
 * for K): a step runs this for every BN, and each tiny node costs ~14 us.
 * Running mean/var get no gradient.
 */
import { attr } from "../../onnx/builder.js";
import { loweredNames, spatialCount } from "./batch-normalization-lowering.js";
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";
import type { GradRule, OpDef } from "../types.js";

export const batchNormalizationGrad: GradRule = {
  opTypes: ["BatchNormalization"],
  inputsToSave: [0, 1],
  outputsToSave: [],
  nonDifferentiable: [3, 4],
  gradFunc(ctx, [dy]) {
    const { node } = ctx;
    const x = node.input[0]!;
    const { invStd, centered } = loweredNames(node.output[0]!);
    const xs = ctx.shape(x);
    const rank = xs.length;
    const spatial = Array.from({ length: rank - 2 }, (_, i) => i + 2);
    const hw = spatialCount(node.name || node.output[0]!, xs);
    const memo = new Map<string, string>();
    const once = (key: string, f: () => string) => {
      let v = memo.get(key);
      if (!v) memo.set(key, (v = f()));
      return v;
    };
    /** [N,C] sums over the spatial axes (rank 2: t itself). */
    const spatialSum = (t: string, hint: string) => (spatial.length ? ctx.op("ReduceSum", [t, ctx.ints(spatial)], { keepdims: attr.int(0) }, hint) : t);
    const dySums = () => once("dy", () => spatialSum(dy!, "dy_spatial_sum"));
    const dyXcSums = () => once("dy_xc", () => spatialSum(ctx.op("Mul", [dy!, centered], {}, "dy_xc"), "dy_xc_spatial_sum"));
    const overBatch = (op: "ReduceSum" | "ReduceMean", t: string, hint: string) =>
      op === "ReduceSum" ? ctx.op(op, [t, ctx.ints([0])], { keepdims: attr.int(0) }, hint) : ctx.op(op, [t], { axes: attr.ints([0]), keepdims: attr.int(0) }, hint);
    return {
      0: () => {
        const channels = xs[1] as number;
        const k = ctx.op("Mul", [node.input[1]!, invStd], {}, "k");
        const negKOverHw = ctx.op("Mul", [k, ctx.scalar(-1 / hw)], {}, "neg_k_over_hw");
        // B = -K * sum(dy)/M, A = -K * inv^2 * sum(dy*xc)/M, with sum/M = (batch mean of the spatial sums)/(H*W)
        const bConst = ctx.op("Mul", [overBatch("ReduceMean", dySums(), "dy_mean_sum"), negKOverHw], {}, "b");
        const a = ctx.op("Mul", [ctx.op("Mul", [overBatch("ReduceMean", dyXcSums(), "dy_xc_mean_sum"), invStd], {}, "dy_xhat_mean_sum"), ctx.op("Mul", [negKOverHw, invStd], {}, "neg_k_inv_over_hw")], {}, "a");
        const base = ctx.node.name || ctx.node.output[0]!;
        const zeros = ctx.b.floatInit(`${base}::grad_zeros`, [channels], new Float32Array(channels));
        const ones = ctx.b.floatInit(`${base}::grad_ones`, [channels], new Float32Array(channels).fill(1));
        const xcAffine = ctx.op("BatchNormalization", [centered, a, bConst, zeros, ones], { epsilon: attr.float(0) }, "xc_a_b");
        const kB = ctx.op("Reshape", [k, ctx.ints([1, -1, ...Array(rank - 2).fill(1)])], {}, "k_b");
        return ctx.op("Add", [ctx.op("Mul", [dy!, kB], {}, "dy_k"), xcAffine], {}, "dx");
      },
      1: () => ctx.op("Mul", [overBatch("ReduceSum", dyXcSums(), "dy_xc_sum"), invStd], {}, "dgamma"),
      2: () => overBatch("ReduceSum", dySums(), "dbeta"),
    };
  },
};

/** Outputs 1 and 2 (training-mode running mean/var, opset < 14 also saved mean/var) have the statistics' shapes. */
export const batchNormalization: OpDef = {
  opTypes: ["BatchNormalization"],
  infer: (ctx) => [{ shape: ctx.shape(0) }, ...(ctx.node.output.length > 1 ? [{ shape: ctx.shape(3) }, { shape: ctx.shape(4) }] : [])],
  cost: (ctx) => ({ macs: 0, params: ctx.node.input.slice(1, 3).filter((t) => ctx.isInitializer(t)) }),
  grad: batchNormalizationGrad,
  checks: {
    attributes: { epsilon: AttrType.FLOAT, momentum: AttrType.FLOAT, training_mode: AttrType.INT, spatial: AttrType.INT, is_test: AttrType.INT, consumed_inputs: AttrType.INTS },
    closedAttributes: true,
    attributeProblem(a) {
      if (a.name === "epsilon" && !(Number.isFinite(a.f) && a.f >= 0)) return `epsilon ${a.f} must be a finite number >= 0`;
      if (a.name === "momentum" && !Number.isFinite(a.f)) return `momentum ${a.f} must be a finite number`;
      return undefined;
    },
    floatInputs: [0, 1, 2, 3, 4],
    outputType: keepsType,
  },
};
