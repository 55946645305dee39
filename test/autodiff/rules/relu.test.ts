import { describe, it } from "vitest";
import { checkGradients, randn, rng } from "../harness.js";

const r = rng(3);
// keep inputs away from the kink so the finite difference does not cross it
const awayFromZero = (a: Float32Array) => a.map((v) => (Math.abs(v) < 0.1 ? v + Math.sign(v || 1) * 0.2 : v));
describe("Relu gradient", () => {
  it("passes dy where the output is positive", async () => {
    await checkGradients({ eps: 1e-3, inputs: { x: { dims: [3, 4, 2], data: awayFromZero(randn(24, r)), grad: true } }, build: (b) => b.op("Relu", ["x"]) });
  });
});
