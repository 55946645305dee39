/**
 * The blocks a latency table measures, cut out of a supernet as standalone models in inference
 * form: the stem (data input -> first choice layer's input), every candidate of every layer (its
 * layer's input -> its output), any fixed part between two layers, and the head (last layer's
 * output -> logits). Each block's BatchNorms are made inference-mode and folded into their Convs,
 * as `extract-subnet --fold-bn` writes a subnet, so a block runs exactly the kernels the same
 * part of an extracted subnet runs.
 */
import { make, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from "../onnx/proto.js";
import { GraphIndex } from "../onnx/graph.js";
import { DataType } from "../onnx/proto.js";
import { inferShapes } from "../opset/infer.js";
import type { Shape } from "../opset/types.js";
import { foldBatchNorms, inferenceModeBatchNorms } from "../extract/batchnorm.js";
import { nodeReads, pruneGraph } from "../extract/prune.js";
import { ModelFormatError } from "../errors.js";
import type { SupernetStructure } from "../structure/structure.js";

export type BlockKind = "stem" | "candidate" | "fixed" | "head";

export interface Block {
  /** Stable key in the table: `stem`, `head`, `fixed.<l>` (between layer l and l+1), `layer<l>.<position>.<name>`. */
  key: string;
  kind: BlockKind;
  /** For candidates: layer index and mask position. */
  layer?: number;
  position?: number;
  name?: string;
  /** Input tensor name and its shape at the measured batch. */
  input: { name: string; shape: number[] };
  /** Output tensor name and its shape at the measured batch. */
  output: { name: string; shape: number[] };
  /**
   * The standalone model; null when the block computes nothing (a skip candidate, whose output is
   * its input, or a layer that reads the previous one's output directly): it costs nothing in an
   * extracted subnet either, where it disappears.
   */
  model: ModelProto | null;
}

/** A standalone model computing `to` from `from` (null when they are the same tensor). */
function cutBlock(source: ModelProto, index: GraphIndex, from: string, to: string, shape: number[], outShape: number[], label: string, file: string): ModelProto | null {
  if (from === to) return null;
  const graph = source.graph!;
  const needed = new Set<NodeProto>();
  const stack = [to];
  const seen = new Set<string>();
  const inputs = new Set(graph.input.map((i) => i.name));
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t) || t === from) continue;
    seen.add(t);
    const p = index.producer.get(t);
    if (!p) {
      if (index.initializers.has(t)) continue;
      const what = inputs.has(t) ? `graph input '${t}'` : `tensor '${t}', which nothing produces`;
      throw new ModelFormatError(file, `${label} (from '${from}' to '${to}') depends on ${what}: the block does not stand alone`);
    }
    if (needed.has(p)) continue;
    needed.add(p);
    for (const i of nodeReads(p)) stack.push(i);
  }
  // Shallow copies: inference mode and folding reassign a node's arrays, never the supernet's.
  const nodes = index.topoOrder().filter((n) => needed.has(n)).map((n) => ({ ...n, input: [...n.input], output: [...n.output], attribute: [...n.attribute] }) as NodeProto);
  const initializers: TensorProto[] = [];
  for (const name of new Set(nodes.flatMap(nodeReads))) {
    const init = index.initializers.get(name);
    if (init) initializers.push(init);
  }
  const tensorType = (dims: number[]) => ({ tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } });
  const g: GraphProto = make.graph({
    name: label,
    node: nodes,
    initializer: initializers,
    input: [make.valueInfo({ name: from, type: tensorType(shape) })],
    output: [make.valueInfo({ name: to, type: tensorType(outShape) })],
  });
  inferenceModeBatchNorms(g);
  foldBatchNorms(g, file);
  pruneGraph(g);
  return make.model({ irVersion: source.irVersion, opsetImport: source.opsetImport, producerName: "bnnas-latency", graph: g });
}

/**
 * Every block of `structure` at batch `batch`. Shapes come from bnnas's shape inference over the
 * supernet with the batch fixed, so every block gets a static input shape.
 */
export function latencyBlocks(model: ModelProto, structure: SupernetStructure, batch: number, file = "<supernet>"): Block[] {
  const graph = model.graph!;
  const index = new GraphIndex(graph);
  const dataShape = structure.input.shape.map((d, k) => (k === 0 ? batch : d));
  if (dataShape.some((d) => typeof d !== "number")) throw new ModelFormatError(file, `the data input '${structure.input.name}' has a symbolic dimension besides the batch (${structure.input.shape.join("x")}); latency needs a static input shape`);
  const known = new Map<string, Shape>([[structure.input.name, dataShape as number[]]]);
  for (const l of structure.layers) if (!known.has(l.mask.input)) known.set(l.mask.input, declaredMask(graph, l.mask.input, structure));
  const shapes = inferShapes(graph, known);
  const shapeOf = (t: string): number[] => {
    const s = shapes.get(t);
    if (!s || s.some((d) => typeof d !== "number")) throw new ModelFormatError(file, `the shape of '${t}' is not static at batch ${batch}`);
    return s as number[];
  };
  const blocks: Block[] = [];
  const add = (b: Omit<Block, "model" | "output">, to: string) => {
    const output = { name: to, shape: shapeOf(to) };
    blocks.push({ ...b, output, model: cutBlock(model, index, b.input.name, to, b.input.shape, output.shape, b.key, file) });
  };
  const L = structure.layers.length;
  add({ key: "stem", kind: "stem", input: { name: structure.input.name, shape: dataShape as number[] } }, structure.layers[0]!.input);
  structure.layers.forEach((layer, l) => {
    const shape = shapeOf(layer.input);
    for (const c of layer.candidates) {
      add({ key: `layer${l}.${c.position}.${c.name}`, kind: "candidate", layer: l, position: c.position, name: c.name, input: { name: layer.input, shape } }, c.output);
    }
    if (l + 1 < L && structure.layers[l + 1]!.input !== layer.output) {
      add({ key: `fixed.${l}`, kind: "fixed", input: { name: layer.output, shape: shapeOf(layer.output) } }, structure.layers[l + 1]!.input);
    }
  });
  const last = structure.layers[L - 1]!;
  add({ key: "head", kind: "head", input: { name: last.output, shape: shapeOf(last.output) } }, structure.output);
  return blocks;
}

/** A mask input's shape (declared, else [K] for a vector mask): shape inference needs every input. */
function declaredMask(graph: GraphProto, name: string, structure: SupernetStructure): Shape {
  const vi = graph.input.find((i) => i.name === name);
  const dims = vi?.type?.tensorType?.shape?.dim;
  if (dims && dims.every((d) => d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0)) return dims.map((d) => Number(d.dimValue));
  const layer = structure.layers.find((l) => l.mask.input === name)!;
  const k = Math.max(...layer.candidates.map((c) => c.position)) + 1;
  return layer.mask.kind === "matrix" ? [structure.layers.length, k] : [k];
}
