/**
 * `ensemble:A,B,...`: the rank average of several indicators. An architecture's score is the mean,
 * over the components, of the fraction of a reference population it beats under that component
 * (ties count half). Ranked against the architectures being compared (bench rank passes them as
 * the reference) this is exactly their average normalised rank; a search ranks against a fixed,
 * seeded sample of the space instead, so that a score does not depend on which batch it came in.
 */
import type { SupernetStructure } from "../structure/structure.js";
import { streamFor } from "../util/random.js";
import type { ArchIndicator } from "./arch-indicator.js";

/** Size of the reference sample a search ranks against. */
export const ENSEMBLE_REFERENCE = 100;

function beaten(sortedReference: Float64Array, score: number): number {
  let below = 0, equal = 0;
  for (const r of sortedReference) {
    if (r < score) below++;
    else if (r === score) equal++;
    else break;
  }
  return (below + equal / 2) / sortedReference.length;
}

export function ensembleIndicator(name: string, parts: ArchIndicator[], structure: SupernetStructure, seed: number): ArchIndicator {
  let sample: number[][] | undefined;
  const referenceSample = () => {
    if (!sample) {
      const rng = streamFor(seed, "ensemble/reference");
      sample = Array.from({ length: ENSEMBLE_REFERENCE }, () => structure.layers.map((l) => l.candidates[rng.int(l.candidates.length)]!.position));
    }
    return sample;
  };
  return {
    name,
    description: `rank average of ${parts.map((p) => p.name).join(", ")}`,
    async scoreArchs(archs, reference) {
      const ref = reference ?? referenceSample();
      const total = new Float64Array(archs.length);
      for (const part of parts) {
        const refScores = Float64Array.from(await part.scoreArchs(ref)).sort();
        const scores = await part.scoreArchs(archs);
        scores.forEach((s, i) => (total[i] += beaten(refScores, s) / parts.length));
      }
      return [...total];
    },
  };
}
