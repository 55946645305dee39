/**
 * The probe models the zero-cost proxies run, each built from a standalone subnet (one path of a
 * supernet, extract/subnet.ts) out of the same per-op rules as training:
 *
 * - `activationProbe`: the forward in training mode (BatchNorm on batch statistics, as a freshly
 *   built PyTorch model runs) with the output of every ReLU / ReLU6 (Relu, Clip) as an extra
 *   graph output: NASWOT's binary codes.
 * - `lossGradientProbe`: that forward, softmax cross-entropy against the labels, and the gradient
 *   of the loss with respect to every conv and linear weight (grad_norm, snip).
 * - `synflowProbe`: the network linearised as SynFlow prescribes: every weight replaced by its
 *   absolute value, BatchNorm and activations removed (identity), one all-ones input; the
 *   gradient of R = sum(logits) with respect to every conv and linear weight.
 */
import { GraphBuilder } from "../onnx/builder.js";
import { DataType, make, type ModelProto, type NodeProto, type TensorProto } from "../onnx/proto.js";
import { readFloats, readTensor, floatTensor } from "../onnx/tensor.js";
import { inferShapes } from "../opset/infer.js";
import type { Shape } from "../opset/types.js";
import { emitTrainingForward } from "../autodiff/forward.js";
import { buildBackward } from "../autodiff/backward.js";
import { emitSoftmaxCrossEntropy } from "../autodiff/loss.js";
import { BnnasError } from "../errors.js";

export interface ProbeModel {
  model: ModelProto;
  /** The data input (and the labels input, for the loss probe). */
  input: string;
  labels?: string;
  /** Activation outputs (activation probe), in graph order. */
  activations: string[];
  /** Weight initializer -> the output holding its gradient (gradient probes). */
  grads: Map<string, string>;
  /** The weights, as in the subnet (their values are what snip multiplies with). */
  weights: Map<string, Float32Array>;
}

/** Conv, Gemm and MatMul weights (input 1, an initializer): what the proxies sum over. */
function weightNames(graph: { node: NodeProto[]; initializer: TensorProto[] }): string[] {
  const inits = new Set(graph.initializer.map((t) => t.name));
  const names: string[] = [];
  for (const n of graph.node) if ((n.opType === "Conv" || n.opType === "Gemm" || n.opType === "MatMul") && n.input[1] && inits.has(n.input[1])) names.push(n.input[1]);
  return [...new Set(names)];
}

interface Prepared {
  b: GraphBuilder;
  input: string;
  logits: string;
  shapes: Map<string, Shape>;
  initializers: Map<string, TensorProto>;
  nodes: NodeProto[];
}

function prepare(subnet: ModelProto, batch: number, nodes?: NodeProto[], initializers?: TensorProto[]): Prepared {
  const graph = subnet.graph!;
  const inits = initializers ?? graph.initializer;
  const initNames = new Set(inits.map((t) => t.name));
  const data = graph.input.find((i) => !initNames.has(i.name));
  if (!data) throw new BnnasError("the subnet has no data input");
  const declared = data.type?.tensorType?.shape?.dim ?? [];
  const inputShape: Shape = [batch, ...declared.slice(1).map((d) => Number(d.dimValue))];
  const used = nodes ?? graph.node;
  const g = make.graph({ name: "probe", node: used, initializer: inits, input: graph.input, output: graph.output });
  const shapes = inferShapes(g, new Map([[data.name, inputShape]]));
  const b = new GraphBuilder();
  b.input(data.name, inputShape);
  for (const t of inits) b.initializer(t);
  return { b, input: data.name, logits: graph.output[0]!.name, shapes, initializers: new Map(inits.map((t) => [t.name, t])), nodes: used };
}

/** Drops initializers nothing reads (e.g. BN running statistics in training mode). */
function pruneInitializers(b: GraphBuilder): void {
  const read = new Set(b.nodes.flatMap((n) => n.input));
  b.initializers.splice(0, b.initializers.length, ...b.initializers.filter((t) => read.has(t.name)));
}

