import { describe, it } from "vitest";
import { attr } from "../../../src/onnx/builder.js";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(13);
describe("AveragePool gradient", () => {
  it("2x2 stride 2", async () => {
    await checkGradients({ inputs: { x: { dims: [2, 3, 4, 4], data: randn(96, r), grad: true } }, build: (b) => b.op("AveragePool", ["x"], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }) });
  });
  it("3x3 stride 2 padded, count_include_pad=0, odd size", async () => {
    await checkGradients({ dynamicBatch: true, inputs: { x: { dims: [2, 2, 5, 5], data: randn(100, r), grad: true } }, build: (b) => b.op("AveragePool", ["x"], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }) });
  });
  it("3x3 stride 1 padded, count_include_pad=1", async () => {
    await checkGradients({ inputs: { x: { dims: [1, 2, 4, 4], data: randn(32, r), grad: true } }, build: (b) => b.op("AveragePool", ["x"], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]), count_include_pad: attr.int(1) }) });
  });
});
