import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { Sgd, clipGradValues } from "../../src/train/sgd.js";
import { learningRate } from "../../src/train/schedule.js";

/** Runs torch.optim.SGD on the same scripted gradients (test/fixtures/train/sgd_oracle.py). */
function torchSgd(requests: unknown[]): Record<string, number[]>[] {
  const r = spawnSync("/usr/bin/python3", ["test/fixtures/train/sgd_oracle.py"], { input: JSON.stringify(requests), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`sgd oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("SGD", () => {
  const params = { gamma: [1, -0.5, 2], beta: [0.1, 0.2, -0.3], head: [0.7, -1.2] };
  // beta is off the path (no gradient) in step 2; head gets weight decay.
  const steps = [
    { lr: 0.1, grads: { gamma: [0.5, -1, 0.25], beta: [1, 1, -1], head: [0.3, 0.1] } },
    { lr: 0.05, grads: { gamma: [-0.2, 0.4, 0.1], head: [-0.6, 0.2] } },
    { lr: 0.08, grads: { gamma: [0.3, 0.3, -0.9], beta: [-0.5, 2, 0.5], head: [0.1, 0.1] } },
    { lr: 0.02, grads: { beta: [0.1, -0.1, 0.2] } },
  ];

  const cases = [
    { momentum: 0.9, dampening: 0, nesterov: false, weight_decay: 4e-5 },
    { momentum: 0.9, dampening: 0, nesterov: true, weight_decay: 0.01 },
    { momentum: 0.5, dampening: 0.3, nesterov: false, weight_decay: 0 },
    { momentum: 0, dampening: 0, nesterov: false, weight_decay: 0.1 },
  ];
  let oracle: Record<string, number[]>[] | undefined;
  for (const [k, options] of cases.entries()) {
    it(`matches torch.optim.SGD (${JSON.stringify(options)})`, () => {
      oracle ??= torchSgd(cases.map((o) => ({ params, decay: ["head"], options: o, steps })));
      const expected = oracle[k]!;
      const p = new Map(Object.entries(params).map(([n, v]) => [n, Float32Array.from(v)]));
      const sgd = new Sgd({ momentum: options.momentum, dampening: options.dampening, nesterov: options.nesterov, weightDecay: options.weight_decay, decays: (n) => n === "head" });
      for (const s of steps) sgd.step(p, new Map(Object.entries(s.grads).map(([n, v]) => [n, Float32Array.from(v)])), s.lr);
      for (const [n, v] of Object.entries(expected)) {
        const got = Array.from(p.get(n)!);
        v.forEach((x, i) => expect(got[i]).toBeCloseTo(x, 6));
      }
      // Off-path parameters have no momentum buffer until their first gradient.
      if (options.momentum > 0) expect([...sgd.buffers.keys()].sort()).toEqual(["beta", "gamma", "head"]);
    });
  }

  it("by hand: first step uses the gradient as the buffer, later ones momentum * buf + g", () => {
    const p = new Map([["w", Float32Array.of(1)]]);
    const sgd = new Sgd({ momentum: 0.9, weightDecay: 0 });
    sgd.step(p, new Map([["w", Float32Array.of(1)]]), 0.1); // buf 1, w 0.9
    sgd.step(p, new Map([["w", Float32Array.of(1)]]), 0.1); // buf 1.9, w 0.71
    expect(p.get("w")![0]).toBeCloseTo(0.71, 6);
    expect(() => sgd.step(p, new Map([["v", Float32Array.of(1)]]), 0.1)).toThrow(/not a trained parameter/);
  });

  it("clips gradient values like clip_grad_value_", () => {
    const g = new Map([["a", Float32Array.of(-3, 0.5, 2)]]);
    clipGradValues(g, 1);
    expect(Array.from(g.get("a")!)).toEqual([-1, 0.5, 1]);
  });

  it("schedules the learning rate: constant, linear (SPOS), cosine (CosineAnnealingLR)", () => {
    expect(learningRate("constant", 0.5, 7, 10)).toBe(0.5);
    expect(learningRate("linear", 0.5, 0, 10)).toBe(0.5);
    expect(learningRate("linear", 0.5, 5, 10)).toBeCloseTo(0.25);
    expect(learningRate("cosine", 0.5, 0, 10)).toBeCloseTo(0.5);
    expect(learningRate("cosine", 0.5, 5, 10)).toBeCloseTo(0.25);
    expect(learningRate("cosine", 0.5, 10, 10)).toBeCloseTo(0);
    expect(learningRate("cosine", 1, 3, 10)).toBeCloseTo(0.5 * (1 + Math.cos(0.3 * Math.PI)));
  });

  it("warms the learning rate up linearly, then runs the schedule over the remaining steps", () => {
    expect([0, 1, 2, 3].map((step) => learningRate("cosine", 0.4, step, 14, 4))).toEqual([0.1, 0.2, 0.30000000000000004, 0.4]);
    expect(learningRate("cosine", 0.4, 4, 14, 4)).toBeCloseTo(0.4);
    expect(learningRate("cosine", 0.4, 9, 14, 4)).toBeCloseTo(0.2);
    expect(learningRate("linear", 0.4, 14, 14, 4)).toBeCloseTo(0);
    expect(learningRate("constant", 0.4, 2, 14, 4)).toBeCloseTo(0.3);
  });
});
