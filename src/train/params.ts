/**
 * The values training changes, held outside the model while training runs: BatchNorm gamma and
 * beta (and any other trained initializer, e.g. the head with --train-head) and BatchNorm
 * running statistics, all keyed by initializer name. `writeBack` puts them into the model.
 */
import type { ModelProto, TensorProto } from "../onnx/proto.js";
import { readFloats, setFloats } from "../onnx/tensor.js";
import { ModelFormatError } from "../errors.js";

/** The four initializers of one BatchNormalization node, by node name. */
export interface BatchNormInits {
  node: string;
  scale: string;
  bias: string;
  mean: string;
  var: string;
}

/** Every BatchNormalization node of the graph with its initializer names (the stem's too). */
export function batchNormTable(model: ModelProto, file: string): Map<string, BatchNormInits> {
  const graph = model.graph!;
  const inits = new Set(graph.initializer.map((t) => t.name));
  const table = new Map<string, BatchNormInits>();
  for (const [i, n] of graph.node.entries()) {
    if (n.opType !== "BatchNormalization" || (n.domain !== "" && n.domain !== "ai.onnx")) continue;
    const name = n.name || `BatchNormalization#${i}`;
    const [, scale, bias, mean, vr] = n.input;
    for (const [role, t] of [["scale", scale], ["B", bias], ["mean", mean], ["var", vr]] as const) {
      if (!t || !inits.has(t)) throw new ModelFormatError(file, `BatchNormalization '${name}': its ${role} input '${t ?? ""}' is not an initializer, so it cannot be trained`);
    }
    table.set(name, { node: name, scale: scale!, bias: bias!, mean: mean!, var: vr! });
  }
  return table;
}

export class TrainState {
  /** Trained parameters (gamma, beta, head weights) by initializer name. */
  readonly params = new Map<string, Float32Array>();
  /** Running means and variances by initializer name. */
  readonly running = new Map<string, Float32Array>();
  private readonly initializers: Map<string, TensorProto>;
  private readonly bnParams = new Set<string>();
  /** Conv and linear weights (input 1 of Conv, Gemm and MatMul): what weight decay applies to. */
  private readonly weights = new Set<string>();

  constructor(model: ModelProto, readonly batchNorms: ReadonlyMap<string, BatchNormInits>, private readonly file: string) {
    this.initializers = new Map(model.graph!.initializer.map((t) => [t.name, t]));
    for (const n of model.graph!.node) if ((n.opType === "Conv" || n.opType === "Gemm" || n.opType === "MatMul") && n.input[1]) this.weights.add(n.input[1]);
    for (const bn of batchNorms.values()) {
      this.bnParams.add(bn.scale).add(bn.bias);
      this.params.set(bn.scale, this.load(bn.scale));
      this.params.set(bn.bias, this.load(bn.bias));
      this.running.set(bn.mean, this.load(bn.mean));
      this.running.set(bn.var, this.load(bn.var));
    }
  }

  private load(name: string): Float32Array {
    const t = this.initializers.get(name);
    if (!t) throw new ModelFormatError(this.file, `has no initializer '${name}' to train`);
    try {
      return readFloats(t);
    } catch (e) {
      throw new ModelFormatError(this.file, (e as Error).message);
    }
  }

  /** Makes sure `name` (e.g. a head weight the engine trains) is held; loads it from the model. */
  ensureParam(name: string): Float32Array {
    let p = this.params.get(name);
    if (!p) this.params.set(name, (p = this.load(name)));
    return p;
  }

  /** Whether `name` is a BatchNorm gamma or beta (no weight decay by default). */
  isBatchNormParam(name: string): boolean {
    return this.bnParams.has(name);
  }

  /** Whether `name` is a conv or linear weight (not a bias, not a BatchNorm parameter). */
  isWeight(name: string): boolean {
    return this.weights.has(name);
  }

  /** Copies every held value into the model's initializers. */
  writeBack(): void {
    for (const [name, v] of [...this.params, ...this.running]) setFloats(this.initializers.get(name)!, v);
  }

  /** The first held tensor with a NaN or infinite value, or undefined. */
  firstNonFinite(): string | undefined {
    for (const [name, v] of [...this.params, ...this.running]) for (const x of v) if (!Number.isFinite(x)) return name;
    return undefined;
  }
}
