/**
 * The evolutionary search of SPOS as BN-NAS runs it: a random initial population; each
 * generation keeps the top `parents` seen so far, makes `mutations` children (each layer
 * re-drawn with probability `mutationProb`) and `crossovers` children (uniform crossover of two
 * parents), and fills the population up with random architectures. Candidates over the limits,
 * or seen before, are rejected (each kind of child gets 10x attempts, as in the SPOS code).
 */
import { Random } from "../util/random.js";
import { TopK, compareEvaluated, type Constraints, type Evaluated, type SearchProblem } from "./problem.js";
import { crossover, firstSightings, mutate, randomArch } from "./sampling.js";

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

export function evolutionSearch(
  p: SearchProblem,
  constraints: Constraints,
  top: number,
  seed: number,
  params: EvolutionParams = EVOLUTION_DEFAULTS,
  report?: EvolutionReport,
): Evaluated[] {
  const rng = new Random(seed);
  const firstSeen = firstSightings(p, constraints);
  const all = new TopK(Math.max(top, params.parents));
  let evaluated = 0;
  /** Evaluates a new architecture; undefined when seen before or over the limits. */
  const tryArch = (arch: number[]): Evaluated | undefined => {
    const e = firstSeen(arch);
    if (!e) return undefined;
    evaluated++;
    all.offer(e);
    return e;
  };
  const fillRandom = (pop: Evaluated[]) => {
    for (let tries = 0; pop.length < params.population && tries < params.population * 10; tries++) {
      const e = tryArch(randomArch(p, rng));
      if (e) pop.push(e);
    }
  };
  let population: Evaluated[] = [];
  fillRandom(population);
  for (let g = 0; g < params.generations; g++) {
    const parents = all.items.slice(0, params.parents);
    if (parents.length === 0) break;
    const next: Evaluated[] = [];
    for (let tries = 0, made = 0; made < params.mutations && tries < params.mutations * 10; tries++) {
      const e = tryArch(mutate(p, parents[rng.int(parents.length)]!.arch, params.mutationProb, rng));
      if (e) { next.push(e); made++; }
    }
    for (let tries = 0, made = 0; made < params.crossovers && tries < params.crossovers * 10; tries++) {
      const a = parents[rng.int(parents.length)]!.arch;
      const b = parents[rng.int(parents.length)]!.arch;
      const e = tryArch(crossover(a, b, rng));
      if (e) { next.push(e); made++; }
    }
    fillRandom(next);
    population = next;
  }
  if (report) report.evaluated = evaluated;
  return all.items.slice(0, top).sort(compareEvaluated);
}
