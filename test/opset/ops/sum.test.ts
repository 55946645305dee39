import { describe, it } from "vitest";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(8);
describe("Sum gradient", () => {
  it("three inputs, one broadcast", async () => {
    await checkGradients({
      inputs: { a: { dims: [2, 3], data: randn(6, r), grad: true }, b: { dims: [2, 3], data: randn(6, r), grad: true }, c: { dims: [3], data: randn(3, r), grad: true } },
      build: (b) => b.op("Sum", ["a", "b", "c"]),
    });
  });
});
