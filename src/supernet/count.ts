/**
 * MACs and params of a foreign (PyTorch) supernet, counted from its graph: per candidate and for
 * the fixed part (everything outside the candidate branches). bnnas files carry these numbers in
 * their manifest; this is for files that do not.
 *
 * Counting convention (as the BN-NAS FLOPs table and ../../../shared/spaces/fmnist-small.md):
 * MACs = multiply-accumulates of Conv, Gemm and MatMul for one sample; params = weights and biases
 * of Conv/Gemm/MatMul (a bias added right after a MatMul included) and BatchNorm gamma and beta.
 * Shapes come from a small shape inference over the ops such supernets use, starting from the
 * data input's shape with batch 1.
 */
import { DataType, type ModelProto, type NodeProto } from "../onnx/proto.js";
import { GraphIndex, attrInt, attrInts, attrString, getAttr, staticShape } from "../onnx/graph.js";
import { readTensor, tensorDims } from "../onnx/tensor.js";
import type { SupernetStructure } from "../structure/structure.js";
import { layerBranches } from "./import.js";

interface Info {
  shape: number[];
  /** Values of small integer tensors (shape arithmetic: Shape -> Gather -> Concat -> Reshape). */
  value?: number[];
}

export interface NodeCost {
  macs: number;
  /** Names of the parameter initializers this node uses (deduplicated by the caller). */
  params: string[];
}

const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);

function broadcast(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : y === 1 ? x : Math.max(x, y));
  }
  return out;
}

function elementwise(op: string, a: number[], b: number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  if (a.length !== n && a.length !== 1) return undefined;
  if (b.length !== n && b.length !== 1) return undefined;
  const f = { Add: (x: number, y: number) => x + y, Sub: (x: number, y: number) => x - y, Mul: (x: number, y: number) => x * y, Div: (x: number, y: number) => Math.trunc(x / y) }[op as "Add"];
  if (!f) return undefined;
  return Array.from({ length: n }, (_, i) => f(a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!));
}

/** Output spatial size of a sliding window (Conv, pooling). */
function windowOut(node: NodeProto, spatial: number[], kernel: number[]): number[] {
  const k = kernel.length;
  const strides = attrInts(node, "strides", Array(k).fill(1));
  const dil = attrInts(node, "dilations", Array(k).fill(1));
  let pads = attrInts(node, "pads", Array(2 * k).fill(0));
  const autoPad = attrString(node, "auto_pad", "NOTSET");
  const ceil = attrInt(node, "ceil_mode", 0) === 1;
  return spatial.map((h, i) => {
    const eff = dil[i]! * (kernel[i]! - 1) + 1;
    if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") return Math.ceil(h / strides[i]!);
    if (autoPad === "VALID") pads = Array(2 * k).fill(0);
    const span = h + pads[i]! + pads[i + k]! - eff;
    let o = (ceil ? Math.ceil(span / strides[i]!) : Math.floor(span / strides[i]!)) + 1;
    if (ceil && (o - 1) * strides[i]! >= h + pads[i]!) o--; // the last window must start inside the input or left pad
    return o;
  });
}

/**
 * Infers the shape of every tensor from the data input (batch 1) and returns the cost of each
 * node. Throws an Error naming the op for ops it cannot infer.
 */
