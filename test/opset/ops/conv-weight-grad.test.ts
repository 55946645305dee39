/**
 * Conv gradients with a FED weight (full-weight training): dW, dX and db against central finite
 * differences, dW element-wise against the definition and, for a few configurations, against
 * PyTorch's torch.nn.grad.conv2d_weight; plus which graph form each configuration gets.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { attr } from "../../../src/onnx/builder.js";
import { getAttr } from "../../../src/onnx/graph.js";
import { backwardModelFor, checkGradients, gradientsFor, randn, rng, type FdOptions } from "../../autodiff/harness.js";

const PYTHON = "/usr/bin/python3";

interface Case {
  name: string;
  n?: number;
  cin: number;
  cout: number;
  g: number;
  k: number;
  s: number;
  d?: number;
  /** [top, left, bottom, right] */
  pads: number[];
  h: number;
  w?: number;
  bias?: boolean;
  /** false: the batch dim is static (enables the C_in = 1 group = N form) */
  dynamic?: boolean;
  /** the expected dW form: batched MatMul, group = N Conv, or the general Conv with dY as kernel */
  dw: "matmul" | "groupN" | "conv";
  /** the expected dX form: in-graph rotated-weight Conv, or ConvTranspose */
  dx: "rot" | "transpose";
  /** the dW Conv's output is longer than k and cropped */
  crop?: boolean;
}

