/**
 * Which paths (architectures) a training step runs.
 *
 * - `uniform` (SPOS, BN-NAS): one path per step, each layer's candidate uniform over the
 *   candidates allowed there.
 * - `fair` (FairNAS strict fairness): K = the largest number of candidates in a layer; every
 *   step runs K paths built from one random permutation per layer, so each candidate of a layer
 *   with K candidates is trained exactly once per step. A layer with fewer allowed candidates
 *   (e.g. no `skip` where the stride is 2) covers all of them once and fills its remaining
 *   K - K_l slots from a second permutation, so no candidate runs more than twice there.
 *   The trainer accumulates (sums) the K paths' gradients into one update, as FairNAS does.
 * - `fixed`: one given architecture every step (training one path).
 *
 * Paths depend only on (seed, step): a resumed run samples exactly what the uninterrupted run
 * would have, with no generator state to save.
 */
import { streamFor } from "../util/random.js";
import { shuffleInPlace } from "../data/shuffle.js";

export type SamplerKind = "uniform" | "fair" | "fixed";
export const SAMPLERS: readonly SamplerKind[] = ["uniform", "fair"];

export interface PathSampler {
  readonly kind: SamplerKind;
  /** Paths for step `step` (0-based); each path holds one mask position per layer. */
  paths(step: number): number[][];
  /** Paths per step. */
  readonly pathsPerStep: number;
}

/** `allowed[l]` = the mask positions allowed in layer l. */
export function createSampler(kind: SamplerKind, allowed: readonly (readonly number[])[], seed: number, fixed?: readonly number[]): PathSampler {
  for (const [l, a] of allowed.entries()) if (a.length === 0) throw new Error(`layer ${l} has no candidates to sample`);
  switch (kind) {
    case "fixed": {
      if (!fixed) throw new Error("the fixed sampler needs an architecture");
      const arch = [...fixed];
      return { kind, pathsPerStep: 1, paths: () => [arch] };
    }
    case "uniform":
      return {
        kind,
        pathsPerStep: 1,
        paths(step) {
          const rng = streamFor(seed, `sampler/uniform/${step}`);
          return [allowed.map((a) => a[rng.int(a.length)]!)];
        },
      };
    case "fair": {
      const k = Math.max(...allowed.map((a) => a.length));
      return {
        kind,
        pathsPerStep: k,
        paths(step) {
          const rng = streamFor(seed, `sampler/fair/${step}`);
          const columns = allowed.map((a) => {
            const col = shuffleInPlace([...a], rng);
            while (col.length < k) col.push(...shuffleInPlace([...a], rng).slice(0, k - col.length));
            return col;
          });
          return Array.from({ length: k }, (_, i) => columns.map((col) => col[i]!));
        },
      };
    }
  }
}