export function nodeCosts(index: GraphIndex, dataInput: string): Map<NodeProto, NodeCost> {
  const graph = index.graph;
  const info = new Map<string, Info>();
  for (const t of graph.initializer) {
    const shape = tensorDims(t);
    const isInt = t.dataType === DataType.INT64 || t.dataType === DataType.INT32;
    let value: number[] | undefined;
    if (isInt && prod(shape) <= 64) value = Array.from(readTensor(t).data as ArrayLike<number | bigint>, Number);
    info.set(t.name, { shape, value });
  }
  for (const i of index.feeds) {
    const s = staticShape(i) ?? [];
    info.set(i.name, { shape: s.map((d, k) => (k === 0 && i.name === dataInput ? 1 : typeof d === "number" ? d : 1)) });
  }
  const costs = new Map<NodeProto, NodeCost>();
  const get = (name: string | undefined, node: NodeProto): Info => {
    const x = name ? info.get(name) : undefined;
    if (!x) throw new Error(`cannot count node '${node.name || node.opType}': the shape of its input '${name}' is unknown`);
    return x;
  };
  const constInts = (name: string | undefined, node: NodeProto): number[] | undefined => (name ? get(name, node).value : undefined);
  const isInit = (name: string | undefined) => !!name && index.initializers.has(name);

  for (const node of index.topoOrder()) {
    const op = node.opType;
    let out: Info[] | undefined;
    let macs = 0;
    let params: string[] = [];
    const need = () => get(node.input[0], node);
    switch (op) {
      case "Constant": {
        const a = getAttr(node, "value");
        if (a?.t) {
          const t = readTensor(a.t);
          const value = t.data instanceof Float32Array || t.data instanceof Float64Array || t.data.length > 64 ? undefined : Array.from(t.data as ArrayLike<number | bigint>, Number);
          out = [{ shape: t.dims, value }];
        } else {
          const c = index.constant(node.output[0]!);
          if (!c) throw new Error(`cannot count Constant node '${node.name}'`);
          out = [{ shape: c.dims, value: Array.from(c.data as ArrayLike<number | bigint>, Number) }];
        }
        break;
      }
      case "Conv": {
        const xs = need().shape;
        const w = get(node.input[1], node).shape;
        const group = attrInt(node, "group", 1);
        const kernel = w.slice(2);
        const spatial = windowOut(node, xs.slice(2), kernel);
        out = [{ shape: [xs[0]!, w[0]!, ...spatial] }];
        macs = xs[0]! * w[0]! * prod(spatial) * (xs[1]! / group) * prod(kernel);
        params = node.input.slice(1).filter((n) => isInit(n));
        break;
      }
      case "BatchNormalization":
        out = [{ shape: need().shape }];
        params = node.input.slice(1, 3).filter((n) => isInit(n));
        break;
      case "MaxPool": case "AveragePool": case "LpPool": {
        const xs = need().shape;
        out = [{ shape: [xs[0]!, xs[1]!, ...windowOut(node, xs.slice(2), attrInts(node, "kernel_shape", []))] }];
        break;
      }
      case "GlobalAveragePool": case "GlobalMaxPool": {
        const xs = need().shape;
        out = [{ shape: [xs[0]!, xs[1]!, ...xs.slice(2).map(() => 1)] }];
        break;
      }
      case "Gemm": {
        const a = need().shape;
        const b = get(node.input[1], node).shape;
        const ta = attrInt(node, "transA", 0), tb = attrInt(node, "transB", 0);
        const [m, k] = ta ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
        const n = tb ? b[0]! : b[1]!;
        out = [{ shape: [m, n] }];
        macs = m * k * n;
        params = node.input.slice(1).filter((nm) => isInit(nm));
        break;
      }
      case "MatMul": {
        const a = need().shape;
        const b = get(node.input[1], node).shape;
        const a2 = a.length === 1 ? [1, a[0]!] : a;
        const b2 = b.length === 1 ? [b[0]!, 1] : b;
        const batch = broadcast(a2.slice(0, -2), b2.slice(0, -2));
        const m = a2[a2.length - 2]!, k = a2[a2.length - 1]!, n = b2[b2.length - 1]!;
        const shape = [...batch, ...(a.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [n])];
        out = [{ shape }];
        macs = prod(batch) * m * k * n;
        params = node.input.filter((nm) => isInit(nm));
        break;
      }
      case "Add": case "Sub": case "Mul": case "Div": case "Pow": case "Max": case "Min": case "Sum": case "Mean":
      case "Equal": case "Less": case "Greater": case "And": case "Or": case "PRelu": {
        const ins = node.input.map((n) => get(n, node));
        const shape = ins.map((i) => i.shape).reduce(broadcast);
        let value: number[] | undefined;
        if (ins.length === 2 && ins[0]!.value && ins[1]!.value) value = elementwise(op, ins[0]!.value, ins[1]!.value);
        out = [{ shape, value }];
        // A Linear on a 3-D input exports as MatMul + Add(bias): the bias is a parameter.
        if (op === "Add") {
          const fromMatMul = node.input.some((n) => index.producer.get(n)?.opType === "MatMul");
          if (fromMatMul) params = node.input.filter((nm) => isInit(nm));
        }
        if (op === "PRelu") params = node.input.slice(1).filter((nm) => isInit(nm));
        break;
      }
      case "Where": {
        const ins = node.input.map((n) => get(n, node));
        out = [{ shape: ins.map((i) => i.shape).reduce(broadcast) }];
        break;
      }
      case "Relu": case "Clip": case "Sigmoid": case "HardSigmoid": case "HardSwish": case "Tanh": case "LeakyRelu":
      case "Elu": case "Selu": case "Softplus": case "Erf": case "Neg": case "Abs": case "Exp": case "Log": case "Sqrt":
      case "Dropout": case "Identity": case "Softmax": case "LogSoftmax": case "Gelu": case "Mish": case "Reciprocal":
      case "Cast": case "CastLike": case "Not": case "Floor": case "Ceil": case "Round": case "LRN": case "InstanceNormalization":
      case "LayerNormalization": {
        const xi = need();
        out = [{ shape: xi.shape, value: op === "Identity" || op === "Cast" || op === "CastLike" ? xi.value : undefined }];
        if (op === "Dropout" && node.output.length > 1) out.push({ shape: xi.shape });
        if (op === "InstanceNormalization" || op === "LayerNormalization") params = node.input.slice(1, 3).filter((nm) => isInit(nm));
        break;
      }
      case "ReduceMean": case "ReduceSum": case "ReduceMax": case "ReduceMin": case "ReduceL2": case "ReduceProd": {
        const xs = need().shape;
        let axes = attrInts(node, "axes", []);
        if (node.input[1]) axes = constInts(node.input[1], node) ?? (() => { throw new Error(`cannot count ${op} node '${node.name}': its axes are not constant`); })();
        const keep = attrInt(node, "keepdims", 1) === 1;
        const norm = (axes.length ? axes : xs.map((_, i) => i)).map((a) => (a < 0 ? a + xs.length : a));
        out = [{ shape: keep ? xs.map((d, i) => (norm.includes(i) ? 1 : d)) : xs.filter((_, i) => !norm.includes(i)) }];
        break;
      }
      case "Flatten": {
        const xs = need().shape;
        let axis = attrInt(node, "axis", 1);
        if (axis < 0) axis += xs.length;
        out = [{ shape: [prod(xs.slice(0, axis)), prod(xs.slice(axis))] }];
        break;
      }
      case "Reshape": {
        const xi = need();
        const target = constInts(node.input[1], node);
        if (!target) throw new Error(`cannot count Reshape node '${node.name}': its target shape is not constant`);
        const allowZero = attrInt(node, "allowzero", 0) === 1;
        const shape = target.map((d, i) => (d === 0 && !allowZero ? xi.shape[i]! : d));
        const known = prod(shape.filter((d) => d !== -1));
        const total = prod(xi.shape);
        out = [{ shape: shape.map((d) => (d === -1 ? total / known : d)), value: xi.value }];
        break;
      }
      case "Shape": {
        const xs = need().shape;
        let start = attrInt(node, "start", 0), end = attrInt(node, "end", xs.length);
        if (start < 0) start += xs.length;
        if (end < 0) end += xs.length;
        const value = xs.slice(start, end);
        out = [{ shape: [value.length], value }];
        break;
      }
      case "Size":
        out = [{ shape: [], value: [prod(need().shape)] }];
        break;
      case "Gather": {
        const d = need();
        const idx = get(node.input[1], node);
        let axis = attrInt(node, "axis", 0);
        if (axis < 0) axis += d.shape.length;
        const shape = [...d.shape.slice(0, axis), ...idx.shape, ...d.shape.slice(axis + 1)];
        let value: number[] | undefined;
        if (d.value && idx.value && d.shape.length === 1) value = idx.value.map((i) => d.value![i < 0 ? i + d.value!.length : i]!);
        out = [{ shape, value }];
        break;
      }
      case "Unsqueeze": case "Squeeze": {
        const d = need();
        const axes = node.input[1] ? constInts(node.input[1], node) : attrInts(node, "axes", []);
        if (!axes) throw new Error(`cannot count ${op} node '${node.name}': its axes are not constant`);
        let shape: number[];
        if (op === "Unsqueeze") {
          const rank = d.shape.length + axes.length;
          const norm = axes.map((a) => (a < 0 ? a + rank : a));
          shape = [];
          let j = 0;
          for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : d.shape[j++]!);
        } else {
          const norm = axes.map((a) => (a < 0 ? a + d.shape.length : a));
          shape = axes.length ? d.shape.filter((_, i) => !norm.includes(i)) : d.shape.filter((s) => s !== 1);
        }
        out = [{ shape, value: d.value }];
        break;
      }
      case "Concat": {
        const ins = node.input.map((n) => get(n, node));
        let axis = attrInt(node, "axis", 0);
        const rank = ins[0]!.shape.length;
        if (axis < 0) axis += rank;
        const shape = ins[0]!.shape.slice();
        shape[axis] = ins.reduce((s, i) => s + i.shape[axis]!, 0);
        const value = ins.every((i) => i.value) && rank === 1 ? ins.flatMap((i) => i.value!) : undefined;
        out = [{ shape, value }];
        break;
      }
      case "Slice": {
        const d = need();
        const starts = constInts(node.input[1], node), ends = constInts(node.input[2], node);
        const axes = node.input[3] ? constInts(node.input[3], node) : starts?.map((_, i) => i);
        const steps = node.input[4] ? constInts(node.input[4], node) : starts?.map(() => 1);
        if (!starts || !ends || !axes || !steps) throw new Error(`cannot count Slice node '${node.name}': its bounds are not constant`);
        const shape = d.shape.slice();
        let value = d.value;
        axes.forEach((a0, i) => {
          const a = a0 < 0 ? a0 + shape.length : a0;
          const size = shape[a]!;
          const step = steps[i]!;
          const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + size : v, lo), hi);
          const s = step > 0 ? clamp(starts[i]!, 0, size) : clamp(starts[i]!, -1, size - 1);
          const e = step > 0 ? clamp(ends[i]!, 0, size) : clamp(ends[i]!, -1, size - 1);
          shape[a] = Math.max(0, Math.ceil((e - s) / step));
          if (value && d.shape.length === 1) {
            const v: number[] = [];
            for (let k = s; step > 0 ? k < e : k > e; k += step) v.push(value[k]!);
            value = v;
          }
        });
        out = [{ shape, value }];
        break;
      }
      case "Pad": {
        const xs = need().shape;
        const pads = node.input[1] ? constInts(node.input[1], node) : attrInts(node, "pads", []);
        if (!pads) throw new Error(`cannot count Pad node '${node.name}': its pads are not constant`);
        const axes = node.input[3] ? constInts(node.input[3], node) : undefined;
        const shape = xs.slice();
        const list = axes ?? xs.map((_, i) => i);
        list.forEach((a0, i) => {
          const a = a0 < 0 ? a0 + xs.length : a0;
          shape[a] = shape[a]! + pads[i]! + pads[i + list.length]!;
        });
        out = [{ shape }];
        break;
      }
      case "Split": {
        const xs = need().shape;
        let axis = attrInt(node, "axis", 0);
        if (axis < 0) axis += xs.length;
        const parts = node.output.length;
        let sizes = node.input[1] ? constInts(node.input[1], node) : attrInts(node, "split", []);
        if (!sizes) throw new Error(`cannot count Split node '${node.name}': its sizes are not constant`);
        if (sizes.length === 0) {
          const chunk = Math.ceil(xs[axis]! / parts); // equal parts, the last one smaller (opset 18's num_outputs rule)
          sizes = Array.from({ length: parts }, (_, i) => Math.min(chunk, xs[axis]! - chunk * i));
        }
        out = sizes.map((n) => {
          const shape = xs.slice();
          shape[axis] = n;
          return { shape };
        });
        break;
      }
      case "Transpose": {
        const xs = need().shape;
        const perm = attrInts(node, "perm", xs.map((_, i) => xs.length - 1 - i));
        out = [{ shape: perm.map((p) => xs[p]!) }];
        break;
      }
      case "Expand": {
        const xi = need();
        const target = constInts(node.input[1], node);
        if (!target) throw new Error(`cannot count Expand node '${node.name}': its shape is not constant`);
        out = [{ shape: broadcast(xi.shape, target) }];
        break;
      }
      case "ConstantOfShape": {
        const target = constInts(node.input[0], node);
        if (!target) throw new Error(`cannot count ConstantOfShape node '${node.name}': its shape is not constant`);
        out = [{ shape: target }];
        break;
      }
      case "Range": {
        const [s, l, d] = [1, 2, 3].map((i) => constInts(node.input[i - 1], node)?.[0]);
        if (s === undefined || l === undefined || d === undefined) throw new Error(`cannot count Range node '${node.name}': its bounds are not constant`);
        const n = Math.max(Math.ceil((l - s) / d), 0);
        out = [{ shape: [n], value: Array.from({ length: n }, (_, i) => s + i * d) }];
        break;
      }
      default:
        throw new Error(`cannot count op ${op} (node '${node.name}'): bnnas's shape inference does not know it`);
    }
    node.output.forEach((o, i) => {
      if (o && out![i]) info.set(o, out![i]!);
    });
    costs.set(node, { macs, params });
  }
  return costs;
}

