/**
 * Static int8 quantization in the QDQ format: the float graph stays as it is, and each quantized
 * tensor passes through QuantizeLinear -> DequantizeLinear. onnxruntime's QDQ transformers fuse
 * DequantizeLinear -> Conv -> QuantizeLinear (and Gemm, Add, pooling) into integer kernels, and
 * any other runtime can still run the graph as float ops: only standard ONNX ops are used.
 *
 * - Weights of Conv and Gemm: per output channel, symmetric int8 in [-127, 127] (zero point 0);
 *   MatMul weights per tensor. Biases: int32 with scale input_scale * weight_scale[c], the form
 *   onnxruntime's integer Conv/Gemm kernels take.
 * - Activations: per tensor, asymmetric over the calibrated [min, max] (widened to hold 0, so
 *   zero padding is exact), in uint8 or int8.
 * - A Relu or Clip right after a Conv/Gemm/Add is quantized at its output only: the quantized
 *   range then lies inside the activation's, so onnxruntime drops the activation and the integer
 *   kernel's saturation does its work (as onnxruntime's own quantizer arranges it).
 *
 * This module is pure: calibration (running the float model) happens in the pipeline, which
 * passes each tensor's observed range.
 */
import { AttrType, DataType, make, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from "../onnx/proto.js";
import { GraphIndex, attrInt } from "../onnx/graph.js";
import { readFloats, tensorDims } from "../onnx/tensor.js";
import { BnnasError } from "../errors.js";

export type ActivationType = "uint8" | "int8";

/** The observed range of one activation tensor over the calibration images. */
export interface Range {
  min: number;
  max: number;
}

export interface QuantizeOptions {
  activations?: ActivationType;
  file?: string;
}

export interface QuantizeResult {
  /** Activation tensors given a QuantizeLinear/DequantizeLinear pair. */
  activations: number;
  /** Weight initializers stored as int8. */
  weights: number;
  /** Bias initializers stored as int32. */
  biases: number;
  activationType: ActivationType;
}

/** The lowest opset with per-channel DequantizeLinear (attribute axis). */
export const QUANTIZE_MIN_OPSET = 13;

/** Ops whose float inputs and outputs are quantized: the ones onnxruntime runs as integer kernels. */
const QUANTIZED: Readonly<Record<string, readonly number[]>> = {
  // op type -> positions of the activation inputs
  Conv: [0],
  Gemm: [0],
  MatMul: [0, 1],
  Add: [0, 1],
  Mul: [0, 1],
  GlobalAveragePool: [0],
  AveragePool: [0],
  MaxPool: [0],
  Concat: [],
};
/** Activations that fold into the quantized op before them. */
const ACTIVATIONS = new Set(["Relu", "Clip"]);
/** Ops whose weights (input 1) and bias (input 2) are quantized. */
const WEIGHTED = new Set(["Conv", "Gemm", "MatMul"]);

const isFloatInit = (t: TensorProto | undefined) => t !== undefined && t.dataType === DataType.FLOAT;

/** The activation tensors the quantizer needs a range for (graph outputs stay float). */
export function calibrationTensors(graph: GraphProto): string[] {
  const index = new GraphIndex(graph);
  const outputs = new Set(graph.output.map((o) => o.name));
  const want = new Set<string>();
  const activationInputs = (n: NodeProto): string[] => {
    const pos = QUANTIZED[n.opType] ?? [];
    const list = n.opType === "Concat" ? n.input.map((_, k) => k) : pos;
    return list.map((k) => n.input[k]).filter((t): t is string => !!t && !index.initializers.has(t) && !index.constant(t));
  };
  for (const n of graph.node) {
    if (n.domain || !(n.opType in QUANTIZED)) continue;
    for (const t of activationInputs(n)) want.add(t);
    const o = n.output[0]!;
    const consumers = index.consumers.get(o) ?? [];
    const act = consumers.length === 1 && ACTIVATIONS.has(consumers[0]!.opType) && !outputs.has(o) ? consumers[0]! : undefined;
    // Conv -> Relu/Clip: only the activation's output is quantized (see the file comment).
    const out = act ? act.output[0]! : o;
    if (!outputs.has(out)) want.add(out);
  }
  // Pre-activation tensors someone else asked for keep their own pair, which is still correct.
  return graph.node.flatMap((n) => n.output).filter((t) => want.has(t)).concat(graph.input.map((i) => i.name).filter((t) => want.has(t)));
}

/** Scale and zero point of an asymmetric per-tensor quantization of [min, max]. */
export function activationParams(r: Range, type: ActivationType): { scale: number; zeroPoint: number } {
  const [qmin, qmax] = type === "uint8" ? [0, 255] : [-128, 127];
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  // A tensor that was constant 0: any scale holds it exactly.
  if (!(hi > lo)) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / (qmax - qmin));
  const zeroPoint = Math.min(qmax, Math.max(qmin, Math.round(qmin - lo / scale)));
  return { scale, zeroPoint };
}

