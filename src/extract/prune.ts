/**
 * Dead-code elimination for a graph: keeps only the nodes the graph outputs depend on, and only
 * the initializers and inputs those nodes read. Extraction relies on it to drop every candidate
 * that was not chosen, the mask Gather/Mul/Sum plumbing and the mask inputs themselves, without
 * having to know what they look like.
 */
import type { GraphProto, NodeProto } from "../onnx/proto.js";
import { GraphIndex } from "../onnx/graph.js";

/** Every tensor name a node reads, including outer-scope names used inside If/Loop/Scan bodies. */
export function nodeReads(node: NodeProto): string[] {
  const names = node.input.filter((i) => i !== "");
  const visit = (g: GraphProto | null | undefined) => {
    if (!g) return;
    for (const n of g.node) names.push(...nodeReads(n));
  };
  for (const a of node.attribute) {
    visit(a.g);
    for (const sg of a.graphs) visit(sg);
  }
  return names;
}

export interface PruneResult {
  removedNodes: number;
  removedInitializers: number;
  removedInputs: string[];
}

/**
 * Removes, in place, nodes whose outputs no graph output needs, then unused initializers and
 * inputs. Nodes keep a topological order. The graph's value_info is dropped: entries for removed
 * tensors would dangle, and shapes recorded with a fixed batch would contradict a dynamic one
 * (onnxruntime infers every intermediate shape anyway).
 */
export function pruneGraph(graph: GraphProto): PruneResult {
  const index = new GraphIndex(graph);
  const needed = new Set<NodeProto>();
  const stack = graph.output.map((o) => o.name);
  const seenTensor = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seenTensor.has(t)) continue;
    seenTensor.add(t);
    const p = index.producer.get(t);
    if (!p || needed.has(p)) continue;
    needed.add(p);
    for (const i of nodeReads(p)) stack.push(i);
  }
  const nodesBefore = graph.node.length;
  const keptNodes = index.topoOrder().filter((n) => needed.has(n));
  const read = new Set<string>(graph.output.map((o) => o.name));
  for (const n of keptNodes) for (const i of nodeReads(n)) read.add(i);
  const initBefore = graph.initializer.length;
  graph.node = keptNodes;
  graph.initializer = graph.initializer.filter((t) => read.has(t.name));
  const removedInputs = graph.input.filter((i) => !read.has(i.name) && !index.initializers.has(i.name)).map((i) => i.name);
  graph.input = graph.input.filter((i) => read.has(i.name));
  graph.valueInfo = [];
  return { removedNodes: nodesBefore - keptNodes.length, removedInitializers: initBefore - graph.initializer.length, removedInputs };
}
