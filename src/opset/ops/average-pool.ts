/**
 * AveragePool: dx = ConvTranspose(dy / count, ones) depthwise, with the pool's strides and pads.
 * count is the kernel size, or with count_include_pad=0 the number of real (unpadded) inputs in
 * each window, computed statically.
 */
import { attr } from "../../onnx/builder.js";
import { attrInt, attrInts, attrString } from "../../onnx/graph.js";
import type { GradRule, OpDef } from "../types.js";
import { POOL_ATTRIBUTES, keepsType, windowAttributeProblem } from "../check-util.js";
import { poolShape } from "../shape-util.js";

export const averagePoolGrad: GradRule = {
  opTypes: ["AveragePool"],
  inputsToSave: [],
  outputsToSave: [],
  gradFunc(ctx, [dy]) {
    const { node } = ctx;
    const x = node.input[0]!;
    const xs = ctx.shape(x), ys = ctx.shape(node.output[0]!);
    const nsp = xs.length - 2;
    const kernel = attrInts(node, "kernel_shape", []);
    const strides = attrInts(node, "strides", Array(nsp).fill(1));
    const pads = attrInts(node, "pads", Array(2 * nsp).fill(0));
    if (attrString(node, "auto_pad", "NOTSET") !== "NOTSET" || attrInt(node, "ceil_mode", 0) !== 0 || nsp !== 2)
      throw new Error(`autodiff: AveragePool '${node.name}': only 2-D pools with explicit pads and ceil_mode=0 are supported`);
    const c = xs[1] as number;
    const [h, w] = [xs[2] as number, xs[3] as number];
    const [ho, wo] = [ys[2] as number, ys[3] as number];
    const kk = kernel[0]! * kernel[1]!;
    return {
      0: () => {
        let scaled: string;
        const hasPad = pads.some((p) => p > 0);
        if (attrInt(node, "count_include_pad", 0) === 1 || !hasPad) scaled = ctx.op("Mul", [dy!, ctx.scalar(1 / kk)], {}, "scaled");
        else {
          const inv = new Float32Array(ho * wo);
          for (let i = 0; i < ho; i++)
            for (let j = 0; j < wo; j++) {
              const r0 = Math.max(0, i * strides[0]! - pads[0]!), r1 = Math.min(h, i * strides[0]! - pads[0]! + kernel[0]!);
              const c0 = Math.max(0, j * strides[1]! - pads[1]!), c1 = Math.min(w, j * strides[1]! - pads[1]! + kernel[1]!);
              inv[i * wo + j] = 1 / ((r1 - r0) * (c1 - c0));
            }
          scaled = ctx.op("Mul", [dy!, ctx.b.floatInit(`${node.name || x}::inv_count`, [1, 1, ho, wo], inv)], {}, "scaled");
        }
        const ones = ctx.b.floatInit(`${node.name || x}::ones_kernel`, [c, 1, ...kernel], new Float32Array(c * kk).fill(1));
        const outputPadding = [0, 1].map((i) => xs[2 + i] as number - ((ys[2 + i] as number - 1) * strides[i]! - pads[i]! - pads[i + 2]! + kernel[i]!));
        return ctx.op("ConvTranspose", [scaled, ones], {
          group: attr.int(c), kernel_shape: attr.ints(kernel), pads: attr.ints(pads), strides: attr.ints(strides), output_padding: attr.ints(outputPadding),
        }, "dx");
      },
    };
  },
};

export const averagePool: OpDef = {
  opTypes: ["AveragePool"],
  infer: (ctx) => [{ shape: poolShape(ctx) }],
  grad: averagePoolGrad,
  checks: { attributes: POOL_ATTRIBUTES, closedAttributes: true, attributeProblem: windowAttributeProblem, floatInputs: [0], outputType: keepsType },
};
