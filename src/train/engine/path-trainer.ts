/**
 * The per-block engine: each segment kind gets a forward and a backward model (blocks.ts) whose
 * sessions are created on first use and cached, so only the sampled path ever runs. One
 * onnxruntime run per block and direction; activations cross into JavaScript between runs.
 * The FusedTrainer (fused-trainer.ts) runs the same blocks in one session and is the default;
 * this one needs no whole-supernet model and stays the reference the fused one is tested against.
 */
import type { Tensor } from "../../onnx/tensor.js";
import type { EngineOptions, StepResult, TrainEngine } from "./types.js";
import { pathSegments, type Partition, type Segment } from "./partition.js";
import { buildBlock, buildHead, type ActivationPolicy, type BuiltBlock, type BuiltHead, type StatOutput } from "./blocks.js";
import { SessionCache, type KindTiming } from "./sessions.js";
import { TrainingPlan, labelsTensor } from "./plan.js";

/** A built block with what every step's runs of it need, derived once (not per step). */
interface BlockEntry {
  block: BuiltBlock;
  forwardKey: string;
  backwardKey: string;
  /** The backward model's graph inputs: which of input/params it reads. */
  backwardInputs: ReadonlySet<string>;
}

export class PathTrainer implements TrainEngine {
  private readonly sessions: SessionCache;
  private readonly blocks = new Map<string, BlockEntry>();
  private readonly heads = new Map<boolean, BuiltHead>();
  private readonly policy: ActivationPolicy;
  private readonly p: Partition;

  constructor(private readonly plan: TrainingPlan, private readonly options: EngineOptions) {
    this.p = plan.p;
    this.sessions = new SessionCache({ device: options.device, threads: options.threads, noArena: !(options.arena ?? false), noSpin: !(options.spin ?? false) }, options.profile ?? false);
    this.policy = options.activations ?? "checkpoint";
  }

  trainableOnPath(arch: readonly number[]): string[] {
    return this.plan.trainableOnPath(arch);
  }

  private block(seg: Segment, inputGrad: boolean): BlockEntry {
    const trainable = this.plan.trainableOf(seg);
    const key = `${seg.id}|${inputGrad ? "dx" : "-"}|${trainable.length}`;
    let e = this.blocks.get(key);
    if (!e) {
      const block = buildBlock({ seg, shapes: this.p.shapes, index: this.p.index, params: this.plan.paramsOf(seg), trainable, inputGrad, policy: this.policy });
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
      head = buildHead({ seg, shapes: this.p.shapes, index: this.p.index, params: this.plan.paramsOf(seg), trainable: this.plan.trainableOf(seg), inputGrad }, this.plan.classes, this.options.labelSmoothing);
      this.heads.set(inputGrad, head);
    }
    return head;
  }

  async step(arch: readonly number[], x: Tensor, labels: Int32Array, params: ReadonlyMap<string, Float32Array>): Promise<StepResult> {
    const plan = this.plan;
    const segs = pathSegments(this.p, plan.structure, arch);
    const n = plan.checkBatch(x, labels);
    const bodies = segs.slice(0, -1);
    // Segment i needs d input iff some earlier segment trains.
    const firstTrainable = segs.findIndex((s) => plan.trainableOf(s).length > 0);
    const grads = new Map<string, Float32Array>();
    const batchStats: StepResult["batchStats"] = new Map();
    const recordStats = (stats: StatOutput[], out: Record<string, Tensor>) => {
      for (const s of stats) batchStats.set(s.bn, { mean: out[s.mean]!.data as Float32Array, var: out[s.var]!.data as Float32Array, count: plan.statCount(s, n) });
    };

    // Forward through the body.
    let h: Tensor = x;
    const runs: { seg: Segment; entry: BlockEntry; input: Tensor; saved: Record<string, Tensor> }[] = [];
    for (let i = 0; i < bodies.length; i++) {
      const seg = bodies[i]!;
      const entry = this.block(seg, firstTrainable >= 0 && i > firstTrainable);
      const block = entry.block;
      const feeds: Record<string, Tensor> = { [seg.input]: h };
      for (const p of plan.paramsOf(seg)) feeds[p] = plan.param(p, params);
      const out = await this.sessions.run(entry.forwardKey, block.forward, feeds);
      recordStats(block.stats, out);
      runs.push({ seg, entry, input: h, saved: out });
      h = out[seg.output]!;
    }

    // Head: forward, loss and backward in one run.
    const head = this.headBlock(firstTrainable >= 0 && firstTrainable < segs.length - 1);
    const headFeeds: Record<string, Tensor> = { [this.p.head.input]: h, [head.labels]: labelsTensor(labels) };
    for (const p of plan.paramsOf(this.p.head)) headFeeds[p] = plan.param(p, params);
    const ho = await this.sessions.run(`head|${head.dInput ? "dx" : "-"}`, head.model, headFeeds);
    recordStats(head.stats, ho);
    for (const [pname, out] of head.grads) grads.set(pname, ho[out]!.data as Float32Array);
    const loss = (ho[head.loss]!.data as Float32Array)[0]!;
    const correct = plan.correct(ho[head.logits]!.data as Float32Array, labels);

    // Backward through the body, last segment first, down to the first one that trains.
    let dh = head.dInput ? ho[head.dInput] : undefined;
    for (let i = runs.length - 1; i >= 0 && dh; i--) {
      const { seg, entry, input, saved } = runs[i]!;
      const { block, backwardInputs: wanted } = entry;
      if (!block.backward) break;
      const feeds: Record<string, Tensor> = {};
      if (wanted.has(seg.input)) feeds[seg.input] = input;
      for (const p of plan.paramsOf(seg)) if (wanted.has(p)) feeds[p] = plan.param(p, params);
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
