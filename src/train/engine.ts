/**
 * The training engine: forward and backward of one sampled path of a supernet on one batch, on
 * onnxruntime-node. The supernet is cut into stem, per-candidate segments and head
 * (engine/partition.ts); each segment kind gets a forward and a backward model (engine/blocks.ts)
 * whose sessions are created on first use and cached, so only the sampled path ever runs.
 *
 * BN scale/bias (and head weights with trainHead) are fed as inputs on every run; frozen conv
 * weights stay initializers. Every BN on the path runs in training mode (batch statistics) and
 * passes gradients, whatever `bn` says; `bn` only decides whose gamma/beta get gradients.
 */
import type { ModelProto } from "../onnx/proto.js";
import type { Device } from "../runtime/ort.js";
import { readFloats, type Tensor } from "../onnx/tensor.js";
import type { SupernetStructure } from "../supernet/structure.js";
import { BnnasError, UsageError } from "../errors.js";
import { partitionSupernet, pathSegments, type Partition, type Segment } from "./engine/partition.js";
import { buildBlock, buildHead, type ActivationPolicy, type BuiltBlock, type BuiltHead } from "./engine/blocks.js";
import { SessionCache, type KindTiming } from "./engine/sessions.js";

export interface EngineOptions {
  bn: "last" | "all";
  trainHead: boolean;
  labelSmoothing: number;
  device?: Device;
  threads?: number;
  /**
   * Where the backward gets the forward tensors it reads (see engine/blocks.ts ActivationPolicy).
   * Default "checkpoint": BN statistics and centred BN inputs (conv outputs where still needed)
   * come from the forward run, the elementwise work between them is recomputed. Measured on
   * fmnist-small (batch 128, shared 2-core machine): a few % faster than "recompute" (which runs
   * every conv twice; the gain is eaten by onnxruntime-node copying each output into JavaScript
   * memory), and faster than "save" (an MBConv has many expanded activations to copy).
   */
  activations?: ActivationPolicy;
  /** Keep onnxruntime's per-session memory arenas (faster allocation, far more memory with many sessions); default false. */
  arena?: boolean;
  /** Let onnxruntime's idle worker threads spin-wait (ORT's default); default false: they sleep, see RuntimeOptions.noSpin. */
  spin?: boolean;
  /** Record wall time per block kind (see TrainEngine.timings). */
  profile?: boolean;
}

export interface StepResult {
  /** Mean over the batch (with label smoothing). */
  loss: number;
  /** Number of samples whose argmax == label. */
  correct: number;
  /** d loss / d param, keyed by initializer name. */
  grads: Map<string, Float32Array>;
  /** Per BatchNormalization node name on the path: batch mean, biased batch variance, count = N*H*W. */
  batchStats: Map<string, { mean: Float32Array; var: Float32Array; count: number }>;
}

export interface TrainEngine {
  /** Initializer names that receive gradients for this architecture. */
  trainableOnPath(arch: readonly number[]): string[];
  /** Forward+backward of one path on one batch; params holds the current BN scale/bias (and head weights). */
  step(arch: readonly number[], x: Tensor, labels: Int32Array, params: ReadonlyMap<string, Float32Array>): Promise<StepResult>;
  release(): Promise<void>;
  /** With options.profile: per block kind, session creation time, run count and total run time (ms). */
  timings?(): Map<string, KindTiming>;
}

/** Head weights: initializers of the head's Gemm/MatMul nodes. */
function headWeights(head: Segment): string[] {
  const names = new Set(head.initializers.map((t) => t.name));
  return head.nodes.filter((n) => n.opType === "Gemm" || n.opType === "MatMul").flatMap((n) => n.input.slice(0, 3).filter((i) => names.has(i)));
}

export async function createEngine(model: ModelProto, structure: SupernetStructure, options: EngineOptions): Promise<TrainEngine> {
  if (!(options.labelSmoothing >= 0 && options.labelSmoothing < 1)) throw new UsageError(`label smoothing must be in [0, 1), got ${options.labelSmoothing}`);
  const partition = partitionSupernet(model, structure);
  const engine = new PathTrainer(structure, partition, options);
  return engine;
}

