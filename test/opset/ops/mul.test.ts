import { describe, it } from "vitest";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(7);
describe("Mul gradient", () => {
  it("same shapes", async () => {
    await checkGradients({ inputs: { a: { dims: [2, 5], data: randn(10, r), grad: true }, b: { dims: [2, 5], data: randn(10, r), grad: true } }, build: (b) => b.op("Mul", ["a", "b"]) });
  });
  it("scalar mask entry times a feature map (the supernet's mask multiplication)", async () => {
    await checkGradients({ inputs: { m: { dims: [], data: Float32Array.of(0.7), grad: true }, h: { dims: [2, 3, 2, 2], data: randn(24, r), grad: true } }, build: (b) => b.op("Mul", ["m", "h"]) });
  });
  it("a tensor used twice (x*x) accumulates both contributions", async () => {
    await checkGradients({ inputs: { x: { dims: [6], data: randn(6, r), grad: true } }, build: (b) => b.op("Mul", ["x", "x"]) });
  });
});
