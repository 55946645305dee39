import { describe, expect, it } from "vitest";
import { fitLatencies, solveSpd, type FitProblem } from "../../src/latency/fit.js";
import { Random } from "../../src/util/random.js";

/** Networks of 6 layers x 7 candidates drawn with `rng`, their latency = intercept + sum of true costs, times (1 + noise). */
function synthetic(rng: Random, n: number, truth: { intercept: number; costs: number[][] }, noise: number): Pick<FitProblem, "choices" | "measured"> {
  const choices: number[][] = [];
  const measured: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = truth.costs.map((layer) => rng.int(layer.length));
    choices.push(c);
    const exact = c.reduce((t, k, l) => t + truth.costs[l]![k]!, truth.intercept);
    measured.push(exact * (1 + noise * (rng.uniform() * 2 - 1)));
  }
  return { choices, measured };
}

const rng0 = new Random(7);
const truth = { intercept: 3, costs: Array.from({ length: 6 }, (_, l) => Array.from({ length: 7 }, (_, k) => (k === 6 ? 0.2 : 1 + l * 0.3 + k * 0.25 + rng0.uniform()))) };
const predict = (f: { intercept: number; candidates: number[][] }, c: readonly number[]) => c.reduce((t, k, l) => t + f.candidates[l]![k]!, f.intercept);

describe("solveSpd", () => {
  it("solves a symmetric positive-definite system (checked by multiplying back)", () => {
    const a = new Float64Array([4, 1, 2, 1, 5, 3, 2, 3, 6]);
    const b = new Float64Array([1, 2, 3]);
    const x = solveSpd(a, b, 3);
    for (let i = 0; i < 3; i++) expect(a[i * 3]! * x[0]! + a[i * 3 + 1]! * x[1]! + a[i * 3 + 2]! * x[2]!).toBeCloseTo(b[i]!, 12);
  });
  it("refuses a matrix that is not positive definite", () => {
    expect(() => solveSpd(new Float64Array([1, 2, 2, 1]), new Float64Array([1, 1]), 2)).toThrow(/not positive definite/);
  });
});

describe("fitLatencies", () => {
  it("recovers additive in-network costs from whole networks when the standalone prior is wrong in shape, not just in level", () => {
    // The prior (standalone blocks) over-states every cost by 1.5x plus an architecture-dependent
    // term, as batch-128 blocks did; no single factor makes it right.
    const priorCandidates = truth.costs.map((layer, l) => layer.map((v, k) => (k === 6 ? 0 : 1.5 * v + 0.4 * ((k + l) % 3))));
    const data = synthetic(new Random(1), 80, truth, 0.01);
    const fit = fitLatencies({ priorCandidates, priorIntercept: 2, ...data });
    const test = synthetic(new Random(2), 50, truth, 0);
    const errors = test.choices.map((c, i) => predict(fit, c) / test.measured[i]! - 1);
    expect(Math.max(...errors.map(Math.abs))).toBeLessThan(0.03);
    // The prior alone, even scaled by its best single factor, is off by far more.
    const priorFit = { intercept: 2, candidates: priorCandidates };
    const ratios = test.choices.map((c, i) => test.measured[i]! / predict(priorFit, c)).sort((a, b) => a - b);
    const factor = ratios[Math.floor(ratios.length / 2)]!;
    const priorErrors = test.choices.map((c, i) => (factor * predict(priorFit, c)) / test.measured[i]! - 1);
    expect(Math.max(...priorErrors.map(Math.abs))).toBeGreaterThan(0.05);
    // Cross-validated errors are held-out predictions of the calibration networks: small here too.
    expect(fit.cvErrors).toHaveLength(80);
    expect(Math.max(...fit.cvErrors.map(Math.abs))).toBeLessThan(0.05);
  });

  it("keeps every cost non-negative even where the data pull one below zero", () => {
    // Layer 0 candidate 0 "speeds networks up" in the data: unconstrained, its cost would be negative.
    const t = { intercept: 5, costs: truth.costs.map((layer, l) => layer.map((v, k) => (l === 0 && k === 0 ? -0.8 : v))) };
    const data = synthetic(new Random(3), 60, t, 0);
    const fit = fitLatencies({ priorCandidates: t.costs.map((l) => l.map((v) => Math.max(v, 0))), priorIntercept: 5, ...data });
    for (const layer of fit.candidates) for (const v of layer) expect(v).toBeGreaterThanOrEqual(0);
    expect(fit.candidates[0]![0]).toBe(0);
  });

  it("leans on a good prior when the networks are few and noisy, and on the networks when they are many and exact", () => {
    const priorCandidates = truth.costs.map((l) => l.slice());
    const few = fitLatencies({ priorCandidates, priorIntercept: truth.intercept, ...synthetic(new Random(4), 12, truth, 0.3) });
    const wrongPrior = truth.costs.map((layer, l) => layer.map((v, k) => v * (1 + 0.5 * ((k + l) % 2))));
    const many = fitLatencies({ priorCandidates: wrongPrior, priorIntercept: 1, ...synthetic(new Random(5), 200, truth, 0.001) });
    expect(few.lambda).toBeGreaterThan(many.lambda);
    const test = synthetic(new Random(6), 30, truth, 0);
    for (const [i, c] of test.choices.entries()) expect(Math.abs(predict(few, c) / test.measured[i]! - 1)).toBeLessThan(0.1);
  });

  it("refuses mismatched or too few measurements", () => {
    expect(() => fitLatencies({ priorCandidates: [[1]], priorIntercept: 1, choices: [[0]], measured: [1, 2] })).toThrow(/one measurement per network/);
    expect(() => fitLatencies({ priorCandidates: [[1]], priorIntercept: 1, choices: [[0]], measured: [1] })).toThrow(/at least 2/);
  });
});
