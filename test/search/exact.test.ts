import { describe, expect, it } from "vitest";
import { Random } from "../../src/util/random.js";
import type { Constraints, Evaluated, SearchProblem } from "../../src/search/problem.js";
import { exactPareto, exactTopK } from "../../src/search/exact.js";
import { evolutionSearch } from "../../src/search/evolution.js";
import { randomSearch } from "../../src/search/random.js";

/**
 * A random problem: L layers of up to K candidates, some positions absent, random costs; with
 * latencies (ms, on a 2^-10 grid so every sum is exact in any order) drawn from their own stream,
 * so the other columns are the same with or without them.
 */
function randomProblem(rng: Random, L: number, K: number, ties: boolean, latencyRng?: Random): SearchProblem {
  const p: SearchProblem = {
    fixed: { macs: 1000 + rng.int(1000), params: 100 + rng.int(100) },
    layers: Array.from({ length: L }, (_, l) => {
      const score = new Float64Array(K).fill(NaN), macs = new Float64Array(K).fill(NaN), params = new Float64Array(K).fill(NaN);
      const choices: number[] = [];
      for (let k = 0; k < K; k++) {
        if (k > 0 && rng.uniform() < 0.2) continue; // absent position
        choices.push(k);
        score[k] = ties ? rng.int(3) : rng.uniform() * 2;
        macs[k] = rng.int(5000);
        params[k] = rng.int(300);
      }
      return { label: `layer${l}`, choices, score, macs, params };
    }),
  };
  if (latencyRng) {
    p.fixed.latency = latencyRng.int(512) / 1024;
    for (const layer of p.layers) {
      layer.latency = new Float64Array(K).fill(NaN);
      for (const c of layer.choices) layer.latency[c] = (ties ? 128 * latencyRng.int(3) : latencyRng.int(4096)) / 1024;
    }
  }
  return p;
}

/*
 * The oracle's own reading of the definitions (src/search/problem.ts, exact.ts), sharing no code
 * with what it checks: an architecture's score is the sum over layers, in layer order, of its
 * candidate's indicator score; its MACs and params are the fixed part's plus each candidate's; it
 * is feasible when MACs <= maxMacs, MACs >= minMacs, params <= maxParams and latency <= maxLatency
 * (each limit optional; latency, where the problem has it, is the fixed part's plus each candidate's);
 * the ranking is higher score first, then fewer MACs, then the lexicographically smaller arch.
 */
function oracleEvaluate(p: SearchProblem, arch: readonly number[]): Evaluated {
  let score = 0, macs = p.fixed.macs, params = p.fixed.params, latency = p.fixed.latency;
  arch.forEach((position, l) => {
    score += p.layers[l]!.score[position]!;
    macs += p.layers[l]!.macs[position]!;
    params += p.layers[l]!.params[position]!;
    if (latency !== undefined) latency += p.layers[l]!.latency![position]!;
  });
  return latency === undefined ? { arch: [...arch], score, macs, params } : { arch: [...arch], score, macs, params, latency };
}

function oracleFeasible(c: Constraints, e: { macs: number; params: number; latency?: number }): boolean {
  if (c.maxMacs !== undefined && e.macs > c.maxMacs) return false;
  if (c.minMacs !== undefined && e.macs < c.minMacs) return false;
  if (c.maxParams !== undefined && e.params > c.maxParams) return false;
  if (c.maxLatency !== undefined && !(e.latency! <= c.maxLatency)) return false;
  return true;
}

/** Negative when `a` ranks before `b`. */
function oracleRank(a: Evaluated, b: Evaluated): number {
  if (a.score > b.score) return -1;
  if (a.score < b.score) return 1;
  if (a.macs < b.macs) return -1;
  if (a.macs > b.macs) return 1;
  const i = a.arch.findIndex((v, j) => v !== b.arch[j]);
  return i < 0 ? 0 : a.arch[i]! < b.arch[i]! ? -1 : 1;
}

/** Every architecture, as the cartesian product of the layers' choices. */
function allArchs(p: SearchProblem): number[][] {
  return p.layers.reduce<number[][]>((prefixes, layer) => prefixes.flatMap((a) => layer.choices.map((c) => [...a, c])), [[]]);
}

function bruteForce(p: SearchProblem, c: Constraints, top: number): Evaluated[] {
  return allArchs(p)
    .map((arch) => oracleEvaluate(p, arch))
    .filter((e) => oracleFeasible(c, e))
    .sort(oracleRank)
    .slice(0, top);
}

