/**
 * Static shape inference for the op types the autodiff covers. Dims are numbers, or strings for
 * symbolic dims (the dynamic batch). Gradient rules need shapes to undo broadcasting, to size
 * ConvTranspose's output_padding and to count reduced elements; computing them here, once per
 * model, keeps every rule free of runtime Shape arithmetic where a static answer exists.
 */
import type { GraphProto, NodeProto } from "../onnx/proto.js";
import { GraphIndex, attrInt, attrInts, attrString } from "../onnx/graph.js";
import { elementCount } from "../onnx/tensor.js";

export type Dim = number | string;
export type Shape = Dim[];

export class ShapeError extends Error {}

/** numpy-style broadcast of two shapes. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[], where: string): Shape {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === 1) out.push(y);
    else if (y === 1 || x === y) out.push(x);
    else throw new ShapeError(`${where}: cannot broadcast [${a}] with [${b}]`);
  }
  return out;
}

function normAxes(axes: readonly number[], rank: number): number[] {
  return axes.map((a) => (a < 0 ? a + rank : a));
}

function reduced(x: Shape, axes: number[] | undefined, keepdims: boolean): Shape {
  const ax = axes === undefined || axes.length === 0 ? x.map((_, i) => i) : normAxes(axes, x.length);
  const out: Shape = [];
  x.forEach((d, i) => {
    if (!ax.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

function spatialOut(node: NodeProto, x: Shape, kernel: number[], ceil: boolean): Dim[] {
  const nsp = kernel.length;
  const strides = attrInts(node, "strides", Array(nsp).fill(1));
  const dil = attrInts(node, "dilations", Array(nsp).fill(1));
  const pads = attrInts(node, "pads", Array(2 * nsp).fill(0));
  const autoPad = attrString(node, "auto_pad", "NOTSET");
  const out: Dim[] = [];
  for (let i = 0; i < nsp; i++) {
    const h = x[2 + i]!;
    if (typeof h !== "number") throw new ShapeError(`node '${node.name}': spatial dim ${i} is symbolic`);
    const s = strides[i]!;
    if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") out.push(Math.ceil(h / s));
    else {
      const span = dil[i]! * (kernel[i]! - 1) + 1;
      const num = h + (autoPad === "VALID" ? 0 : pads[i]! + pads[i + nsp]!) - span;
      out.push((ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1);
    }
  }
  return out;
}

/** Infers the shape of every tensor in `graph` from the graph inputs' declared shapes. */
export function inferShapes(graph: GraphProto, known: ReadonlyMap<string, Shape> = new Map()): Map<string, Shape> {
  const index = new GraphIndex(graph);
  const shapes = new Map<string, Shape>(known);
  for (const t of graph.initializer) shapes.set(t.name, t.dims.map(Number));
  for (const i of graph.input) {
    if (shapes.has(i.name)) continue;
    const dims = i.type?.tensorType?.shape?.dim;
    if (dims) shapes.set(i.name, dims.map((d, k) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.dimParam || `${i.name}_d${k}`)));
  }
  for (const node of index.topoOrder()) {
    const get = (k: number): Shape => {
      const name = node.input[k];
      const s = name ? shapes.get(name) : undefined;
      if (!s) throw new ShapeError(`node '${node.name || node.opType}': shape of input ${k} ('${name}') is unknown`);
      return s;
    };
    const outs = inferNode(node, get, index);
    outs.forEach((s, k) => {
      const o = node.output[k];
      if (o && s) shapes.set(o, s);
    });
  }
  return shapes;
}

