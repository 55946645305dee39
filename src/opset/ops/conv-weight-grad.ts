/**
 * Conv gradients that read a FED weight (full-weight training feeds conv weights as graph inputs,
 * so they are not constants the rule could precompute from): the weight gradient dW and the
 * stride-1 input gradient with the kernel rotated inside the graph.
 *
 * Why these forms: with weights fed each step, onnxruntime's CPU Conv loses its constant-weight
 * fast paths (NCHWc reorder, prepacked GEMM, the NCHWc depthwise kernel) and runs im2col + one
 * MLAS GEMM per group. Each form below was measured against its alternatives on ORT 1.30, 2
 * threads, batch 128 (medians; the `[min]` of a loaded run in brackets where it matters):
 *
 * dW, 1x1 stride 1 no pad group 1: one batched MatMul dY[N,M,HW] x X^T[N,HW,C], then ReduceSum over
 *   N. Fastest in 4 of 5 fmnist/mbv2 shapes, tied in the fifth (0.45-1.25 ms); Gemm after
 *   transposes 1.1-2x, Einsum 1.1-4x, the Conv-with-transposes form 3-26x slower.
 * dW, general (dense, grouped, depthwise): a Conv of the input with dY as the kernel, the batch
 *   axis playing the role of the summed channel axis (derivation at weightGradConv). For depthwise
 *   it is the measured winner or tied (10 of 15 shapes; clearly ahead at k5 C192 7x7, 37 vs 55 ms):
 *   folding the batch into the groups (group = N*C) is within noise, the im2col-by-one-hot-Conv
 *   form wins k3 by <=10% but loses 2x at k5/k7, per-tap and Einsum forms are slower.
 * dW, C_in = 1 (the stem) with a static batch: group = N Conv with no transposes at all, 0.40 ms
 *   vs 0.58 ms for the general form on 1->16 3x3 s2 @28x28. With a symbolic batch the group count
 *   is unknown when the graph is built, so the general form (then only one Transpose, of dY) runs.
 * dX, fed W, stride 1: Conv(dY, W') with W' = W rotated 180 deg, in/out channels swapped per group,
 *   built in the graph (a tiny tensor): faster than ConvTranspose in 5 of 6 depthwise shapes and
 *   all 5 pointwise ones (1x1: ConvTranspose 1.3-2.4x slower). Strided fed-weight dX stays
 *   ConvTranspose (conv.ts): 1.5-2.7x faster than the polyphase form, whose sub-kernel Convs only
 *   pay off when ORT can prepack constant sub-kernels.
 */
import { attr } from "../../onnx/builder.js";
import { attrInt, attrInts, attrString } from "../../onnx/graph.js";
import type { GradContext, Shape } from "../types.js";

/** The attributes and static shapes a Conv gradient needs. */
export interface ConvGeometry {
  xs: Shape;
  ws: number[];
  ys: Shape;
  nsp: number;
  group: number;
  kernel: number[];
  strides: number[];
  dil: number[];
  /** [begin..., end...] as ONNX writes them. */
  pads: number[];
}

export function convGeometry(ctx: GradContext): ConvGeometry {
  const { node } = ctx;
  const [x, w] = node.input as [string, string];
  const xs = ctx.shape(x), ws = ctx.shape(w), ys = ctx.shape(node.output[0]!);
  const nsp = xs.length - 2;
  if (attrString(node, "auto_pad", "NOTSET") !== "NOTSET") throw new Error(`autodiff: Conv '${node.name}' uses auto_pad; re-export with explicit pads`);
  if (!ws.every((d) => typeof d === "number")) throw new Error(`autodiff: Conv '${node.name}': the weight's shape [${ws}] is not static`);
  return {
    xs, ws: ws as number[], ys, nsp,
    group: attrInt(node, "group", 1),
    kernel: (ws as number[]).slice(2),
    strides: attrInts(node, "strides", Array(nsp).fill(1)),
    dil: attrInts(node, "dilations", Array(nsp).fill(1)),
    pads: attrInts(node, "pads", Array(2 * nsp).fill(0)),
  };
}

const spatialAxes = (nsp: number) => Array.from({ length: nsp }, (_, i) => i + 2);
/** [1, 0, 2, 3, ...]: swaps the batch and channel axes. */
const swap01 = (nsp: number) => attr.ints([1, 0, ...spatialAxes(nsp)]);
/** Slice's "to the beginning" end for a negative step (the ONNX spec's INT_MIN). */
const INT64_MIN = -(2 ** 63);

