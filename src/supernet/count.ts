/**
 * MACs and params of a foreign (PyTorch) supernet, counted from its graph: per candidate and for
 * the fixed part (everything outside the candidate branches). bnnas files carry these numbers in
 * their manifest; this is for files that do not.
 *
 * Counting convention (as the BN-NAS FLOPs table, and as bnnas's own manifests count):
 * MACs = multiply-accumulates of Conv, Gemm and MatMul for one sample; params = weights and biases
 * of Conv/Gemm/MatMul (a bias added right after a MatMul included) and BatchNorm gamma and beta.
 * Shapes come from the one shape inference (src/opset/infer.ts), starting from the data input's
 * shape with batch 1; each op's cost rule lives in its op module.
 */
import type { ModelProto, NodeProto } from "../onnx/proto.js";
import { GraphIndex, staticShape } from "../onnx/graph.js";
import { elementCount, tensorDims } from "../onnx/tensor.js";
import { inferTensors, ShapeError } from "../opset/infer.js";
import { lookupOp } from "../opset/registry.js";
import type { NodeCost, Shape } from "../opset/types.js";
import type { SupernetStructure } from "../structure/structure.js";
import { layerBranches } from "./import.js";

/**
 * Infers the shape of every tensor from the data input (batch 1; other symbolic dims count as 1)
 * and returns the cost of each node. Throws an Error naming the op for ops it cannot infer.
 */
export function nodeCosts(index: GraphIndex, dataInput: string): Map<NodeProto, NodeCost> {
  const known = new Map<string, Shape>();
  for (const i of index.feeds) known.set(i.name, (staticShape(i) ?? []).map((d, k) => (k === 0 && i.name === dataInput ? 1 : typeof d === "number" ? d : 1)));
  const infos = countingShapes(index, known);
  const shapeOf = (t: string) => infos.get(t)!.shape as number[];
  const costs = new Map<NodeProto, NodeCost>();
  for (const node of index.topoOrder()) {
    const rule = lookupOp(node.opType).cost;
    costs.set(node, rule ? rule({ node, shape: shapeOf, isInitializer: (t) => !!t && index.initializers.has(t), producerOp: (t) => index.producer.get(t)?.opType }) : { macs: 0, params: [] });
  }
  return costs;
}

/** The one shape inference (src/opset/infer.ts), its failures worded as counting failures. */
function countingShapes(index: GraphIndex, known: ReadonlyMap<string, Shape>) {
  try {
    return inferTensors(index.graph, known);
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    throw new Error(e.unknownOp ? `cannot count op ${e.opType} (node '${e.node}'): bnnas's shape inference does not know it` : `cannot count ${e.message}`);
  }
}

export interface CostSummary {
  /** Per layer, per candidate (in the structure's candidate order). */
  candidates: { macs: number; params: number }[][];
  fixed: { macs: number; params: number };
}

/** Counts the costs of every candidate and of the fixed part. */
export function countCosts(model: ModelProto, structure: SupernetStructure): CostSummary {
  const index = new GraphIndex(model.graph!);
  const costs = nodeCosts(index, structure.input.name);
  const sizeOf = (name: string) => elementCount(tensorDims(index.initializers.get(name)!));
  const total = (nodes: Iterable<NodeProto>) => {
    let macs = 0;
    const params = new Set<string>();
    for (const n of nodes) {
      const c = costs.get(n);
      if (!c) continue;
      macs += c.macs;
      for (const p of c.params) params.add(p);
    }
    let count = 0;
    for (const p of params) count += sizeOf(p);
    return { macs, params: count };
  };
  const inCandidates = new Set<NodeProto>();
  const candidates = structure.layers.map((layer) => {
    const branchOf = layerBranches(index, layer.input);
    return layer.candidates.map((c) => {
      const nodes = branchOf(c.output);
      for (const n of nodes) inCandidates.add(n);
      return total(nodes);
    });
  });
  const fixedNodes = model.graph!.node.filter((n) => !inCandidates.has(n));
  return { candidates, fixed: total(fixedNodes) };
}

/** Counts and stores the costs in the structure (candidate macs/params and `fixed`). */
export function countStructure(model: ModelProto, structure: SupernetStructure): CostSummary {
  const summary = countCosts(model, structure);
  structure.layers.forEach((layer, l) => layer.candidates.forEach((c, k) => Object.assign(c, summary.candidates[l]![k]!)));
  structure.fixed = summary.fixed;
  return summary;
}
