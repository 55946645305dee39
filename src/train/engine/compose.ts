/**
 * Graph composition for the one-session training step: copy a block model (blocks.ts) into a
 * bigger graph with its tensors renamed, and choose between block copies with a chain of ONNX
 * `If` nodes. Each copy owns its initializers (renamed with the copy's prefix) rather than
 * reading the supernet's from an outer scope: onnxruntime prepacks and re-lays out (NCHWc)
 * initializers only inside the graph that holds them; a conv inside an If branch reading an
 * outer-scope weight was measured 1.6x slower on fmnist-small (371 vs 229 ms for one layer).
 */
import { make, AttrType, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from "../../onnx/proto.js";
import { valueInfo } from "../../onnx/builder.js";

/** Nodes and initializers being assembled into one graph (the main graph or an If branch). */
export interface GraphParts {
  nodes: NodeProto[];
  initializers: TensorProto[];
}

export function emptyParts(): GraphParts {
  return { nodes: [], initializers: [] };
}

function clone<T extends object>(m: T, patch: Partial<T>): T {
  return Object.assign(Object.create(Object.getPrototypeOf(m) as object) as T, m, patch);
}

/**
 * Appends `model`'s nodes and initializers to `into`. Each of the model's graph inputs must be
 * wired to a tensor of the target scope (`wire`: input name -> outer name); every other name
 * gets `prefix`. Returns the renaming, to find the copy's outputs.
 */
export function inlineModel(into: GraphParts, model: ModelProto, prefix: string, wire: ReadonlyMap<string, string>): (name: string) => string {
  const g = model.graph!;
  for (const i of g.input) if (!wire.has(i.name)) throw new Error(`compose: input '${i.name}' of ${g.name} is not wired`);
  const rename = (n: string) => (!n ? n : wire.get(n) ?? prefix + n);
  for (const t of g.initializer) into.initializers.push(clone(t, { name: prefix + t.name }));
  for (const n of g.node) {
    if (n.attribute.some((a) => a.g || a.graphs?.length)) throw new Error(`compose: node '${n.name}' of ${g.name} has a subgraph`);
    into.nodes.push(clone(n, { name: prefix + (n.name || n.output[0]), input: n.input.map(rename), output: n.output.map(rename) }));
  }
  return rename;
}

/**
 * A branch graph returning `outputs` (names in `parts` or the outer scope). ONNX wants a graph's
 * outputs produced inside it and distinct (onnxruntime leaves a repeated subgraph output unset),
 * so an outer tensor, or a name already returned, goes through an Identity.
 */
export function branchGraph(name: string, parts: GraphParts, outputs: readonly string[]): GraphProto {
  const produced = new Set(parts.nodes.flatMap((n) => n.output));
  const nodes = [...parts.nodes];
  const returned = new Set<string>();
  const outs = outputs.map((o, j) => {
    if (produced.has(o) && !returned.has(o)) return returned.add(o), o;
    const copy = `${name}/out${j}`;
    nodes.push(make.node({ opType: "Identity", name: copy, input: [o], output: [copy] }));
    produced.add(copy);
    return copy;
  });
  return make.graph({ name, node: nodes, initializer: parts.initializers, input: [], output: outs.map((o) => valueInfo(o, undefined)) });
}

/**
 * `If(conds[0], branches[0], If(conds[1], branches[1], ... branches[K-1]))`: runs branch k where
 * conds[k] is the first true one (the last branch otherwise). ONNX has no switch; a chain costs
 * one cheap If per level. Branch outputs must agree in count and type, not in shape.
 */
export function ifChain(name: string, conds: readonly string[], branches: readonly GraphProto[], outputs: readonly string[]): NodeProto {
  if (branches.length < 2 || conds.length !== branches.length - 1) throw new Error(`compose: ${name} needs one condition fewer than its ${branches.length} branches`);
  const level = (k: number, outs: readonly string[]): NodeProto => {
    let elseBranch: GraphProto;
    if (k + 2 === branches.length) elseBranch = branches[k + 1]!;
    else {
      const inner = outs.map((_, j) => `${name}.${k + 1}/out${j}`);
      elseBranch = make.graph({ name: `${name}.${k}.else`, node: [level(k + 1, inner)], initializer: [], input: [], output: inner.map((o) => valueInfo(o, undefined)) });
    }
    return make.node({
      opType: "If",
      name: `${name}.${k}`,
      input: [conds[k]!],
      output: [...outs],
      attribute: [make.attribute({ name: "then_branch", type: AttrType.GRAPH, g: branches[k]! }), make.attribute({ name: "else_branch", type: AttrType.GRAPH, g: elseBranch })],
    });
  };
  return level(0, outputs);
}
