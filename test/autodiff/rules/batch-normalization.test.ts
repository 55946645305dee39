import { describe, expect, it } from "vitest";
import { attr } from "../../../src/onnx/builder.js";
import { checkGradients, randn, rng } from "../harness.js";

const r = rng(2);
describe("BatchNormalization (training mode) gradient", () => {
  it("x, gamma and beta, through the batch statistics", async () => {
    const c = 3;
    const g = await checkGradients({
      dynamicBatch: true,
      inputs: {
        x: { dims: [4, c, 3, 3], data: randn(4 * c * 9, r, 2).map((v, i) => v + (i % 5)), grad: true },
        gamma: { dims: [c], data: Float32Array.of(0.5, 1.5, -0.7), grad: true },
        beta: { dims: [c], data: Float32Array.of(0.1, -0.2, 0.3), grad: true },
        mean: { dims: [c], data: new Float32Array(c), constant: true },
        var: { dims: [c], data: new Float32Array(c).fill(1), constant: true },
      },
      // followed by a nonlinearity so d/dx is not trivially zero-mean
      build: (b) => b.op("Mul", [b.op("BatchNormalization", ["x", "gamma", "beta", "mean", "var"], { epsilon: attr.float(1e-5) }), b.op("BatchNormalization", ["x", "gamma", "beta", "mean", "var"], { epsilon: attr.float(1e-5) }, "bn2")]),
    });
    expect(g.gamma!.length).toBe(c);
  });
});
