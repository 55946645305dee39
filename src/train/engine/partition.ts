/**
 * Cuts a supernet into the pieces a single-path training step runs: the stem (data input ->
 * first layer input), fixed segments between layers (usually empty: layer l's output is layer
 * l+1's input), one segment per candidate (layer input -> candidate output, before the mask
 * multiplication) and the head (last layer output -> logits). With a one-hot mask the layer
 * output equals the chosen candidate's output, so the mask multiplication and the sum are not
 * run at all.
 */
import { GraphIndex } from "../../onnx/graph.js";
import type { GraphProto, ModelProto, NodeProto, TensorProto } from "../../onnx/proto.js";
import { make } from "../../onnx/proto.js";
import { inferShapes } from "../../opset/infer.js";
import type { Shape } from "../../opset/types.js";
import type { SupernetStructure } from "../../structure/structure.js";
import { ArchError, BnnasError } from "../../errors.js";

export interface BatchNormOnSegment {
  node: string;
  output: string;
  scale: string;
  bias: string;
}

export interface Segment {
  /** Stable id, also the session cache key prefix: `stem`, `head`, `fixed.<l>`, `layer.<l>.pos.<k>`. */
  id: string;
  input: string;
  output: string;
  /** Nodes in topological order. */
  nodes: NodeProto[];
  /** Initializers the nodes read. */
  initializers: TensorProto[];
  batchNorms: BatchNormOnSegment[];
}

export interface Partition {
  stem: Segment;
  /** fixed[l]: the segment between layer l-1's output and layer l's input (null when they are the same tensor); fixed[0] is unused. */
  fixed: (Segment | null)[];
  /** candidates[l].get(position): the candidate's segment, or null for an identity candidate. */
  candidates: Map<number, Segment | null>[];
  head: Segment;
  /** Static shapes of every tensor in every segment (batch symbolic). */
  shapes: Map<string, Shape>;
  index: GraphIndex;
}

function segment(index: GraphIndex, id: string, input: string, output: string, what: string): Segment {
  const members = index.ancestors(output, new Set([input]));
  const nodes = index.topoOrder().filter((n) => members.has(n));
  const produced = new Set(nodes.flatMap((n) => n.output));
  const used = new Set<string>();
  for (const n of nodes)
    for (const i of n.input) {
      if (!i || i === input || produced.has(i)) continue;
      if (!index.initializers.has(i)) throw new BnnasError(`${what} reads '${i}', which is neither its input '${input}' nor a constant; bnnas can only train supernets whose candidates depend on the layer input alone`);
      used.add(i);
    }
  const batchNorms = nodes
    .filter((n) => n.opType === "BatchNormalization")
    .map((n) => ({ node: n.name || n.output[0]!, output: n.output[0]!, scale: n.input[1]!, bias: n.input[2]! }));
  return { id, input, output, nodes, initializers: [...used].map((u) => index.initializers.get(u)!), batchNorms };
}

export function partitionSupernet(model: ModelProto, structure: SupernetStructure): Partition {
  const graph = model.graph!;
  const index = new GraphIndex(graph);
  const layers = structure.layers;
  // A standalone subnet has no choice layers: its stem is empty and its head is the whole network.
  const stem = segment(index, "stem", structure.input.name, layers[0]?.input ?? structure.input.name, "the stem");
  const fixed: (Segment | null)[] = layers.map((l, i) => (i === 0 || l.input === layers[i - 1]!.output ? null : segment(index, `fixed.${i}`, layers[i - 1]!.output, l.input, `the fixed part before layer ${l.label}`)));
  const candidates = layers.map((l, li) => {
    const m = new Map<number, Segment | null>();
    for (const c of l.candidates) m.set(c.position, c.output === l.input ? null : segment(index, `layer.${li}.pos.${c.position}`, l.input, c.output, `layer ${l.label} candidate '${c.name}'`));
    return m;
  });
  const head = segment(index, "head", layers.at(-1)?.output ?? stem.output, structure.output, "the head");

  // Shapes, segment by segment, from the data input's declared shape.
  const shapes = new Map<string, Shape>();
  const infer = (seg: Segment, inputShape: Shape) => {
    const g: GraphProto = make.graph({ name: seg.id, node: seg.nodes, initializer: seg.initializers, input: [], output: [] });
    for (const [k, v] of inferShapes(g, new Map([[seg.input, inputShape]]))) shapes.set(k, v);
    return shapes.get(seg.output)!;
  };
  const xShape: Shape = structure.input.shape.map((d, i) => (i === 0 ? "N" : d));
  let h = infer(stem, xShape);
  layers.forEach((l, li) => {
    const f = fixed[li];
    if (f) h = infer(f, h);
    shapes.set(l.input, h);
    let out: Shape | undefined;
    for (const seg of candidates[li]!.values()) {
      const s = seg ? infer(seg, h) : h;
      if (out && s.join(",") !== out.join(",")) throw new BnnasError(`layer ${l.label}: candidates disagree on the output shape ([${out}] vs [${s}])`);
      out = s;
    }
    h = out ?? h;
    shapes.set(l.output, h);
  });
  infer(head, h);
  return { stem, fixed, candidates, head, shapes, index };
}

/** The segments an architecture runs, in order (identity candidates are skipped), checking the arch. */
export function pathSegments(p: Partition, structure: SupernetStructure, arch: readonly number[]): Segment[] {
  const layers = structure.layers;
  if (arch.length !== layers.length) throw new ArchError(`architecture has ${arch.length} entries; the supernet has ${layers.length} layers`);
  const out: Segment[] = p.stem.nodes.length ? [p.stem] : [];
  arch.forEach((pos, li) => {
    const f = p.fixed[li];
    if (f) out.push(f);
    const m = p.candidates[li]!;
    if (!m.has(pos)) throw new ArchError(`layer ${layers[li]!.label}: position ${pos} is not a candidate (allowed: ${[...m.keys()].join(", ")})`);
    const seg = m.get(pos)!;
    if (seg) out.push(seg);
  });
  out.push(p.head);
  return out;
}
