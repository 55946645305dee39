/**
 * Conv: input, weight and bias gradients.
 *
 * dX with constant (frozen) weights, precomputed from the weight's value:
 * - stride 1: Conv(dY, W') with W' the kernel rotated 180° and in/out channels swapped per group,
 *   precomputed once as an initializer (markedly faster on ORT than ConvTranspose: a 6-layer
 *   32-channel 3x3 net at 32x32, batch 64, 2 threads, took 106 vs 163 ms per BN-only step);
 * - strided, constant weights, 2-D: the polyphase form (polyphaseInputGrad): s*s stride-1 Convs of dY
 *   with the rotated kernel's phase sub-kernels, interleaved; where a phase would be empty or
 *   need a negative pad (kernel smaller than the stride, large pads), dY with s-1 zeros inserted
 *   between its entries (zeroInsert), then the same stride-1 rotated-weight Conv.
 * dX with fed (trained) weights: at stride 1 the same rotated-weight Conv with W' built in the
 * graph (conv-weight-grad.ts); otherwise (strided, or a pad larger than the kernel's span)
 * ConvTranspose(dY, W) with the same strides/pads/dilations/group and the output_padding that
 * restores the input size.
 * dW: conv-weight-grad.ts (a batched MatMul for 1x1, else a Conv of X with dY as the kernel).
 * db: ReduceSum of dY over the batch and spatial axes.
 */
import { attr } from "../../onnx/builder.js";
import { attrInt, attrInts } from "../../onnx/graph.js";
import type { GradContext, GradRule, OpDef } from "../types.js";
import { CONV_ATTRIBUTES, keepsType, windowAttributeProblem } from "../check-util.js";
import { windowOutput } from "../shape-util.js";
import { elementCount } from "../../onnx/tensor.js";
import { convGeometry, fedStride1InputGrad, weightGrad, type ConvGeometry } from "./conv-weight-grad.js";

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

/** One axis of the polyphase split: for output phase `ph`, the sub-kernel taps t0, t0+s, ... and the Conv pads. */
interface PhaseAxis {
  t0: number;
  taps: number;
  padBegin: number;
  padEnd: number;
}

/**
 * The phases of one spatial axis, or undefined when the split does not apply. With Z = dY with
 * s-1 zeros between entries, dX[m] = sum_t W'[t] Z[m + t - pb] (W' rotated, pb = k-1-pad) only
 * takes taps t with m + t - pb = 0 mod s. For m = s*u + ph those are t = t0 + s*j with
 * t0 = (pb - ph) mod s, and dX[s*u + ph] = sum_j W'[t0 + s*j] dY[u + j + c], c = (ph + t0 - pb)/s:
 * a stride-1 correlation of dY with the sub-kernel, begin pad -c, end pad such that every phase
 * has `len` = ceil(size / s) outputs (the interleaved result is cropped to `size`).
 */
function phaseAxis(k: number, s: number, pb: number, outLen: number, size: number): PhaseAxis[] | undefined {
  const len = Math.ceil(size / s);
  const phases: PhaseAxis[] = [];
  for (let ph = 0; ph < s; ph++) {
    const t0 = (((pb - ph) % s) + s) % s;
    const taps = Math.ceil((k - t0) / s);
    const padBegin = (pb - ph - t0) / s;
    const padEnd = len - outLen + taps - 1 - padBegin;
    if (taps <= 0 || padBegin < 0 || padEnd < 0) return undefined;
    phases.push({ t0, taps, padBegin, padEnd });
  }
  return phases;
}

/** Taps (t0h + s*i, t0w + s*j) of a [O, I, kh, kw] kernel. */
function subKernel(w: Float32Array, dims: readonly number[], s: number, ph: PhaseAxis, pw: PhaseAxis): Float32Array {
  const [o, i, kh, kw] = dims as [number, number, number, number];
  const out = new Float32Array(o * i * ph.taps * pw.taps);
  let q = 0;
  for (let c = 0; c < o * i; c++)
    for (let y = 0; y < ph.taps; y++) for (let x = 0; x < pw.taps; x++) out[q++] = w[(c * kh + ph.t0 + s * y) * kw + pw.t0 + s * x]!;
  return out;
}

/**
 * Strided 2-D Conv input gradient without zero insertion: per output phase (a, b) a stride-1
 * Conv of dY with the sub-kernel of W' (see phaseAxis), then the phases interleaved as
 * [N,C,L,L] x s*s -> [N,C,L,s,L,s] (two Concats over unit axes) -> [N,C,L*s,L*s], cropped to the
 * input size. The zero-inserted form's Conv multiplies s*s times as many zeros and its
 * MaxUnpool writes the s*s times larger tensor. Measured on the fused fmnist-small training step
 * (batch 128, 2 threads, same paths, paired): 4-6% faster per step than zero insertion, though
 * onnxruntime's Concat copies only ~4 GB/s (7 ms to interleave a [128,144,14,14] gradient).
 * DepthToSpace would interleave in one node, but its 6-D transpose took 15.8 ms for that alone.
 */
