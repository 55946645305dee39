/**
 * The one shape inference: walks a graph in topological order and asks each node's op module
 * (registry.ts) for its outputs. Per tensor it tracks a shape (numbers, or strings for symbolic
 * dims such as the dynamic batch) and, for small integer tensors, their values, so the shape
 * arithmetic of PyTorch exports (Shape -> Gather -> Concat -> Reshape) resolves to constants.
 *
 * The backward builder runs it with a symbolic batch: gradient rules need shapes to undo
 * broadcasting, to size ConvTranspose's output_padding and to count reduced elements, and
 * computing them here, once per model, keeps every rule free of runtime Shape arithmetic where a
 * static answer exists. Cost counting (supernet/count.ts) runs it with batch 1.
 */
import { GraphIndex } from "../onnx/graph.js";
import { DataType, type GraphProto, type NodeProto, type ValueInfoProto } from "../onnx/proto.js";
import { readTensor, tensorDims } from "../onnx/tensor.js";
import { findOp } from "./registry.js";
import { knownInts } from "./shape-util.js";
import { ShapeError, type InferContext, type Shape, type TensorInfo } from "./types.js";

export { ShapeError } from "./types.js";

/** A graph input's declared shape; a dim without a static value becomes its dim_param (or `<input>_d<k>`). */
export function declaredShape(vi: ValueInfoProto): Shape | undefined {
  const dims = vi.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((d, k) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.dimParam || `${vi.name}_d${k}`));
}

const nodeLabel = (node: NodeProto) => node.name || node.opType;

/**
 * Infers every tensor of `graph`: `known` gives the shapes of graph inputs (others take their
 * declared shapes); initializers have theirs. Throws a ShapeError naming the first node whose
 * outputs cannot be inferred (unknownOp set when bnnas does not know its op type).
 */
export function inferTensors(graph: GraphProto, known: ReadonlyMap<string, Shape> = new Map()): Map<string, TensorInfo> {
  const index = new GraphIndex(graph);
  const infos = new Map<string, TensorInfo>();
  for (const [name, shape] of known) infos.set(name, { shape });
  for (const t of graph.initializer) {
    const isInt = t.dataType === DataType.INT64 || t.dataType === DataType.INT32;
    infos.set(t.name, { shape: tensorDims(t), value: isInt ? knownInts(readTensor(t)) : undefined });
  }
  for (const vi of graph.input) {
    if (infos.has(vi.name)) continue;
    const shape = declaredShape(vi);
    if (shape) infos.set(vi.name, { shape });
  }
  for (const node of index.topoOrder()) {
    const def = findOp(node.opType);
    if (!def) throw new ShapeError(nodeLabel(node), node.opType, `bnnas cannot infer shapes for op type ${node.opType}`, true);
    const fail = (detail: string): never => {
      throw new ShapeError(nodeLabel(node), node.opType, detail);
    };
    const input = (k: number): TensorInfo => {
      const name = node.input[k];
      const info = name ? infos.get(name) : undefined;
      return info ?? fail(`shape of input ${k} ('${name ?? ""}') is unknown`);
    };
    const ctx: InferContext = {
      node,
      input,
      shape: (k) => input(k).shape,
      ints: (k) => (node.input[k] ? input(k).value : undefined),
      constant: (t) => index.constant(t),
      fail,
    };
    def.infer(ctx).forEach((info, k) => {
      const o = node.output[k];
      if (o && info) infos.set(o, info);
    });
  }
  return infos;
}

/** The shape of every tensor in `graph` (see inferTensors). */
export function inferShapes(graph: GraphProto, known: ReadonlyMap<string, Shape> = new Map()): Map<string, Shape> {
  return new Map([...inferTensors(graph, known)].map(([name, info]) => [name, info.shape]));
}
