import { describe, expect, it } from "vitest";
import { attr } from "../../../src/onnx/builder.js";
import { backwardModelFor, checkGradients, gradientsFor, randn, rng, type FdOptions } from "../../autodiff/harness.js";

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
  it("with a bias, and a fed (non-constant) weight at stride 1: the kernel is rotated in the graph, no ConvTranspose", async () => {
    const opts: FdOptions = {
      inputs: {
        x: { dims: [2, 2, 5, 5], data: randn(100, r), grad: true },
        w: { dims: [3, 2, 3, 3], data: randn(54, r, 0.3) },
        bias: { dims: [3], data: randn(3, r), grad: true },
      },
      build: (b) => b.op("Conv", ["x", "w", "bias"], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 0, 1, 0]) }),
    };
    await checkGradients(opts);
    const ops = backwardModelFor(opts).graph!.node.map((nd) => nd.opType);
    expect(ops).not.toContain("ConvTranspose");
    expect(ops).toContain("Slice");
  });
});

/** dX of Conv(X, W) for dY, straight from the definition: dX[n,ci,h,w] += dY[n,co,i,j] * W[co,ci%cg,kh,kw] at h = s*i + d*kh - pad. */
function directAdjoint(dy: Float32Array, w: Float32Array, c: { n: number; cin: number; cout: number; g: number; k: number; s: number; d: number; pads: number[]; h: number; ho: number; wo: number; wdt: number }): Float32Array {
  const dx = new Float32Array(c.n * c.cin * c.h * c.wdt);
  const cg = c.cin / c.g, mg = c.cout / c.g;
  for (let n = 0; n < c.n; n++)
    for (let co = 0; co < c.cout; co++)
      for (let i = 0; i < c.ho; i++)
        for (let j = 0; j < c.wo; j++) {
          const g = dy[((n * c.cout + co) * c.ho + i) * c.wo + j]!;
          for (let q = 0; q < cg; q++) {
            const ci = Math.floor(co / mg) * cg + q;
            for (let a = 0; a < c.k; a++)
              for (let b = 0; b < c.k; b++) {
                const y = c.s * i + c.d * a - c.pads[0]!, x = c.s * j + c.d * b - c.pads[1]!;
                if (y < 0 || y >= c.h || x < 0 || x >= c.wdt) continue;
                dx[((n * c.cin + ci) * c.h + y) * c.wdt + x]! += g * w[((co * cg + q) * c.k + a) * c.k + b]!;
              }
          }
        }
  return dx;
}

describe("strided Conv input gradient (polyphase, zero insertion as fallback)", () => {
  const configs = [
    { name: "depthwise 7x7 stride 2, even input (the fmnist-small layer)", cin: 8, cout: 8, g: 8, k: 7, s: 2, pads: [3, 3, 3, 3], h: 14, wdt: 14, path: "phases" },
    { name: "depthwise 7x7 stride 2, odd input (cropped)", cin: 4, cout: 4, g: 4, k: 7, s: 2, pads: [3, 3, 3, 3], h: 7, wdt: 7, path: "phases" },
    { name: "depthwise 5x5 stride 2, non-square input", cin: 3, cout: 3, g: 3, k: 5, s: 2, pads: [2, 2, 2, 2], h: 9, wdt: 6, path: "phases" },
    { name: "depthwise 3x3 stride 2", cin: 4, cout: 4, g: 4, k: 3, s: 2, pads: [1, 1, 1, 1], h: 8, wdt: 8, path: "phases" },
    { name: "dense 3x3 stride 3, asymmetric pads: a phase needing a negative pad, zero insertion", cin: 3, cout: 5, g: 1, k: 3, s: 3, pads: [0, 2, 1, 0], h: 10, wdt: 11, path: "zeros" },
    { name: "grouped with channel multiplier, 4x4 stride 2, no pads", cin: 4, cout: 6, g: 2, k: 4, s: 2, pads: [0, 0, 0, 0], h: 10, wdt: 9, path: "phases" },
    { name: "1x1 stride 2: an empty phase, zero insertion", cin: 3, cout: 2, g: 1, k: 1, s: 2, pads: [0, 0, 0, 0], h: 6, wdt: 6, path: "zeros" },
    { name: "1x1 stride 2, odd input: ConvTranspose", cin: 3, cout: 2, g: 1, k: 1, s: 2, pads: [0, 0, 0, 0], h: 6, wdt: 5, path: "transpose" },
  ];
  for (const c of configs) {
    it(`${c.name}: equals the direct adjoint element-wise`, async () => {
      const n = 2;
      const ho = Math.floor((c.h + c.pads[0]! + c.pads[2]! - c.k) / c.s) + 1, wo = Math.floor((c.wdt + c.pads[1]! + c.pads[3]! - c.k) / c.s) + 1;
      const w = randn((c.cout * c.cin * c.k * c.k) / c.g, r, 0.3);
      const opts: FdOptions = {
        dynamicBatch: true,
        inputs: {
          x: { dims: [n, c.cin, c.h, c.wdt], data: randn(n * c.cin * c.h * c.wdt, r), grad: true },
          w: { dims: [c.cout, c.cin / c.g, c.k, c.k], data: w, constant: true },
        },
        build: (b) => b.op("Conv", ["x", "w"], { group: attr.int(c.g), kernel_shape: attr.ints([c.k, c.k]), pads: attr.ints(c.pads), strides: attr.ints([c.s, c.s]) }),
      };
      const dy = randn(n * c.cout * ho * wo, r);
      const got = (await gradientsFor(opts, dy)).x!;
      const want = directAdjoint(dy, w, { ...c, n, d: 1, ho, wo });
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `dx[${i}]`).toBeLessThan(1e-4 * (1 + Math.abs(want[i]!)));
      const ops = backwardModelFor(opts).graph!.node.map((nd) => nd.opType);
      expect(ops.includes("MaxUnpool")).toBe(c.path === "zeros");
      expect(ops.includes("ConvTranspose")).toBe(c.path === "transpose");
      expect(ops.filter((o) => o === "Conv").length).toBe(1 + (c.path === "phases" ? c.s * c.s : c.path === "zeros" ? 1 : 0));
    });
  }
});
