import { describe, it } from "vitest";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(16);
describe("MatMul gradient", () => {
  it("2-D", async () => {
    await checkGradients({ inputs: { a: { dims: [3, 4], data: randn(12, r), grad: true }, b: { dims: [4, 2], data: randn(8, r), grad: true } }, build: (b) => b.op("MatMul", ["a", "b"]) });
  });
  it("batched left operand with a broadcast 2-D right operand", async () => {
    await checkGradients({ inputs: { a: { dims: [2, 3, 4], data: randn(24, r), grad: true }, b: { dims: [4, 2], data: randn(8, r), grad: true } }, build: (b) => b.op("MatMul", ["a", "b"]) });
  });
  it("dynamic batch [N, T, C] with a fed 2-D weight: dW summed over the batch", async () => {
    await checkGradients({
      dynamicBatch: true,
      inputs: { a: { dims: [3, 2, 4], data: randn(24, r), grad: true }, b: { dims: [4, 5], data: randn(20, r), grad: true, staticShape: true } },
      build: (b) => b.op("MatMul", ["a", "b"]),
    });
  });
  it("fed weight on the left, [M, K] x [N, K, T]", async () => {
    await checkGradients({
      dynamicBatch: true,
      inputs: { w: { dims: [3, 4], data: randn(12, r), grad: true, staticShape: true }, x: { dims: [2, 4, 5], data: randn(40, r) } },
      build: (b) => b.op("MatMul", ["w", "x"]),
    });
  });
});
