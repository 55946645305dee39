import { describe, it } from "vitest";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(12);
describe("Unsqueeze gradient", () => {
  it("one axis, dynamic batch, feeding a broadcast", async () => {
    await checkGradients({
      dynamicBatch: true,
      inputs: { x: { dims: [2, 3], data: randn(6, r), grad: true }, y: { dims: [2, 3, 4], data: randn(24, r), grad: true } },
      build: (b) => b.op("Mul", [b.op("Unsqueeze", ["x", b.int64Init("axes", [1], [2])]), "y"]),
    });
  });
  it("several axes, negative ones included", async () => {
    await checkGradients({
      inputs: { x: { dims: [3, 2], data: randn(6, r), grad: true } },
      build: (b) => b.op("Relu", [b.op("Unsqueeze", ["x", b.int64Init("axes", [2], [0, -1])])]),
    });
  });
});
