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
import type { LoweredBatchNorm } from "../../opset/ops/batch-normalization-lowering.js";
import type { Shape } from "../../opset/types.js";
import type { Segment } from "./partition.js";

/**
 * Where a segment's backward run gets the forward tensors it reads: "recompute" the segment's
 * forward inside it, "save" every such tensor from the forward run, or "checkpoint": save conv
 * outputs and BN statistics, recompute the elementwise rest (see buildBlock).
 */
export type ActivationPolicy = "save" | "recompute" | "checkpoint";

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
  /** Forward tensors the backward reads (policies "save" and "checkpoint"), fetched from the forward run. */
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

function declareInputs(b: GraphBuilder, req: Omit<BlockRequest, "policy">): void {
  b.input(req.seg.input, req.shapes.get(req.seg.input)!);
  const paramSet = new Set(req.params);
  for (const p of req.params) b.input(p, req.index.initializers.get(p)!.dims.map(Number));
  // BN running mean/var are not read in training mode: leave them out.
  const running = new Set(req.seg.nodes.filter((n) => n.opType === "BatchNormalization").flatMap((n) => n.input.slice(3)));
  for (const t of req.seg.initializers) if (!paramSet.has(t.name) && !running.has(t.name)) b.initializer(t);
}

/** A BN statistic's shape: [C] of the BN input. */
export function statShape(shapes: ReadonlyMap<string, Shape>, s: StatOutput): Shape {
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
  // "save" / "checkpoint": some forward tensors are fetched from the forward run and fed to the
  // backward run, whose nodes producing them are dropped (and what only they needed, pruned).
  const forwardNodes = cb.nodes.slice(0, nForward);
  const sideShapes = new Map<string, Shape>();
  const sideTensors = new Set<string>();
  for (const s of stats) {
    const l = lowered.get(s.bn)!;
    const xs = shapes.get(s.input)!;
    const side = [1, xs[1]!, ...xs.slice(2).map(() => 1)];
    sideShapes.set(l.meanB, side).set(l.invStd, [xs[1]!]).set(l.mean, [xs[1]!]).set(l.var, [xs[1]!]).set(l.centered, xs);
    for (const t of [l.meanB, l.invStd, l.mean, l.var, l.centered]) sideTensors.add(t);
  }
  // "save": every forward tensor the gradient nodes read. "checkpoint": only conv outputs and the
  // BN lowering's statistics and centred inputs (x - mean, what the BN gradient reads; with it the
  // conv output itself is rarely needed); the cheap elementwise work between them (normalise,
  // clip) is recomputed in the backward run, the convs and the statistics' reductions are not.
  const cut = new Set<string>();
  if (req.policy === "save") {
    for (const n of cb.nodes.slice(nForward)) for (const t of n.input) if (forwardProduced.has(t)) cut.add(t);
  } else {
    for (const n of forwardNodes) if (n.opType === "Conv") cut.add(n.output[0]!);
    for (const t of sideTensors) cut.add(t);
  }
  const bb = new GraphBuilder();
  bb.nodes.push(...cb.nodes.filter((n, i) => !(i < nForward && n.output.every((o) => !o || cut.has(o)))));
  bb.initializers.push(...cb.initializers);
  bb.outputs.push(...cb.outputs);
  pruneDead(bb);
  const read = new Set(bb.nodes.flatMap((n) => n.input));
  const saved = [...cut].filter((t) => read.has(t)).sort();
  const fed = [seg.input, ...req.params, dOutput].filter((t) => read.has(t) || t === dOutput);
  bb.inputs.push(...fed.map((t) => cb.inputs.find((i) => i.name === t)!));
  const shapeOf = (t: string) => shapes.get(t) ?? sideShapes.get(t);
  for (const t of saved) bb.inputs.push(valueInfo(t, shapeOf(t), DataType.FLOAT));
  const fetched = new Set(fb.outputs.map((o) => o.name));
  for (const t of saved) if (!fetched.has(t)) fb.output(t, shapeOf(t));
  return { forward: fb.build({ name: `${seg.id}.forward` }), backward: bb.build({ name: `${seg.id}.backward` }), stats, saved, dOutput, grads: named, ...(dInput ? { dInput } : {}) };
}

export function buildHead(req: Omit<BlockRequest, "policy">, classes: number, labelSmoothing: number): BuiltHead {
  const { seg, shapes, index } = req;
  const constant = (t: string) => (req.params.includes(t) ? undefined : index.constant(t));
  const b = new GraphBuilder();
  declareInputs(b, req);
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