function totals(p: SearchProblem) {
  const sum = (f: (l: SearchProblem["layers"][number]) => number) => p.layers.reduce((s, l) => s + f(l), 0);
  const minM = p.fixed.macs + sum((l) => Math.min(...l.choices.map((c) => l.macs[c]!)));
  const maxM = p.fixed.macs + sum((l) => Math.max(...l.choices.map((c) => l.macs[c]!)));
  const minP = p.fixed.params + sum((l) => Math.min(...l.choices.map((c) => l.params[c]!)));
  const maxP = p.fixed.params + sum((l) => Math.max(...l.choices.map((c) => l.params[c]!)));
  const minT = p.fixed.latency === undefined ? NaN : p.fixed.latency + sum((l) => Math.min(...l.choices.map((c) => l.latency![c]!)));
  const maxT = p.fixed.latency === undefined ? NaN : p.fixed.latency + sum((l) => Math.max(...l.choices.map((c) => l.latency![c]!)));
  return { minM, maxM, minP, maxP, minT, maxT };
}

describe("exact search equals brute force", () => {
  const rng = new Random(2024);
  for (let t = 0; t < 60; t++) {
    const L = 2 + rng.int(5), K = 2 + rng.int(4), ties = t % 3 === 0;
    const p = randomProblem(rng, L, K, ties);
    const { minM, maxM, minP, maxP } = totals(p);
    const lerp = (a: number, b: number) => Math.round(a + (b - a) * rng.uniform());
    const kinds: Constraints[] = [
      {},
      { maxMacs: lerp(minM, maxM) },
      { maxMacs: lerp(minM, maxM), maxParams: lerp(minP, maxP) },
      { minMacs: lerp(minM, maxM) },
      { minMacs: lerp(minM, (minM + maxM) / 2), maxMacs: lerp((minM + maxM) / 2, maxM), maxParams: lerp(minP, maxP) },
      { maxMacs: minM - 1 }, // infeasible
    ];
    const c = kinds[t % kinds.length]!;
    const top = 1 + rng.int(8);
    it(`case ${t}: ${L} layers, ${K} candidates, top ${top}, ${JSON.stringify(c)}${ties ? ", tied scores" : ""}`, () => {
      const exact = exactTopK(p, c, top);
      const brute = bruteForce(p, c, top);
      expect(exact).toEqual(brute);
    });
  }

  it("prunes: visits far fewer nodes than the space has on a larger problem", () => {
    const rng2 = new Random(7);
    const p = randomProblem(rng2, 12, 6, false);
    const { minM, maxM } = totals(p);
    const stats = { nodes: 0 };
    const best = exactTopK(p, { maxMacs: Math.round((minM + maxM) / 2) }, 5, stats);
    expect(best.length).toBe(5);
    const size = p.layers.reduce((n, l) => n * l.choices.length, 1);
    expect(stats.nodes).toBeLessThan(size / 100);
  });
});

describe("heuristic searches never beat exact", () => {
  const rng = new Random(99);
  for (let t = 0; t < 12; t++) {
    const p = randomProblem(rng, 6 + rng.int(4), 3 + rng.int(4), t % 2 === 0);
    const { minM, maxM } = totals(p);
    const c: Constraints = { maxMacs: Math.round(minM + (maxM - minM) * (0.3 + 0.4 * rng.uniform())) };
    it(`case ${t}`, () => {
      const exact = exactTopK(p, c, 5);
      for (const found of [evolutionSearch(p, c, 5, t), randomSearch(p, c, 5, t)]) {
        expect(found.length).toBeGreaterThan(0);
        for (const e of found) expect(oracleFeasible(c, e), `${e.arch}`).toBe(true);
        for (const e of found) expect(e).toEqual(oracleEvaluate(p, e.arch));
        for (let i = 0; i < found.length && i < exact.length; i++) expect(found[i]!.score).toBeLessThanOrEqual(exact[i]!.score);
        expect(found).toEqual([...found].sort(oracleRank));
      }
    });
  }

  it("evolution is deterministic for a seed and explores with the paper's budget", () => {
    const p = randomProblem(new Random(5), 10, 6, false);
    const a = evolutionSearch(p, {}, 3, 11);
    const b = evolutionSearch(p, {}, 3, 11);
    expect(a).toEqual(b);
    const report = { evaluated: 0 };
    evolutionSearch(p, {}, 3, 11, undefined, report);
    expect(report.evaluated).toBeGreaterThan(900);
    expect(report.evaluated).toBeLessThanOrEqual(50 * 21);
  });
});

