import { describe, expect, it } from "vitest";
import { mean, median, sampleVariance } from "../../src/util/stats.js";

describe("stats", () => {
  it("median, mean and sample variance as numpy's median, mean and var(ddof=1)", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(sampleVariance([1, 2, 3, 6])).toBeCloseTo(14 / 3, 12); // squared deviations 4+1+0+9 over 3
    expect(Number.isNaN(sampleVariance([5]))).toBe(true);
  });
});
