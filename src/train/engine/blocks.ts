/**
 * Builds the ONNX models one segment runs in a training step:
 * - forward: input + BN/head params -> output, batch mean/var of every BN (and, when
 *   activations are saved, the forward tensors the backward reads);
 * - backward: d output (+ the input and params to recompute the forward, or the saved tensors)
 *   -> d input (when an earlier segment trains) and d trainable params;
 * - head: forward, loss and backward fused in one model (the loss is where the backward starts).
 * Frozen weights stay initializers (ORT prepacks them); BN scale/bias and trainable head weights
 * are graph inputs so one session serves every step.
 */
import { GraphBuilder, valueInfo } from "../../onnx/builder.js";
import { DataType, type ModelProto } from "../../onnx/proto.js";
import type { GraphIndex } from "../../onnx/graph.js";
import { buildBackward } from "../../autodiff/backward.js";
import { emitTrainingForward } from "../../autodiff/forward.js";
import { emitSoftmaxCrossEntropy } from "../../autodiff/loss.js";
import type { LoweredBatchNorm } from "../../autodiff/batchnorm-lowering.js";
import type { Shape } from "../../autodiff/shapes.js";
import type { Segment } from "./partition.js";

export type ActivationPolicy = "save" | "recompute";

export interface BlockRequest {
  seg: Segment;
  shapes: ReadonlyMap<string, Shape>;
  index: GraphIndex;
  /** Initializers fed as inputs (every BN scale/bias of the segment, plus head weights when they train). */
  params: readonly string[];
  /** Params that need a gradient. */
  trainable: readonly string[];
  /** Whether d input is needed (an earlier segment trains). */
  inputGrad: boolean;
  policy: ActivationPolicy;
}

export interface StatOutput {
  bn: string;
  mean: string;
  var: string;
  /** BN input, to count N*H*W. */
  input: string;
}

export interface BuiltBlock {
  forward: ModelProto;
  /** Absent when nothing needs a gradient here. */
  backward?: ModelProto;
  stats: StatOutput[];
  /** Forward tensors the backward reads (policy "save"), fetched from the forward run. */
  saved: string[];
  /** Name of the d output input of the backward model. */
  dOutput: string;
  /** param name -> gradient output name. */
  grads: Map<string, string>;
  dInput?: string;
}

export interface BuiltHead {
  model: ModelProto;
  loss: string;
  logits: string;
  labels: string;
  stats: StatOutput[];
  grads: Map<string, string>;
  dInput?: string;
}

function declareInputs(b: GraphBuilder, req: BlockRequest): void {
  b.input(req.seg.input, req.shapes.get(req.seg.input)!);
  const paramSet = new Set(req.params);
  for (const p of req.params) b.input(p, req.index.initializers.get(p)!.dims.map(Number));
  // BN running mean/var are not read in training mode: leave them out.
  const running = new Set(req.seg.nodes.filter((n) => n.opType === "BatchNormalization").flatMap((n) => n.input.slice(3)));
  for (const t of req.seg.initializers) if (!paramSet.has(t.name) && !running.has(t.name)) b.initializer(t);
}

function statShape(shapes: ReadonlyMap<string, Shape>, s: StatOutput): Shape {
  return [shapes.get(s.input)![1]!];
}

function statOutputs(lowered: Map<string, LoweredBatchNorm>, seg: Segment): StatOutput[] {
  return seg.batchNorms.map((bn) => {
    const l = lowered.get(bn.node)!;
    return { bn: bn.node, mean: l.mean, var: l.var, input: seg.nodes.find((n) => (n.name || n.output[0]) === bn.node)!.input[0]! };
  });
}

/** Marks gradients as outputs, renaming through Identity when a gradient is itself a graph input. */
function outputGrads(b: GraphBuilder, grads: Map<string, string>, inputs: Set<string>, shapeOf: (t: string) => Shape | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [wrt, g] of grads) {
    const name = inputs.has(g) ? b.op("Identity", [g], {}, `${wrt}_grad`) : g;
    b.output(name, shapeOf(wrt));
    out.set(wrt, name);
  }
  return out;
}

/**
 * Drops nodes nothing needs (e.g. in a recomputing backward, the segment's last normalisation
 * when the gradient rules read only its input), so onnxruntime does not run them.
 */
function pruneDead(b: GraphBuilder): void {
  const needed = new Set(b.outputs.map((o) => o.name));
  const keep: typeof b.nodes = [];
  for (let i = b.nodes.length - 1; i >= 0; i--) {
    const n = b.nodes[i]!;
    if (!n.output.some((o) => needed.has(o))) continue;
    keep.push(n);
    for (const t of n.input) if (t) needed.add(t);
  }
  b.nodes.splice(0, b.nodes.length, ...keep.reverse());
  const used = new Set(b.nodes.flatMap((n) => n.input));
  const inits = b.initializers.filter((t) => used.has(t.name));
  b.initializers.splice(0, b.initializers.length, ...inits);
}

