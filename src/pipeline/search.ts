/**
 * Scoring and searching an opened supernet, as `score-onnx` and the demo do it: the indicator of
 * every candidate, the score and cost of given architectures, and the best architectures under
 * MACs/params limits (exact, evolution or random search), each as typed rows.
 */
import { OptionError, UsageError } from "../errors.js";
import type { LoadedSupernet } from "../supernet/load.js";
import { getIndicator } from "../score/registry.js";
import type { Indicator } from "../score/indicator.js";
import { ArchScorer } from "../score/arch-scorer.js";
import { costsKnown, fastest, fixedDepthChoices, problemFromStructure, type Constraints, type Evaluated } from "../search/problem.js";
import { getStrategy } from "../search/strategy.js";
import { exactPareto } from "../search/exact.js";
import { checkTable, latencyColumns, type LatencyTable } from "../latency/table.js";

export interface ArchRow {
  arch: number[];
  score: number;
  /** null where the supernet's costs are unknown (a foreign file that could not be counted). */
  macs: number | null;
  params: number | null;
  /** Predicted latency (ms), when a latency table was given. */
  latency?: number;
}

/** The indicator table of a supernet and a way to score and cost architectures with it. */
export interface Scored {
  indicator: Indicator;
  /** scores[l][k]: the k-th candidate of layer l (structure order); null where the indicator has no value. */
  scores: (number | null)[][];
  /** Whether MACs/params are known (bnnas manifest, or counted from a foreign graph). */
  costsKnown: boolean;
  row(arch: number[]): ArchRow;
}

export function scoreSupernet(loaded: LoadedSupernet, indicatorName = "bn"): Scored {
  const indicator = getIndicator(indicatorName);
  const { structure } = loaded;
  const scores = indicator.score({ model: loaded.model, structure, file: loaded.file });
  const scorer = new ArchScorer(structure, scores);
  const known = loaded.countProblem === undefined && structure.fixed !== undefined;
  return {
    indicator,
    scores,
    costsKnown: known,
    row: (arch) => {
      const cost = known ? scorer.cost(arch) : undefined;
      return { arch, score: scorer.score(arch), macs: cost?.macs ?? null, params: cost?.params ?? null };
    },
  };
}

export interface SearchRequest {
  /** exact, evolution or random (see search/strategy.ts). */
  strategy: string;
  top: number;
  /** Seed of evolution and random search (exact search ignores it). */
  seed: number;
  constraints: Constraints;
  /** Search the whole space even where the space fixes the depth (bnnas-mbv2). */
  fullSpace?: boolean;
  /** Latencies for constraints.maxLatency and pareto; a table for another supernet is refused unless force. */
  latency?: { table: LatencyTable; file: string; force?: boolean };
  /** Return the exact score/latency Pareto front (fastest first) instead of the top K; needs latency. */
  pareto?: boolean;
}

export interface SearchOutcome {
  /** Best first; empty when nothing satisfies the limits. */
  best: ArchRow[];
  info: {
    strategy: string;
    top: number;
    seed: number | null;
    constraints: Constraints;
    space: "fixed-depth" | "full";
    fixedDepth: number[] | null;
    seconds: number;
  };
}

export function searchSupernet(loaded: LoadedSupernet, scored: Scored, req: SearchRequest): SearchOutcome {
  const { structure } = loaded;
  const fixedDepth = loaded.manifest?.space.fixedDepth;
  const useFixed = fixedDepth !== undefined && fixedDepth.length > 0 && !req.fullSpace;
  if (req.latency) checkTable(req.latency.table, req.latency.file, { structure, file: loaded.file }, req.latency.force);
  const latency = req.latency ? latencyColumns(req.latency.table, structure, req.latency.file) : undefined;
  const problem = problemFromStructure(structure, scored.scores, { ...(useFixed ? { allowed: fixedDepthChoices(structure, fixedDepth) } : {}), latency });
  const { maxLatency } = req.constraints;
  if ((maxLatency !== undefined || req.pareto) && !latency) throw new OptionError(maxLatency !== undefined ? "maxLatency" : "pareto", (o) => `${o} needs a latency table (latencyTable; make one with bnnas latency SUPERNET -o table.json)`);
  // Evolution and random search check limits in search/sampling.ts, which does not pass latency
  // to feasible() yet (it would find nothing): refused until it does (issue 17's note to issue 14).
  if (maxLatency !== undefined && req.strategy !== "exact" && !req.pareto) throw new UsageError((o) => `${o("maxLatency")} works with exact search for now (evolution and random search do not see latencies yet); use ${o("search")} exact`);
  if (maxLatency !== undefined) {
    const min = fastest(problem);
    if (maxLatency < min.latency) throw new OptionError("maxLatency", (o) => `${o} ${maxLatency} ms is below the fastest architecture's predicted latency, ${min.latency.toFixed(4)} ms (arch ${min.arch.join(",")}); raise it to at least that`);
  }
  const limited = [req.constraints.maxMacs, req.constraints.minMacs, req.constraints.maxParams].some((v) => v !== undefined);
  if (limited && !costsKnown(problem)) {
    throw new UsageError((o) => `${loaded.file}: MACs/params are unknown (${loaded.countProblem ?? "no cost information"}), so ${o("maxMacs")}/${o("minMacs")}/${o("maxParams")} cannot be used`);
  }
  const started = performance.now();
  const found: Evaluated[] = req.pareto ? exactPareto(problem, req.constraints) : getStrategy(req.strategy).search(problem, { constraints: req.constraints, top: req.top, seed: req.seed });
  const seconds = (performance.now() - started) / 1000;
  const known = scored.costsKnown;
  return {
    best: found.map((e) => ({ arch: e.arch, score: e.score, macs: known ? e.macs : null, params: known ? e.params : null, ...(e.latency !== undefined ? { latency: e.latency } : {}) })),
    info: { strategy: req.strategy, top: req.top, seed: req.strategy === "exact" ? null : req.seed, constraints: req.constraints, space: useFixed ? "fixed-depth" : "full", fixedDepth: useFixed ? fixedDepth : null, seconds },
  };
}
