/**
 * What every candidate-op kind provides (one file per kind in this folder): reading its JSON
 * fields, the rule for which layer shapes it can serve, its MACs/params, and its ONNX emission.
 */
import type { BatchNormRef } from "../supernet/structure.js";
import type { OpSpec } from "../space/spec.js";
import type { JsonObject, JsonPath } from "../space/json.js";
import type { Emitter } from "./emitter.js";

/** Channels and spatial size of a feature map (batch excluded). */
export interface Shape {
  c: number;
  h: number;
  w: number;
}

/** Where an op sits: input shape, output channels, stride. */
export interface OpPlace {
  in: Shape;
  out: number;
  stride: number;
}

export interface OpCost {
  /** Multiply-accumulates of Conv and Gemm only. */
  macs: number;
  /** Conv/Linear weights, Linear bias, BatchNorm gamma and beta. */
  params: number;
}

export interface EmitArgs {
  em: Emitter;
  /** Name prefix of the op's nodes and initializers, e.g. `layers.3.mb_k5_e6`. */
  prefix: string;
  input: string;
  place: OpPlace;
  /** BNNAS++: add a BatchNorm to an op that has none. */
  unbiased: boolean;
}

export interface Emitted {
  output: string;
  /** BatchNormalization nodes of the op, in graph order (the last is its indicator). */
  batchNorms: BatchNormRef[];
}

export interface OpKind<T extends OpSpec = OpSpec> {
  /** The `type` values this kind handles. */
  readonly types: readonly T["type"][];
  /** Reads and checks the op object (its `type` is already known to be one of `types`). */
  parse(raw: JsonObject, at: JsonPath): T;
  /** Why this op cannot be used at `place`, or undefined if it can. */
  problem(op: T, place: OpPlace): string | undefined;
  /** Output spatial size at `place`. */
  outShape(op: T, place: OpPlace): Shape;
  cost(op: T, place: OpPlace, unbiased: boolean): OpCost;
  emit(op: T, args: EmitArgs): Emitted;
  /** Whether the op has a BatchNorm of its own (without --unbiased). */
  hasBatchNorm(op: T): boolean;
}

/** Output size of a kxk window with padding k//2 and stride s (odd k keeps size at stride 1). */
export function windowOut(size: number, k: number, stride: number): number {
  return Math.floor((size + 2 * Math.floor(k / 2) - k) / stride) + 1;
}

/** Output shape of a kxk-window op at `place` (out channels, windowOut on both spatial dims). */
export function windowShape(place: OpPlace, k: number): Shape {
  return { c: place.out, h: windowOut(place.in.h, k, place.stride), w: windowOut(place.in.w, k, place.stride) };
}

export function convCost(inC: number, outC: number, k: number, group: number, outH: number, outW: number): OpCost {
  const weights = outC * (inC / group) * k * k;
  return { macs: outH * outW * weights, params: weights };
}

export function addCost(a: OpCost, b: OpCost): OpCost {
  return { macs: a.macs + b.macs, params: a.params + b.params };
}

export const bnCost = (c: number): OpCost => ({ macs: 0, params: 2 * c });
