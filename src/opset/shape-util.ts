/** Shape arithmetic several op modules share: broadcasting, sliding windows, reductions, axes. */
import { attrInt, attrInts, attrString } from "../onnx/graph.js";
import { elementCount, type Tensor } from "../onnx/tensor.js";
import type { Dim, InferContext, Shape, TensorInfo } from "./types.js";

/** numpy-style broadcast of two shapes; `fail` reports shapes that do not broadcast. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[], fail: (detail: string) => never): Shape {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === 1) out.push(y);
    else if (y === 1 || x === y) out.push(x);
    else fail(`cannot broadcast [${a}] with [${b}]`);
  }
  return out;
}

/** Negative axes counted from the end. */
export function normalizeAxes(axes: readonly number[], rank: number): number[] {
  return axes.map((a) => (a < 0 ? a + rank : a));
}

export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** The product of dims: a number when all are static, else a symbolic `a*b` (one symbolic dim: itself). */
export function dimProduct(ds: readonly Dim[]): Dim {
  if (ds.every((d): d is number => typeof d === "number")) return elementCount(ds);
  return ds.length === 1 ? ds[0]! : ds.join("*");
}

/** The shape of a reduction over `axes` (all axes when undefined or empty). */
export function reducedShape(x: Shape, axes: readonly number[] | undefined, keepdims: boolean): Shape {
  const ax = axes === undefined || axes.length === 0 ? x.map((_, i) => i) : normalizeAxes(axes, x.length);
  const out: Shape = [];
  x.forEach((d, i) => {
    if (!ax.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/**
 * Output spatial size of a sliding window (Conv, pooling) over x's spatial dims, which must be
 * static. With ceil_mode the last window must start inside the input or its left pad.
 */
export function windowOutput(ctx: InferContext, x: Shape, kernel: readonly number[], ceil: boolean): number[] {
  const { node } = ctx;
  const k = kernel.length;
  const strides = attrInts(node, "strides", Array(k).fill(1));
  const dil = attrInts(node, "dilations", Array(k).fill(1));
  const autoPad = attrString(node, "auto_pad", "NOTSET");
  const pads = autoPad === "VALID" ? Array(2 * k).fill(0) : attrInts(node, "pads", Array(2 * k).fill(0));
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const h = x[2 + i];
    if (typeof h !== "number") return ctx.fail(`spatial dim ${i} of its input is symbolic ('${h}')`);
    const s = strides[i]!;
    if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
      out.push(Math.ceil(h / s));
      continue;
    }
    const span = h + pads[i]! + pads[i + k]! - (dil[i]! * (kernel[i]! - 1) + 1);
    let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (ceil && (o - 1) * s >= h + pads[i]!) o--;
    out.push(o);
  }
  return out;
}

/** Shape of a pooling output [N, C, spatial...] from the kernel_shape attribute. */
export function poolShape(ctx: InferContext): Shape {
  const x = ctx.shape(0);
  return [x[0]!, x[1]!, ...windowOutput(ctx, x, attrInts(ctx.node, "kernel_shape", []), attrInt(ctx.node, "ceil_mode", 0) === 1)];
}

/**
 * The axes of a reduction or of Squeeze/Unsqueeze: from input 1 where the op takes them as an
 * input (ReduceSum from opset 13, the other reductions from 18, Squeeze/Unsqueeze from 13), else
 * the `axes` attribute (earlier opsets); undefined when neither is given.
 */
export function axesOf(ctx: InferContext): number[] | undefined {
  if (ctx.node.input[1]) return ctx.ints(1) ?? ctx.fail("its axes are not constant");
  return ctx.node.attribute.some((a) => a.name === "axes") ? attrInts(ctx.node, "axes", []) : undefined;
}

/** The same shape as input 0 (and its values when `keepValue`). */
export function sameAsInput(ctx: InferContext, keepValue = false) {
  const x = ctx.input(0);
  return keepValue ? { shape: x.shape, value: x.value } : { shape: x.shape };
}

/**
 * The numpy broadcast of every input's shape; with `values`, a two-input op on known small
 * integer values computes them too (shape arithmetic in PyTorch exports).
 */
export function broadcastOutput(ctx: InferContext, values?: (a: number, b: number) => number): TensorInfo {
  let shape = ctx.shape(0);
  for (let k = 1; k < ctx.node.input.length; k++) shape = broadcastShapes(shape, ctx.shape(k), ctx.fail);
  if (!values || ctx.node.input.length !== 2) return { shape };
  const a = ctx.input(0).value, b = ctx.input(1).value;
  if (!a || !b) return { shape };
  const n = Math.max(a.length, b.length);
  if ((a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return { shape };
  return { shape, value: Array.from({ length: n }, (_, i) => values(a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!)) };
}

/** [N, C, 1, ...]: a global pool's output. */
export function globalPoolShape(ctx: InferContext): Shape {
  const x = ctx.shape(0);
  return [x[0]!, x[1]!, ...x.slice(2).map(() => 1)];
}

/** The sum of dims: a number when all are static, else a symbolic `a+b`. */
export function dimSum(ds: readonly Dim[]): Dim {
  if (ds.every((d): d is number => typeof d === "number")) return ds.reduce((a, b) => a + b, 0);
  return ds.join("+");
}

/** Dim `axis` of `x`, which the op needs static. */
export function staticDim(ctx: InferContext, x: Shape, axis: number): number {
  const d = x[axis];
  if (typeof d !== "number") return ctx.fail(`dim ${axis} of its input is symbolic ('${d}')`);
  return d;
}

/** Values tracked per tensor: integer tensors of at most this many elements. */
export const MAX_TRACKED_VALUES = 64;

/** The values of a small integer tensor, else undefined. */
export function knownInts(t: Tensor): number[] | undefined {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array || t.data.length > MAX_TRACKED_VALUES) return undefined;
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}
