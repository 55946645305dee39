/**
 * BatchNorm recalibration (SPOS): after a path is taken out of a supernet, its BatchNorms'
 * running statistics were accumulated over many different paths, so they are reset and
 * recomputed from this path alone, PyTorch-style: the network runs in train mode (every BN
 * normalises with its batch statistics, so later BNs see what they would see in training) and
 * the running statistics become the cumulative average over the N batches of the batch mean and
 * the *unbiased* batch variance — torch's BatchNorm with momentum=None after reset_running_stats().
 *
 * Train-mode BN is built from primitives (ReduceMean, Sub, Mul, Sqrt, Div) rather than
 * BatchNormalization(training_mode=1), which onnxruntime runs on CPU only and which updates the
 * running variance with the biased batch variance, where PyTorch (whose statistics these must
 * match) uses the unbiased one.
 */
import { DataType, type ModelProto } from "../onnx/proto.js";
import { cloneForEditing } from "../onnx/clone.js";
import { GraphBuilder, attr, valueInfo, type Attr } from "../onnx/builder.js";
import { attrFloat } from "../onnx/graph.js";
import { floatTensor, readFloats, setFloats, tensorDims } from "../onnx/tensor.js";
import { ModelFormatError } from "../errors.js";

export interface BatchNormStatsGraph {
  /** The model in train mode, with two extra outputs per BN: batch mean and biased batch variance, [1, C, 1, 1]. */
  model: ModelProto;
  /** Per BN (graph order): its running-stat initializers and the names of its extra outputs. */
  batchNorms: { node: string; mean: string; var: string; meanOut: string; varOut: string; shapeOut: string; channels: number }[];
}

/** Rewrites every BatchNormalization of a (subnet) model into train mode with statistics outputs. */
export function batchNormStatsGraph(source: ModelProto, file = "<model>"): BatchNormStatsGraph {
  // Only the node list, initializer list and outputs change below (existing tensors are read,
  // never written), so a structural copy sharing the weights will do: no encode/decode of them.
  const model = cloneForEditing(source);
  const graph = model.graph!;
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const b = new GraphBuilder();
  b.reserve([...inits.keys(), ...graph.input.map((i) => i.name), ...graph.node.flatMap((n) => [n.name, ...n.output])]);
  const out: BatchNormStatsGraph["batchNorms"] = [];
  const opset = model.opsetImport.find((o) => !o.domain)?.version ?? 17;
  const nodes = [];
  for (const n of graph.node) {
    if (n.opType !== "BatchNormalization" || n.domain) {
      nodes.push(n);
      continue;
    }
    const label = n.name || n.output[0]!;
    const [x, scale, bias, mean, variance] = n.input as [string, string, string, string, string];
    const gamma = inits.get(scale);
    const beta = inits.get(bias);
    if (!gamma || !beta || !inits.has(mean) || !inits.has(variance)) {
      throw new ModelFormatError(file, `BatchNormalization '${label}': scale, bias, mean and var must be initializers to recalibrate`);
    }
    const c = tensorDims(gamma).reduce((p, d) => p * d, 1);
    const base = n.name || `bn_${out.length}`;
    const first = b.nodes.length;
    const g4 = b.initializer(floatTensor(b.unique(`${base}.recal_scale`), [1, c, 1, 1], readFloats(gamma)));
    const b4 = b.initializer(floatTensor(b.unique(`${base}.recal_bias`), [1, c, 1, 1], readFloats(beta)));
    const epsT = b.floatInit(`${base}.recal_eps`, [], [attrFloat(n, "epsilon", 1e-5)]);
    // ReduceMean takes axes as an attribute up to opset 17 and as an input from opset 18.
    const axesInput = opset >= 18 ? [b.int64Init(`${base}.recal_axes`, [3], [0, 2, 3])] : [];
    const axesAttr: Record<string, Attr> = opset >= 18 ? { keepdims: attr.int(1) } : { axes: attr.ints([0, 2, 3]), keepdims: attr.int(1) };
    const mu = b.op("ReduceMean", [x, ...axesInput], axesAttr, `${base}.recal_mean`);
    const d = b.op("Sub", [x, mu], {}, `${base}.recal_centered`);
    const v = b.op("ReduceMean", [b.op("Mul", [d, d], {}, `${base}.recal_sq`), ...axesInput], axesAttr, `${base}.recal_var`);
    const sd = b.op("Sqrt", [b.op("Add", [v, epsT], {}, `${base}.recal_var_eps`)], {}, `${base}.recal_std`);
    const normed = b.op("Div", [d, sd], {}, `${base}.recal_normed`);
    const scaled = b.op("Mul", [normed, g4], {}, `${base}.recal_scaled`);
    b.node("Add", [scaled, b4], {}, { name: `${base}.recal_out`, outputs: [n.output[0]!] });
    const shape = b.op("Shape", [x], {}, `${base}.recal_shape`);
    // In place of the BN, so the node list stays topologically sorted.
    nodes.push(...b.nodes.slice(first));
    out.push({ node: label, mean, var: variance, meanOut: mu, varOut: v, shapeOut: shape, channels: c });
  }
  graph.node = nodes;
  graph.initializer.push(...b.initializers);
  for (const s of out) {
    graph.output.push(valueInfo(s.meanOut, [1, s.channels, 1, 1]), valueInfo(s.varOut, [1, s.channels, 1, 1]), valueInfo(s.shapeOut, [4], DataType.INT64));
  }
  return { model, batchNorms: out };
}

/** Cumulative averages of per-batch statistics (torch's momentum=None). */
export class RunningStats {
  private readonly sums = new Map<string, { mean: Float64Array; var: Float64Array }>();
  private batches = 0;

  constructor(private readonly graph: BatchNormStatsGraph) {
    for (const s of graph.batchNorms) this.sums.set(s.node, { mean: new Float64Array(s.channels), var: new Float64Array(s.channels) });
  }

  /** Adds one batch's statistics (the stats graph's outputs). */
  add(outputs: Record<string, { dims: number[]; data: ArrayLike<number | bigint> }>): void {
    for (const s of this.graph.batchNorms) {
      const mean = outputs[s.meanOut]!;
      const v = outputs[s.varOut]!;
      const shape = Array.from(outputs[s.shapeOut]!.data, Number);
      if (shape.length !== 4) throw new ModelFormatError("<model>", `BatchNormalization '${s.node}' has a ${shape.length}-D input; recalibration handles NCHW (4-D) BatchNorms`);
      // Elements per channel in this batch: N * H * W; torch's running_var uses var * n / (n - 1).
      const n = shape[0]! * shape[2]! * shape[3]!;
      const unbias = n > 1 ? n / (n - 1) : 1;
      const acc = this.sums.get(s.node)!;
      for (let c = 0; c < s.channels; c++) {
        acc.mean[c]! += Number(mean.data[c]!);
        acc.var[c]! += Number(v.data[c]!) * unbias;
      }
    }
    this.batches++;
  }

  get count(): number {
    return this.batches;
  }

  /** Writes the averaged statistics into `model`'s running-stat initializers. */
  apply(model: ModelProto): void {
    if (this.batches === 0) throw new Error("no batches were accumulated");
    const inits = new Map(model.graph!.initializer.map((t) => [t.name, t]));
    for (const s of this.graph.batchNorms) {
      const acc = this.sums.get(s.node)!;
      setFloats(inits.get(s.mean)!, Float32Array.from(acc.mean, (x) => x / this.batches));
      setFloats(inits.get(s.var)!, Float32Array.from(acc.var, (x) => x / this.batches));
    }
  }
}
