import { describe, expect, it } from "vitest";
import { createSampler } from "../../src/train/sampler.js";
import { updateRunningStats } from "../../src/train/running-stats.js";

// fmnist-small: skip (position 6) only in layers 2, 4, 5.
const FMNIST = [0, 1, 2, 3, 4, 5].map((l) => (l === 2 || l === 4 || l === 5 ? [0, 1, 2, 3, 4, 5, 6] : [0, 1, 2, 3, 4, 5]));

describe("path samplers", () => {
  it("uniform: one allowed path per step, reproducible by (seed, step), every candidate sampled about equally", () => {
    const s = createSampler("uniform", FMNIST, 5);
    expect(s.pathsPerStep).toBe(1);
    expect(s.paths(17)).toEqual(createSampler("uniform", FMNIST, 5).paths(17));
    expect(s.paths(17)).not.toEqual(createSampler("uniform", FMNIST, 6).paths(17));
    const counts = FMNIST.map((a) => new Array(7).fill(0));
    const N = 7000;
    let disallowed = 0;
    for (let step = 0; step < N; step++) {
      const [p] = s.paths(step);
      p!.forEach((pos, l) => {
        if (!FMNIST[l]!.includes(pos)) disallowed += 1;
        counts[l]![pos] += 1;
      });
    }
    expect(disallowed).toBe(0);
    for (const [l, a] of FMNIST.entries()) for (const pos of a) expect(Math.abs(counts[l]![pos] / N - 1 / a.length)).toBeLessThan(0.02);
    expect(counts[0]![6]).toBe(0);
  });

  it("fair: K paths per step cover every candidate of every layer, exactly once where a layer has K", () => {
    const s = createSampler("fair", FMNIST, 1);
    expect(s.pathsPerStep).toBe(7);
    const orders = new Set<string>();
    for (let step = 0; step < 50; step++) {
      const paths = s.paths(step);
      expect(paths).toHaveLength(7);
      for (const [l, allowed] of FMNIST.entries()) {
        const column = paths.map((p) => p[l]!);
        for (const c of column) expect(allowed).toContain(c);
        const counts = new Map<number, number>();
        for (const c of column) counts.set(c, (counts.get(c) ?? 0) + 1);
        // Every allowed candidate at least once; with K candidates exactly once; never more than twice.
        for (const c of allowed) expect(counts.get(c) ?? 0).toBeGreaterThanOrEqual(1);
        if (allowed.length === 7) for (const c of allowed) expect(counts.get(c)).toBe(1);
        for (const n of counts.values()) expect(n).toBeLessThanOrEqual(2);
        orders.add(column.join(""));
      }
    }
    expect(orders.size).toBeGreaterThan(100); // permutations really are random
    expect(s.paths(3)).toEqual(createSampler("fair", FMNIST, 1).paths(3));
  });

  it("fair with equal layer sizes covers each candidate exactly once (FairNAS)", () => {
    const s = createSampler("fair", [[0, 1, 2], [0, 1, 2], [5, 9, 7]], 0);
    for (let step = 0; step < 20; step++) {
      const paths = s.paths(step);
      for (let l = 0; l < 3; l++) expect(paths.map((p) => p[l]).sort()).toEqual(l < 2 ? [0, 1, 2] : [5, 7, 9]);
    }
  });

  it("fixed: the given path every step", () => {
    const s = createSampler("fixed", FMNIST, 0, [1, 4, 2, 5, 3, 2]);
    expect(s.paths(0)).toEqual([[1, 4, 2, 5, 3, 2]]);
    expect(s.paths(99)).toEqual([[1, 4, 2, 5, 3, 2]]);
  });
});

describe("running statistics", () => {
  it("update as PyTorch: momentum 0.1, unbiased batch variance", () => {
    const mean = Float32Array.of(0, 1);
    const vr = Float32Array.of(1, 2);
    // batch of n = 4 values per channel: biased var 0.5 -> unbiased 0.5 * 4/3
    updateRunningStats(mean, vr, { mean: Float32Array.of(2, -1), var: Float32Array.of(0.5, 3), count: 4 });
    expect(mean[0]).toBeCloseTo(0.2, 6);
    expect(mean[1]).toBeCloseTo(0.8, 6);
    expect(vr[0]).toBeCloseTo(0.9 + 0.1 * 0.5 * 4 / 3, 6);
    expect(vr[1]).toBeCloseTo(1.8 + 0.1 * 3 * 4 / 3, 6);
    expect(() => updateRunningStats(mean, vr, { mean: Float32Array.of(1), var: Float32Array.of(1), count: 4 })).toThrow(/channels/);
  });
});
