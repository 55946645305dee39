/** Drawing architectures from a problem's allowed choices (shared by evolution and random search). */
import type { Random } from "../util/random.js";
import { evaluate, feasible, type Constraints, type Evaluated, type SearchProblem } from "./problem.js";

export function randomArch(p: SearchProblem, rng: Random): number[] {
  return p.layers.map((layer) => layer.choices[rng.int(layer.choices.length)]!);
}

/** Each layer re-drawn from its allowed choices with probability `prob` (SPOS/BN-NAS mutation). */
export function mutate(p: SearchProblem, parent: readonly number[], prob: number, rng: Random): number[] {
  return parent.map((a, l) => (rng.uniform() < prob ? p.layers[l]!.choices[rng.int(p.layers[l]!.choices.length)]! : a));
}

/** Uniform crossover: each layer from one parent or the other. */
export function crossover(a: readonly number[], b: readonly number[], rng: Random): number[] {
  return a.map((x, l) => (rng.uniform() < 0.5 ? x : b[l]!));
}

/**
 * What the sampling strategies do with each drawn architecture: evaluate it the first time it is
 * seen; undefined when it was seen before or is over the limits.
 */
export function firstSightings(p: SearchProblem, constraints: Constraints): (arch: number[]) => Evaluated | undefined {
  const seen = new Set<string>();
  return (arch) => {
    const key = arch.join(",");
    if (seen.has(key)) return undefined;
    seen.add(key);
    const e = evaluate(p, arch);
    return feasible(constraints, e) ? e : undefined;
  };
}

/** Number of architectures the problem allows (may exceed 2^53; only for sizing decisions). */
export function spaceSize(p: SearchProblem): number {
  return p.layers.reduce((n, l) => n * l.choices.length, 1);
}
