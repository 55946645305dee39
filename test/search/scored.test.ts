/**
 * Evolution and random search with an architecture-level scorer (search/batches.ts): driven by a
 * scorer that returns the problem's own per-layer sums, they must find exactly what the
 * synchronous searches find, and score each architecture once.
 */
import { describe, expect, it } from "vitest";
import { Random } from "../../src/util/random.js";
import { evaluate, type SearchProblem } from "../../src/search/problem.js";
import { evolutionSearch, evolutionSearchScored } from "../../src/search/evolution.js";
import { randomSearch, randomSearchScored } from "../../src/search/random.js";
import { STRATEGIES } from "../../src/search/strategy.js";

function problem(rng: Random, L: number, K: number): SearchProblem {
  const col = () => Float64Array.from({ length: K }, () => rng.uniform());
  return {
    layers: Array.from({ length: L }, (_, l) => ({ label: `layer${l}`, choices: Array.from({ length: K }, (_, k) => k), score: col(), macs: Float64Array.from({ length: K }, () => Math.floor(rng.uniform() * 100)), params: col() })),
    fixed: { macs: 10, params: 1 },
  };
}

describe("searches with an architecture-level scorer", () => {
  const rng = new Random(11);
  for (let trial = 0; trial < 4; trial++) {
    const p = problem(rng, 8, 5);
    const constraints = { maxMacs: 420 };
    it(`evolution and random find what the synchronous search finds (trial ${trial})`, async () => {
      const seen = new Set<string>();
      const scorer = async (archs: readonly (readonly number[])[]) =>
        archs.map((a) => {
          const key = a.join(",");
          expect(seen.has(key), `${key} scored twice`).toBe(false);
          seen.add(key);
          return evaluate(p, a).score;
        });
      expect(await evolutionSearchScored(p, constraints, 5, trial, scorer)).toEqual(evolutionSearch(p, constraints, 5, trial));
      seen.clear();
      expect(await randomSearchScored(p, constraints, 5, trial, scorer, 300)).toEqual(randomSearch(p, constraints, 5, trial, 300));
    });
  }

  it("exact search has no scored form (it needs per-layer scores)", () => {
    expect(STRATEGIES.find((s) => s.name === "exact")!.searchScored).toBeUndefined();
    expect(STRATEGIES.filter((s) => s.searchScored).map((s) => s.name)).toEqual(["evolution", "random"]);
  });
});