function polyphaseInputGrad(ctx: GradContext, dy: string, rot: { data: Float32Array; dims: number[] }, group: number, hw: [number, number], outHw: [number, number], pb: [number, number], s: number): string | undefined {
  const [kh, kw] = rot.dims.slice(2) as [number, number];
  const rows = phaseAxis(kh, s, pb[0], outHw[0], hw[0]);
  const cols = phaseAxis(kw, s, pb[1], outHw[1], hw[1]);
  if (!rows || !cols) return undefined;
  const w = ctx.node.input[1]!;
  const rowsOut = rows.map((ph, a) => {
    const phases = cols.map((pw, b) => {
      const sub = ctx.b.floatInit(`${w}::rot180T_phase${a}${b}`, [rot.dims[0]!, rot.dims[1]!, ph.taps, pw.taps], subKernel(rot.data, rot.dims, s, ph, pw));
      const p = ctx.op("Conv", [dy, sub], { group: attr.int(group), pads: attr.ints([ph.padBegin, pw.padBegin, ph.padEnd, pw.padEnd]), kernel_shape: attr.ints([ph.taps, pw.taps]) }, `dx_phase${a}${b}`);
      return ctx.op("Unsqueeze", [p, ctx.ints([4])], {}, `dx_phase${a}${b}_5d`);
    });
    return ctx.op("Unsqueeze", [ctx.op("Concat", phases, { axis: attr.int(4) }, `dx_row${a}`), ctx.ints([3])], {}, `dx_row${a}_6d`);
  });
  const len = [Math.ceil(hw[0] / s), Math.ceil(hw[1] / s)];
  const woven = ctx.op("Reshape", [ctx.op("Concat", rowsOut, { axis: attr.int(3) }, "dx_phases"), ctx.ints([0, 0, len[0]! * s, len[1]! * s])], {}, "dx_interleaved");
  if (len[0]! * s === hw[0] && len[1]! * s === hw[1]) return woven;
  return ctx.op("Slice", [woven, ctx.ints([0, 0]), ctx.ints(hw), ctx.ints([2, 3])], {}, "dx");
}

function inputGrad(ctx: GradContext, dy: string, geo: ConvGeometry): string {
  const w = ctx.node.input[1]!;
  const { xs, ws, ys, nsp, group, kernel, strides, dil, pads } = geo;
  const span = kernel.map((k, i) => dil[i]! * (k - 1));
  const rotPads = [...span, ...span].map((s, i) => s - pads[i]!);
  const wValue = ctx.constant(w);
  if (!wValue) {
    const dx = fedStride1InputGrad(ctx, dy, geo);
    if (dx) return dx;
  }
  if (strides.every((s) => s === 1) && rotPads.every((p) => p >= 0) && wValue) {
    const rot = rotatedTransposedKernel(wValue.data as Float32Array, ws as number[], group);
    const wr = ctx.b.floatInit(`${w}::rot180T`, rot.dims, rot.data);
    return ctx.op("Conv", [dy, wr], { group: attr.int(group), dilations: attr.ints(dil), pads: attr.ints(rotPads), strides: attr.ints(strides), kernel_shape: attr.ints(kernel) }, "dx");
  }
  // Strided, constant weights: the polyphase form, else insert s-1 zeros between dY's entries
  // (zeroInsert) and run the same stride-1 rotated-weight Conv. Both measured faster than ORT's
  // ConvTranspose, whose grouped/depthwise path is a GEMM per group plus col2im.
  const endPads = kernel.map((_, i) => (xs[2 + i] as number) - (ys[2 + i] as number) * strides[i]! + pads[i]!);
  if (wValue && nsp === 2 && rotPads.slice(0, nsp).every((p) => p >= 0) && endPads.every((p) => p >= 0) && strides[0] === strides[1]) {
    const rot = rotatedTransposedKernel(wValue.data as Float32Array, ws as number[], group);
    if (dil.every((d) => d === 1)) {
      const dx = polyphaseInputGrad(ctx, dy, rot, group, [xs[2] as number, xs[3] as number], [ys[2] as number, ys[3] as number], [rotPads[0]!, rotPads[1]!], strides[0]!);
      if (dx) return dx;
    }
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
  inputsToSave: [0, 1],
  outputsToSave: [],
  gradFunc(ctx, [dy]) {
    const axes = [0, ...ctx.shape(ctx.node.input[0]!).slice(2).map((_, i) => i + 2)];
    return {
      0: () => inputGrad(ctx, dy!, convGeometry(ctx)),
      1: () => weightGrad(ctx, dy!, convGeometry(ctx)),
      2: () => ctx.op("ReduceSum", [dy!, ctx.ints(axes)], { keepdims: attr.int(0) }, "dbias"),
    };
  },
};

export const conv: OpDef = {
  opTypes: ["Conv"],
  infer(ctx) {
    const x = ctx.shape(0), w = ctx.shape(1);
    const kernel = attrInts(ctx.node, "kernel_shape", w.slice(2).map(Number));
    return [{ shape: [x[0]!, w[0]!, ...windowOutput(ctx, x, kernel, false)] }];
  },
  cost(ctx) {
    const { node } = ctx;
    const xs = ctx.shape(node.input[0]!), w = ctx.shape(node.input[1]!), ys = ctx.shape(node.output[0]!);
    const group = attrInt(node, "group", 1);
    return { macs: xs[0]! * w[0]! * elementCount(ys.slice(2)) * (xs[1]! / group) * elementCount(w.slice(2)), params: node.input.slice(1).filter((n) => ctx.isInitializer(n)) };
  },
  grad: convGrad,
  checks: { attributes: CONV_ATTRIBUTES, closedAttributes: true, attributeProblem: windowAttributeProblem, floatInputs: [0, 1, 2], outputType: keepsType },
};
