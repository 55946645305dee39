/**
 * Emits forward nodes into a training graph: every node is copied as is, except
 * BatchNormalization, which is replaced by its training-mode lowering (batch statistics).
 */
import type { GraphBuilder } from "../onnx/builder.js";
import { make, type NodeProto } from "../onnx/proto.js";
import { lowerBatchNorm, type LoweredBatchNorm } from "../opset/ops/batch-normalization-lowering.js";
import type { Shape } from "../opset/types.js";

/** Returns the lowered BatchNorms keyed by BN node name (or output name when unnamed). */
export function emitTrainingForward(b: GraphBuilder, nodes: readonly NodeProto[], shapes: ReadonlyMap<string, Shape>): Map<string, LoweredBatchNorm> {
  const lowered = new Map<string, LoweredBatchNorm>();
  b.reserve(nodes.flatMap((n) => [n.name, ...n.output]).filter(Boolean));
  for (const n of nodes) {
    if (n.opType === "BatchNormalization") {
      const shape = shapes.get(n.input[0]!);
      if (!shape) throw new Error(`autodiff: BatchNormalization '${n.name}': the shape of its input is unknown`);
      lowered.set(n.name || n.output[0]!, lowerBatchNorm(b, n, shape));
    } else {
      b.nodes.push(make.node({ name: n.name, opType: n.opType, domain: n.domain, input: [...n.input], output: [...n.output], attribute: n.attribute }));
    }
  }
  return lowered;
}
