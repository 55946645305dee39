/**
 * A search problem: per layer, the allowed mask positions and each one's score, MACs and params;
 * plus the fixed part's cost and the constraints. Strategies only see this, so they are pure
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
}

export interface SearchProblem {
  layers: ProblemLayer[];
  fixed: { macs: number; params: number };
  /** False when the supernet's costs are unknown: they are then 0 here and limits cannot be used. */
  costsKnown?: boolean;
}

export interface Constraints {
  maxMacs?: number;
  minMacs?: number;
  maxParams?: number;
}

export interface Evaluated {
  /** Mask position per layer. */
  arch: number[];
  score: number;
  macs: number;
  params: number;
}

/** Score, MACs and params of an architecture (the score summed in layer order, as every strategy does). */
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
  return { arch: arch.slice(), score, macs, params };
}

export function feasible(c: Constraints, macs: number, params: number): boolean {
  return (c.maxMacs === undefined || macs <= c.maxMacs) && (c.minMacs === undefined || macs >= c.minMacs) && (c.maxParams === undefined || params <= c.maxParams);
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
    layer.candidates.forEach((c, k) => {
      score[c.position] = scores[l]![k] ?? 0;
      macs[c.position] = c.macs ?? 0;
      params[c.position] = c.params ?? 0;
    });
    const all = layer.candidates.map((c) => c.position).sort((a, b) => a - b);
    const choices = options.allowed ? options.allowed[l]!.slice().sort((a, b) => a - b) : all;
    for (const c of choices) if (!all.includes(c)) throw new BnnasError(`${layer.label}: position ${c} is not a candidate of this layer`);
    if (choices.length === 0) throw new UsageError(`${layer.label}: no candidate is allowed in this layer`);
    return { label: layer.label, choices, score, macs, params };
  });
  const known = structure.fixed !== undefined && structure.layers.every((l) => l.candidates.every((c) => c.macs !== undefined && c.params !== undefined));
  return { layers, fixed: structure.fixed ? { ...structure.fixed } : { macs: 0, params: 0 }, costsKnown: known };
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
