/**
 * Read-only views of an ONNX graph: who produces and consumes each tensor, constants,
 * topological order, attribute access, and structural validation of untrusted files.
 */
import { AttrType, num, type AttributeProto, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from "./proto.js";
import { readTensor, type Tensor } from "./tensor.js";

export class GraphIndex {
  readonly producer = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly initializers = new Map<string, TensorProto>();
  /** Graph inputs that are not initializers (what a caller must feed). */
  readonly feeds: ValueInfoProto[];
  readonly nodeByName = new Map<string, NodeProto>();

  constructor(readonly graph: GraphProto) {
    for (const t of graph.initializer) this.initializers.set(t.name, t);
    this.feeds = graph.input.filter((i) => !this.initializers.has(i.name));
    for (const n of graph.node) {
      if (n.name) this.nodeByName.set(n.name, n);
      for (const o of n.output) if (o) this.producer.set(o, n);
      for (const i of n.input) {
        if (!i) continue;
        let list = this.consumers.get(i);
        if (!list) this.consumers.set(i, (list = []));
        list.push(n);
      }
    }
  }

  /** The constant value of a tensor (an initializer or a Constant node's output), if it is one. */
  constant(name: string): Tensor | undefined {
    const init = this.initializers.get(name);
    if (init) return readTensor(init);
    const p = this.producer.get(name);
    if (p && p.opType === "Constant") {
      const a = p.attribute.find((x) => x.name === "value");
      if (a?.t) return readTensor(a.t);
      const f = p.attribute.find((x) => x.name === "value_float");
      if (f) return { dims: [], data: Float32Array.of(f.f) };
      const i = p.attribute.find((x) => x.name === "value_int");
      if (i) return { dims: [], data: BigInt64Array.of(BigInt(num(i.i))) };
      const is = p.attribute.find((x) => x.name === "value_ints");
      if (is) return { dims: [is.ints.length], data: BigInt64Array.from(is.ints.map((v) => BigInt(num(v)))) };
      const fs = p.attribute.find((x) => x.name === "value_floats");
      if (fs) return { dims: [fs.floats.length], data: Float32Array.from(fs.floats) };
    }
    return undefined;
  }

  /** Nodes in an order where every node comes after the producers of its inputs; throws on a cycle. */
  topoOrder(): NodeProto[] {
    const indeg = new Map<NodeProto, number>();
    for (const n of this.graph.node) {
      let d = 0;
      for (const i of n.input) if (i && this.producer.has(i)) d++;
      indeg.set(n, d);
    }
    const ready = this.graph.node.filter((n) => indeg.get(n) === 0);
    const order: NodeProto[] = [];
    while (ready.length) {
      const n = ready.shift()!;
      order.push(n);
      for (const o of n.output) {
        for (const c of this.consumers.get(o) ?? []) {
          for (const i of c.input) {
            if (i !== o) continue;
            const d = indeg.get(c)! - 1;
            indeg.set(c, d);
            if (d === 0) ready.push(c);
          }
        }
      }
    }
    if (order.length !== this.graph.node.length) {
      const stuck = this.graph.node.find((n) => (indeg.get(n) ?? 0) > 0);
      throw new Error(`the graph has a cycle (through node '${stuck?.name || stuck?.opType}')`);
    }
    return order;
  }

  /** The tensors `tensor` depends on through producers, itself included. */
  upstreamTensors(tensor: string): Set<string> {
    const seen = new Set<string>([tensor]);
    const stack = [tensor];
    while (stack.length) {
      const p = this.producer.get(stack.pop()!);
      if (!p) continue;
      for (const i of p.input) if (i && !seen.has(i)) { seen.add(i); stack.push(i); }
    }
    return seen;
  }

  /** All nodes whose outputs `tensor` depends on, not crossing `stopAt` tensors. */
  ancestors(tensor: string, stopAt: ReadonlySet<string> = new Set()): Set<NodeProto> {
    const seen = new Set<NodeProto>();
    const stack = [tensor];
    while (stack.length) {
      const t = stack.pop()!;
      if (stopAt.has(t)) continue;
      const p = this.producer.get(t);
      if (!p || seen.has(p)) continue;
      seen.add(p);
      for (const i of p.input) if (i) stack.push(i);
    }
    return seen;
  }
}

/** A value's declared shape: numbers for fixed dims, the name of a symbolic dim, "?" for an unknown one; undefined without a shape. */
export function staticShape(vi: ValueInfoProto): (number | string)[] | undefined {
  const dims = vi.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : "?"));
}

export function getAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = getAttr(node, name);
  return a && a.type === AttrType.INT ? num(a.i) : fallback;
}

export function attrInts(node: NodeProto, name: string, fallback: number[]): number[] {
  const a = getAttr(node, name);
  return a && a.type === AttrType.INTS ? a.ints.map((v) => num(v)) : fallback;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = getAttr(node, name);
  return a && a.type === AttrType.FLOAT ? a.f : fallback;
}

export function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = getAttr(node, name);
  return a && a.type === AttrType.STRING ? new TextDecoder().decode(a.s) : fallback;
}

/**
 * Structural checks for untrusted graphs, so later stages can rely on them: every node input is
 * defined, no tensor is produced twice, there is no cycle, every output is produced. Returns a
 * problem description or undefined.
 */
export function graphProblem(graph: GraphProto): string | undefined {
  const defined = new Set<string>();
  for (const i of graph.input) defined.add(i.name);
  for (const t of graph.initializer) defined.add(t.name);
  const produced = new Set<string>();
  for (const n of graph.node) {
    if (!n.opType) return `a node '${n.name}' has no op_type`;
    for (const o of n.output) {
      if (!o) continue;
      if (produced.has(o) || defined.has(o)) return `tensor '${o}' is produced twice`;
      produced.add(o);
    }
  }
  for (const n of graph.node) {
    for (const i of n.input) if (i && !defined.has(i) && !produced.has(i)) return `node '${n.name || n.opType}' reads '${i}', which nothing defines`;
  }
  for (const o of graph.output) if (!defined.has(o.name) && !produced.has(o.name)) return `graph output '${o.name}' is never produced`;
  try {
    new GraphIndex(graph).topoOrder();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}
