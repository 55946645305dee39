import { describe, it } from "vitest";
import { attr } from "../../../src/onnx/builder.js";
import { checkGradients, randn, rng } from "../harness.js";

const r = rng(1);
const cases = [
  { name: "3x3 stride 1 (rotated-weight Conv)", cin: 3, cout: 4, k: 3, s: 1, p: 1, g: 1, h: 6 },
  { name: "5x5 stride 2 (ConvTranspose with output_padding)", cin: 2, cout: 3, k: 5, s: 2, p: 2, g: 1, h: 7 },
  { name: "3x3 stride 2, even input", cin: 2, cout: 2, k: 3, s: 2, p: 1, g: 1, h: 6 },
  { name: "depthwise 3x3 stride 1", cin: 4, cout: 4, k: 3, s: 1, p: 1, g: 4, h: 5 },
  { name: "depthwise 7x7 stride 2", cin: 3, cout: 3, k: 7, s: 2, p: 3, g: 3, h: 9 },
  { name: "grouped 3x3 (2 groups, 2 out per group) stride 1", cin: 4, cout: 4, k: 3, s: 1, p: 1, g: 2, h: 5 },
  { name: "1x1 pointwise", cin: 5, cout: 3, k: 1, s: 1, p: 0, g: 1, h: 4 },
  { name: "grouped 3x3 stride 2 (2 groups, 3 out per group, zero insertion)", cin: 4, cout: 6, k: 3, s: 2, p: 1, g: 2, h: 7 },
  { name: "depthwise with channel multiplier 2, 5x5 stride 2, even input", cin: 3, cout: 6, k: 5, s: 2, p: 2, g: 3, h: 8 },
  { name: "1x1 stride 2 (zero insertion with no overlap)", cin: 3, cout: 2, k: 1, s: 2, p: 0, g: 1, h: 5 },
];

describe("Conv gradient", () => {
  for (const c of cases) {
    it(c.name, async () => {
      await checkGradients({
        dynamicBatch: true,
        inputs: {
          x: { dims: [2, c.cin, c.h, c.h], data: randn(2 * c.cin * c.h * c.h, r), grad: true },
          w: { dims: [c.cout, c.cin / c.g, c.k, c.k], data: randn((c.cout * c.cin * c.k * c.k) / c.g, r, 0.3), constant: true },
        },
        build: (b) => b.op("Conv", ["x", "w"], { group: attr.int(c.g), kernel_shape: attr.ints([c.k, c.k]), pads: attr.ints([c.p, c.p, c.p, c.p]), strides: attr.ints([c.s, c.s]) }),
      });
    });
  }
  it("strided with asymmetric pads and a dilation", async () => {
    await checkGradients({
      dynamicBatch: true,
      inputs: {
        x: { dims: [2, 2, 9, 9], data: randn(2 * 2 * 81, r), grad: true },
        w: { dims: [3, 2, 3, 3], data: randn(54, r, 0.3), constant: true },
      },
      build: (b) => b.op("Conv", ["x", "w"], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([2, 1, 1, 2]), strides: attr.ints([2, 2]), dilations: attr.ints([2, 2]) }),
    });
  });
  it("a fed (non-constant) weight with stride 2 uses ConvTranspose with output_padding", async () => {
    await checkGradients({
      inputs: {
        x: { dims: [2, 4, 6, 6], data: randn(2 * 4 * 36, r), grad: true },
        w: { dims: [4, 2, 3, 3], data: randn(72, r, 0.3) },
      },
      build: (b) => b.op("Conv", ["x", "w"], { group: attr.int(2), kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([2, 2]) }),
    });
  });
  it("with a bias, and a fed (non-constant) weight falls back to ConvTranspose", async () => {
    await checkGradients({
      inputs: {
        x: { dims: [2, 2, 5, 5], data: randn(100, r), grad: true },
        w: { dims: [3, 2, 3, 3], data: randn(54, r, 0.3) },
        bias: { dims: [3], data: randn(3, r), grad: true },
      },
      build: (b) => b.op("Conv", ["x", "w", "bias"], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 0, 1, 0]) }),
    });
  });
});
