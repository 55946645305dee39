import { describe, it } from "vitest";
import { attr } from "../../../src/onnx/builder.js";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(11);
describe("ReduceMean gradient", () => {
  it("spatial mean without keepdims (PyTorch's x.mean((2,3)))", async () => {
    await checkGradients({ dynamicBatch: true, inputs: { x: { dims: [2, 3, 4, 4], data: randn(96, r), grad: true } }, build: (b) => b.op("ReduceMean", ["x"], { axes: attr.ints([2, 3]), keepdims: attr.int(0) }) });
  });
  it("over the (dynamic) batch axis with keepdims", async () => {
    await checkGradients({ dynamicBatch: true, inputs: { x: { dims: [3, 2, 2], data: randn(12, r), grad: true } }, build: (b) => b.op("ReduceMean", ["x"], { axes: attr.ints([0, -1]), keepdims: attr.int(1) }) });
  });
});
