/**
 * The BN-NAS indicator of every candidate from the current gamma values, and each layer's
 * ranking, recorded per epoch so rank stability over training (the paper's Fig. 5) can be
 * reported later. score = mean |gamma| of the candidate's indicator BatchNorm; 0 without one.
 */
import type { SupernetStructure } from "../structure/structure.js";
import { meanAbs } from "../score/bn.js";

export interface IndicatorSnapshot {
  /** scores[l][i] for the i-th candidate of layer l (structure order). */
  scores: number[][];
  /** ranking[l] = layer l's mask positions, best score first (ties: lower position first). */
  ranking: number[][];
}

export function indicatorSnapshot(structure: SupernetStructure, params: ReadonlyMap<string, Float32Array>): IndicatorSnapshot {
  const scores = structure.layers.map((layer) =>
    layer.candidates.map((c) => {
      if (!c.indicator) return 0;
      const gamma = params.get(c.indicator.scale);
      // The same float32 mean as score-onnx, so the recorded rankings are the ones it would report.
      return !gamma || gamma.length === 0 ? 0 : meanAbs(gamma);
    }),
  );
  const ranking = structure.layers.map((layer, l) =>
    layer.candidates
      .map((c, i) => ({ position: c.position, score: scores[l]![i]! }))
      .sort((a, b) => b.score - a.score || a.position - b.position)
      .map((e) => e.position),
  );
  return { scores, ranking };
}
