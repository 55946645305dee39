/**
 * ConvTranspose: out = stride*(in-1) + output_padding + dilation*(k-1) + 1 - pads, or the
 * output_shape attribute when given. bnnas emits it in backward graphs; in a supernet it is only
 * checked and counted through.
 */
import { attrInt, attrInts } from "../../onnx/graph.js";
import { AttrType } from "../../onnx/proto.js";
import { CONV_ATTRIBUTES, keepsType, windowAttributeProblem } from "../check-util.js";
import type { OpDef } from "../types.js";

export const convTranspose: OpDef = {
  opTypes: ["ConvTranspose"],
  infer(ctx) {
    const { node } = ctx;
    const x = ctx.shape(0), w = ctx.shape(1);
    const kernel = attrInts(node, "kernel_shape", w.slice(2).map(Number));
    const k = kernel.length;
    const strides = attrInts(node, "strides", Array(k).fill(1));
    const dil = attrInts(node, "dilations", Array(k).fill(1));
    const pads = attrInts(node, "pads", Array(2 * k).fill(0));
    const extra = attrInts(node, "output_padding", Array(k).fill(0));
    const given = attrInts(node, "output_shape", []);
    const spatial = kernel.map((kk, i) => {
      if (given.length) return given[given.length - k + i]!;
      const h = x[2 + i];
      if (typeof h !== "number") return ctx.fail(`spatial dim ${i} of its input is symbolic ('${h}')`);
      return strides[i]! * (h - 1) + extra[i]! + dil[i]! * (kk - 1) + 1 - pads[i]! - pads[i + k]!;
    });
    const channels = typeof w[1] === "number" ? w[1] * attrInt(node, "group", 1) : w[1]!;
    return [{ shape: [x[0]!, channels, ...spatial] }];
  },
  checks: {
    attributes: { ...CONV_ATTRIBUTES, output_padding: AttrType.INTS, output_shape: AttrType.INTS },
    closedAttributes: true,
    attributeProblem: windowAttributeProblem,
    floatInputs: [0, 1, 2],
    outputType: keepsType,
  },
};
