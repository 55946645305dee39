/**
 * Conv: input gradient (and bias gradient). With frozen weights only dX is built:
 * - stride 1: Conv(dY, W') with W' the kernel rotated 180° and in/out channels swapped per group,
 *   precomputed once as an initializer (markedly faster on ORT than ConvTranspose, see
 *   shared/training-on-ort.md);
 * - strided, constant weights: dY with s-1 zeros inserted between its entries (zeroInsert), then
 *   the same stride-1 rotated-weight Conv;
 * - otherwise (fed weights, unequal strides): ConvTranspose(dY, W) with the same
 *   strides/pads/dilations/group and the output_padding that restores the input size.
 * A weight gradient is not implemented: bnnas never trains conv weights.
 */
import { attr } from "../../onnx/builder.js";
import { attrInt, attrInts, attrString } from "../../onnx/graph.js";
import type { GradContext, GradRule } from "../rule.js";

/** W [M, C/g, k...] -> W' [C, M/g, k...] with the kernel rotated 180° (per group). */
export function rotatedTransposedKernel(w: Float32Array, dims: readonly number[], group: number): { data: Float32Array; dims: number[] } {
  const [m, cg] = dims as [number, number];
  const ks = dims.slice(2);
  const kk = ks.reduce((a, b) => a * b, 1);
  const mg = m / group;
  const out = new Float32Array(w.length);
  for (let g = 0; g < group; g++)
    for (let o = 0; o < mg; o++)
      for (let c = 0; c < cg; c++) {
        const src = ((g * mg + o) * cg + c) * kk;
        const dst = ((g * cg + c) * mg + o) * kk;
        for (let k = 0; k < kk; k++) out[dst + k] = w[src + kk - 1 - k]!;
      }
  return { data: out, dims: [cg * group, mg, ...ks] };
}

/**
 * dY [N, M, ho, wo] -> [N, M, ho*s, wo*s] with dY at positions (s*i, s*j) and zeros elsewhere, as
 * one MaxUnpool scatter. Its indices are flat positions in the whole output, so they are built at
 * run time from the (dynamic) batch size: (n*M + m) * plane + s*i*(wo*s) + s*j. Measured about
 * twice as fast on onnxruntime's CPU provider as a channel Pad followed by DepthToSpace (whose
 * 6-D transpose has a unit inner stride).
 */
function zeroInsert(ctx: GradContext, dy: string, m: number, ho: number, wo: number, s: number): string {
  const base = ctx.node.name || ctx.node.output[0]!;
  const pattern: number[] = [];
  for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++) pattern.push(s * i * wo * s + s * j);
  const scalar = (name: string, v: number) => ctx.b.int64Init(`${base}::${name}`, [], [v]);
  const n = ctx.op("Gather", [ctx.op("Shape", [dy], {}, "dy_shape"), scalar("zero", 0)], { axis: attr.int(0) }, "batch");
  const planes = ctx.op("Range", [scalar("zero_start", 0), ctx.op("Mul", [n, scalar("out_channels", m)], {}, "planes_count"), scalar("one", 1)], {}, "planes");
  const offsets = ctx.op("Reshape", [ctx.op("Mul", [planes, scalar("plane_size", ho * s * wo * s)], {}, "plane_offsets"), ctx.ints([-1, m, 1, 1])], {}, "plane_offsets_4d");
  const indices = ctx.op("Add", [offsets, ctx.b.int64Init(`${base}::unpool_pattern`, [1, 1, ho, wo], pattern)], {}, "unpool_indices");
  return ctx.op("MaxUnpool", [dy, indices], { kernel_shape: attr.ints([s, s]), strides: attr.ints([s, s]) }, "dy_dilated");
}

function inputGrad(ctx: GradContext, dy: string): string {
  const { node } = ctx;
  const [x, w] = node.input as [string, string];
  const xs = ctx.shape(x), ws = ctx.shape(w), ys = ctx.shape(node.output[0]!);
  const nsp = xs.length - 2;
  if (attrString(node, "auto_pad", "NOTSET") !== "NOTSET") throw new Error(`autodiff: Conv '${node.name}' uses auto_pad; re-export with explicit pads`);
  const group = attrInt(node, "group", 1);
  const kernel = ws.slice(2) as number[];
  const strides = attrInts(node, "strides", Array(nsp).fill(1));
  const dil = attrInts(node, "dilations", Array(nsp).fill(1));
  const pads = attrInts(node, "pads", Array(2 * nsp).fill(0));
  const span = kernel.map((k, i) => dil[i]! * (k - 1));
  const rotPads = [...span, ...span].map((s, i) => s - pads[i]!);
  const wValue = ctx.constant(w);
  if (strides.every((s) => s === 1) && rotPads.every((p) => p >= 0) && wValue) {
    const rot = rotatedTransposedKernel(wValue.data as Float32Array, ws as number[], group);
    const wr = ctx.b.floatInit(`${w}::rot180T`, rot.dims, rot.data);
    return ctx.op("Conv", [dy, wr], { group: attr.int(group), dilations: attr.ints(dil), pads: attr.ints(rotPads), strides: attr.ints(strides), kernel_shape: attr.ints(kernel) }, "dx");
  }
  // Strided, constant weights: insert s-1 zeros between dY's entries (zeroInsert), then
  // the same stride-1 rotated-weight Conv. Measured faster than ORT's ConvTranspose, whose
  // grouped/depthwise path is a GEMM per group plus col2im.
  const endPads = kernel.map((_, i) => (xs[2 + i] as number) - (ys[2 + i] as number) * strides[i]! + pads[i]!);
  if (wValue && nsp === 2 && rotPads.slice(0, nsp).every((p) => p >= 0) && endPads.every((p) => p >= 0) && strides[0] === strides[1]) {
    const rot = rotatedTransposedKernel(wValue.data as Float32Array, ws as number[], group);
    const wr = ctx.b.floatInit(`${w}::rot180T`, rot.dims, rot.data);
    const dilated = zeroInsert(ctx, dy, ys[1] as number, ys[2] as number, ys[3] as number, strides[0]!);
    return ctx.op("Conv", [dilated, wr], { group: attr.int(group), dilations: attr.ints(dil), pads: attr.ints([rotPads[0]!, rotPads[1]!, endPads[0]!, endPads[1]!]), strides: attr.ints([1, 1]), kernel_shape: attr.ints(kernel) }, "dx");
  }
  const outputPadding = kernel.map((_, i) => {
    const h = xs[2 + i] as number, hOut = ys[2 + i] as number;
    return h - ((hOut - 1) * strides[i]! - pads[i]! - pads[i + nsp]! + span[i]! + 1);
  });
  return ctx.op("ConvTranspose", [dy, w], {
    group: attr.int(group), dilations: attr.ints(dil), pads: attr.ints(pads), strides: attr.ints(strides), kernel_shape: attr.ints(kernel), output_padding: attr.ints(outputPadding),
  }, "dx");
}

export const convGrad: GradRule = {
  opTypes: ["Conv"],
  inputsToSave: [1],
  outputsToSave: [],
  gradFunc(ctx, [dy]) {
    const axes = [0, ...ctx.shape(ctx.node.input[0]!).slice(2).map((_, i) => i + 2)];
    return {
      0: () => inputGrad(ctx, dy!),
      1: () => {
        throw new Error(`autodiff: Conv '${ctx.node.name}': weight gradients are not supported (bnnas keeps conv weights frozen)`);
      },
      2: () => ctx.op("ReduceSum", [dy!, ctx.ints(axes)], { keepdims: attr.int(0) }, "dbias"),
    };
  },
};