const p = (v: number) => [v, v, v, v];
const cases: Case[] = [
  { name: "dense 3x3 s1 p1 with bias", cin: 3, cout: 4, g: 1, k: 3, s: 1, pads: p(1), h: 6, bias: true, dw: "conv", dx: "rot" },
  { name: "dense 3x3 s1 p1, non-square, no bias", cin: 2, cout: 3, g: 1, k: 3, s: 1, pads: p(1), h: 5, w: 7, dw: "conv", dx: "rot" },
  { name: "stem 3x3 s2 p1, C_in 1, static batch, odd input", n: 3, cin: 1, cout: 4, g: 1, k: 3, s: 2, pads: p(1), h: 7, bias: true, dynamic: false, dw: "groupN", dx: "transpose" },
  { name: "stem 3x3 s2 p1, C_in 1, static batch, even input", n: 3, cin: 1, cout: 4, g: 1, k: 3, s: 2, pads: p(1), h: 8, dynamic: false, dw: "groupN", dx: "transpose" },
  { name: "stem 3x3 s2 p1, C_in 1, dynamic batch", cin: 1, cout: 4, g: 1, k: 3, s: 2, pads: p(1), h: 8, bias: true, dw: "conv", dx: "transpose" },
  { name: "stem 3x3 s2 no pad, even input: trailing row dropped, dW cropped", cin: 1, cout: 3, g: 1, k: 3, s: 2, pads: p(0), h: 8, dw: "conv", dx: "transpose", crop: true },
  { name: "stem, static batch, trailing row dropped, dW cropped", n: 2, cin: 1, cout: 3, g: 1, k: 3, s: 2, pads: p(0), h: 8, dynamic: false, dw: "groupN", dx: "transpose", crop: true },
  { name: "1x1 pointwise with bias", cin: 5, cout: 3, g: 1, k: 1, s: 1, pads: p(0), h: 4, bias: true, dw: "matmul", dx: "rot" },
  { name: "1x1 pointwise, non-square", cin: 4, cout: 6, g: 1, k: 1, s: 1, pads: p(0), h: 3, w: 5, dw: "matmul", dx: "rot" },
  { name: "1x1 stride 2", cin: 3, cout: 2, g: 1, k: 1, s: 2, pads: p(0), h: 5, dw: "conv", dx: "transpose" },
  { name: "1x1 with pad 1 (pad beyond the kernel's span)", cin: 2, cout: 3, g: 1, k: 1, s: 1, pads: p(1), h: 4, dw: "conv", dx: "transpose" },
  { name: "grouped g=2 3x3 s1 p1 (2 in, 3 out per group)", cin: 4, cout: 6, g: 2, k: 3, s: 1, pads: p(1), h: 5, bias: true, dw: "conv", dx: "rot" },
  { name: "grouped g=2 3x3 s2 p1", cin: 4, cout: 4, g: 2, k: 3, s: 2, pads: p(1), h: 7, dw: "conv", dx: "transpose" },
  { name: "depthwise k3 s1 p1, odd input", cin: 4, cout: 4, g: 4, k: 3, s: 1, pads: p(1), h: 5, bias: true, dw: "conv", dx: "rot" },
  { name: "depthwise k3 s1 p1, even input", cin: 4, cout: 4, g: 4, k: 3, s: 1, pads: p(1), h: 6, dw: "conv", dx: "rot" },
  { name: "depthwise k5 s2 p2, odd input", cin: 3, cout: 3, g: 3, k: 5, s: 2, pads: p(2), h: 7, dw: "conv", dx: "transpose" },
  { name: "depthwise k5 s2 p2, even input", cin: 3, cout: 3, g: 3, k: 5, s: 2, pads: p(2), h: 8, bias: true, dw: "conv", dx: "transpose" },
  { name: "depthwise k7 s2 p3, odd input", cin: 3, cout: 3, g: 3, k: 7, s: 2, pads: p(3), h: 9, dw: "conv", dx: "transpose" },
  { name: "depthwise k7 s2 p3, even input", cin: 4, cout: 4, g: 4, k: 7, s: 2, pads: p(3), h: 8, dw: "conv", dx: "transpose" },
  { name: "depthwise k7 s1 p3", cin: 3, cout: 3, g: 3, k: 7, s: 1, pads: p(3), h: 7, dw: "conv", dx: "rot" },
  { name: "depthwise k3 s2 no pad, even input: dW cropped", cin: 3, cout: 3, g: 3, k: 3, s: 2, pads: p(0), h: 6, dw: "conv", dx: "transpose", crop: true },
  { name: "depthwise, channel multiplier 2, k3 s1 p1", cin: 3, cout: 6, g: 3, k: 3, s: 1, pads: p(1), h: 5, bias: true, dw: "conv", dx: "rot" },
  { name: "depthwise, channel multiplier 2, k5 s2 p2, even input", cin: 3, cout: 6, g: 3, k: 5, s: 2, pads: p(2), h: 8, dw: "conv", dx: "transpose" },
  { name: "dense 3x3 s2, asymmetric pads, dilation 2", cin: 2, cout: 3, g: 1, k: 3, s: 2, d: 2, pads: [2, 1, 1, 2], h: 9, bias: true, dw: "conv", dx: "transpose" },
  { name: "depthwise 3x3 s1, asymmetric pads, non-square", cin: 3, cout: 3, g: 3, k: 3, s: 1, pads: [0, 1, 2, 0], h: 6, w: 5, dw: "conv", dx: "rot" },
  { name: "grouped 3x3 s1, dilation 2, asymmetric pads", cin: 4, cout: 4, g: 2, k: 3, s: 1, d: 2, pads: [2, 1, 1, 2], h: 7, dw: "conv", dx: "rot" },
];

function outSize(c: Case): [number, number] {
  const d = c.d ?? 1, wd = c.w ?? c.h;
  return [Math.floor((c.h + c.pads[0]! + c.pads[2]! - d * (c.k - 1) - 1) / c.s) + 1, Math.floor((wd + c.pads[1]! + c.pads[3]! - d * (c.k - 1) - 1) / c.s) + 1];
}