/** Per-channel symmetric int8 weights along `axis`: values, one scale per channel. */
export function quantizeWeights(w: Float32Array, dims: readonly number[], axis: number): { q: Int8Array; scales: Float32Array } {
  const channels = axis < 0 ? 1 : dims[axis]!;
  const inner = axis < 0 ? w.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => (axis < 0 ? 0 : Math.floor(i / inner) % channels);
  const absMax = new Float32Array(channels);
  for (let i = 0; i < w.length; i++) absMax[channelOf(i)] = Math.max(absMax[channelOf(i)]!, Math.abs(w[i]!));
  const scales = Float32Array.from(absMax, (m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scales[channelOf(i)]!)));
  return { q, scales };
}

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
const tensor = (name: string, dims: readonly number[], dataType: number, data: ArrayBufferView) => make.tensor({ name, dims: [...dims], dataType, rawData: bytes(data) });

/**
 * Quantizes `model` in place: every tensor of calibrationTensors() needs a range in `ranges`.
 * The model must be at opset >= 13 (per-channel DequantizeLinear).
 */
export function quantizeQdq(model: ModelProto, ranges: ReadonlyMap<string, Range>, options: QuantizeOptions = {}): QuantizeResult {
  const type = options.activations ?? "uint8";
  const graph = model.graph!;
  const index = new GraphIndex(graph);
  const tensors = calibrationTensors(graph);
  const taken = new Set<string>([...graph.initializer.map((t) => t.name), ...graph.input.map((i) => i.name), ...graph.node.flatMap((n) => n.output)]);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const newInits: TensorProto[] = [];
  const qdqNodes: NodeProto[] = [];
  const actScale = new Map<string, number>();
  const dequantized = new Map<string, string>();
  const qType = type === "uint8" ? DataType.UINT8 : DataType.INT8;

  for (const t of tensors) {
    const r = ranges.get(t);
    if (!r || !Number.isFinite(r.min) || !Number.isFinite(r.max)) {
      throw new BnnasError(`${options.file ? `${options.file}: ` : ""}no finite calibration range for tensor '${t}'; the float model produced ${r ? `[${r.min}, ${r.max}]` : "nothing"} there`);
    }
    const { scale, zeroPoint } = activationParams(r, type);
    actScale.set(t, scale);
    const s = fresh(`${t}.q_scale`);
    const z = fresh(`${t}.q_zero_point`);
    newInits.push(tensor(s, [], DataType.FLOAT, Float32Array.of(scale)), tensor(z, [], qType, type === "uint8" ? Uint8Array.of(zeroPoint) : Int8Array.of(zeroPoint)));
    const q = fresh(`${t}.q`);
    const dq = fresh(`${t}.dq`);
    qdqNodes.push(
      make.node({ name: fresh(`${t}.quantize`), opType: "QuantizeLinear", input: [t, s, z], output: [q] }),
      make.node({ name: fresh(`${t}.dequantize`), opType: "DequantizeLinear", input: [q, s, z], output: [dq] }),
    );
    dequantized.set(t, dq);
  }

  let weights = 0;
  let biases = 0;
  for (const n of graph.node) {
    if (n.domain) continue;
    // Readers of a quantized tensor read its dequantized copy.
    n.input = n.input.map((i) => dequantized.get(i) ?? i);
    if (!WEIGHTED.has(n.opType)) continue;
    const wInit = index.initializers.get(n.input[1] ?? "");
    if (!isFloatInit(wInit)) continue;
    const dims = tensorDims(wInit!);
    // The output-channel axis: Conv weights [M, C/g, k..]; Gemm B is [N, K] with transB, else [K, N].
    const axis = n.opType === "Conv" ? 0 : n.opType === "Gemm" ? (attrInt(n, "transB", 0) === 1 ? 0 : 1) : -1;
    const { q, scales } = quantizeWeights(readFloats(wInit!), dims, axis);
    const channelDims = axis < 0 ? [] : [dims[axis]!];
    const qn = fresh(`${wInit!.name}.int8`);
    const sn = fresh(`${wInit!.name}.scale`);
    const zn = fresh(`${wInit!.name}.zero_point`);
    const dq = fresh(`${wInit!.name}.dq`);
    newInits.push(tensor(qn, dims, DataType.INT8, q), tensor(sn, channelDims, DataType.FLOAT, axis < 0 ? Float32Array.of(scales[0]!) : scales), tensor(zn, channelDims, DataType.INT8, new Int8Array(axis < 0 ? 1 : scales.length)));
    qdqNodes.push(make.node({ name: fresh(`${n.name || n.output[0]}.weight_dequantize`), opType: "DequantizeLinear", input: [qn, sn, zn], output: [dq], attribute: axis < 0 ? [] : [make.attribute({ name: "axis", type: AttrType.INT, i: axis })] }));
    const xScale = actScale.get(inputBeforeDequantize(n.input[0]!, dequantized));
    n.input[1] = dq;
    weights++;
    // The bias in int32 at scale x_scale * w_scale[c] (what integer Conv/Gemm accumulate in).
    const bInit = n.input[2] ? index.initializers.get(n.input[2]) : undefined;
    if (!isFloatInit(bInit) || xScale === undefined || n.opType === "MatMul") continue;
    const b = readFloats(bInit!);
    if (tensorDims(bInit!).length !== 1 || b.length !== scales.length) continue;
    const bScales = Float32Array.from(scales, (s) => Math.fround(s * xScale));
    const bq = Int32Array.from(b, (v, c) => Math.max(-2147483647, Math.min(2147483647, Math.round(v / bScales[c]!))));
    const bqn = fresh(`${bInit!.name}.int32`);
    const bsn = fresh(`${bInit!.name}.scale`);
    const bzn = fresh(`${bInit!.name}.zero_point`);
    const bdq = fresh(`${bInit!.name}.dq`);
    newInits.push(tensor(bqn, [b.length], DataType.INT32, bq), tensor(bsn, [b.length], DataType.FLOAT, bScales), tensor(bzn, [b.length], DataType.INT32, new Int32Array(b.length)));
    qdqNodes.push(make.node({ name: fresh(`${n.name || n.output[0]}.bias_dequantize`), opType: "DequantizeLinear", input: [bqn, bsn, bzn], output: [bdq], attribute: [make.attribute({ name: "axis", type: AttrType.INT, i: 0 })] }));
    n.input[2] = bdq;
    biases++;
  }

  graph.node = orderAfterProducers([...graph.node, ...qdqNodes], graph);
  graph.initializer.push(...newInits);
  // Float weights and biases no node reads any more.
  const read = new Set(graph.node.flatMap((n) => n.input));
  graph.initializer = graph.initializer.filter((t) => read.has(t.name) || graph.output.some((o) => o.name === t.name));
  return { activations: tensors.length, weights, biases, activationType: type };
}

/** The quantized tensor a DequantizeLinear output stands for. */
function inputBeforeDequantize(t: string, dequantized: ReadonlyMap<string, string>): string {
  for (const [from, dq] of dequantized) if (dq === t) return from;
  return t;
}

/** Nodes in topological order (Q/DQ nodes were appended; ONNX needs producers first). */
function orderAfterProducers(nodes: NodeProto[], graph: GraphProto): NodeProto[] {
  return new GraphIndex({ ...graph, node: nodes }).topoOrder();
}
