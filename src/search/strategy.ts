/**
 * Search strategies behind one interface: a problem, constraints, K and a seed in; the best K
 * architectures out, best first (ranked by compareEvaluated).
 */
import { OptionError } from "../errors.js";
import type { Constraints, Evaluated, SearchProblem } from "./problem.js";
import { exactTopK } from "./exact.js";
import { evolutionSearch, evolutionSearchScored } from "./evolution.js";
import { randomSearch, randomSearchScored } from "./random.js";
import type { ArchBatchScorer } from "./batches.js";

export type { ArchBatchScorer } from "./batches.js";

export interface SearchOptions {
  constraints: Constraints;
  top: number;
  seed: number;
}

export interface SearchStrategy {
  name: string;
  description: string;
  search(problem: SearchProblem, options: SearchOptions): Evaluated[];
  /**
   * The same search with an architecture-level indicator (one path evaluation per architecture).
   * Absent for exact search, which needs scores that sum over layers.
   */
  searchScored?(problem: SearchProblem, options: SearchOptions, scorer: ArchBatchScorer): Promise<Evaluated[]>;
}

export const STRATEGIES: readonly SearchStrategy[] = [
  { name: "exact", description: "provably best K (branch and bound over layers)", search: (p, o) => exactTopK(p, o.constraints, o.top) },
  { name: "evolution", description: "the paper's evolution (population 50, 20 generations, top 10, 25 mutations at p=0.1, 25 crossovers)", search: (p, o) => evolutionSearch(p, o.constraints, o.top, o.seed), searchScored: (p, o, f) => evolutionSearchScored(p, o.constraints, o.top, o.seed, f) },
  { name: "random", description: "1000 random architectures within the limits", search: (p, o) => randomSearch(p, o.constraints, o.top, o.seed), searchScored: (p, o, f) => randomSearchScored(p, o.constraints, o.top, o.seed, f) },
];

export const STRATEGY_NAMES = STRATEGIES.map((s) => s.name);

export function getStrategy(name: string): SearchStrategy {
  const s = STRATEGIES.find((x) => x.name === name);
  if (!s) throw new OptionError("search", (o) => `${o} must be one of ${STRATEGY_NAMES.join(", ")}, not '${name}'`);
  return s;
}
