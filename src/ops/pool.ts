/**
 * 3x3 (or kxk) average / max pooling, pad k//2, the layer's stride. Pooling cannot change the
 * channel count, so it is only allowed where in == out (any stride). Average pooling counts the
 * zero padding (count_include_pad=1, PyTorch's nn.AvgPool2d default), so a PyTorch peer of the
 * space gives the same numbers. Without BN it scores 0; with --unbiased a BatchNorm (`bn`) follows.
 */
import { attr } from "../onnx/builder.js";
import type { PoolOp } from "./spec.js";
import { checkKeys, kernelField } from "./fields.js";
import type { OpKind } from "./types.js";
import { bnCost, windowShape } from "./geometry.js";

export const pool: OpKind<PoolOp> = {
  types: ["avgpool", "maxpool"],
  parse(raw, at) {
    checkKeys(raw, at, ["type", "k"]);
    return { type: raw.type as PoolOp["type"], k: kernelField(raw, at, 3) };
  },
  problem(op, p) {
    if (p.in.c !== p.out) return `${op.type} keeps the channel count, so it needs in == out channels (this layer: ${p.in.c} -> ${p.out})`;
    return undefined;
  },
  outShape: (op, p) => windowShape(p, op.k ?? 3),
  cost: (_op, p, unbiased) => (unbiased ? bnCost(p.out) : { macs: 0, params: 0 }),
  emit(op, { em, prefix, input, place, unbiased }) {
    const k = op.k ?? 3;
    const pd = Math.floor(k / 2);
    const attrs = { kernel_shape: attr.ints([k, k]), strides: attr.ints([place.stride, place.stride]), pads: attr.ints([pd, pd, pd, pd]) };
    const pooled =
      op.type === "avgpool"
        ? em.b.op("AveragePool", [input], { ...attrs, count_include_pad: attr.int(1) }, `${prefix}.pool`)
        : em.b.op("MaxPool", [input], attrs, `${prefix}.pool`);
    if (!unbiased) return { output: pooled, batchNorms: [] };
    const b = em.batchNorm(`${prefix}.bn`, pooled, place.out);
    return { output: b.output, batchNorms: [b.ref] };
  },
  hasBatchNorm: () => false,
};