function optionsFor(c: Case, r: () => number): FdOptions {
  const n = c.n ?? 2, wd = c.w ?? c.h;
  const inputs: FdOptions["inputs"] = {
    x: { dims: [n, c.cin, c.h, wd], data: randn(n * c.cin * c.h * wd, r), grad: true },
    w: { dims: [c.cout, c.cin / c.g, c.k, c.k], data: randn((c.cout * c.cin * c.k * c.k) / c.g, r, 0.3), grad: true, staticShape: true },
  };
  if (c.bias) inputs.bias = { dims: [c.cout], data: randn(c.cout, r), grad: true };
  return {
    dynamicBatch: c.dynamic ?? true,
    inputs,
    build: (b) => b.op("Conv", c.bias ? ["x", "w", "bias"] : ["x", "w"], {
      group: attr.int(c.g), kernel_shape: attr.ints([c.k, c.k]), pads: attr.ints(c.pads), strides: attr.ints([c.s, c.s]), dilations: attr.ints([c.d ?? 1, c.d ?? 1]),
    }),
  };
}

/** dW[m,q,a,b] = sum_n,i,j dY[n,m,i,j] X[n, G(m)*cg + q, s*i + d*a - top, s*j + d*b - left], straight from the definition (double). */
function directWeightGrad(c: Case, x: Float32Array, dy: Float32Array): Float64Array {
  const n = c.n ?? 2, wd = c.w ?? c.h, d = c.d ?? 1;
  const [ho, wo] = outSize(c);
  const cg = c.cin / c.g, mg = c.cout / c.g;
  const dw = new Float64Array(c.cout * cg * c.k * c.k);
  for (let m = 0; m < c.cout; m++)
    for (let q = 0; q < cg; q++) {
      const ci = Math.floor(m / mg) * cg + q;
      for (let a = 0; a < c.k; a++)
        for (let b = 0; b < c.k; b++) {
          let s = 0;
          for (let b0 = 0; b0 < n; b0++)
            for (let i = 0; i < ho; i++)
              for (let j = 0; j < wo; j++) {
                const y = c.s * i + d * a - c.pads[0]!, xx = c.s * j + d * b - c.pads[1]!;
                if (y < 0 || y >= c.h || xx < 0 || xx >= wd) continue;
                s += dy[((b0 * c.cout + m) * ho + i) * wo + j]! * x[((b0 * c.cin + ci) * c.h + y) * wd + xx]!;
              }
          dw[((m * cg + q) * c.k + a) * c.k + b] = s;
        }
    }
  return dw;
}

const r = rng(21);

describe("Conv gradients with a fed weight: dX, dW, db against finite differences", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const g = await checkGradients(optionsFor(c, r));
      expect(Object.keys(g).sort()).toEqual(c.bias ? ["bias", "w", "x"] : ["w", "x"]);
    });
  }
  it("1-D dense k3 s2 p1 (the forms are not 2-D specific)", async () => {
    await checkGradients({
      dynamicBatch: true,
      inputs: {
        x: { dims: [2, 3, 9], data: randn(54, r), grad: true },
        w: { dims: [4, 3, 3], data: randn(36, r, 0.3), grad: true, staticShape: true },
        bias: { dims: [4], data: randn(4, r), grad: true },
      },
      build: (b) => b.op("Conv", ["x", "w", "bias"], { kernel_shape: attr.ints([3]), pads: attr.ints([1, 0]), strides: attr.ints([2]) }),
    });
  });
  it("weight gradient only (frozen input, e.g. the stem): no dX nodes", async () => {
    const opts: FdOptions = {
      inputs: {
        x: { dims: [2, 1, 8, 8], data: randn(128, r) },
        w: { dims: [4, 1, 3, 3], data: randn(36, r, 0.3), grad: true },
      },
      build: (b) => b.op("Conv", ["x", "w"], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([2, 2]) }),
    };
    await checkGradients(opts);
    const ops = backwardModelFor(opts).graph!.node.map((nd) => nd.opType);
    expect(ops).not.toContain("ConvTranspose");
  });
});