function inferNode(node: NodeProto, get: (k: number) => Shape, index: GraphIndex): (Shape | undefined)[] {
  const where = `node '${node.name || node.opType}' (${node.opType})`;
  switch (node.opType) {
    case "Relu": case "Clip": case "Identity": case "Sigmoid": case "Sqrt": case "Reciprocal": case "Exp": case "Log": case "Neg": case "Abs": case "Softmax": case "LogSoftmax":
      return [get(0)];
    case "BatchNormalization":
      return [get(0), get(3), get(4)];
    case "Add": case "Sub": case "Mul": case "Div": case "Pow": case "Where": case "Sum": case "Max": case "Min": case "Greater": case "Less": case "Equal": {
      let s = get(0);
      for (let k = 1; k < node.input.length; k++) s = broadcastShapes(s, get(k), where);
      return [s];
    }
    case "Constant": {
      const t = index.constant(node.output[0]!);
      return [t ? t.dims : undefined];
    }
    case "Conv": {
      const x = get(0), w = get(1);
      const kernel = attrInts(node, "kernel_shape", w.slice(2).map(Number));
      return [[x[0]!, w[0]!, ...spatialOut(node, x, kernel, false)]];
    }
    case "AveragePool": case "MaxPool": {
      const x = get(0);
      const kernel = attrInts(node, "kernel_shape", []);
      const s = [x[0]!, x[1]!, ...spatialOut(node, x, kernel, attrInt(node, "ceil_mode", 0) === 1)];
      return [s, s];
    }
    case "GlobalAveragePool": case "GlobalMaxPool": {
      const x = get(0);
      return [[x[0]!, x[1]!, ...x.slice(2).map(() => 1)]];
    }
    case "ReduceMean": case "ReduceMax": case "ReduceMin": case "ReduceProd":
      return [reduced(get(0), node.attribute.some((a) => a.name === "axes") ? attrInts(node, "axes", []) : undefined, attrInt(node, "keepdims", 1) === 1)];
    case "ReduceSum": {
      const axesT = node.input[1] ? index.constant(node.input[1]) : undefined;
      if (node.input[1] && !axesT) throw new ShapeError(`${where}: axes must be a constant`);
      const axes = axesT ? Array.from(axesT.data as BigInt64Array, Number) : undefined;
      return [reduced(get(0), axes, attrInt(node, "keepdims", 1) === 1)];
    }
    case "Gemm": {
      const a = get(0), b = get(1);
      const m = attrInt(node, "transA", 0) ? a[1]! : a[0]!;
      const n = attrInt(node, "transB", 0) ? b[0]! : b[1]!;
      return [[m, n]];
    }
    case "MatMul": {
      const a = get(0), b = get(1);
      if (a.length < 2 || b.length < 2) throw new ShapeError(`${where}: 1-D MatMul operands are not supported`);
      const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2), where);
      return [[...batch, a[a.length - 2]!, b[b.length - 1]!]];
    }
    case "Flatten": {
      const x = get(0);
      let axis = attrInt(node, "axis", 1);
      if (axis < 0) axis += x.length;
      const prod = (ds: Dim[]): Dim => (ds.every((d) => typeof d === "number") ? elementCount(ds as number[]) : ds.length === 1 ? ds[0]! : `${ds.join("*")}`);
      return [[prod(x.slice(0, axis)), prod(x.slice(axis))]];
    }
    case "Reshape": {
      const x = get(0);
      const t = index.constant(node.input[1]!);
      if (!t) throw new ShapeError(`${where}: the target shape must be a constant`);
      const target = Array.from(t.data as BigInt64Array, Number);
      const out: Dim[] = target.map((d, i) => (d === 0 ? x[i]! : d));
      const neg = out.indexOf(-1);
      if (neg >= 0) {
        const sym = x.filter((d) => typeof d === "string");
        const staticIn = elementCount(x.filter((d): d is number => typeof d === "number"));
        const staticOut = elementCount(out.filter((d, i): d is number => typeof d === "number" && i !== neg));
        if (sym.length === 0) out[neg] = staticIn / staticOut;
        else if (sym.length === 1 && staticIn === staticOut) out[neg] = sym[0]!;
        else if (sym.length === 1 && !out.some((d) => typeof d === "string")) out[neg] = staticIn % staticOut === 0 && staticIn / staticOut !== 1 ? `${sym[0]}*${staticIn / staticOut}` : sym[0]!;
        else throw new ShapeError(`${where}: cannot infer the -1 dim of [${target}] from [${x}]`);
      }
      return [out];
    }
    case "Transpose": {
      const x = get(0);
      const perm = attrInts(node, "perm", x.map((_, i) => x.length - 1 - i));
      return [perm.map((p) => x[p]!)];
    }
    case "Unsqueeze": case "Squeeze": {
      const x = get(0);
      const t = node.input[1] ? index.constant(node.input[1]) : undefined;
      const axes = t ? Array.from(t.data as BigInt64Array, Number) : [];
      if (node.opType === "Squeeze") {
        const ax = axes.length ? normAxes(axes, x.length) : x.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
        return [x.filter((_, i) => !ax.includes(i))];
      }
      const rank = x.length + axes.length;
      const ax = normAxes(axes, rank);
      const out: Shape = [];
      let j = 0;
      for (let i = 0; i < rank; i++) out.push(ax.includes(i) ? 1 : x[j++]!);
      return [out];
    }
    case "Gather": {
      const x = get(0);
      let axis = attrInt(node, "axis", 0);
      if (axis < 0) axis += x.length;
      const idx = index.constant(node.input[1]!);
      const idxShape = idx ? idx.dims : get(1);
      return [[...x.slice(0, axis), ...idxShape, ...x.slice(axis + 1)]];
    }
    default:
      throw new ShapeError(`${where}: bnnas cannot infer shapes for op type ${node.opType}`);
  }
}