/** A built block with what every step's runs of it need, derived once (not per step). */
interface BlockEntry {
  block: BuiltBlock;
  forwardKey: string;
  backwardKey: string;
  /** The backward model's graph inputs: which of input/params it reads. */
  backwardInputs: ReadonlySet<string>;
}

class PathTrainer implements TrainEngine {
  private readonly sessions: SessionCache;
  private readonly blocks = new Map<string, BlockEntry>();
  private readonly heads = new Map<boolean, BuiltHead>();
  private readonly indicatorBns = new Set<string>();
  private readonly headParams: string[];
  private readonly classes: number;
  private readonly policy: ActivationPolicy;
  private readonly initial = new Map<string, Float32Array>();
  /** Per segment: its trainable params under --bn, and the params it is fed (fixed for the run). */
  private readonly trainable = new Map<Segment, string[]>();
  private readonly fed = new Map<Segment, string[]>();
  /** Param dims by name (the initializer's), so feeding a param does not map them every run. */
  private readonly dims = new Map<string, number[]>();

  constructor(private readonly structure: SupernetStructure, private readonly p: Partition, private readonly options: EngineOptions) {
    this.sessions = new SessionCache({ device: options.device, threads: options.threads, noArena: !(options.arena ?? false), noSpin: !(options.spin ?? false) }, options.profile ?? false);
    for (const l of structure.layers) for (const c of l.candidates) if (c.indicator) this.indicatorBns.add(c.indicator.node);
    this.headParams = options.trainHead ? headWeights(p.head) : [];
    const logits = p.shapes.get(p.head.output)!;
    const k = logits[logits.length - 1];
    if (logits.length !== 2 || typeof k !== "number") throw new BnnasError(`the supernet's output '${p.head.output}' has shape [${logits}]; bnnas trains classifiers with [batch, classes] logits`);
    this.classes = k;
    this.policy = options.activations ?? "checkpoint";
  }

  /** gamma/beta of a segment's BNs that train under the --bn mode. */
  private trainableBns(seg: Segment): string[] {
    const out: string[] = [];
    for (const bn of seg.batchNorms) if (this.options.bn === "all" || this.indicatorBns.has(bn.node)) out.push(bn.scale, bn.bias);
    return out;
  }

  private trainableOf(seg: Segment): string[] {
    let t = this.trainable.get(seg);
    if (!t) this.trainable.set(seg, (t = seg === this.p.head ? [...this.trainableBns(seg), ...this.headParams] : this.trainableBns(seg)));
    return t;
  }

  trainableOnPath(arch: readonly number[]): string[] {
    return pathSegments(this.p, this.structure, arch).flatMap((s) => this.trainableOf(s));
  }

  private paramsOf(seg: Segment): string[] {
    let f = this.fed.get(seg);
    if (!f) this.fed.set(seg, (f = [...seg.batchNorms.flatMap((b) => [b.scale, b.bias]), ...(seg === this.p.head ? this.headParams : [])]));
    return f;
  }

  private block(seg: Segment, inputGrad: boolean): BlockEntry {
    const trainable = this.trainableOf(seg);
    const key = `${seg.id}|${inputGrad ? "dx" : "-"}|${trainable.length}`;
    let e = this.blocks.get(key);
    if (!e) {
      const block = buildBlock({ seg, shapes: this.p.shapes, index: this.p.index, params: this.paramsOf(seg), trainable, inputGrad, policy: this.policy });
      const kind = `${block.dInput ? "dx" : "-"}|${block.grads.size}`;
      e = { block, forwardKey: `${seg.id}|F|${kind}`, backwardKey: `${seg.id}|B|${kind}`, backwardInputs: new Set(block.backward?.graph!.input.map((i) => i.name)) };
      this.blocks.set(key, e);
    }
    return e;
  }

  private headBlock(inputGrad: boolean): BuiltHead {
    let head = this.heads.get(inputGrad);
    if (!head) {
      const seg = this.p.head;
      head = buildHead({ seg, shapes: this.p.shapes, index: this.p.index, params: this.paramsOf(seg), trainable: this.trainableOf(seg), inputGrad }, this.classes, this.options.labelSmoothing);
      this.heads.set(inputGrad, head);
    }
    return head;
  }

