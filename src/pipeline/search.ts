/**
 * Scoring and searching an opened supernet, as `score-onnx` and the demo do it: the indicator of
 * every candidate, the score and cost of given architectures, and the best architectures under
 * MACs/params limits (exact, evolution or random search), each as typed rows.
 */
import { OptionError, UsageError } from "../errors.js";
import type { LoadedSupernet } from "../supernet/load.js";
import { INDICATORS, getIndicator } from "../score/registry.js";
import type { ArchIndicator } from "../proxy/arch-indicator.js";
import type { Indicator } from "../score/indicator.js";
import { ArchScorer } from "../score/arch-scorer.js";
import { archCost } from "../structure/arch.js";
import { costsKnown, fastest, fixedDepthChoices, problemFromStructure, type Constraints, type Evaluated, type SearchProblem } from "../search/problem.js";
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

interface PreparedSearch {
  problem: SearchProblem;
  useFixed: boolean;
  fixedDepth: number[] | undefined;
}

/** The search problem of a request: allowed choices (fixed depth), costs, latencies; the limits checked against them. */
function prepareSearch(loaded: LoadedSupernet, scores: (number | null)[][], req: SearchRequest): PreparedSearch {
  const { structure } = loaded;
  const fixedDepth = loaded.manifest?.space.fixedDepth;
  const useFixed = fixedDepth !== undefined && fixedDepth.length > 0 && !req.fullSpace;
  if (req.latency) checkTable(req.latency.table, req.latency.file, { structure, file: loaded.file }, req.latency.force);
  const latency = req.latency ? latencyColumns(req.latency.table, structure, req.latency.file) : undefined;
  const problem = problemFromStructure(structure, scores, { ...(useFixed ? { allowed: fixedDepthChoices(structure, fixedDepth) } : {}), latency });
  const { maxLatency } = req.constraints;
  if ((maxLatency !== undefined || req.pareto) && !latency) throw new OptionError(maxLatency !== undefined ? "maxLatency" : "pareto", (o) => `${o} needs a latency table (latencyTable; make one with bnnas latency SUPERNET -o table.json)`);
  if (maxLatency !== undefined) {
    const min = fastest(problem);
    if (maxLatency < min.latency) throw new OptionError("maxLatency", (o) => `${o} ${maxLatency} ms is below the fastest architecture's predicted latency, ${min.latency.toFixed(4)} ms (arch ${min.arch.join(",")}); raise it to at least that`);
  }
  const limited = [req.constraints.maxMacs, req.constraints.minMacs, req.constraints.maxParams].some((v) => v !== undefined);
  if (limited && !costsKnown(problem)) {
    throw new UsageError((o) => `${loaded.file}: MACs/params are unknown (${loaded.countProblem ?? "no cost information"}), so ${o("maxMacs")}/${o("minMacs")}/${o("maxParams")} cannot be used`);
  }
  return { problem, useFixed, fixedDepth };
}

function outcome(found: Evaluated[], known: boolean, req: SearchRequest, prepared: PreparedSearch, seconds: number): SearchOutcome {
  const { useFixed, fixedDepth } = prepared;
  return {
    best: found.map((e) => ({ arch: e.arch, score: e.score, macs: known ? e.macs : null, params: known ? e.params : null, ...(e.latency !== undefined ? { latency: e.latency } : {}) })),
    info: { strategy: req.strategy, top: req.top, seed: req.strategy === "exact" ? null : req.seed, constraints: req.constraints, space: useFixed ? "fixed-depth" : "full", fixedDepth: useFixed ? fixedDepth! : null, seconds },
  };
}

export function searchSupernet(loaded: LoadedSupernet, scored: Scored, req: SearchRequest): SearchOutcome {
  const prepared = prepareSearch(loaded, scored.scores, req);
  const { problem } = prepared;
  const started = performance.now();
  const found: Evaluated[] = req.pareto ? exactPareto(problem, req.constraints) : getStrategy(req.strategy).search(problem, { constraints: req.constraints, top: req.top, seed: req.seed });
  return outcome(found, scored.costsKnown, req, prepared, (performance.now() - started) / 1000);
}

/**
 * Search with an indicator that scores whole architectures (a zero-cost proxy, an ensemble): one
 * path evaluation per architecture, so only the sampling strategies (evolution, random) apply.
 */
export async function searchSupernetScored(loaded: LoadedSupernet, indicator: ArchIndicator, req: SearchRequest): Promise<SearchOutcome> {
  const strategy = getStrategy(req.strategy);
  if (!strategy.searchScored || req.pareto) {
    throw new UsageError((o) => `${req.pareto ? `${o("pareto")} (exact search)` : `${o("search")} ${req.strategy}`} needs an indicator that sums over layers (${INDICATORS.map((i) => i.name).join(", ")}); '${indicator.name}' scores whole architectures: use ${o("search")} evolution or random`);
  }
  const zeros = loaded.structure.layers.map((l) => l.candidates.map(() => 0));
  const prepared = prepareSearch(loaded, zeros, req);
  const started = performance.now();
  const found = await strategy.searchScored(prepared.problem, { constraints: req.constraints, top: req.top, seed: req.seed }, (archs) => indicator.scoreArchs(archs));
  const known = loaded.countProblem === undefined && loaded.structure.fixed !== undefined;
  return outcome(found, known, req, prepared, (performance.now() - started) / 1000);
}

/** MACs and params of an architecture (null where unknown) with a score from elsewhere. */
export function costRow(loaded: LoadedSupernet, arch: number[], score: number): ArchRow {
  const known = loaded.countProblem === undefined && loaded.structure.fixed !== undefined;
  const cost = known ? archCost(loaded.structure, arch) : undefined;
  return { arch, score, macs: cost?.macs ?? null, params: cost?.params ?? null };
}
