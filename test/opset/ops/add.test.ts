import { describe, it } from "vitest";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(5);
describe("Add gradient", () => {
  it("same shapes", async () => {
    await checkGradients({ inputs: { a: { dims: [2, 3], data: randn(6, r), grad: true }, b: { dims: [2, 3], data: randn(6, r), grad: true } }, build: (b) => b.op("Add", ["a", "b"]) });
  });
  it("broadcast [1,C,1,1] and scalar are summed back by the builder", async () => {
    await checkGradients({
      inputs: { a: { dims: [2, 3, 2, 2], data: randn(24, r), grad: true }, b: { dims: [1, 3, 1, 1], data: randn(3, r), grad: true }, c: { dims: [], data: Float32Array.of(0.5), grad: true } },
      build: (b) => b.op("Add", [b.op("Add", ["a", "b"]), "c"]),
    });
  });
});
