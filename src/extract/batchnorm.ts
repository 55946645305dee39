/**
 * BatchNormalization in an extracted subnet: forced into inference mode (normalise with the
 * trained running statistics), and optionally folded into the Conv that feeds it.
 */
import type { GraphProto, NodeProto } from "../onnx/proto.js";
import { GraphIndex, attrFloat, attrInt } from "../onnx/graph.js";
import { floatTensor, readFloats, tensorDims } from "../onnx/tensor.js";
import { ModelFormatError } from "../errors.js";

/**
 * Makes every BatchNormalization an inference-mode node with one output. A training-mode BN
 * (training_mode=1, opset >= 14) would normalise with batch statistics, so a subnet's output
 * would depend on the other images in the batch.
 */
export function inferenceModeBatchNorms(graph: GraphProto): number {
  let changed = 0;
  for (const n of graph.node) {
    if (n.opType !== "BatchNormalization" || n.domain) continue;
    const training = attrInt(n, "training_mode", 0) !== 0;
    if (training || n.output.length > 1) {
      n.attribute = n.attribute.filter((a) => a.name !== "training_mode");
      n.output = [n.output[0]!];
      changed++;
    }
  }
  return changed;
}

export interface FoldResult {
  folded: number;
  /** BatchNorms left alone, with the reason (their Conv output feeds something else, ...). */
  kept: { node: string; reason: string }[];
}

/** A name not in `taken`, derived from `base`; adds it to `taken`. */
function freshName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

/**
 * Folds each inference-mode BatchNormalization into the Conv producing its input, in place:
 * W'[c] = W[c] * s_c and b'_c = (b_c - mean_c) * s_c + beta_c with s_c = gamma_c / sqrt(var_c + eps),
 * computed in float64. Only when the Conv's output feeds this BN alone and is not a graph output
 * (otherwise the unnormalised value is still needed), and when weights and BN parameters are
 * constants. The Conv then writes the BN's output tensor directly. Unused old initializers are
 * left for pruneGraph to remove.
 */
export function foldBatchNorms(graph: GraphProto, file = "<model>"): FoldResult {
  const index = new GraphIndex(graph);
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const taken = new Set<string>([...index.initializers.keys(), ...graph.input.map((i) => i.name)]);
  for (const n of graph.node) for (const o of n.output) taken.add(o);
  const removed = new Set<NodeProto>();
  const result: FoldResult = { folded: 0, kept: [] };
  for (const bn of graph.node) {
    if (bn.opType !== "BatchNormalization" || bn.domain) continue;
    const label = bn.name || bn.output[0]!;
    const x = bn.input[0]!;
    const conv = index.producer.get(x);
    if (!conv || conv.opType !== "Conv" || conv.domain) {
      result.kept.push({ node: label, reason: "its input does not come from a Conv" });
      continue;
    }
    if ((index.consumers.get(x) ?? []).length !== 1 || graphOutputs.has(x)) {
      result.kept.push({ node: label, reason: "the Conv output also feeds other nodes" });
      continue;
    }
    const w = index.initializers.get(conv.input[1]!);
    const b = conv.input[2] ? index.initializers.get(conv.input[2]) : undefined;
    const params = bn.input.slice(1, 5).map((name) => index.initializers.get(name));
    if (!w || (conv.input[2] && !b) || params.some((p) => !p)) {
      result.kept.push({ node: label, reason: "its Conv weights or BN parameters are not constants" });
      continue;
    }
    const [gamma, beta, mean, variance] = params.map((p) => readFloats(p!));
    const weight = readFloats(w);
    const wDims = tensorDims(w);
    const cout = wDims[0]!;
    if ([gamma, beta, mean, variance].some((v) => v!.length !== cout)) {
      throw new ModelFormatError(file, `BatchNormalization '${label}' has ${gamma!.length} channels but Conv '${conv.name}' outputs ${cout}`);
    }
    const eps = attrFloat(bn, "epsilon", 1e-5);
    const perOut = weight.length / cout;
    const oldBias = b ? readFloats(b) : new Float32Array(cout);
    const newWeight = new Float32Array(weight.length);
    const newBias = new Float32Array(cout);
    for (let c = 0; c < cout; c++) {
      const s = gamma![c]! / Math.sqrt(variance![c]! + eps);
      for (let j = 0; j < perOut; j++) newWeight[c * perOut + j] = weight[c * perOut + j]! * s;
      newBias[c] = (oldBias[c]! - mean![c]!) * s + beta![c]!;
    }
    const wName = freshName(`${w.name}.bn_folded`, taken);
    const bName = freshName(`${b?.name ?? w.name.replace(/weight$/, "") + "bias"}.bn_folded`, taken);
    graph.initializer.push(floatTensor(wName, wDims, newWeight), floatTensor(bName, [cout], newBias));
    conv.input = [conv.input[0]!, wName, bName];
    conv.output = [bn.output[0]!];
    removed.add(bn);
    result.folded++;
  }
  graph.node = graph.node.filter((n) => !removed.has(n));
  return result;
}
