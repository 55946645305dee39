/**
 * Scores (and costs) architectures in bulk: the per-candidate scores laid out in one flat table
 * indexed by layer * stride + mask position, so scoring an architecture is L array reads. Inputs
 * must already be valid architectures (parseArch / checkArch do that at the boundary).
 */
import type { SupernetStructure } from "../structure/structure.js";

export class ArchScorer {
  readonly layers: number;
  /** Positions per layer in the flat tables (max position + 1 over layers). */
  readonly stride: number;
  readonly scores: Float64Array;
  readonly macs: Float64Array;
  readonly params: Float64Array;
  readonly fixed: { macs: number; params: number };

  /** `scores[l][k]` belongs to structure.layers[l].candidates[k]; null counts 0. */
  constructor(structure: SupernetStructure, scores: (number | null)[][]) {
    this.layers = structure.layers.length;
    this.stride = Math.max(1, ...structure.layers.flatMap((l) => l.candidates.map((c) => c.position + 1)));
    const n = this.layers * this.stride;
    this.scores = new Float64Array(n).fill(NaN);
    this.macs = new Float64Array(n).fill(NaN);
    this.params = new Float64Array(n).fill(NaN);
    structure.layers.forEach((layer, l) =>
      layer.candidates.forEach((c, k) => {
        const i = l * this.stride + c.position;
        this.scores[i] = scores[l]![k] ?? 0;
        this.macs[i] = c.macs ?? NaN;
        this.params[i] = c.params ?? NaN;
      }),
    );
    this.fixed = structure.fixed ? { ...structure.fixed } : { macs: NaN, params: NaN };
  }

  /** Sum of the chosen candidates' scores, in layer order. */
  score(arch: ArrayLike<number>, offset = 0): number {
    let s = 0;
    const t = this.scores, stride = this.stride;
    for (let l = 0; l < this.layers; l++) s += t[l * stride + arch[offset + l]!]!;
    return s;
  }

  /** Scores `out.length` architectures stored back to back in `archs` (L values each). */
  scoreBatch(archs: Int32Array, out: Float64Array): void {
    const L = this.layers, stride = this.stride, t = this.scores;
    for (let a = 0, o = 0; a < out.length; a++, o += L) {
      let s = 0;
      for (let l = 0; l < L; l++) s += t[l * stride + archs[o + l]!]!;
      out[a] = s;
    }
  }

  cost(arch: ArrayLike<number>): { macs: number; params: number } {
    let macs = this.fixed.macs, params = this.fixed.params;
    for (let l = 0; l < this.layers; l++) {
      const i = l * this.stride + arch[l]!;
      macs += this.macs[i]!;
      params += this.params[i]!;
    }
    return { macs, params };
  }
}