function withGradients(p: Prepared, seed: string, weights: string[]): Map<string, string> {
  const wrt = new Set(weights);
  const constant = (t: string) => {
    if (wrt.has(t)) return undefined;
    const init = p.initializers.get(t);
    return init ? readTensor(init) : undefined;
  };
  const raw = buildBackward(p.b, { nodes: p.nodes, shapes: p.shapes, constant, seeds: new Map([[p.logits, seed]]), wrt: weights });
  const grads = new Map<string, string>();
  for (const w of weights) {
    const g = raw.get(w);
    if (!g) throw new BnnasError(`proxy: the weight '${w}' gets no gradient (it does not reach the logits)`);
    const name = p.b.op("Identity", [g], {}, `${w}_grad`);
    p.b.output(name, p.initializers.get(w)!.dims.map(Number));
    grads.set(w, name);
  }
  return grads;
}

function weightValues(p: Prepared, names: string[]): Map<string, Float32Array> {
  return new Map(names.map((n) => [n, readFloats(p.initializers.get(n)!)]));
}

export function activationProbe(subnet: ModelProto, batch: number): ProbeModel {
  const p = prepare(subnet, batch);
  emitTrainingForward(p.b, p.nodes, p.shapes);
  const activations = p.nodes.filter((n) => n.opType === "Relu" || n.opType === "Clip").map((n) => n.output[0]!);
  if (activations.length === 0) throw new BnnasError("naswot: the path has no ReLU or ReLU6 (Relu/Clip) activations to read codes from");
  for (const a of activations) p.b.output(a, p.shapes.get(a));
  pruneInitializers(p.b);
  return { model: p.b.build({ name: "naswot.probe" }), input: p.input, activations, grads: new Map(), weights: new Map() };
}

export function lossGradientProbe(subnet: ModelProto, batch: number, classes: number): ProbeModel {
  const p = prepare(subnet, batch);
  const labels = p.b.input("probe_labels", [batch], DataType.INT64);
  emitTrainingForward(p.b, p.nodes, p.shapes);
  const { loss, dlogits } = emitSoftmaxCrossEntropy(p.b, p.logits, labels, classes, 0, "probe_loss");
  p.b.output(loss, []);
  const weights = weightNames({ node: p.nodes, initializer: [...p.initializers.values()] });
  const grads = withGradients(p, dlogits, weights);
  pruneInitializers(p.b);
  return { model: p.b.build({ name: "gradient.probe" }), input: p.input, labels, activations: [], grads, weights: weightValues(p, weights) };
}

/**
 * SynFlow's linearised network, in float32 (onnxruntime's CPU convolutions have no float64): its
 * values grow with depth (about 1e13 on fmnist-small), so a much deeper space can overflow, which
 * proxyScore reports. (Rescaling each layer does not help: with residual additions R is not
 * homogeneous in one layer's weights.)
 */
export function synflowProbe(subnet: ModelProto): ProbeModel {
  const graph = subnet.graph!;
  const weights = weightNames(graph);
  const initializers = graph.initializer.map((t) => {
    if (t.dataType !== DataType.FLOAT) return t;
    const v = readFloats(t).map(Math.abs);
    return floatTensor(t.name, t.dims.map(Number), v);
  });
  // BatchNorm and the activations become identities: the network is linear in its input.
  const nodes = graph.node.map((n) =>
    n.opType === "BatchNormalization" || n.opType === "Relu" || n.opType === "Clip" ? make.node({ name: n.name, opType: "Identity", input: [n.input[0]!], output: [n.output[0]!] }) : n,
  );
  const p = prepare(subnet, 1, nodes, initializers);
  for (const n of p.nodes) p.b.nodes.push(n);
  p.b.reserve(p.nodes.flatMap((n) => [n.name, ...n.output]));
  const logitsShape = p.shapes.get(p.logits)!;
  const ones = p.b.floatInit("synflow_dR", logitsShape.map(Number), new Float32Array(logitsShape.reduce<number>((a, d) => a * Number(d), 1)).fill(1));
  const grads = withGradients(p, ones, weights);
  pruneInitializers(p.b);
  return { model: p.b.build({ name: "synflow.probe" }), input: p.input, activations: [], grads, weights: weightValues(p, weights) };
}
