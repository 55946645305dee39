import { describe, it } from "vitest";
import { attr } from "../../../src/onnx/builder.js";
import { checkGradients, rng } from "../../autodiff/harness.js";

const r = rng(14);
// distinct, well-separated values so the arg-max is stable under the finite-difference step
function distinct(n: number): Float32Array {
  const v = Float32Array.from({ length: n }, (_, i) => i * 0.1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return v;
}
describe("MaxPool gradient", () => {
  it("2x2 stride 2", async () => {
    await checkGradients({ eps: 1e-3, dynamicBatch: true, inputs: { x: { dims: [2, 2, 4, 4], data: distinct(64), grad: true } }, build: (b) => b.op("MaxPool", ["x"], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }) });
  });
  it("3x3 stride 2 padded, odd size (MobileNet/ResNet stem pool)", async () => {
    await checkGradients({ eps: 1e-3, dynamicBatch: true, inputs: { x: { dims: [2, 2, 7, 7], data: distinct(196), grad: true } }, build: (b) => b.op("MaxPool", ["x"], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }) });
  });
  it("3x3 stride 1 padded (overlapping windows accumulate)", async () => {
    await checkGradients({ eps: 1e-3, inputs: { x: { dims: [1, 2, 5, 5], data: distinct(50), grad: true } }, build: (b) => b.op("MaxPool", ["x"], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }) });
  });
});
