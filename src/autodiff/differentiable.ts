/**
 * Whether bnnas can train a supernet graph, checked once when the training engine is created,
 * before any model is built: the shapes the gradients need must be inferable with a symbolic
 * batch, every node a training step differentiates must have a gradient rule, and every
 * BatchNormalization must have static channel and spatial dims (its lowering and gradient divide
 * by H*W). A failure is a NotDifferentiableError (a user error, exit 1) naming the node, its op
 * type and what to do, instead of an internal error from deep inside the backward builder.
 *
 * The check assumes every BatchNorm trains (as under --bn all), so a file that passes trains
 * under every --bn mode.
 */
import type { GraphProto } from "../onnx/proto.js";
import { GraphIndex } from "../onnx/graph.js";
import { NotDifferentiableError } from "../errors.js";
import { inferShapes, ShapeError } from "../opset/infer.js";
import { differentiableOps, findOp } from "../opset/registry.js";
import type { Shape } from "../opset/types.js";
import { nodesToDifferentiate } from "./backward.js";

const STATIC_SHAPES_HELP = "bnnas trains with static channel and spatial dims: re-export with a dynamic batch axis only (torch.onnx.export(..., dynamic_axes={'<input>': {0: 'batch'}}))";

/** The data input (dim 0 is the batch, made symbolic) of the graph to check. */
export interface DataInput {
  name: string;
  shape: readonly (number | string)[];
}

/**
 * `weights` (default: only BatchNorm gamma/beta train) names the other tensors that train, e.g.
 * every conv and linear weight in full-weight training, whose gradients reach further back.
 */
export function checkDifferentiable(graph: GraphProto, input: DataInput, file?: string, weights: readonly string[] = []): void {
  const shapes = graphShapes(graph, input, file);
  const index = new GraphIndex(graph);
  const bns = graph.node.filter((n) => n.opType === "BatchNormalization");
  const wrt = [...bns.flatMap((n) => n.input.slice(1, 3)).filter(Boolean), ...weights];
  const { nodes } = nodesToDifferentiate(index.topoOrder(), wrt, graph.output.map((o) => o.name));
  for (const node of nodes) {
    const name = node.name || node.output[0]!;
    if (!findOp(node.opType)?.grad) {
      throw new NotDifferentiableError(
        name,
        node.opType,
        `bnnas has no gradient rule for ${node.opType}, and the node lies between a trained tensor and the loss; ` +
          `replace the op in the supernet with one that has a rule (${differentiableOps().join(", ")}) and re-export`,
        file,
      );
    }
  }
  for (const bn of bns) {
    const x = shapes.get(bn.input[0]!);
    if (x && x.slice(1).some((d) => typeof d !== "number")) {
      throw new NotDifferentiableError(bn.name || bn.output[0]!, bn.opType, `its input has shape [${x.join(", ")}]; ${STATIC_SHAPES_HELP}`, file);
    }
  }
}

function graphShapes(graph: GraphProto, input: DataInput, file?: string): Map<string, Shape> {
  try {
    return inferShapes(graph, new Map([[input.name, input.shape.map((d, i) => (i === 0 ? "N" : d))]]));
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    const help = e.unknownOp ? "replace the op in the supernet with one bnnas knows and re-export" : STATIC_SHAPES_HELP;
    throw new NotDifferentiableError(e.node, e.opType, `${e.detail}; ${help}`, file);
  }
}
