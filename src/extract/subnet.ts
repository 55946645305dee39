/**
 * Subnet extraction: from a supernet and an architecture, a standalone model that computes only
 * the chosen path. Per layer, whatever read the masked sum now reads the chosen candidate's
 * output; everything no output depends on any more (the other candidates, Gather/Mul/Sum, the
 * mask inputs, their initializers) is then removed by dead-code elimination, so the same code
 * works for bnnas and PyTorch supernets.
 */
import { make, type GraphProto, type ModelProto, type NodeProto } from "../onnx/proto.js";
import { cloneForEditing } from "../onnx/clone.js";
import type { SupernetStructure } from "../structure/structure.js";
import { ModelFormatError } from "../errors.js";
import { nodeReads, pruneGraph } from "./prune.js";
import { foldBatchNorms, inferenceModeBatchNorms, type FoldResult } from "./batchnorm.js";
import { chosenCandidates } from "./masks.js";

export interface ExtractOptions {
  /** Fold each BatchNormalization into the preceding Conv where that is exact. */
  foldBn?: boolean;
  /** Name of the supernet file, for error messages. */
  file?: string;
  /** Name of the dynamic batch dimension (default "batch"). */
  batchDim?: string;
}

export interface ExtractResult {
  model: ModelProto;
  /** Names of the chosen candidates, per layer. */
  names: string[];
  removedNodes: number;
  removedInitializers: number;
  fold?: FoldResult;
}

function renameInputs(node: NodeProto, resolve: (t: string) => string): void {
  node.input = node.input.map((i) => (i ? resolve(i) : i));
  for (const a of node.attribute) {
    const visit = (g: GraphProto | null | undefined) => {
      if (!g) return;
      for (const n of g.node) renameInputs(n, resolve);
    };
    visit(a.g);
    for (const sg of a.graphs) visit(sg);
  }
}

/** Makes the first dim of the data input and of every output symbolic. */
function dynamicBatch(graph: GraphProto, inputName: string, batchDim: string): void {
  const tensors = [...graph.input.filter((i) => i.name === inputName), ...graph.output];
  for (const t of tensors) {
    const dims = t.type?.tensorType?.shape?.dim;
    if (dims && dims.length > 0) dims[0] = { dimParam: batchDim };
  }
}

/**
 * Extracts the subnet `arch` (one mask position per layer) from `supernet`. The input model is
 * not modified. Throws ArchError for an architecture that does not fit, ModelFormatError when the
 * chosen path still depends on a mask (the structure does not describe the graph).
 */
export function extractSubnet(supernet: ModelProto, structure: SupernetStructure, arch: readonly number[], options: ExtractOptions = {}): ExtractResult {
  const file = options.file ?? "<supernet>";
  const chosen = chosenCandidates(structure, arch);
  const model = cloneForEditing(supernet);
  const graph = model.graph!;

  // Layer output -> chosen candidate's output. Chains (a skip candidate's output is its layer's
  // input, which may itself be a previous layer's output) are followed to the end.
  const subst = new Map<string, string>();
  structure.layers.forEach((layer, l) => subst.set(layer.output, chosen[l]!.output));
  const resolve = (t: string): string => {
    for (let i = 0; subst.has(t) && i <= subst.size; i++) t = subst.get(t)!;
    return t;
  };

  // The nodes computing masked sums go away explicitly (their outputs are renamed away, and a
  // graph output that was a layer output gets an Identity, which must be its only producer).
  const sumOutputs = new Set(structure.layers.map((l) => l.output));
  graph.node = graph.node.filter((n) => !n.output.some((o) => sumOutputs.has(o)));
  for (const n of graph.node) renameInputs(n, resolve);
  for (const out of graph.output) {
    const src = resolve(out.name);
    if (src !== out.name) graph.node.push(make.node({ name: `${out.name}.subnet_identity`, opType: "Identity", input: [src], output: [out.name] }));
  }

  const pruned = pruneGraph(graph);
  const masks = new Set(structure.layers.map((l) => l.mask.input));
  for (const n of graph.node) {
    const m = nodeReads(n).find((i) => masks.has(i));
    if (m) throw new ModelFormatError(file, `node '${n.name || n.opType}' on the chosen path still reads mask input '${m}': the supernet does not follow the mask convention (sum_k mask[k] * candidate_k)`);
  }
  if (!graph.input.some((i) => i.name === structure.input.name)) {
    throw new ModelFormatError(file, `the chosen path does not read the data input '${structure.input.name}'`);
  }
  // Graph inputs that are not data (e.g. an optional constant exposed as input) stay; only masks must go.
  inferenceModeBatchNorms(graph);
  let fold: FoldResult | undefined;
  if (options.foldBn) {
    fold = foldBatchNorms(graph, file);
    pruneGraph(graph);
  }
  dynamicBatch(graph, structure.input.name, options.batchDim ?? "batch");
  graph.name = `${graph.name || "supernet"}_subnet`;
  // The supernet's manifest describes the supernet; the caller attaches the subnet's (provenance.ts).
  model.metadataProps = [];
  return {
    model,
    names: chosen.map((c) => c.name),
    removedNodes: pruned.removedNodes,
    removedInitializers: pruned.removedInitializers,
    fold,
  };
}
