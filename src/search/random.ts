/** Random search: `samples` distinct architectures within the limits, drawn uniformly; the best K. */
import { Random } from "../util/random.js";
import { TopK, evaluate, feasible, type Constraints, type Evaluated, type SearchProblem } from "./problem.js";
import { randomArch, spaceSize } from "./sampling.js";

export function randomSearch(p: SearchProblem, constraints: Constraints, top: number, seed: number, samples = 1000): Evaluated[] {
  const rng = new Random(seed);
  const seen = new Set<string>();
  const best = new TopK(top);
  const target = Math.min(samples, spaceSize(p));
  let accepted = 0;
  for (let tries = 0; accepted < target && tries < samples * 20; tries++) {
    const arch = randomArch(p, rng);
    const key = arch.join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    const e = evaluate(p, arch);
    if (!feasible(constraints, e.macs, e.params)) continue;
    accepted++;
    best.offer(e);
  }
  return best.items;
}
