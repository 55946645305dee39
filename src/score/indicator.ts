/**
 * Indicators: how a candidate op is scored from a trained supernet. BN-NAS's `bn` is the default;
 * others (BNNAS++-style, zero-cost proxies) plug in by implementing `Indicator` and joining the
 * INDICATORS list in registry.ts. An architecture's score is the sum of its candidates' scores (null counts 0),
 * which is what lets the exact search work layer by layer.
 */
import type { ModelProto } from "../onnx/proto.js";
import type { CandidateInfo, LayerInfo, SupernetStructure } from "../structure/structure.js";

export interface IndicatorContext {
  model: ModelProto;
  structure: SupernetStructure;
  /** File name for error messages. */
  file: string;
}

export interface Indicator {
  /** What `--indicator` takes. */
  name: string;
  /** One line for help texts. */
  description: string;
  /**
   * Scores every candidate: result[l][k] belongs to structure.layers[l].candidates[k]; null for a
   * candidate the indicator cannot score (BN-NAS: no BatchNorm), which counts as 0 in sums.
   */
  score(ctx: IndicatorContext): (number | null)[][];
}

/** Helper for indicators that score each candidate on its own. */
export function perCandidate(ctx: IndicatorContext, f: (c: CandidateInfo, layer: LayerInfo, l: number) => number | null): (number | null)[][] {
  return ctx.structure.layers.map((layer, l) => layer.candidates.map((c) => f(c, layer, l)));
}
