/**
 * What every candidate-op kind provides (one file per kind in this folder): reading its JSON
 * fields, the rule for which layer shapes it can serve, its MACs/params, and its ONNX emission.
 */
import type { BatchNormRef } from "../structure/structure.js";
import type { OpSpec } from "./spec.js";
import type { JsonObject, JsonPath } from "../util/json.js";
import type { Emitter } from "./emitter.js";
import type { OpCost, OpPlace, Shape } from "./geometry.js";

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
