import { describe, it } from "vitest";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(6);
describe("Sub gradient", () => {
  it("with a broadcast right operand", async () => {
    await checkGradients({ inputs: { a: { dims: [2, 3, 4], data: randn(24, r), grad: true }, b: { dims: [3, 1], data: randn(3, r), grad: true } }, build: (b) => b.op("Sub", ["a", "b"]) });
  });
});
