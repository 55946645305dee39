/**
 * A search problem: per layer, the allowed mask positions and each one's score, MACs and params
 * (and, given a latency table, latency in ms); plus the fixed part's cost and the constraints. Strategies only see this, so they are pure
 * functions of numbers and can be tested on random tables against brute force.
 */
import { BnnasError, UsageError } from "../errors.js";
import type { SupernetStructure } from "../structure/structure.js";
import { identityCandidate } from "../structure/arch.js";

export interface ProblemLayer {
  label: string;
  /** Allowed mask positions, ascending. */
  choices: number[];
  /** Indexed by mask position; NaN where there is no candidate. */
  score: Float64Array;
  macs: Float64Array;
  params: Float64Array;
  /** Predicted latency (ms) per mask position; present on every layer or on none (with fixed.latency). */
  latency?: Float64Array;
}

export interface SearchProblem {
  layers: ProblemLayer[];
  /** latency: what every architecture pays (stem, head, per-network terms), when latencies are known. */
  fixed: { macs: number; params: number; latency?: number };
  /** False when the supernet's costs are unknown: they are then 0 here and limits cannot be used. */
  costsKnown?: boolean;
}

export interface Constraints {
  maxMacs?: number;
  minMacs?: number;
  maxParams?: number;
  /** Predicted latency limit (ms); needs a problem with latencies. */
  maxLatency?: number;
}

export interface Evaluated {
  /** Mask position per layer. */
  arch: number[];
  score: number;
  macs: number;
  params: number;
  /** Predicted latency (ms), present when the problem has latencies. */
  latency?: number;
}

/** Whether the problem carries latencies (a latency table was given). */
export function hasLatency(p: SearchProblem): boolean {
  return p.fixed.latency !== undefined;
}

/**
 * Score, MACs, params and (when known) latency of an architecture; each summed from the fixed
 * part's value in layer order, the score from 0, as every strategy does.
 */
export function evaluate(p: SearchProblem, arch: readonly number[]): Evaluated {
  let score = 0;
  let macs = p.fixed.macs;
  let params = p.fixed.params;
  for (let l = 0; l < p.layers.length; l++) {
    const layer = p.layers[l]!;
    const a = arch[l]!;
    score += layer.score[a]!;
    macs += layer.macs[a]!;
    params += layer.params[a]!;
  }
  if (p.fixed.latency === undefined) return { arch: arch.slice(), score, macs, params };
  let latency = p.fixed.latency;
  for (let l = 0; l < p.layers.length; l++) latency += p.layers[l]!.latency![arch[l]!]!;
  return { arch: arch.slice(), score, macs, params, latency };
}

/**
 * Whether an evaluated architecture meets the limits. The numeric form (macs, params[, latency])
 * is kept for callers that pass numbers; a latency limit with no latency given is not met, so a
 * caller that forgets to pass it can never return an architecture over the budget.
 */
export function feasible(c: Constraints, e: { macs: number; params: number; latency?: number }): boolean;
export function feasible(c: Constraints, macs: number, params: number, latency?: number): boolean;
export function feasible(c: Constraints, e: number | { macs: number; params: number; latency?: number }, params?: number, latency?: number): boolean {
  const v = typeof e === "number" ? { macs: e, params: params!, latency } : e;
  return (
    (c.maxMacs === undefined || v.macs <= c.maxMacs) &&
    (c.minMacs === undefined || v.macs >= c.minMacs) &&
    (c.maxParams === undefined || v.params <= c.maxParams) &&
    (c.maxLatency === undefined || (v.latency !== undefined && v.latency <= c.maxLatency))
  );
}

/** The fastest allowed architecture and its predicted latency (first allowed position on ties). */
export function fastest(p: SearchProblem): { arch: number[]; latency: number } {
  const arch = p.layers.map((layer) => layer.choices.reduce((best, c) => (layer.latency![c]! < layer.latency![best]! ? c : best)));
  return { arch, latency: evaluate(p, arch).latency! };
}

/** The ranking every strategy uses: higher score first, then fewer MACs, then the smaller arch (lexicographic). */
export function compareEvaluated(a: Evaluated, b: Evaluated): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.macs !== b.macs) return a.macs - b.macs;
  for (let i = 0; i < a.arch.length; i++) if (a.arch[i] !== b.arch[i]) return a.arch[i]! - b.arch[i]!;
  return 0;
}

