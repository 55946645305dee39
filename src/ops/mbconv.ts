/**
 * MBConv(k, e) (MobileNetV2 inverted residual, as in fmnist-small.md), mid = in * e:
 *   1x1 expand in -> mid, BN, ReLU6      (absent when e = 1, as in the bnnas-mbv2 fixed block)
 *   kxk depthwise on mid, layer stride, pad k//2, BN, ReLU6
 *   1x1 project mid -> out, BN            (the op's last BatchNorm: its BN-NAS indicator)
 *   + input when stride 1 and in == out
 * Names: conv1/bn1 (expand), conv2/bn2 (depthwise), conv3/bn3 (project), so `bn3` is always the
 * indicator whatever e is. Any stride and channel change is fine.
 */
import { asInt } from "../util/json.js";
import type { MBConvOp } from "./spec.js";
import { checkKeys, kernelField } from "./fields.js";
import type { OpKind } from "./types.js";
import { addCost, bnCost, convCost, windowShape, type OpCost } from "./geometry.js";

export const MAX_EXPANSION = 16;

const hasResidual = (place: { in: { c: number }; out: number; stride: number }) => place.stride === 1 && place.in.c === place.out;

export const mbconv: OpKind<MBConvOp> = {
  types: ["mbconv"],
  parse(raw, at) {
    checkKeys(raw, at, ["type", "k", "e"]);
    if (raw.e === undefined) throw at.key("e").error("is missing (the expansion ratio, e.g. 3 or 6)");
    return { type: "mbconv", k: kernelField(raw, at), e: asInt(raw.e, at.key("e"), 1, MAX_EXPANSION) };
  },
  problem: () => undefined,
  outShape: (op, p) => windowShape(p, op.k),
  cost(op, p) {
    const mid = p.in.c * op.e;
    const { h, w } = windowShape(p, op.k);
    let c: OpCost = { macs: 0, params: 0 };
    if (op.e !== 1) c = addCost(convCost(p.in.c, mid, 1, 1, p.in.h, p.in.w), bnCost(mid));
    c = addCost(c, addCost(convCost(mid, mid, op.k, mid, h, w), bnCost(mid)));
    return addCost(c, addCost(convCost(mid, p.out, 1, 1, h, w), bnCost(p.out)));
  },
  emit(op, { em, prefix, input, place }) {
    const mid = place.in.c * op.e;
    let x = input;
    let shape = place.in;
    const bns = [];
    if (op.e !== 1) {
      const c1 = em.conv(`${prefix}.conv1`, x, shape, mid, 1, 1);
      const b1 = em.batchNorm(`${prefix}.bn1`, c1.output, mid);
      bns.push(b1.ref);
      x = em.activation("relu6", `${prefix}.act1`, b1.output);
      shape = c1.shape;
    }
    const c2 = em.conv(`${prefix}.conv2`, x, shape, mid, op.k, place.stride, mid);
    const b2 = em.batchNorm(`${prefix}.bn2`, c2.output, mid);
    bns.push(b2.ref);
    x = em.activation("relu6", `${prefix}.act2`, b2.output);
    const c3 = em.conv(`${prefix}.conv3`, x, c2.shape, place.out, 1, 1);
    const b3 = em.batchNorm(`${prefix}.bn3`, c3.output, place.out);
    bns.push(b3.ref);
    const output = hasResidual(place) ? em.add(`${prefix}.residual`, input, b3.output) : b3.output;
    return { output, batchNorms: bns };
  },
  hasBatchNorm: () => true,
};
