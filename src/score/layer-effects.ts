/**
 * Where a ranking agrees with the truth and where it does not, layer by layer: for each layer and
 * candidate, the mean truth accuracy of the architectures that use that candidate there, against
 * the mean indicator score of the same architectures (both as differences from the overall mean:
 * main effects). One number per architecture hides *why* an indicator fails; a researcher wants to
 * see, say, that the truth prefers a 3x3 kernel in the first layer while the indicator prefers 7x7.
 * Marginal means work for every indicator, decomposable or not, and need no model fit.
 */
import type { SupernetStructure } from "../structure/structure.js";
import { kendallTau } from "./rank-stats.js";
import { mean, sampleVariance } from "../util/stats.js";

export interface CandidateEffect {
  position: number;
  name: string;
  /** Architectures of the truth using this candidate in this layer. */
  n: number;
  /** Their mean accuracy minus the mean over all architectures (accuracy units). */
  truth: number;
  /** Standard error of that mean: the sd of all accuracies over sqrt(n); null when n < 2. */
  truth_se: number | null;
  /** Their mean indicator score minus the mean over all architectures. */
  indicator: number;
}

export interface LayerEffects {
  layer: number;
  label: string;
  /** The layer's candidates that appear in the truth, by mask position. */
  candidates: CandidateEffect[];
  /** Kendall tau between the truth's and the indicator's effects over those candidates (NaN when either is constant). */
  tau: number;
}

export function layerEffects(structure: SupernetStructure, archs: readonly (readonly number[])[], truth: readonly number[], predicted: readonly number[]): LayerEffects[] {
  const truthMean = mean(truth);
  const predictedMean = mean(predicted);
  const sd = Math.sqrt(sampleVariance(truth));
  return structure.layers.map((layer, l) => {
    const candidates: CandidateEffect[] = [];
    for (const c of layer.candidates) {
      const rows = archs.flatMap((a, i) => (a[l] === c.position ? [i] : []));
      if (rows.length === 0) continue;
      candidates.push({
        position: c.position,
        name: c.name,
        n: rows.length,
        truth: mean(rows.map((i) => truth[i]!)) - truthMean,
        truth_se: rows.length >= 2 ? sd / Math.sqrt(rows.length) : null,
        indicator: mean(rows.map((i) => predicted[i]!)) - predictedMean,
      });
    }
    return { layer: l, label: layer.label, candidates, tau: kendallTau(candidates.map((c) => c.truth), candidates.map((c) => c.indicator)) };
  });
}
