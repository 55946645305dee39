/**
 * Depthwise-separable conv (as the torch-tiny fixture's candidate 2):
 *   depthwise kxk on in (layer stride, pad k//2), BN, act; pointwise 1x1 in -> out, BN, act
 * (default ReLU). Names: conv1/bn1/act1, conv2/bn2/act2. Any stride and channel change is fine.
 */
import type { DwSepOp } from "./spec.js";
import { kernelActFields } from "./fields.js";
import type { OpKind } from "./types.js";
import { addCost, bnCost, convCost, windowShape } from "./geometry.js";

export const dwsep: OpKind<DwSepOp> = {
  types: ["dwsep"],
  parse: (raw, at) => ({ type: "dwsep", ...kernelActFields(raw, at) }),
  problem: () => undefined,
  outShape: (op, p) => windowShape(p, op.k),
  cost(op, p) {
    const { h, w } = windowShape(p, op.k);
    const dw = addCost(convCost(p.in.c, p.in.c, op.k, p.in.c, h, w), bnCost(p.in.c));
    return addCost(dw, addCost(convCost(p.in.c, p.out, 1, 1, h, w), bnCost(p.out)));
  },
  emit(op, { em, prefix, input, place }) {
    const act = op.act ?? "relu";
    const c1 = em.conv(`${prefix}.conv1`, input, place.in, place.in.c, op.k, place.stride, place.in.c);
    const b1 = em.batchNorm(`${prefix}.bn1`, c1.output, place.in.c);
    const a1 = em.activation(act, `${prefix}.act1`, b1.output);
    const c2 = em.conv(`${prefix}.conv2`, a1, c1.shape, place.out, 1, 1);
    const b2 = em.batchNorm(`${prefix}.bn2`, c2.output, place.out);
    return { output: em.activation(act, `${prefix}.act2`, b2.output), batchNorms: [b1.ref, b2.ref] };
  },
  hasBatchNorm: () => true,
};