describe("Conv weight gradient: element-wise against the definition, and the form each case gets", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const opts = optionsFor(c, r);
      const [ho, wo] = outSize(c);
      const n = c.n ?? 2;
      const dy = randn(n * c.cout * ho * wo, r);
      const got = (await gradientsFor(opts, dy)).w!;
      const want = directWeightGrad(c, opts.inputs.x!.data as Float32Array, dy);
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `dw[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThan(1e-4 * (1 + Math.abs(want[i]!)));

      const nodes = backwardModelFor(opts).graph!.node;
      const ops = nodes.map((nd) => nd.opType);
      expect(ops.includes("MatMul"), "batched MatMul dW").toBe(c.dw === "matmul");
      expect(ops.includes("ConvTranspose"), "ConvTranspose dX").toBe(c.dx === "transpose");
      const dwConv = nodes.find((nd) => nd.name.endsWith("/dw_conv"));
      expect(dwConv !== undefined, "a dW Conv").toBe(c.dw !== "matmul");
      if (dwConv) {
        const group = Number(getAttr(dwConv, "group")!.i);
        expect(group).toBe(c.dw === "groupN" ? n : c.g);
      }
      expect(nodes.some((nd) => nd.name.endsWith("/dw_crop")), "dW cropped").toBe(c.crop === true);
      // the fed weight is rotated in the graph: the Slice flip exists iff k > 1 and dX is the rotated Conv
      expect(nodes.some((nd) => nd.name.endsWith("/w_rot180T")), "in-graph rotated kernel").toBe(c.dx === "rot" && c.k > 1);
    });
  }
});

describe("Conv weight gradient against PyTorch (torch.nn.grad.conv2d_weight)", () => {
  const picks = ["stem 3x3 s2 p1, C_in 1, static batch, odd input", "stem 3x3 s2 no pad, even input: trailing row dropped, dW cropped", "grouped g=2 3x3 s2 p1", "depthwise k7 s2 p3, even input", "depthwise, channel multiplier 2, k5 s2 p2, even input", "1x1 pointwise with bias", "dense 3x3 s1 p1 with bias"];
  it(`equals PyTorch to 1e-4 relative: ${picks.join("; ")}`, async () => {
    const runs = await Promise.all(picks.map(async (name) => {
      const c = cases.find((x) => x.name === name)!;
      const opts = optionsFor(c, r);
      const [ho, wo] = outSize(c);
      const n = c.n ?? 2;
      const dy = randn(n * c.cout * ho * wo, r);
      const got = (await gradientsFor(opts, dy)).w!;
      const x = opts.inputs.x!;
      return { c, got, request: { x: Array.from(x.data as Float32Array), xdims: x.dims, dy: Array.from(dy), dydims: [n, c.cout, ho, wo], wdims: opts.inputs.w!.dims, stride: c.s, padding: c.pads[0], dilation: c.d ?? 1, groups: c.g } };
    }));
    const script = [
      "import json, sys, torch",
      "out = []",
      "for q in json.load(sys.stdin):",
      "    x = torch.tensor(q['x'], dtype=torch.float64).reshape(q['xdims'])",
      "    dy = torch.tensor(q['dy'], dtype=torch.float64).reshape(q['dydims'])",
      "    dw = torch.nn.grad.conv2d_weight(x, q['wdims'], dy, stride=q['stride'], padding=q['padding'], dilation=q['dilation'], groups=q['groups'])",
      "    out.append(dw.flatten().tolist())",
      "json.dump(out, sys.stdout)",
    ].join("\n");
    const res = spawnSync(PYTHON, ["-c", script], { input: JSON.stringify(runs.map((x) => x.request)), encoding: "utf8", maxBuffer: 64 << 20 });
    expect(res.status, `python3 with torch failed: ${res.stderr}`).toBe(0);
    const refs = JSON.parse(res.stdout) as number[][];
    runs.forEach(({ c, got }, k) => {
      const ref = refs[k]!;
      expect(got.length, c.name).toBe(ref.length);
      let maxDiff = 0, maxRef = 0;
      for (let i = 0; i < ref.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[i]! - ref[i]!));
        maxRef = Math.max(maxRef, Math.abs(ref[i]!));
      }
      expect(maxRef, c.name).toBeGreaterThan(0);
      expect(maxDiff / maxRef, `${c.name}: max |bnnas - torch| / max |torch|`).toBeLessThan(1e-4);
    });
  });
});
