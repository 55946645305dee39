import { describe, it } from "vitest";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(4);
const awayFrom = (a: Float32Array, ks: number[]) => a.map((v) => (ks.some((k) => Math.abs(v - k) < 0.1) ? v + 0.25 : v));
describe("Clip gradient", () => {
  it("ReLU6: min 0, max 6", async () => {
    await checkGradients({
      eps: 1e-3,
      inputs: { x: { dims: [2, 3, 4], data: awayFrom(randn(24, r, 5).map((v) => v + 3), [0, 6]), grad: true }, lo: { dims: [], data: Float32Array.of(0), constant: true }, hi: { dims: [], data: Float32Array.of(6), constant: true } },
      build: (b) => b.op("Clip", ["x", "lo", "hi"]),
    });
  });
  it("max only", async () => {
    await checkGradients({
      eps: 1e-3,
      inputs: { x: { dims: [10], data: awayFrom(randn(10, r, 2), [1]), grad: true }, hi: { dims: [], data: Float32Array.of(1), constant: true } },
      build: (b) => b.op("Clip", ["x", "", "hi"]),
    });
  });
});
