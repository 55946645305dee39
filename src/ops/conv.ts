/**
 * conv kxk-BN-act: Conv kxk (layer stride, pad k//2) in -> out, BN, activation (default ReLU).
 * Names: conv, bn, act. Any stride and channel change is fine; no residual.
 */
import type { ConvOp } from "../space/spec.js";
import { activationField, checkKeys, kernelField } from "./fields.js";
import { addCost, bnCost, convCost, windowOut, type OpKind } from "./types.js";

export const conv: OpKind<ConvOp> = {
  types: ["conv"],
  parse(raw, at) {
    checkKeys(raw, at, ["type", "k", "act"]);
    return { type: "conv", k: kernelField(raw, at), act: activationField(raw, at, "relu") };
  },
  problem: () => undefined,
  outShape: (op, p) => ({ c: p.out, h: windowOut(p.in.h, op.k, p.stride), w: windowOut(p.in.w, op.k, p.stride) }),
  cost(op, p) {
    const h = windowOut(p.in.h, op.k, p.stride);
    const w = windowOut(p.in.w, op.k, p.stride);
    return addCost(convCost(p.in.c, p.out, op.k, 1, h, w), bnCost(p.out));
  },
  emit(op, { em, prefix, input, place }) {
    const c = em.conv(`${prefix}.conv`, input, place.in, place.out, op.k, place.stride);
    const b = em.batchNorm(`${prefix}.bn`, c.output, place.out);
    return { output: em.activation(op.act ?? "relu", `${prefix}.act`, b.output), batchNorms: [b.ref] };
  },
  hasBatchNorm: () => true,
};
