/**
 * BatchNormalization in training mode (batch statistics), on top of the lowering in
 * ../batchnorm-lowering.ts, which saves the [1,C,1,1] batch mean and 1/std. With
 * xhat = (x - mean) * inv and M = N*H*W per channel:
 *   dbeta  = sum(dy)                 dgamma = sum(dy * xhat) = inv * (sum(dy * x) - mean * dbeta)
 *   dx     = gamma*inv * (dy - dbeta/M - xhat * dgamma/M) = dy*K + x*A + B   (K, A, B per channel)
 * Gradients through the batch mean and variance are included, exactly as PyTorch's train mode.
 * Written in terms of x rather than xhat so the forward need not materialise xhat, and dx is
 * one Sum over two products (three passes over memory). Running mean/var get no gradient.
 */
import { attr } from "../../onnx/builder.js";
import { loweredNames } from "../batchnorm-lowering.js";
import type { GradRule } from "../rule.js";

export const batchNormalizationGrad: GradRule = {
  opTypes: ["BatchNormalization"],
  inputsToSave: [0, 1],
  outputsToSave: [],
  nonDifferentiable: [3, 4],
  gradFunc(ctx, [dy]) {
    const { node } = ctx;
    const x = node.input[0]!;
    const { meanB, invStd } = loweredNames(node.output[0]!);
    const xs = ctx.shape(x);
    const rank = xs.length;
    const axes = ctx.ints([0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)]);
    const bshape = ctx.ints([1, -1, ...Array(rank - 2).fill(1)]);
    const flat = ctx.ints([-1]);
    const memo = new Map<string, string>();
    const once = (key: string, f: () => string) => {
      let v = memo.get(key);
      if (!v) memo.set(key, (v = f()));
      return v;
    };
    const keep = { keepdims: attr.int(1) };
    const dbeta4 = () => once("dbeta4", () => ctx.op("ReduceSum", [dy!, axes], keep, "dbeta4"));
    const dgamma4 = () =>
      once("dgamma4", () => {
        const sdyx = ctx.op("ReduceSum", [ctx.op("Mul", [dy!, x], {}, "dy_x"), axes], keep, "sum_dy_x");
        const centered = ctx.op("Sub", [sdyx, ctx.op("Mul", [meanB, dbeta4()], {}, "mean_sum_dy")], {}, "centered_sum");
        return ctx.op("Mul", [centered, invStd], {}, "dgamma4");
      });
    return {
      0: () => {
        const channels = xs[1] as number;
        // 1/M, M = size(x)/C (N is dynamic)
        const invM = ctx.op("Div", [ctx.scalar(channels), ctx.op("Cast", [ctx.op("Size", [x], {}, "size")], { to: attr.int(1) }, "size_f")], {}, "inv_m");
        const k = ctx.op("Mul", [ctx.op("Reshape", [node.input[1]!, bshape], {}, "gamma_b"), invStd], {}, "k");
        const kOverM = ctx.op("Mul", [k, invM], {}, "k_over_m");
        const a = ctx.op("Neg", [ctx.op("Mul", [ctx.op("Mul", [kOverM, invStd], {}, "k_inv_over_m"), dgamma4()], {}, "a_pos")], {}, "a");
        const bConst = ctx.op("Neg", [ctx.op("Add", [ctx.op("Mul", [kOverM, dbeta4()], {}, "k_dbeta_over_m"), ctx.op("Mul", [a, meanB], {}, "a_mean")], {}, "b_pos")], {}, "b");
        return ctx.op("Sum", [ctx.op("Mul", [dy!, k], {}, "dy_k"), ctx.op("Mul", [x, a], {}, "x_a"), bConst], {}, "dx");
      },
      1: () => ctx.op("Reshape", [dgamma4(), flat], {}, "dgamma"),
      2: () => ctx.op("Reshape", [dbeta4(), flat], {}, "dbeta"),
    };
  },
};