export function buildBlock(req: BlockRequest): BuiltBlock {
  const { seg, shapes, index } = req;
  const constant = (t: string) => (req.params.includes(t) ? undefined : index.constant(t));
  const wrt = [...(req.inputGrad ? [seg.input] : []), ...req.trainable];

  // Forward + backward in one builder first: the backward tells which forward tensors it reads.
  const cb = new GraphBuilder();
  declareInputs(cb, req);
  const lowered = emitTrainingForward(cb, seg.nodes, shapes);
  const nForward = cb.nodes.length;
  const forwardProduced = new Set(cb.nodes.flatMap((n) => n.output));
  const dOutput = cb.input(cb.unique(`${seg.output}::grad_in`), shapes.get(seg.output)!);
  const stats = statOutputs(lowered, seg);

  const fb = new GraphBuilder();
  declareInputs(fb, req);
  emitTrainingForward(fb, seg.nodes, shapes);
  fb.output(seg.output, shapes.get(seg.output));
  for (const s of stats) fb.output(s.mean, statShape(shapes, s)), fb.output(s.var, statShape(shapes, s));
  const paramShape = (t: string): Shape | undefined => shapes.get(t) ?? index.initializers.get(t)?.dims.map(Number);

  if (wrt.length === 0) return { forward: fb.build({ name: `${seg.id}.forward` }), stats, saved: [], dOutput, grads: new Map() };

  const grads = buildBackward(cb, { nodes: seg.nodes, shapes, constant, seeds: new Map([[seg.output, dOutput]]), wrt });
  const inputs = new Set([seg.input, ...req.params, dOutput]);
  const named = outputGrads(cb, grads, inputs, paramShape);
  for (const w of wrt) if (!named.has(w)) throw new Error(`engine: '${w}' gets no gradient in ${seg.id} (it does not influence the segment's output)`);
  const dInput = req.inputGrad ? named.get(seg.input) : undefined;
  named.delete(seg.input);

  if (req.policy === "recompute") {
    pruneDead(cb);
    return { forward: fb.build({ name: `${seg.id}.forward` }), backward: cb.build({ name: `${seg.id}.backward` }), stats, saved: [], dOutput, grads: named, ...(dInput ? { dInput } : {}) };
  }
  // "save": the backward model keeps only gradient nodes; forward tensors they read become inputs.
  const backwardNodes = cb.nodes.slice(nForward);
  const read = new Set(backwardNodes.flatMap((n) => n.input));
  const saved = [...read].filter((t) => forwardProduced.has(t)).sort();
  const bb = new GraphBuilder();
  const fed = [seg.input, ...req.params, dOutput].filter((t) => read.has(t) || t === dOutput);
  for (const t of fed) bb.inputs.push(cb.inputs.find((i) => i.name === t)!);
  // Shapes of the saved tensors: the segment's own, or for the BN lowering's [1,C,1,..] side tensors, derived.
  const sideShapes = new Map<string, Shape>();
  for (const bn of seg.batchNorms) {
    const l = lowered.get(bn.node)!;
    const xs = shapes.get(seg.nodes.find((n) => (n.name || n.output[0]) === bn.node)!.input[0]!)!;
    const side = [1, xs[1]!, ...xs.slice(2).map(() => 1)];
    sideShapes.set(l.meanB, side).set(l.invStd, side);
  }
  for (const s of saved) bb.inputs.push(valueInfo(s, shapes.get(s) ?? sideShapes.get(s), DataType.FLOAT));
  for (const s of saved) fb.output(s, shapes.get(s) ?? sideShapes.get(s));
  for (const t of cb.initializers) if (read.has(t.name)) bb.initializers.push(t);
  bb.nodes.push(...backwardNodes);
  bb.outputs.push(...cb.outputs);
  return { forward: fb.build({ name: `${seg.id}.forward` }), backward: bb.build({ name: `${seg.id}.backward` }), stats, saved, dOutput, grads: named, ...(dInput ? { dInput } : {}) };
}

export function buildHead(req: Omit<BlockRequest, "policy">, classes: number, labelSmoothing: number): BuiltHead {
  const { seg, shapes, index } = req;
  const constant = (t: string) => (req.params.includes(t) ? undefined : index.constant(t));
  const b = new GraphBuilder();
  declareInputs(b, { ...req, policy: "recompute" });
  const labels = b.input(b.unique("labels"), [shapes.get(seg.input)![0]!], DataType.INT64);
  const lowered = emitTrainingForward(b, seg.nodes, shapes);
  const stats = statOutputs(lowered, seg);
  const { loss, dlogits } = emitSoftmaxCrossEntropy(b, seg.output, labels, classes, labelSmoothing);
  b.output(loss, []);
  b.output(seg.output, shapes.get(seg.output));
  for (const s of stats) b.output(s.mean, statShape(shapes, s)), b.output(s.var, statShape(shapes, s));
  const wrt = [...(req.inputGrad ? [seg.input] : []), ...req.trainable];
  let grads = new Map<string, string>();
  let dInput: string | undefined;
  if (wrt.length) {
    const raw = buildBackward(b, { nodes: seg.nodes, shapes, constant, seeds: new Map([[seg.output, dlogits]]), wrt });
    grads = outputGrads(b, raw, new Set([seg.input, ...req.params, labels]), (t) => shapes.get(t) ?? index.initializers.get(t)?.dims.map(Number));
    for (const w of wrt) if (!grads.has(w)) throw new Error(`engine: '${w}' gets no gradient in the head`);
    dInput = grads.get(seg.input);
    grads.delete(seg.input);
  }
  return { model: b.build({ name: "head.train" }), loss, logits: seg.output, labels, stats, grads, ...(dInput ? { dInput } : {}) };
}
