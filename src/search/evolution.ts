/**
 * The evolutionary search of SPOS as BN-NAS runs it: a random initial population; each
 * generation keeps the top `parents` seen so far, makes `mutations` children (each layer
 * re-drawn with probability `mutationProb`) and `crossovers` children (uniform crossover of two
 * parents), and fills the population up with random architectures. Candidates over the limits,
 * or seen before, are rejected (each kind of child gets 10x attempts, as in the SPOS code).
 *
 * The search is written once, as a plan that hands out each generation's new architectures as a
 * batch to be scored (search/batches.ts): with a decomposable indicator the scores are the
 * problem's per-layer sums (synchronous, microseconds); with an architecture-level indicator
 * (zero-cost proxies, ensembles) each batch is scored by running the paths. Children depend only
 * on the parents fixed before the generation, so batching a generation changes nothing.
 */
import { Random } from "../util/random.js";
import { TopK, compareEvaluated, type Constraints, type Evaluated, type SearchProblem } from "./problem.js";
import { crossover, firstSightings, mutate, randomArch } from "./sampling.js";
import { runPlan, runPlanAsync, type ArchBatchScorer, type SearchPlan } from "./batches.js";

export interface EvolutionParams {
  population: number;
  generations: number;
  parents: number;
  mutations: number;
  mutationProb: number;
  crossovers: number;
}

/** The paper's defaults. */
export const EVOLUTION_DEFAULTS: EvolutionParams = { population: 50, generations: 20, parents: 10, mutations: 25, mutationProb: 0.1, crossovers: 25 };

export interface EvolutionReport {
  /** Architectures evaluated (distinct, within the limits). */
  evaluated: number;
}

function* evolutionPlan(p: SearchProblem, constraints: Constraints, top: number, seed: number, params: EvolutionParams, report?: EvolutionReport): SearchPlan {
  const rng = new Random(seed);
  const firstSeen = firstSightings(p, constraints);
  const all = new TopK(Math.max(top, params.parents));
  let evaluated = 0;
  /** Random architectures until the batch reaches the population size. */
  const randomFill = (batch: Evaluated[]) => {
    for (let tries = 0; batch.length < params.population && tries < params.population * 10; tries++) {
      const e = firstSeen(randomArch(p, rng));
      if (e) batch.push(e);
    }
  };
  /** Scores a generation's new architectures (the caller fills in .score), then offers them. */
  function* scored(batch: Evaluated[]): Generator<Evaluated[], void, void> {
    if (batch.length > 0) yield batch;
    evaluated += batch.length;
    for (const e of batch) all.offer(e);
  }
  const first: Evaluated[] = [];
  randomFill(first);
  yield* scored(first);
  for (let g = 0; g < params.generations; g++) {
    const parents = all.items.slice(0, params.parents);
    if (parents.length === 0) break;
    const next: Evaluated[] = [];
    for (let tries = 0, made = 0; made < params.mutations && tries < params.mutations * 10; tries++) {
      const e = firstSeen(mutate(p, parents[rng.int(parents.length)]!.arch, params.mutationProb, rng));
      if (e) { next.push(e); made++; }
    }
    for (let tries = 0, made = 0; made < params.crossovers && tries < params.crossovers * 10; tries++) {
      const a = parents[rng.int(parents.length)]!.arch;
      const b = parents[rng.int(parents.length)]!.arch;
      const e = firstSeen(crossover(a, b, rng));
      if (e) { next.push(e); made++; }
    }
    randomFill(next);
    yield* scored(next);
  }
  if (report) report.evaluated = evaluated;
  return all.items.slice(0, top).sort(compareEvaluated);
}

export function evolutionSearch(p: SearchProblem, constraints: Constraints, top: number, seed: number, params: EvolutionParams = EVOLUTION_DEFAULTS, report?: EvolutionReport): Evaluated[] {
  return runPlan(evolutionPlan(p, constraints, top, seed, params, report));
}

/** The same search, each generation's new architectures scored by `scorer` (an architecture-level indicator). */
export function evolutionSearchScored(p: SearchProblem, constraints: Constraints, top: number, seed: number, scorer: ArchBatchScorer, params: EvolutionParams = EVOLUTION_DEFAULTS, report?: EvolutionReport): Promise<Evaluated[]> {
  return runPlanAsync(evolutionPlan(p, constraints, top, seed, params, report), scorer);
}