/**
 * W [M, C/g, k...] -> W' [C, M/g, k...]: in/out channels swapped within each group, the kernel
 * rotated 180 deg; the graph-side twin of conv.ts's rotatedTransposedKernel for a fed W.
 */
export function rotatedKernelInGraph(ctx: GradContext, geo: ConvGeometry): string {
  const w = ctx.node.input[1]!;
  const { ws, group: g, kernel, nsp } = geo;
  const [m, cg] = ws as [number, number];
  const mg = m / g;
  let t: string;
  if (g === 1) t = ctx.op("Transpose", [w], { perm: swap01(nsp) }, "w_t");
  // one of the swapped axes has size 1 (depthwise: C/g = 1): the swap moves no data
  else if (cg === 1 || mg === 1) t = ctx.op("Reshape", [w, ctx.ints([cg * g, mg, ...kernel])], {}, "w_t");
  else {
    const w5 = ctx.op("Reshape", [w, ctx.ints([g, mg, cg, ...kernel])], {}, "w_groups");
    const t5 = ctx.op("Transpose", [w5], { perm: attr.ints([0, 2, 1, ...spatialAxes(nsp).map((a) => a + 1)]) }, "w_groups_t");
    t = ctx.op("Reshape", [t5, ctx.ints([cg * g, mg, ...kernel])], {}, "w_t");
  }
  const flip = spatialAxes(nsp).filter((a) => kernel[a - 2]! > 1);
  if (flip.length === 0) return t;
  return ctx.op("Slice", [t, ctx.ints(flip.map(() => -1)), ctx.ints(flip.map(() => INT64_MIN)), ctx.ints(flip), ctx.ints(flip.map(() => -1))], {}, "w_rot180T");
}

/** dX for a fed weight at stride 1: Conv(dY, W') with pads d(k-1) - p, or undefined where a pad would be negative. */
export function fedStride1InputGrad(ctx: GradContext, dy: string, geo: ConvGeometry): string | undefined {
  const { strides, kernel, dil, pads, nsp, group } = geo;
  if (!strides.every((s) => s === 1)) return undefined;
  const span = kernel.map((k, i) => dil[i]! * (k - 1));
  const rotPads = [...span, ...span].map((s, i) => s - pads[i]!);
  if (!rotPads.every((p) => p >= 0)) return undefined;
  const wr = rotatedKernelInGraph(ctx, geo);
  return ctx.op("Conv", [dy, wr], { group: attr.int(group), dilations: attr.ints(dil), pads: attr.ints(rotPads), strides: attr.ints(Array(nsp).fill(1)), kernel_shape: attr.ints(kernel) }, "dx");
}

/** Static spatial sizes, or a clear error (the dW forms need pads computed from them). */
function staticSpatial(ctx: GradContext, shape: Shape, what: string): number[] {
  const sp = shape.slice(2);
  if (!sp.every((d) => typeof d === "number")) throw new Error(`autodiff: Conv '${ctx.node.name}': the weight gradient needs static spatial dims, but the ${what} is [${shape}]`);
  return sp as number[];
}

/**
 * dW[m, q, a...] = sum_n sum_i dY[n, m, i...] X[n, G(m)*C/g + q, s*i + d*a - p...]  (G(m) = m's group)
 *
 * Read with n as the summed "channel" axis and i as the kernel tap, this is a Conv:
 *   input  X^T  [C/g, g*N, H...]    (batch q; channel G*N + n holds X[n, G*C/g + q])
 *   kernel dY^T [M, N, Ho...]        (output channel m reads its group's N channels)
 *   group g, strides = the forward dilation d, dilations = the forward stride s,
 *   begin pads p, so out[q, m, a] = sum_{n,i} X^T[q, G*N+n, d*a + s*i - p] dY^T[m, n, i] = dW[m, q, a];
 *   the output is [C/g, M, k...], transposed to [M, C/g, k...] (a Reshape when C/g = 1).
 * The end pad is chosen so that exactly k outputs come out: the last tap reads row
 * d(k-1) + s(Ho-1) - p, so pe = d(k-1) + s(Ho-1) - p - (H-1) (= p - ((H+2p-k) mod s) for
 * symmetric pads and d = 1). It is negative when the forward Conv dropped trailing rows; pads
 * cannot be, so then pe = 0 and the (too long) output is cropped to k with a Slice.
 */
