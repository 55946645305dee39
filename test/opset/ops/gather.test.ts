import { describe, it } from "vitest";
import { attr } from "../../../src/onnx/builder.js";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(17);
describe("Gather (constant indices) gradient", () => {
  it("scalar index into a mask vector, times a feature map", async () => {
    await checkGradients({
      inputs: { mask: { dims: [4], data: Float32Array.of(0.1, 0.9, 0.3, 0.5), grad: true }, h: { dims: [2, 3], data: randn(6, r), grad: true } },
      build: (b) => b.op("Mul", [b.op("Gather", ["mask", b.int64Init("k", [], [2])], { axis: attr.int(0) }), "h"]),
    });
  });
  it("repeated indices into a matrix accumulate", async () => {
    await checkGradients({
      inputs: { m: { dims: [3, 2], data: randn(6, r), grad: true } },
      build: (b) => b.op("Gather", ["m", b.int64Init("idx", [3], [1, 1, -1])], { axis: attr.int(0) }),
    });
  });
});