/** Keeps the best `k` of what it is offered, in ranking order. */
export class TopK<T extends Evaluated = Evaluated> {
  readonly items: T[] = [];
  constructor(readonly k: number, private readonly compare: (a: T, b: T) => number = compareEvaluated) {}
  /** Score an entry must reach to possibly enter (ties may enter by the tie-breaks). */
  threshold(): number {
    return this.items.length < this.k ? -Infinity : this.items[this.k - 1]!.score;
  }
  offer(e: T): void {
    if (this.items.length >= this.k && this.compare(e, this.items[this.k - 1]!) >= 0) return;
    let lo = 0, hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(this.items[mid]!, e) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, e);
    if (this.items.length > this.k) this.items.pop();
  }
}

export interface ProblemOptions {
  /** Per layer, the allowed mask positions (default: every candidate of the layer). */
  allowed?: number[][];
  /** Predicted latencies (ms): the fixed part, and per layer each candidate's, in structure order. */
  latency?: { fixed: number; perCandidate: number[][] };
}

/**
 * Builds a problem from a structure and per-candidate scores (null = 0). Costs come from the
 * structure (manifest or counted); without them they are 0 (so ties rank by arch alone) and
 * `costsKnown` is false.
 */
export function problemFromStructure(structure: SupernetStructure, scores: (number | null)[][], options: ProblemOptions = {}): SearchProblem {
  const layers = structure.layers.map((layer, l) => {
    const size = Math.max(...layer.candidates.map((c) => c.position)) + 1;
    const score = new Float64Array(size).fill(NaN);
    const macs = new Float64Array(size).fill(NaN);
    const params = new Float64Array(size).fill(NaN);
    const latency = options.latency ? new Float64Array(size).fill(NaN) : undefined;
    layer.candidates.forEach((c, k) => {
      score[c.position] = scores[l]![k] ?? 0;
      macs[c.position] = c.macs ?? 0;
      params[c.position] = c.params ?? 0;
      if (latency) latency[c.position] = options.latency!.perCandidate[l]![k]!;
    });
    const all = layer.candidates.map((c) => c.position).sort((a, b) => a - b);
    const choices = options.allowed ? options.allowed[l]!.slice().sort((a, b) => a - b) : all;
    for (const c of choices) if (!all.includes(c)) throw new BnnasError(`${layer.label}: position ${c} is not a candidate of this layer`);
    if (choices.length === 0) throw new UsageError(`${layer.label}: no candidate is allowed in this layer`);
    return { label: layer.label, choices, score, macs, params, ...(latency ? { latency } : {}) };
  });
  const known = structure.fixed !== undefined && structure.layers.every((l) => l.candidates.every((c) => c.macs !== undefined && c.params !== undefined));
  const fixed: SearchProblem["fixed"] = structure.fixed ? { ...structure.fixed } : { macs: 0, params: 0 };
  if (options.latency) fixed.latency = options.latency.fixed;
  return { layers, fixed, costsKnown: known };
}

/** True when every allowed candidate and the fixed part have known costs. */
export function costsKnown(p: SearchProblem): boolean {
  return p.costsKnown !== false && Number.isFinite(p.fixed.macs) && Number.isFinite(p.fixed.params) && p.layers.every((l) => l.choices.every((c) => Number.isFinite(l.macs[c]!) && Number.isFinite(l.params[c]!)));
}

/**
 * The BN-NAS code's fixed depth on bnnas-mbv2: the layers in `fixedDepth` are always the identity
 * candidate and no other layer ever is. Returns the allowed positions per layer.
 */
export function fixedDepthChoices(structure: SupernetStructure, fixedDepth: readonly number[]): number[][] {
  for (const l of fixedDepth) {
    if (!Number.isInteger(l) || l < 0 || l >= structure.layers.length) throw new BnnasError(`fixed depth names layer ${l}, but the supernet has layers 0..${structure.layers.length - 1}`);
  }
  return structure.layers.map((layer, l) => {
    const id = identityCandidate(layer);
    if (fixedDepth.includes(l)) {
      if (!id) throw new BnnasError(`fixed depth: ${layer.label} must be identity but has no identity candidate`);
      return [id.position];
    }
    return layer.candidates.filter((c) => c !== id).map((c) => c.position);
  });
}

/** Checks that `arch` only uses allowed positions; returns a problem description or undefined. */
export function disallowed(p: SearchProblem, arch: readonly number[]): string | undefined {
  if (arch.length !== p.layers.length) return `it has ${arch.length} values for ${p.layers.length} layers`;
  for (let l = 0; l < arch.length; l++) {
    const layer = p.layers[l]!;
    if (!layer.choices.includes(arch[l]!)) return `${layer.label}: ${arch[l]} is not allowed here (allowed: ${layer.choices.join(", ")})`;
  }
  return undefined;
}
