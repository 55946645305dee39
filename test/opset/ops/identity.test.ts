import { describe, it } from "vitest";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(9);
describe("Identity gradient", () => {
  it("passes dy through", async () => {
    await checkGradients({ inputs: { x: { dims: [3, 2], data: randn(6, r), grad: true } }, build: (b) => b.op("Identity", ["x"]) });
  });
});
