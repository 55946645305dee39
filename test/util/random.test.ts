import { describe, expect, test } from "vitest";
import { Random, hashString, streamFor } from "../../src/util/random.js";

describe("Random (xoshiro128** + Box-Muller)", () => {
  test("deterministic per seed, different across seeds and keys", () => {
    const a = new Random(42), b = new Random(42), c = new Random(43);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xs);
    expect(streamFor(1, "a.weight").nextU32()).not.toBe(streamFor(1, "b.weight").nextU32());
    expect(streamFor(1, "a.weight").nextU32()).not.toBe(streamFor(2, "a.weight").nextU32());
    expect(hashString("")).toBe(0x811c9dc5); // FNV-1a offset basis
    expect(hashString("a")).toBe(0xe40c292c); // FNV-1a("a")
  });

  test("fillNormal equals normal()*std in sequence, including an odd length and a pending spare", () => {
    const ref = new Random(7), fast = new Random(7);
    const expected = Float32Array.from({ length: 11 }, () => ref.normal() * 0.5);
    const got = new Float32Array(11);
    fast.fillNormal(got.subarray(0, 3), 0.5); // leaves a spare
    fast.fillNormal(got.subarray(3), 0.5);
    expect(Array.from(got)).toEqual(Array.from(expected));
    expect(fast.nextU32()).toBe(ref.nextU32());
  });

  test("moments: uniform in [0,1), normal ~ N(0,1)", () => {
    const r = new Random(1);
    const n = 200_000;
    const x = r.fillNormal(new Float32Array(n), 1);
    const mean = x.reduce((s, v) => s + v, 0) / n;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
    const u = Array.from({ length: 10_000 }, () => r.uniform());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const b = r.fillUniform(new Float32Array(10_000), 0.25);
    expect(Math.max(...Array.from(b, Math.abs))).toBeLessThanOrEqual(0.25);
  });
});