export interface CostSummary {
  /** Per layer, per candidate (in the structure's candidate order). */
  candidates: { macs: number; params: number }[][];
  fixed: { macs: number; params: number };
}

/** Counts the costs of every candidate and of the fixed part. */
export function countCosts(model: ModelProto, structure: SupernetStructure): CostSummary {
  const index = new GraphIndex(model.graph!);
  const costs = nodeCosts(index, structure.input.name);
  const sizeOf = (name: string) => prod(tensorDims(index.initializers.get(name)!));
  const total = (nodes: Iterable<NodeProto>) => {
    let macs = 0;
    const params = new Set<string>();
    for (const n of nodes) {
      const c = costs.get(n);
      if (!c) continue;
      macs += c.macs;
      for (const p of c.params) params.add(p);
    }
    let count = 0;
    for (const p of params) count += sizeOf(p);
    return { macs, params: count };
  };
  const inCandidates = new Set<NodeProto>();
  const candidates = structure.layers.map((layer) => {
    const branchOf = layerBranches(index, layer.input);
    return layer.candidates.map((c) => {
      const nodes = branchOf(c.output);
      for (const n of nodes) inCandidates.add(n);
      return total(nodes);
    });
  });
  const fixedNodes = model.graph!.node.filter((n) => !inCandidates.has(n));
  return { candidates, fixed: total(fixedNodes) };
}

/** Counts and stores the costs in the structure (candidate macs/params and `fixed`). */
export function countStructure(model: ModelProto, structure: SupernetStructure): CostSummary {
  const summary = countCosts(model, structure);
  structure.layers.forEach((layer, l) => layer.candidates.forEach((c, k) => Object.assign(c, summary.candidates[l]![k]!)));
  structure.fixed = summary.fixed;
  return summary;
}
