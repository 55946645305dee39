import { describe, it } from "vitest";
import { attr } from "../../../src/onnx/builder.js";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(10);
describe("Flatten / Reshape gradient", () => {
  it("Flatten with a dynamic batch", async () => {
    await checkGradients({ dynamicBatch: true, inputs: { x: { dims: [2, 3, 2, 2], data: randn(24, r), grad: true } }, build: (b) => b.op("Flatten", ["x"], { axis: attr.int(1) }) });
  });
  it("Reshape to a constant shape with -1", async () => {
    await checkGradients({
      dynamicBatch: true,
      inputs: { x: { dims: [2, 4, 1, 1], data: randn(8, r), grad: true } },
      build: (b) => b.op("Reshape", ["x", b.int64Init("shape", [2], [-1, 4])]),
    });
  });
});
