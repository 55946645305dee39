/** Random search: `samples` distinct architectures within the limits, drawn uniformly; the best K. */
import { Random } from "../util/random.js";
import { TopK, type Constraints, type Evaluated, type SearchProblem } from "./problem.js";
import { firstSightings, randomArch, spaceSize } from "./sampling.js";
import { runPlan, runPlanAsync, type ArchBatchScorer, type SearchPlan } from "./batches.js";

/** Architectures per scored batch: small enough for steady progress with a slow scorer. */
const BATCH = 50;

function* randomPlan(p: SearchProblem, constraints: Constraints, top: number, seed: number, samples: number): SearchPlan {
  const rng = new Random(seed);
  const firstSeen = firstSightings(p, constraints);
  const best = new TopK(top);
  const target = Math.min(samples, spaceSize(p));
  let accepted = 0;
  let batch: Evaluated[] = [];
  for (let tries = 0; accepted < target && tries < samples * 20; tries++) {
    const e = firstSeen(randomArch(p, rng));
    if (!e) continue;
    accepted++;
    batch.push(e);
    if (batch.length === BATCH) {
      yield batch;
      for (const x of batch) best.offer(x);
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
  for (const x of batch) best.offer(x);
  return best.items;
}

export function randomSearch(p: SearchProblem, constraints: Constraints, top: number, seed: number, samples = 1000): Evaluated[] {
  return runPlan(randomPlan(p, constraints, top, seed, samples));
}

/** The same search, each batch scored by `scorer` (an architecture-level indicator). */
export function randomSearchScored(p: SearchProblem, constraints: Constraints, top: number, seed: number, scorer: ArchBatchScorer, samples = 1000): Promise<Evaluated[]> {
  return runPlanAsync(randomPlan(p, constraints, top, seed, samples), scorer);
}
