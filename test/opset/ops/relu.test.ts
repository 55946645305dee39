import { describe, expect, it } from "vitest";
import { checkGradients, gradientsFor, randn, rng } from "../../autodiff/harness.js";

const r = rng(3);
// keep inputs away from the kink so the finite difference does not cross it
const awayFromZero = (a: Float32Array) => a.map((v) => (Math.abs(v) < 0.1 ? v + Math.sign(v || 1) * 0.2 : v));

/** dx of Relu at x for dy = 1 everywhere. */
async function reluMask(x: Float32Array): Promise<Float32Array> {
  const grads = await gradientsFor({ inputs: { x: { dims: [x.length], data: x, grad: true } }, build: (b) => b.op("Relu", ["x"]) }, new Float32Array(x.length).fill(1));
  return grads.x!;
}

describe("Relu gradient", () => {
  it("passes dy where the output is positive", async () => {
    await checkGradients({ eps: 1e-3, inputs: { x: { dims: [3, 4, 2], data: awayFromZero(randn(24, r)), grad: true } }, build: (b) => b.op("Relu", ["x"]) });
  });

  it("is an exact 0/1 mask from the smallest normal float to the largest (none at 0, as PyTorch)", async () => {
    const x = Float32Array.of(0, -0, -1, -3e38, 1.1754944e-38, 1e-30, 1e-6, 1, 6, 1e30, 3.4e38);
    expect([...(await reluMask(x))]).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
  });
});
