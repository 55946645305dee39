import { describe, expect, it } from "vitest";
import { attr } from "../../../src/onnx/builder.js";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(15);
describe("Gemm gradient", () => {
  for (const [ta, tb] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
    it(`transA=${ta} transB=${tb}, alpha/beta, broadcast bias`, async () => {
      await checkGradients({
        inputs: {
          a: { dims: ta ? [4, 3] : [3, 4], data: randn(12, r), grad: true },
          b: { dims: tb ? [5, 4] : [4, 5], data: randn(20, r), grad: true },
          c: { dims: [5], data: randn(5, r), grad: true },
        },
        build: (b) => b.op("Gemm", ["a", "b", "c"], { transA: attr.int(ta), transB: attr.int(tb), alpha: attr.float(0.7), beta: attr.float(1.3) }),
      });
    });
  }
  it("the classifier head: x [N, C] (dynamic batch) with a fed weight [K, C] (transB=1) and bias, as exported by PyTorch", async () => {
    const g = await checkGradients({
      dynamicBatch: true,
      inputs: {
        x: { dims: [3, 6], data: randn(18, r), grad: true },
        w: { dims: [4, 6], data: randn(24, r), grad: true, staticShape: true },
        bias: { dims: [4], data: randn(4, r), grad: true },
      },
      build: (b) => b.op("Gemm", ["x", "w", "bias"], { transB: attr.int(1) }),
    });
    expect(g.w!.length).toBe(24);
    expect(g.bias!.length).toBe(4);
  });
  it("weight and bias gradients only (the input is not trained)", async () => {
    await checkGradients({
      dynamicBatch: true,
      inputs: {
        x: { dims: [2, 5], data: randn(10, r) },
        w: { dims: [5, 3], data: randn(15, r), grad: true, staticShape: true },
        bias: { dims: [1, 3], data: randn(3, r), grad: true, staticShape: true },
      },
      build: (b) => b.op("Gemm", ["x", "w", "bias"]),
    });
  });
});
