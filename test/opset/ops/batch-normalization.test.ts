import { describe, expect, it } from "vitest";
import { attr, GraphBuilder } from "../../../src/onnx/builder.js";
import { lowerBatchNorm } from "../../../src/opset/ops/batch-normalization-lowering.js";
import { make } from "../../../src/onnx/proto.js";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

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
  it("rank 2 (BatchNorm1d after a Gemm), feeding a ReLU6", async () => {
    const c = 4;
    await checkGradients({
      dynamicBatch: true,
      inputs: {
        x: { dims: [6, c], data: randn(6 * c, r, 2).map((v, i) => v + (i % 3)), grad: true },
        gamma: { dims: [c], data: Float32Array.of(1.2, -0.4, 0.8, 2), grad: true },
        beta: { dims: [c], data: Float32Array.of(0.3, 0.1, -0.5, 1), grad: true },
        mean: { dims: [c], data: new Float32Array(c), constant: true },
        var: { dims: [c], data: new Float32Array(c).fill(1), constant: true },
        lo: { dims: [], data: Float32Array.of(0), constant: true },
        hi: { dims: [], data: Float32Array.of(6), constant: true },
      },
      build: (b) => b.op("Mul", [b.op("Clip", [b.op("BatchNormalization", ["x", "gamma", "beta", "mean", "var"], { epsilon: attr.float(1e-5) }), "lo", "hi"]), b.op("Add", ["x", "x"])]),
      eps: 1e-3,
    });
  });
  it("a large channel mean (E[x^2] - mean^2 keeps its precision at |mean| = 20 std)", async () => {
    const c = 2;
    await checkGradients({
      dynamicBatch: true,
      inputs: {
        x: { dims: [4, c, 4, 4], data: randn(4 * c * 16, r).map((v, i) => v + (i % 32 < 16 ? 20 : -20)), grad: true },
        gamma: { dims: [c], data: Float32Array.of(0.7, 1.3), grad: true },
        beta: { dims: [c], data: Float32Array.of(0, 0.2), grad: true },
        mean: { dims: [c], data: new Float32Array(c), constant: true },
        var: { dims: [c], data: new Float32Array(c).fill(1), constant: true },
      },
      build: (b) => {
        const y = b.op("BatchNormalization", ["x", "gamma", "beta", "mean", "var"], { epsilon: attr.float(1e-5) });
        return b.op("Mul", [y, y]);
      },
    });
  });
  it("refuses symbolic spatial dims with a message naming the BN", () => {
    const node = make.node({ name: "bn7", opType: "BatchNormalization", input: ["x", "g", "b", "m", "v"], output: ["y"] });
    expect(() => lowerBatchNorm(new GraphBuilder(), node, ["N", 4, "H", "W"])).toThrow(/BatchNormalization 'bn7': spatial dims must be static/);
  });
});
