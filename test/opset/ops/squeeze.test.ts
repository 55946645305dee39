import { describe, it } from "vitest";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(11);
describe("Squeeze gradient", () => {
  it("axes as an input (opset 13+), dynamic batch", async () => {
    await checkGradients({
      dynamicBatch: true,
      inputs: { x: { dims: [2, 3, 1, 4], data: randn(24, r), grad: true } },
      build: (b) => b.op("Mul", [b.op("Squeeze", ["x", b.int64Init("axes", [1], [2])]), b.op("Squeeze", ["x", b.int64Init("axes_neg", [1], [-2])])]),
    });
  });
  it("every unit dim when no axes are given", async () => {
    await checkGradients({
      inputs: { x: { dims: [1, 3, 1, 2], data: randn(6, r), grad: true } },
      build: (b) => b.op("Relu", [b.op("Squeeze", ["x"])]),
    });
  });
  it("after a global pool (the [N, C, 1, 1] -> [N, C] head)", async () => {
    await checkGradients({
      dynamicBatch: true,
      inputs: { x: { dims: [2, 3, 2, 2], data: randn(24, r), grad: true } },
      build: (b) => b.op("Squeeze", [b.op("GlobalAveragePool", ["x"]), b.int64Init("hw", [2], [2, 3])]),
    });
  });
});