  private param(name: string, params: ReadonlyMap<string, Float32Array>): Tensor {
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

  async step(arch: readonly number[], x: Tensor, labels: Int32Array, params: ReadonlyMap<string, Float32Array>): Promise<StepResult> {
    const segs = pathSegments(this.p, this.structure, arch);
    const n = x.dims[0]!;
    const want = this.structure.input.shape.slice(1);
    if (x.dims.length !== want.length + 1 || want.some((d, i) => typeof d === "number" && d !== x.dims[i + 1]))
      throw new BnnasError(`engine: input batch has shape [${x.dims}]; the supernet's input '${this.structure.input.name}' takes [batch, ${want.join(", ")}]`);
    if (labels.length !== n) throw new BnnasError(`engine: ${labels.length} labels for a batch of ${n}`);
    const bodies = segs.slice(0, -1);
    // Segment i needs d input iff some earlier segment trains.
    const firstTrainable = segs.findIndex((s) => this.trainableOf(s).length > 0);
    const grads = new Map<string, Float32Array>();
    const batchStats: StepResult["batchStats"] = new Map();
    const recordStats = (stats: { bn: string; mean: string; var: string; input: string }[], out: Record<string, Tensor>) => {
      for (const s of stats) {
        const shape = this.p.shapes.get(s.input)!;
        const count = n * shape.slice(2).reduce<number>((a, d) => a * (d as number), 1);
        batchStats.set(s.bn, { mean: out[s.mean]!.data as Float32Array, var: out[s.var]!.data as Float32Array, count });
      }
    };

    // Forward through the body.
    let h: Tensor = x;
    const runs: { seg: Segment; entry: BlockEntry; input: Tensor; saved: Record<string, Tensor> }[] = [];
    for (let i = 0; i < bodies.length; i++) {
      const seg = bodies[i]!;
      const entry = this.block(seg, firstTrainable >= 0 && i > firstTrainable);
      const block = entry.block;
      const feeds: Record<string, Tensor> = { [seg.input]: h };
      for (const p of this.paramsOf(seg)) feeds[p] = this.param(p, params);
      const out = await this.sessions.run(entry.forwardKey, block.forward, feeds);
      recordStats(block.stats, out);
      runs.push({ seg, entry, input: h, saved: out });
      h = out[seg.output]!;
    }

    // Head: forward, loss and backward in one run.
    const head = this.headBlock(firstTrainable >= 0 && firstTrainable < segs.length - 1);
    const headFeeds: Record<string, Tensor> = { [this.p.head.input]: h, [head.labels]: { dims: [n], data: BigInt64Array.from(labels, (v) => BigInt(v)) } };
    for (const p of this.paramsOf(this.p.head)) headFeeds[p] = this.param(p, params);
    const ho = await this.sessions.run(`head|${head.dInput ? "dx" : "-"}`, head.model, headFeeds);
    recordStats(head.stats, ho);
    for (const [pname, out] of head.grads) grads.set(pname, ho[out]!.data as Float32Array);
    const loss = (ho[head.loss]!.data as Float32Array)[0]!;
    const logits = ho[head.logits]!.data as Float32Array;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < this.classes; k++) if (logits[i * this.classes + k]! > logits[i * this.classes + best]!) best = k;
      if (best === labels[i]) correct++;
    }

    // Backward through the body, last segment first, down to the first one that trains.
    let dh = head.dInput ? ho[head.dInput] : undefined;
    for (let i = runs.length - 1; i >= 0 && dh; i--) {
      const { seg, entry, input, saved } = runs[i]!;
      const { block, backwardInputs: wanted } = entry;
      if (!block.backward) break;
      const feeds: Record<string, Tensor> = {};
      if (wanted.has(seg.input)) feeds[seg.input] = input;
      for (const p of this.paramsOf(seg)) if (wanted.has(p)) feeds[p] = this.param(p, params);
      for (const s of block.saved) feeds[s] = saved[s]!;
      feeds[block.dOutput] = dh;
      const out = await this.sessions.run(entry.backwardKey, block.backward, feeds);
      for (const [pname, o] of block.grads) grads.set(pname, out[o]!.data as Float32Array);
      dh = block.dInput ? out[block.dInput] : undefined;
    }
    return { loss, correct, grads, batchStats };
  }

  timings(): Map<string, KindTiming> {
    return this.sessions.timings;
  }

  async release(): Promise<void> {
    await this.sessions.release();
  }
}
