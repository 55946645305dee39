/**
 * skip (identity): only where the layer keeps the shape (stride 1 and in == out); bnnas does not
 * invent a reduction op behind the user's back. Without BN it scores 0 (BN-NAS). With
 * --unbiased (BNNAS++) it is identity followed by a BatchNorm (`bn`), which is then its indicator
 * and stays in an extracted subnet.
 */
import type { SkipOp } from "./spec.js";
import { checkKeys } from "./fields.js";
import type { OpKind } from "./types.js";
import { bnCost } from "./geometry.js";

export const skip: OpKind<SkipOp> = {
  types: ["skip"],
  parse(raw, at) {
    checkKeys(raw, at, ["type"]);
    return { type: "skip" };
  },
  problem(_op, p) {
    if (p.stride !== 1 || p.in.c !== p.out) return `skip is the identity, so it needs stride 1 and in == out channels (this layer: ${p.in.c} -> ${p.out}, stride ${p.stride})`;
    return undefined;
  },
  outShape: (_op, p) => ({ ...p.in }),
  cost: (_op, p, unbiased) => (unbiased ? bnCost(p.out) : { macs: 0, params: 0 }),
  emit(_op, { em, prefix, input, place, unbiased }) {
    if (!unbiased) return { output: input, batchNorms: [] };
    const b = em.batchNorm(`${prefix}.bn`, input, place.out);
    return { output: b.output, batchNorms: [b.ref] };
  },
  hasBatchNorm: () => false,
};
