/**
 * The whole training step of the whole supernet as ONE ONNX model: stem forward, per layer an
 * `If` chain that runs the chosen candidate's forward block, the head's forward + loss +
 * backward, then per layer (last first) an `If` chain that runs the chosen candidate's backward
 * block, down to the first layer that trains. Inputs: the batch, the labels, one int64 selector
 * per layer with several candidates, and every BN scale/bias (and trainable head weight).
 *
 * Why one model: with a session per block (path-trainer.ts) every activation crosses into
 * JavaScript and back between runs, and per-session arenas would cost gigabytes; one session
 * keeps activations inside onnxruntime and can use one memory arena. Measured on fmnist-small
 * (batch 128, 2 threads): the composed step of a path 217 ms vs 303 ms for the per-block engine,
 * and the If chains cost ~nothing next to the same path composed without them (209 vs 212 ms).
 *
 * Candidates' blocks need not agree on how many statistics or saved tensors they produce or how
 * many gradients they return, but an If's branches must agree on the number of outputs: each
 * layer's outputs are slots, a branch fills its own and pads the rest with an empty tensor, and
 * the FusedStep tables say, per candidate, which slot holds what.
 */
import { DataType, type ModelProto, type ValueInfoProto } from "../../onnx/proto.js";
import { makeModel, valueInfo, type Dim } from "../../onnx/builder.js";
import { make } from "../../onnx/proto.js";
import { floatTensor, int64Tensor } from "../../onnx/tensor.js";
import { buildBlock, buildHead, statShape, type ActivationPolicy, type BuiltBlock, type StatOutput } from "./blocks.js";
import { branchGraph, emptyParts, ifChain, inlineModel, type GraphParts } from "./compose.js";
import type { Segment } from "./partition.js";
import type { TrainingPlan } from "./plan.js";

/** What a run's outputs mean when a given candidate was chosen. */
export interface BranchOutputs {
  /** param name -> model output holding its gradient. */
  grads: Map<string, string>;
  /** Statistics of the candidate's BNs; mean/var are model output names. */
  stats: StatOutput[];
}

export interface FusedLayer {
  /** The int64 scalar input choosing the candidate (absent when the layer has one). */
  select?: string;
  /** Candidate positions in branch order: feed the index of the chosen position. */
  positions: number[];
  branches: BranchOutputs[];
}

export interface FusedStep {
  model: ModelProto;
  x: string;
  labels: string;
  /** Params fed on every run (graph inputs). */
  params: string[];
  layers: FusedLayer[];
  /** Gradients and statistics of the fixed parts (stem, between-layer segments, head). */
  fixed: BranchOutputs;
  loss: string;
  logits: string;
}

const PAD = "bnnas.pad";

type Unit = { kind: "seg"; seg: Segment } | { kind: "layer"; layer: number; candidates: [number, Segment | null][] };

/** Forward-side record of a unit, what its backward needs. */
interface ForwardCopy {
  input: string;
  /** Per branch (one for a segment): the built block (null = identity) and the outer names of its saved tensors. */
  branches: { block: BuiltBlock | null; saved: Map<string, string> }[];
}

