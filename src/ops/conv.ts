/**
 * conv kxk-BN-act: Conv kxk (layer stride, pad k//2) in -> out, BN, activation (default ReLU).
 * Names: conv, bn, act. Any stride and channel change is fine; no residual.
 */
import type { ConvOp } from "./spec.js";
import { kernelActFields } from "./fields.js";
import type { OpKind } from "./types.js";
import { addCost, bnCost, convCost, windowShape } from "./geometry.js";

export const conv: OpKind<ConvOp> = {
  types: ["conv"],
  parse: (raw, at) => ({ type: "conv", ...kernelActFields(raw, at) }),
  problem: () => undefined,
  outShape: (op, p) => windowShape(p, op.k),
  cost(op, p) {
    const { h, w } = windowShape(p, op.k);
    return addCost(convCost(p.in.c, p.out, op.k, 1, h, w), bnCost(p.out));
  },
  emit(op, { em, prefix, input, place }) {
    const c = em.conv(`${prefix}.conv`, input, place.in, place.out, op.k, place.stride);
    const b = em.batchNorm(`${prefix}.bn`, c.output, place.out);
    return { output: em.activation(op.act ?? "relu", `${prefix}.act`, b.output), batchNorms: [b.ref] };
  },
  hasBatchNorm: () => true,
};
