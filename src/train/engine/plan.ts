/**
 * What a training step trains and feeds, decided once per run and shared by both engines (the
 * per-block PathTrainer and the one-session FusedTrainer): which BN scale/bias (and head weights)
 * get gradients under --bn and --train-head, which params each segment is fed, the current value
 * of a param as a tensor, and the bookkeeping every step returns (batch statistics, correct count).
 */
import { readFloats, type Tensor } from "../../onnx/tensor.js";
import type { NodeProto } from "../../onnx/proto.js";
import type { SupernetStructure } from "../../structure/structure.js";
import { BnnasError } from "../../errors.js";
import { pathSegments, type Partition, type Segment } from "./partition.js";
import type { StatOutput } from "./blocks.js";
import { argmax } from "../../runtime/eval.js";
import { spatialCount } from "../../opset/ops/batch-normalization-lowering.js";

export interface PlanOptions {
  weights?: "bn" | "all";
  bn: "last" | "all";
  trainHead: boolean;
}

export interface BatchStatsOut {
  mean: Float32Array;
  var: Float32Array;
  count: number;
}

/** Head weights: initializers of the head's Gemm/MatMul nodes. */
function headWeights(head: Segment): string[] {
  const names = new Set(head.initializers.map((t) => t.name));
  return head.nodes.filter((n) => n.opType === "Gemm" || n.opType === "MatMul").flatMap((n) => n.input.slice(0, 3).filter((i) => names.has(i)));
}

/**
 * Every weight of a segment, for full-weight training: conv and linear weights and biases
 * (initializer inputs of Conv, Gemm and MatMul, and the bias Add of a MatMul) and BatchNorm
 * gamma/beta, in node order. Running statistics, shape constants and clip bounds are not weights.
 */
export function segmentWeights(seg: Segment): string[] {
  return weightInitializers(seg.nodes, new Set(seg.initializers.map((t) => t.name)));
}

/** The weights (as segmentWeights) among `nodes`, whose initializers are `inits`. */
export function weightInitializers(nodes: readonly NodeProto[], inits: ReadonlySet<string>): string[] {
  const producer = new Map(nodes.flatMap((n) => n.output.map((o): [string, string] => [o, n.opType])));
  const out = new Set<string>();
  for (const n of nodes) {
    const take = (names: readonly string[]) => names.forEach((i) => i && inits.has(i) && out.add(i));
    if (n.opType === "Conv" || n.opType === "Gemm") take(n.input.slice(1, 3));
    else if (n.opType === "MatMul") take(n.input);
    else if (n.opType === "BatchNormalization") take(n.input.slice(1, 3));
    else if (n.opType === "Add" && n.input.some((i) => producer.get(i) === "MatMul")) take(n.input);
  }
  return [...out];
}

export class TrainingPlan {
  readonly classes: number;
  private readonly indicatorBns = new Set<string>();
  private readonly headParams: string[];
  private readonly initial = new Map<string, Float32Array>();
  /** Per segment: its trainable params under --bn, and the params it is fed (fixed for the run). */
  private readonly trainable = new Map<Segment, string[]>();
  private readonly fed = new Map<Segment, string[]>();
  /** Param dims by name (the initializer's), so feeding a param does not map them every run. */
  private readonly dims = new Map<string, number[]>();

  constructor(readonly structure: SupernetStructure, readonly p: Partition, private readonly options: PlanOptions) {
    for (const l of structure.layers) for (const c of l.candidates) if (c.indicator) this.indicatorBns.add(c.indicator.node);
    this.headParams = options.trainHead ? headWeights(p.head) : [];
    const logits = p.shapes.get(p.head.output)!;
    const k = logits[logits.length - 1];
    if (logits.length !== 2 || typeof k !== "number") throw new BnnasError(`the supernet's output '${p.head.output}' has shape [${logits}]; bnnas trains classifiers with [batch, classes] logits`);
    this.classes = k;
  }

  /**
   * What trains in a segment: with weights "all", every weight (segmentWeights); else the gamma/beta
   * of its BNs that train under the --bn mode, plus head weights with --train-head.
   */
  trainableOf(seg: Segment): string[] {
    let t = this.trainable.get(seg);
    if (!t) {
      if (this.options.weights === "all") t = segmentWeights(seg);
      else {
        t = [];
        for (const bn of seg.batchNorms) if (this.options.bn === "all" || this.indicatorBns.has(bn.node)) t.push(bn.scale, bn.bias);
        if (seg === this.p.head) t.push(...this.headParams);
      }
      this.trainable.set(seg, t);
    }
    return t;
  }

  /**
   * What a segment is fed each step: every BN scale/bias (BN runs in training mode whether it
   * trains or not) and whatever else trains; frozen weights stay initializers.
   */
  paramsOf(seg: Segment): string[] {
    let f = this.fed.get(seg);
    if (!f) this.fed.set(seg, (f = [...new Set([...seg.batchNorms.flatMap((b) => [b.scale, b.bias]), ...this.trainableOf(seg)])]));
    return f;
  }

  trainableOnPath(arch: readonly number[]): string[] {
    return pathSegments(this.p, this.structure, arch).flatMap((s) => this.trainableOf(s));
  }

  /** The param's current value (from `params`, else the supernet's initializer) as a tensor. */
  param(name: string, params: ReadonlyMap<string, Float32Array>): Tensor {
    let v = params.get(name);
    if (!v) {
      v = this.initial.get(name);
      if (!v) {
        const t = this.p.index.initializers.get(name);
        if (!t) throw new BnnasError(`engine: parameter '${name}' is neither given nor an initializer`);
        this.initial.set(name, (v = readFloats(t)));
      }
    }
    let dims = this.dims.get(name);
    if (!dims) this.dims.set(name, (dims = this.p.index.initializers.get(name)!.dims.map(Number)));
    return { dims, data: v };
  }

  /** Checks a batch against the supernet's input and the labels against the batch; returns the batch size. */
  checkBatch(x: Tensor, labels: Int32Array): number {
    const n = x.dims[0]!;
    const want = this.structure.input.shape.slice(1);
    if (x.dims.length !== want.length + 1 || want.some((d, i) => typeof d === "number" && d !== x.dims[i + 1]))
      throw new BnnasError(`engine: input batch has shape [${x.dims}]; the supernet's input '${this.structure.input.name}' takes [batch, ${want.join(", ")}]`);
    if (labels.length !== n) throw new BnnasError(`engine: ${labels.length} labels for a batch of ${n}`);
    return n;
  }

  /** N*H*W of a BN's input for a batch of n (the count its batch variance is taken over). */
  statCount(stat: StatOutput, n: number): number {
    return n * spatialCount(stat.bn, this.p.shapes.get(stat.input)!);
  }

  /** Samples whose argmax logit is the label. */
  correct(logits: Float32Array, labels: Int32Array): number {
    let correct = 0;
    for (let i = 0; i < labels.length; i++) if (argmax(logits, i * this.classes, this.classes) === labels[i]) correct++;
    return correct;
  }
}

export function labelsTensor(labels: Int32Array): Tensor {
  return { dims: [labels.length], data: BigInt64Array.from(labels, (v) => BigInt(v)) };
}
