import { describe, it } from "vitest";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(12);
describe("GlobalAveragePool gradient", () => {
  it("spreads dy evenly", async () => {
    await checkGradients({ dynamicBatch: true, inputs: { x: { dims: [2, 3, 3, 5], data: randn(90, r), grad: true } }, build: (b) => b.op("GlobalAveragePool", ["x"]) });
  });
});