describe("exact search with massive ties", () => {
  it("an untrained supernet (every score equal) is searched without enumerating the space", () => {
    const L = 21, K = 7;
    const rng = new Random(1);
    const p: SearchProblem = {
      fixed: { macs: 30e6, params: 1e6 },
      layers: Array.from({ length: L }, (_, l) => {
        const score = new Float64Array(K).fill(1), macs = new Float64Array(K), params = new Float64Array(K);
        for (let k = 0; k < K; k++) { macs[k] = 5e6 + rng.int(20e6); params[k] = 1e4 + rng.int(1e5); }
        score[K - 1] = 0;
        return { label: `layer${l}`, choices: Array.from({ length: K }, (_, k) => k), score, macs, params };
      }),
    };
    const stats = { nodes: 0 };
    const best = exactTopK(p, { maxMacs: 400e6 }, 5, stats);
    expect(best.length).toBe(5);
    expect(stats.nodes).toBeLessThan(1e6);
    // Every layer's cheapest scoring candidate costs at most 25e6, so all 21 fit in 400e6: the best
    // scores 21, and among those, the first is the one with each layer's cheapest such candidate.
    const cheapest = p.layers.map((l) => l.choices.slice(0, K - 1).reduce((a, b) => (l.macs[b]! < l.macs[a]! ? b : a)));
    expect(best[0]).toEqual(oracleEvaluate(p, cheapest));
    for (const e of best) expect(e.score).toBe(L);
    for (let i = 1; i < best.length; i++) expect(oracleRank(best[i - 1]!, best[i]!)).toBeLessThan(0);
  });

  it("tied scores with small spaces still equal brute force (ties broken by MACs, then arch)", () => {
    const rng = new Random(77);
    for (let t = 0; t < 20; t++) {
      const p = randomProblem(rng, 3 + rng.int(3), 3 + rng.int(3), true);
      for (const l of p.layers) for (const c of l.choices) l.macs[c] = 100 * rng.int(3); // tied MACs too
      const { minM, maxM } = totals(p);
      const c = { maxMacs: Math.round((minM + maxM) / 2) };
      expect(exactTopK(p, c, 6)).toEqual(bruteForce(p, c, 6));
    }
  });
});

/** The oracle's front: feasible archs no other feasible one beats on (score, latency); equal points: the first by rank; fastest first. */
function bruteFront(p: SearchProblem, c: Constraints): Evaluated[] {
  const all = allArchs(p).map((a) => oracleEvaluate(p, a)).filter((e) => oracleFeasible(c, e));
  const beaten = (a: Evaluated) => all.some((b) => b.score >= a.score && b.latency! <= a.latency! && (b.score > a.score || b.latency! < a.latency! || oracleRank(b, a) < 0));
  return all.filter((a) => !beaten(a)).sort((a, b) => a.latency! - b.latency!);
}

describe("latency: exact search and the Pareto front equal brute force", () => {
  const rng = new Random(4242);
  const trng = new Random(17);
  for (let t = 0; t < 48; t++) {
    const L = 2 + rng.int(5), K = 2 + rng.int(4), ties = t % 4 === 0;
    const p = randomProblem(rng, L, K, ties, trng);
    const { minM, maxM, minP, maxP, minT, maxT } = totals(p);
    const lerp = (a: number, b: number) => a + (b - a) * rng.uniform();
    const kinds: Constraints[] = [
      { maxLatency: lerp(minT, maxT) },
      { maxLatency: oracleEvaluate(p, p.layers.map((l) => l.choices[rng.int(l.choices.length)]!)).latency! }, // an architecture exactly at the limit
      { maxLatency: lerp(minT, maxT), maxMacs: Math.round(lerp(minM, maxM)) },
      { maxLatency: lerp(minT, maxT), maxParams: Math.round(lerp(minP, maxP)), minMacs: Math.round(lerp(minM, (minM + maxM) / 2)) },
      {},
      { maxLatency: minT - 1 / 1024 }, // below the fastest: nothing
    ];
    const c = kinds[t % kinds.length]!;
    const top = 1 + rng.int(8);
    it(`case ${t}: ${L} layers, ${K} candidates, top ${top}, ${JSON.stringify(c)}${ties ? ", tied" : ""}`, () => {
      expect(exactTopK(p, c, top)).toEqual(bruteForce(p, c, top));
      const front = exactPareto(p, c);
      expect(front).toEqual(bruteFront(p, c));
      for (let i = 1; i < front.length; i++) {
        expect(front[i]!.latency!).toBeGreaterThan(front[i - 1]!.latency!);
        expect(front[i]!.score).toBeGreaterThan(front[i - 1]!.score);
      }
    });
  }

  it("the front's last point is the unconstrained best score; its first is the fastest architecture", () => {
    const p = randomProblem(new Random(3), 8, 6, false, new Random(4));
    const front = exactPareto(p, {});
    expect(front[front.length - 1]!.score).toBe(exactTopK(p, {}, 1)[0]!.score);
    expect(front[0]!.latency).toBe(totals(p).minT);
  });

  it("a latency limit prunes: far fewer nodes than the space on a larger problem", () => {
    const p = randomProblem(new Random(8), 12, 6, false, new Random(9));
    const { minT, maxT } = totals(p);
    const stats = { nodes: 0 };
    const best = exactTopK(p, { maxLatency: (minT + maxT) / 2 }, 5, stats);
    expect(best.length).toBe(5);
    for (const e of best) expect(e.latency!).toBeLessThanOrEqual((minT + maxT) / 2);
    expect(stats.nodes).toBeLessThan(p.layers.reduce((n, l) => n * l.choices.length, 1) / 100);
  });
});
