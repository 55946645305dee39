import { describe, expect, it } from "vitest";
import { averageRanks, bestPercentile, bootstrap, kendallTau, spearmanRho, topPrecision } from "../../src/score/rank-stats.js";

describe("rank statistics", () => {
  it("Kendall's tau-b and Spearman's rho, ties included (values worked out by hand)", () => {
    expect(kendallTau([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(kendallTau([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
    // a has one tied pair: 5 concordant, 0 discordant, 1 tie in a -> 5 / sqrt(6 * 5)
    expect(kendallTau([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(5 / Math.sqrt(30), 12);
    // 1 discordant pair of 6: (5 - 1) / 6
    expect(kendallTau([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(4 / 6, 12);
    expect(kendallTau([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(Array.from(averageRanks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
    // ranks [1, 2.5, 2.5, 4] against [1, 2, 3, 4]: sum of products of deviations 4.5, norms 4.5 and 5
    expect(spearmanRho([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    expect(spearmanRho([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
  });
  it("bootstrap intervals contain the value for a clear trend and are reproducible with the seed", () => {
    const a = Array.from({ length: 40 }, (_, i) => i + ((i * 7) % 5));
    const b = Array.from({ length: 40 }, (_, i) => i);
    const r = bootstrap(a, b, kendallTau, 500, 3);
    expect(r.value).toBeCloseTo(kendallTau(a, b), 12);
    expect(r.ci95[0]).toBeLessThanOrEqual(r.value);
    expect(r.ci95[1]).toBeGreaterThanOrEqual(r.value);
    expect(r.ci95[0]).toBeGreaterThan(0.5);
    expect(bootstrap(a, b, kendallTau, 500, 3)).toEqual(r);
    expect(bootstrap(a, b, kendallTau, 500, 4).ci95).not.toEqual(r.ci95);
  });
  it("top-k precision and the truth percentile of the predicted best", () => {
    const truth = Array.from({ length: 20 }, (_, i) => i); // best: 19, 18
    expect(topPrecision([...truth], truth)).toBe(1);
    expect(topPrecision(truth.map((v) => -v), truth)).toBe(0);
    expect(topPrecision(truth.map((v) => (v === 19 ? 100 : v === 0 ? 99 : v)), truth)).toBe(0.5); // predicted top 2: 19 and 0
    expect(bestPercentile(truth, truth)).toBe(100);
    expect(bestPercentile(truth.map((v) => -v), truth)).toBe(5); // predicts item 0, the worst: 1 of 20 at or below it
  });
});