function weightGradConv(ctx: GradContext, geo: ConvGeometry, xIn: string, dyT: string, group: number): string {
  const { xs, ys, kernel, strides, dil, pads, nsp } = geo;
  const sp = staticSpatial(ctx, xs, "input"), osp = staticSpatial(ctx, ys, "output");
  const endPads = kernel.map((k, i) => dil[i]! * (k - 1) + strides[i]! * (osp[i]! - 1) - pads[i]! - (sp[i]! - 1));
  let out = ctx.op("Conv", [xIn, dyT], {
    group: attr.int(group), strides: attr.ints(dil), dilations: attr.ints(strides),
    pads: attr.ints([...pads.slice(0, nsp), ...endPads.map((p) => Math.max(0, p))]), kernel_shape: attr.ints(osp),
  }, "dw_conv");
  if (endPads.some((p) => p < 0)) {
    const axes = spatialAxes(nsp);
    out = ctx.op("Slice", [out, ctx.ints(axes.map(() => 0)), ctx.ints(kernel), ctx.ints(axes)], {}, "dw_crop");
  }
  return out;
}

export function weightGrad(ctx: GradContext, dy: string, geo: ConvGeometry): string {
  const x = ctx.node.input[0]!;
  const { xs, ws, group: g, kernel, strides, pads, nsp } = geo;
  const [m, cg] = ws as [number, number];
  const c = xs[1] as number;
  const n = xs[0]!;
  const sp = xs.slice(2) as number[];

  // 1x1, stride 1, no pad, one group: dW[m, c] = sum_n dY[n] X[n]^T, a batched MatMul
  if (g === 1 && kernel.every((k) => k === 1) && strides.every((s) => s === 1) && pads.every((p) => p === 0)) {
    const x3 = ctx.op("Reshape", [x, ctx.ints([0, c, -1])], {}, "x_flat");
    const dy3 = ctx.op("Reshape", [dy, ctx.ints([0, m, -1])], {}, "dy_flat");
    const prod = ctx.op("MatMul", [dy3, ctx.op("Transpose", [x3], { perm: attr.ints([0, 2, 1]) }, "x_flat_t")], {}, "dw_per_sample");
    const sum = ctx.op("ReduceSum", [prod, ctx.ints([0])], { keepdims: attr.int(0) }, "dw_sum");
    return ctx.op("Reshape", [sum, ctx.ints(ws)], {}, "dw");
  }

  // C_in = 1 with a static batch: each sample is its own group, out [1, N*M, k...] summed over N
  if (c === 1 && g === 1 && typeof n === "number") {
    const xg = ctx.op("Reshape", [x, ctx.ints([1, n, ...sp])], {}, "x_groups");
    const dyg = ctx.op("Reshape", [dy, ctx.ints([n * m, 1, ...staticSpatial(ctx, geo.ys, "output")])], {}, "dy_kernels");
    const out = weightGradConv(ctx, geo, xg, dyg, n);
    const per = ctx.op("Reshape", [out, ctx.ints([n, m, 1, ...kernel])], {}, "dw_per_sample");
    return ctx.op("ReduceSum", [per, ctx.ints([0])], { keepdims: attr.int(0) }, "dw");
  }

  // general: X^T [C/g, g*N, H...] as input, dY^T [M, N, Ho...] as kernel (weightGradConv)
  const dyT = ctx.op("Transpose", [dy], { perm: swap01(nsp) }, "dy_t");
  let xIn: string;
  if (c === 1) xIn = ctx.op("Reshape", [x, ctx.ints([1, -1, ...sp])], {}, "x_t"); // [N,1,H,W] -> [1,N,H,W] moves no data
  else if (g === 1) xIn = ctx.op("Transpose", [x], { perm: swap01(nsp) }, "x_t");
  else if (cg === 1) xIn = ctx.op("Reshape", [ctx.op("Transpose", [x], { perm: swap01(nsp) }, "x_t"), ctx.ints([1, -1, ...sp])], {}, "x_t_groups");
  else {
    const x5 = ctx.op("Reshape", [x, ctx.ints([-1, g, cg, ...sp])], {}, "x_groups");
    const t5 = ctx.op("Transpose", [x5], { perm: attr.ints([2, 1, 0, ...spatialAxes(nsp).map((a) => a + 1)]) }, "x_groups_t");
    xIn = ctx.op("Reshape", [t5, ctx.ints([cg, -1, ...sp])], {}, "x_t_groups");
  }
  const out = weightGradConv(ctx, geo, xIn, dyT, g);
  if (cg === 1) return ctx.op("Reshape", [out, ctx.ints(ws)], {}, "dw");
  return ctx.op("Transpose", [out], { perm: swap01(nsp) }, "dw");
}
