/** Random search: `samples` distinct architectures within the limits, drawn uniformly; the best K. */
import { Random } from "../util/random.js";
import { TopK, type Constraints, type Evaluated, type SearchProblem } from "./problem.js";
import { firstSightings, randomArch, spaceSize } from "./sampling.js";

export function randomSearch(p: SearchProblem, constraints: Constraints, top: number, seed: number, samples = 1000): Evaluated[] {
  const rng = new Random(seed);
  const firstSeen = firstSightings(p, constraints);
  const best = new TopK(top);
  const target = Math.min(samples, spaceSize(p));
  let accepted = 0;
  for (let tries = 0; accepted < target && tries < samples * 20; tries++) {
    const e = firstSeen(randomArch(p, rng));
    if (!e) continue;
    accepted++;
    best.offer(e);
  }
  return best.items;
}
