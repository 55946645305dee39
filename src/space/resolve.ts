/**
 * Resolution: a validated space with every op placed (input shape, output channels, stride) and
 * costed. Export, counting and `bnnas flops --space` all read this, so shapes and costs are
 * computed in one place.
 */
import { opKind } from "../ops/index.js";
import { addCost, type OpCost, type OpPlace, type Shape } from "../ops/geometry.js";
import type { FixedOpSpec, OpSpec, SpaceSpec } from "./spec.js";

export interface PlacedOp {
  op: OpSpec;
  place: OpPlace;
  outShape: Shape;
  cost: OpCost;
}

export interface ResolvedCandidate extends PlacedOp {
  /** Mask position (index in spec.candidates). */
  position: number;
  name: string;
}

export interface ResolvedLayer {
  index: number;
  label: string;
  place: OpPlace;
  outShape: Shape;
  /** Allowed candidates, in mask-position order. */
  candidates: ResolvedCandidate[];
}

export interface ResolvedSpace {
  spec: SpaceSpec;
  unbiased: boolean;
  input: Shape;
  stem: PlacedOp[];
  layers: ResolvedLayer[];
  head: PlacedOp[];
  /** Shape entering global average pooling + Linear. */
  headOut: Shape;
  /** Everything outside the choice layers: stem, head ops, classifier. */
  fixed: OpCost;
}

function place(ops: readonly FixedOpSpec[], shape: Shape, unbiased: boolean): { placed: PlacedOp[]; shape: Shape } {
  const placed: PlacedOp[] = [];
  for (const f of ops) {
    const p: OpPlace = { in: shape, out: f.out, stride: f.stride ?? 1 };
    const kind = opKind(f.op);
    shape = kind.outShape(f.op, p);
    placed.push({ op: f.op, place: p, outShape: shape, cost: kind.cost(f.op, p, unbiased) });
  }
  return { placed, shape };
}

/** Places and costs every op of a validated spec (see validateSpace). */
export function resolveSpace(spec: SpaceSpec, unbiased = false): ResolvedSpace {
  const input: Shape = { c: spec.input.shape[0], h: spec.input.shape[1], w: spec.input.shape[2] };
  // The stem and head are fixed parts of the network, not candidates: --unbiased leaves them as declared.
  const stem = place(spec.stem, input, false);
  let shape = stem.shape;
  const byName = new Map(spec.candidates.map((c, i) => [c.name, i]));
  const layers: ResolvedLayer[] = spec.layers.map((l, index) => {
    const p: OpPlace = { in: shape, out: l.out, stride: l.stride };
    const allowed = l.allowed ?? spec.candidates.filter((c) => opKind(c.op).problem(c.op, p) === undefined).map((c) => c.name);
    const candidates = allowed
      .map((n) => byName.get(n)!)
      .sort((a, b) => a - b)
      .map((position) => {
        const c = spec.candidates[position]!;
        const kind = opKind(c.op);
        return { position, name: c.name, op: c.op, place: p, outShape: kind.outShape(c.op, p), cost: kind.cost(c.op, p, unbiased) };
      });
    shape = candidates[0]!.outShape;
    return { index, label: l.label ?? `layer${index}`, place: p, outShape: shape, candidates };
  });
  const head = place(spec.head.ops ?? [], shape, false);
  const classifier: OpCost = { macs: head.shape.c * spec.classes, params: head.shape.c * spec.classes + spec.classes };
  let fixed: OpCost = classifier;
  for (const op of [...stem.placed, ...head.placed]) fixed = addCost(fixed, op.cost);
  return { spec, unbiased, input, stem: stem.placed, layers, head: head.placed, headOut: head.shape, fixed };
}