export function buildFusedStep(plan: TrainingPlan, policy: ActivationPolicy, labelSmoothing: number): FusedStep {
  const { p, structure } = plan;
  const main = emptyParts();
  const inputs: ValueInfoProto[] = [];
  main.initializers.push(floatTensor(PAD, [0], []));
  const constants = new Set<string>();
  const intConstant = (k: number) => {
    const name = `bnnas.k${k}`;
    if (!constants.has(name)) constants.add(name), main.initializers.push(int64Tensor(name, [], [k]));
    return name;
  };

  // Units in order; which ones need d input (something before them trains).
  const units: Unit[] = [{ kind: "seg", seg: p.stem }];
  structure.layers.forEach((_, l) => {
    const f = p.fixed[l];
    if (f) units.push({ kind: "seg", seg: f });
    units.push({ kind: "layer", layer: l, candidates: [...p.candidates[l]!.entries()] });
  });
  const trains = (seg: Segment | null) => seg !== null && plan.trainableOf(seg).length > 0;
  const unitTrains = (u: Unit) => (u.kind === "seg" ? trains(u.seg) : u.candidates.some(([, s]) => trains(s)));
  const needsDx = units.map((_, i) => units.slice(0, i).some(unitTrains));
  const block = (seg: Segment, i: number) =>
    buildBlock({ seg, shapes: p.shapes, index: p.index, params: plan.paramsOf(seg), trainable: plan.trainableOf(seg), inputGrad: needsDx[i]!, policy });

  const x = structure.input.name;
  inputs.push(valueInfo(x, structure.input.shape.map((d, i) => (i === 0 ? "N" : d))));
  const labels = "bnnas.labels";
  inputs.push(valueInfo(labels, ["N"], DataType.INT64));
  const allSegs = [p.stem, ...p.fixed.filter((f): f is Segment => f !== null), ...p.candidates.flatMap((m) => [...m.values()].filter((s): s is Segment => s !== null)), p.head];
  const params = [...new Set(allSegs.flatMap((s) => plan.paramsOf(s)))];
  for (const q of params) inputs.push(valueInfo(q, p.index.initializers.get(q)!.dims.map(Number)));
  const paramWire = (extra: [string, string][]) => new Map<string, string>([...params.map((q): [string, string] => [q, q]), ...extra]);

  const fixed: BranchOutputs = { grads: new Map(), stats: [] };
  const layers: FusedLayer[] = structure.layers.map(() => ({ positions: [], branches: [] }));
  const renamedStats = (stats: StatOutput[], r: (n: string) => string) => stats.map((s) => ({ ...s, mean: r(s.mean), var: r(s.var) }));

  // Forward.
  let h = x;
  const forward: ForwardCopy[] = [];
  units.forEach((u, i) => {
    if (u.kind === "seg") {
      const b = block(u.seg, i);
      const r = inlineModel(main, b.forward, `u${i}.f/`, paramWire([[u.seg.input, h]]));
      fixed.stats.push(...renamedStats(b.stats, r));
      forward.push({ input: h, branches: [{ block: b, saved: new Map(b.saved.map((s) => [s, r(s)])) }] });
      h = r(u.seg.output);
      return;
    }
    const l = u.layer;
    const layer = layers[l]!;
    layer.positions = u.candidates.map(([pos]) => pos);
    const blocks = u.candidates.map(([, seg]) => (seg ? block(seg, i) : null));
    const nStats = Math.max(...blocks.map((b) => b?.stats.length ?? 0));
    const nSaved = Math.max(...blocks.map((b) => b?.saved.length ?? 0));
    const copies: ForwardCopy["branches"] = [];
    const chosen = u.candidates.length > 1;
    const outer = chosen ? Array.from({ length: 1 + 2 * nStats + nSaved }, (_, j) => `L${l}.f:${j}`) : [];
    const branchGraphs = u.candidates.map(([, seg], k) => {
      const b = blocks[k]!;
      const parts: GraphParts = chosen ? emptyParts() : main;
      const r = b ? inlineModel(parts, b.forward, `L${l}.${k}.f/`, paramWire([[seg!.input, h]])) : (n: string) => n;
      const own = [b ? r(seg!.output) : h, ...(b?.stats ?? []).flatMap((s) => [r(s.mean), r(s.var)]), ...(b?.saved ?? []).map(r)];
      if (!chosen) {
        copies.push({ block: b, saved: new Map(b?.saved.map((s) => [s, r(s)])) });
        layer.branches.push({ grads: new Map(), stats: b ? renamedStats(b.stats, r) : [] });
        outer.push(own[0]!);
        return undefined;
      }
      // slot j of the If's outputs: [output, (mean, var) x nStats, saved x nSaved]
      const nOwnStats = b?.stats.length ?? 0;
      const slots = [own[0]!, ...Array.from({ length: 2 * nStats }, (_, j) => (j < 2 * nOwnStats ? own[1 + j]! : PAD)), ...Array.from({ length: nSaved }, (_, j) => own[1 + 2 * nOwnStats + j] ?? PAD)];
      copies.push({ block: b, saved: new Map(b?.saved.map((s, j) => [s, outer[1 + 2 * nStats + j]!])) });
      layer.branches.push({ grads: new Map(), stats: (b?.stats ?? []).map((s, j) => ({ ...s, mean: outer[1 + 2 * j]!, var: outer[2 + 2 * j]! })) });
      return branchGraph(`L${l}.${k}.f`, parts, slots);
    });
    if (chosen) {
      layer.select = `bnnas.select.${l}`;
      inputs.push(valueInfo(layer.select, [], DataType.INT64));
      const conds = u.candidates.slice(0, -1).map((_, k) => {
        const c = `L${l}.is${k}`;
        main.nodes.push(make.node({ opType: "Equal", name: c, input: [layer.select!, intConstant(k)], output: [c] }));
        return c;
      });
      main.nodes.push(ifChain(`L${l}.f`, conds, branchGraphs.map((g) => g!), outer));
    }
    forward.push({ input: h, branches: copies });
    h = outer[0]!;
  });

  // Head: forward, loss and backward.
  const head = buildHead({ seg: p.head, shapes: p.shapes, index: p.index, params: plan.paramsOf(p.head), trainable: plan.trainableOf(p.head), inputGrad: units.some(unitTrains) }, plan.classes, labelSmoothing);
  const hr = inlineModel(main, head.model, "head/", paramWire([[p.head.input, h], [head.labels, labels]]));
  fixed.stats.push(...renamedStats(head.stats, hr));
  for (const [q, g] of head.grads) fixed.grads.set(q, hr(g));
  const loss = hr(head.loss);
  const logits = hr(head.logits);

  // Backward, last unit first, down to the first one that trains.
  let dh = head.dInput ? hr(head.dInput) : undefined;
  for (let i = units.length - 1; i >= 0 && dh; i--) {
    const u = units[i]!;
    const fw = forward[i]!;
    const wire = (b: BuiltBlock, seg: Segment, saved: Map<string, string>) => paramWire([[seg.input, fw.input], [b.dOutput, dh!], ...saved]);
    if (u.kind === "seg") {
      const { block: b, saved } = fw.branches[0]!;
      if (!b?.backward) break;
      const r = inlineModel(main, b.backward, `u${i}.b/`, wire(b, u.seg, saved));
      for (const [q, g] of b.grads) fixed.grads.set(q, r(g));
      dh = b.dInput ? r(b.dInput) : undefined;
      continue;
    }
    const l = u.layer;
    const layer = layers[l]!;
    const dx = needsDx[i]!;
    const nGrads = Math.max(...fw.branches.map((c) => c.block?.grads.size ?? 0));
    if (!dx && nGrads === 0) break;
    const chosen = u.candidates.length > 1;
    const outer = chosen ? Array.from({ length: (dx ? 1 : 0) + nGrads }, (_, j) => `L${l}.b:${j}`) : [];
    const branchGraphs = u.candidates.map(([, seg], k) => {
      const { block: b, saved } = fw.branches[k]!;
      const parts: GraphParts = chosen ? emptyParts() : main;
      const own: string[] = [];
      const grads = layer.branches[k]!.grads;
      if (b?.backward) {
        const r = inlineModel(parts, b.backward, `L${l}.${k}.b/`, wire(b, seg!, saved));
        if (dx) own.push(r(b.dInput!));
        [...b.grads.values()].forEach((g, j) => {
          own.push(r(g));
          grads.set([...b.grads.keys()][j]!, chosen ? outer[(dx ? 1 : 0) + j]! : r(g));
        });
      } else if (dx) own.push(dh!); // identity candidate: d input = d output
      if (!chosen) {
        if (dx) outer.push(own[0]!);
        return undefined;
      }
      return branchGraph(`L${l}.${k}.b`, parts, Array.from({ length: outer.length }, (_, j) => own[j] ?? PAD));
    });
    if (chosen) {
      const conds = u.candidates.slice(0, -1).map((_, k) => `L${l}.is${k}`);
      main.nodes.push(ifChain(`L${l}.b`, conds, branchGraphs.map((g) => g!), outer));
    }
    dh = dx ? outer[0] : undefined;
  }

  // Output shapes (the ONNX checker wants them on the main graph): a layer's slots hold [C]
  // tensors of whichever candidate ran, or the empty pad, so their length is symbolic.
  const outputShapes = new Map<string, Dim[]>([[loss, []], [logits, ["N", plan.classes]]]);
  for (const [q, g] of fixed.grads) outputShapes.set(g, p.index.initializers.get(q)!.dims.map(Number));
  for (const s of fixed.stats) outputShapes.set(s.mean, statShape(p.shapes, s)).set(s.var, statShape(p.shapes, s));
  for (const b of layers.flatMap((l) => l.branches)) {
    const slot = (o: string) => outputShapes.set(o, outputShapes.get(o) ?? [`${o}.length`]);
    for (const g of b.grads.values()) slot(g);
    for (const s of b.stats) slot(s.mean), slot(s.var);
  }
  const graph = make.graph({
    name: "bnnas.train_step",
    node: main.nodes,
    initializer: main.initializers,
    input: inputs,
    output: [...outputShapes].map(([o, shape]) => valueInfo(o, shape)),
  });
  return { model: makeModel(graph), x, labels, params, layers, fixed, loss, logits };
}
