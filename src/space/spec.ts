/**
 * The search-space specification: a plain JSON-serialisable object (what a space file holds and
 * what the manifest of an exported supernet embeds), so a supernet file describes itself.
 *
 * A space is: an input (shape, normalisation), a number of classes, a stem of fixed ops, a list of
 * choice layers, and a head (fixed ops, then global average pooling and a Linear classifier).
 * Candidates are declared once for the whole space; their index in `candidates` is their *mask
 * position* in every layer. A layer may restrict which candidates it allows; a candidate that is
 * not allowed in a layer is simply absent from that layer's graph.
 */

import type { OpSpec } from "../ops/spec.js";
import type { Normalization } from "../structure/normalization.js";

export type { Activation, MBConvOp, ConvOp, DwSepOp, SkipOp, PoolOp, OpSpec } from "../ops/spec.js";

/** A named candidate op; its index in SpaceSpec.candidates is its mask position. */
export interface CandidateSpec {
  name: string;
  op: OpSpec;
}

/** A fixed (non-searchable) op in the stem or head. */
export interface FixedOpSpec {
  op: OpSpec;
  out: number;
  /** Default 1. */
  stride?: number;
}

export interface LayerSpec {
  /** Default `layer<i>`. */
  label?: string;
  in: number;
  out: number;
  stride: number;
  /** Names of the candidates this layer offers. Default: every candidate that can be built with this layer's shape. */
  allowed?: string[];
}

export interface SpaceSpec {
  name: string;
  description?: string;
  input: {
    /** Name of the graph's data input. Default `input`. */
    name?: string;
    /** [C, H, W]. */
    shape: [number, number, number];
    /** Applied to pixel values scaled to [0, 1]: x = (p - mean[c]) / std[c]. One entry per channel. */
    normalize: Normalization;
  };
  classes: number;
  stem: FixedOpSpec[];
  candidates: CandidateSpec[];
  layers: LayerSpec[];
  head: {
    /** Fixed ops before global average pooling and the Linear classifier (with bias). */
    ops?: FixedOpSpec[];
  };
  /**
   * Layers that are always the identity candidate, while no other layer ever is (the BN-NAS
   * code's fixed depth on bnnas-mbv2). A search offers it as its default constraint.
   */
  fixedDepth?: number[];
}
