/**
 * The BN-only training loop: batches in a seeded order, paths from a sampler, forward/backward
 * by the engine, SGD on the returned gradients, PyTorch-style running statistics, per-epoch
 * indicator history, checkpoints and exact resumption.
 *
 * Everything random is a function of (seed, step) (data order: seed + epoch; paths: seed +
 * step), so a checkpoint only needs the step counter, the parameters, the momentum buffers, the
 * running statistics and the metric accumulators to continue bit for bit.
 */
import { median } from "../util/stats.js";
import type { ModelProto } from "../onnx/proto.js";
import type { Tensor } from "../onnx/tensor.js";
import type { SupernetStructure } from "../structure/structure.js";
import type { Dataset } from "../data/dataset.js";
import { batchesPerEpoch, epochOrder, type Batch } from "../data/batches.js";
import { syncSource, type BatchSource } from "../data/prefetch.js";
import type { Normalization } from "../structure/normalization.js";
import { NumericError, OptionError } from "../errors.js";
import { createSampler, type SamplerKind } from "./sampler.js";
import { Sgd, clipGradValues } from "./sgd.js";
import { learningRate, type LrSchedule } from "./schedule.js";
import { updateRunningStats, type BatchStats } from "./running-stats.js";
import { TrainState, batchNormTable } from "./params.js";
import { indicatorSnapshot, type IndicatorSnapshot } from "./indicator.js";
import { readCheckpoint, writeCheckpoint, type Checkpoint } from "./checkpoint.js";
import { removeStaleTemps } from "../util/atomic.js";

/**
 * What the trainer needs from the engine (src/train/engine.ts's TrainEngine satisfies it). The
 * returned gradient arrays are fresh per call: the trainer accumulates and clips them in place.
 */
export interface PathEngine {
  trainableOnPath(arch: readonly number[]): string[];
  step(arch: readonly number[], x: Tensor, labels: Int32Array, params: ReadonlyMap<string, Float32Array>): Promise<{
    loss: number;
    correct: number;
    grads: Map<string, Float32Array>;
    batchStats: Map<string, BatchStats>;
  }>;
}

export interface TrainConfig {
  /** Epochs to run (default 1 unless `steps` is given). */
  epochs?: number;
  /** Step cap (with `epochs`, the smaller wins). */
  steps?: number;
  batch: number;
  lr: number;
  momentum: number;
  /** Nesterov momentum (torch.optim.SGD's nesterov=True). */
  nesterov?: boolean;
  /** Weight decay of conv and linear weights (biases never decay; BatchNorm only with weightDecayBn). */
  weightDecay: number;
  /** Apply weight decay to BatchNorm gamma/beta too (off by default, as usual for BN). */
  weightDecayBn: boolean;
  schedule: LrSchedule;
  /** Steps of linear learning-rate warm-up before the schedule (default 0). */
  warmup?: number;
  /** Random crop (2-pixel padding) and horizontal flip of every training image, seeded per step. */
  augment?: boolean;
  labelSmoothing: number;
  /** Clip each gradient value to [-clip, clip]; undefined = no clipping. */
  clip?: number;
  sampler: SamplerKind;
  /** The one path to train with sampler "fixed". */
  arch?: number[];
  bn: "last" | "all";
  trainHead: boolean;
  seed: number;
}

export interface EpochRecord extends IndicatorSnapshot {
  /** Epoch number (1-based); a final partial epoch keeps its number. */
  epoch: number;
  /** Steps done when the record was taken. */
  step: number;
  /** Whether the epoch ran to its end. */
  complete: boolean;
  loss: number;
  accuracy: number;
}

/** JSON-safe progress, stored in checkpoints. */
export interface RunProgress {
  step: number;
  epochLoss: number;
  epochCorrect: number;
  epochSeen: number;
  epochSteps: number;
  /** The last RECENT_WINDOW steps' (loss, correct, seen), for the final metrics. */
  recent: [number, number, number][];
  history: EpochRecord[];
}

/** Final loss and accuracy average the last this many steps (the PyTorch peer's convention). */
export const RECENT_WINDOW = 50;

export interface StepInfo {
  step: number;
  total: number;
  loss: number;
  accuracy: number;
  lr: number;
  ms: number;
}

export interface TrainRun {
  /** The supernet; on success its initializers hold the trained values. */
  model: ModelProto;
  /** Its file name (for messages). */
  file: string;
  structure: SupernetStructure;
  engine: PathEngine;
  data: Dataset;
  norm: Normalization;
  config: TrainConfig;
  checkpoint?: {
    file: string;
    /** Write every this many steps; 0 = at the end of every epoch. */
    every: number;
    resume: boolean;
    /** Identifies the supernet file (e.g. its hash), so a checkpoint of another supernet is refused. */
    fingerprint: string;
  };
  onStep?: (info: StepInfo) => void;
  /** Stop after this many steps in this call (for tests of interruption); the run is then incomplete. */
  stopAfter?: number;
  /**
   * Where batches are made (default: on this thread). A worker source (data/prefetch.ts) makes
   * the next step's batch while this one runs; the batches are the same bytes either way.
   */
  batches?: BatchSource;
}

export interface TrainResult {
  steps: number;
  totalSteps: number;
  stepsPerEpoch: number;
  /** Steps run by this call (less than `steps` after a resume). */
  stepsThisRun: number;
  complete: boolean;
  resumedFrom?: number;
  finalLoss: number;
  finalAccuracy: number;
  /** Median wall time of a training step in this call (batching, engine, optimiser), ms. */
  msPerStep: number;
  history: EpochRecord[];
}

/** The allowed mask positions of every layer. */
export function allowedPositions(structure: SupernetStructure): number[][] {
  return structure.layers.map((l) => l.candidates.map((c) => c.position));
}

/** Total steps of a run. */
export function plannedSteps(config: Pick<TrainConfig, "epochs" | "steps">, stepsPerEpoch: number): number {
  const byEpochs = config.epochs !== undefined ? config.epochs * stepsPerEpoch : config.steps === undefined ? stepsPerEpoch : Infinity;
  return Math.min(byEpochs, config.steps ?? Infinity);
}

/** What one step's paths produced together: the mean loss, correct count, images seen and summed gradients. */
interface StepOutcome {
  loss: number;
  correct: number;
  seen: number;
  grads: Map<string, Float32Array>;
}

/**
 * One run of the loop, in the order a reader follows it: `restore` (resume from a checkpoint),
 * then per step `batchAt` -> `forwardBackward` (every sampled path, statistics updated) ->
 * `update` (checks, clipping, SGD) -> `account` (metrics, epoch records, checkpoints), and
 * `finish` (write the values back, summarise).
 */
class TrainingLoop {
  readonly stepsPerEpoch: number;
  readonly total: number;
  private readonly bns;
  private readonly state: TrainState;
  private readonly sgd: Sgd;
  private readonly sampler;
  private readonly identity: Record<string, unknown>;
  private progress: RunProgress = { step: 0, epochLoss: 0, epochCorrect: 0, epochSeen: 0, epochSteps: 0, recent: [], history: [] };
  private resumedFrom: number | undefined;
  private readonly times: number[] = [];
  private order: Uint32Array | undefined;
  private orderEpoch = -1;
  private ranThisCall = 0;
  private readonly batches: BatchSource;
  /** The next step's batch, requested while the current step runs. */
  private pending: { step: number; batch: Promise<Batch> } | undefined;

  constructor(private readonly run: TrainRun) {
    const { config, data, structure } = run;
    this.stepsPerEpoch = batchesPerEpoch(data.count, config.batch);
    if (this.stepsPerEpoch === 0) throw new OptionError("batch", (o) => `${o} ${config.batch} is larger than the training data (${data.count} images in ${data.source})`);
    this.total = plannedSteps(config, this.stepsPerEpoch);
    this.bns = batchNormTable(run.model, run.file);
    this.state = new TrainState(run.model, this.bns, run.file);
    const state = this.state;
    this.sgd = new Sgd({
      momentum: config.momentum,
      nesterov: config.nesterov ?? false,
      weightDecay: config.weightDecay,
      decays: (name) => (state.isBatchNormParam(name) ? config.weightDecayBn : state.isWeight(name)),
    });
    this.sampler = createSampler(config.sampler, allowedPositions(structure), config.seed, config.arch);
    this.batches = run.batches ?? syncSource(data, run.norm);
    this.identity = { fingerprint: run.checkpoint?.fingerprint ?? "", config: { ...config, totalSteps: this.total }, data: { source: data.source, count: data.count } };
  }

  /** Continues from the checkpoint when asked to and one exists; clears a killed write's leftover. */
  restore(): void {
    const ck = this.run.checkpoint;
    if (!ck) return;
    // A run killed while writing its checkpoint left a temporary file beside it; the checkpoint
    // itself is intact (rename is atomic), so the leftover is only clutter: remove it.
    removeStaleTemps(ck.file);
    if (!ck.resume) return;
    const saved = readCheckpoint<RunProgress>(ck.file);
    if (!saved) return;
    checkIdentity(saved.identity, this.identity, ck.file);
    for (const [name, v] of saved.tensors.param) this.state.ensureParam(name).set(v);
    for (const [name, v] of saved.tensors.running) {
      const r = this.state.running.get(name);
      if (!r || r.length !== v.length) throw new OptionError("resume", (o) => `${o}: ${ck.file} holds running statistics '${name}' that this supernet does not have`);
      r.set(v);
    }
    // decodeCheckpoint returns fresh arrays: the buffers can be taken as they are.
    for (const [name, v] of saved.tensors.momentum) this.sgd.buffers.set(name, v);
    this.progress = saved.progress;
    this.resumedFrom = this.progress.step;
  }

  /** Whether another step runs in this call. */
  more(): boolean {
    if (this.progress.step >= this.total) return false;
    return this.run.stopAfter === undefined || this.ranThisCall < this.run.stopAfter;
  }

  /** The batch of `step`: the one prefetched for it, else asked for now. */
  private batchAt(step: number): Promise<Batch> {
    const p = this.pending;
    this.pending = undefined;
    return p && p.step === step ? p.batch : this.requestBatch(step);
  }

  /** Asks for the batch of `step` ahead of time (when there is such a step). */
  private prefetch(step: number): void {
    if (step >= this.total) return;
    const batch = this.requestBatch(step);
    batch.catch(() => undefined); // a prefetched batch the run never uses must not be an unhandled rejection
    this.pending = { step, batch };
  }

  /** The batch of `step`: the epoch's seeded order (made once per epoch), sliced. */
  private requestBatch(step: number): Promise<Batch> {
    const { data, config } = this.run;
    const epoch = Math.floor(step / this.stepsPerEpoch);
    const inEpoch = step % this.stepsPerEpoch;
    if (epoch !== this.orderEpoch) {
      this.order = epochOrder(data.count, config.seed, epoch);
      this.orderEpoch = epoch;
    }
    // Augmentation draws from a stream of (seed, step): a resumed run sees the same images.
    return this.batches.get({ indices: this.order!.slice(inEpoch * config.batch, (inEpoch + 1) * config.batch), augment: config.augment ? { seed: config.seed, step } : undefined });
  }

  /**
   * Runs every path of the step on the batch. With --sampler fair the K paths share the batch;
   * each path's forward updates the running statistics of its BNs, as K PyTorch forwards would,
   * and the gradients are summed (FairNAS).
   */
  private async forwardBackward(step: number, x: Tensor, labels: Int32Array): Promise<StepOutcome> {
    const { engine } = this.run;
    const grads = new Map<string, Float32Array>();
    let lossSum = 0;
    let correct = 0;
    const paths = this.sampler.paths(step);
    for (const path of paths) {
      for (const name of engine.trainableOnPath(path)) this.state.ensureParam(name);
      const r = await engine.step(path, x, labels, this.state.params);
      if (!Number.isFinite(r.loss)) throw this.diverged(step, `loss ${r.loss}, path ${path.join(",")}`);
      lossSum += r.loss;
      correct += r.correct;
      for (const [name, g] of r.grads) {
        const acc = grads.get(name);
        // The first path's gradient is taken as is (fresh per call, see PathEngine), not copied.
        if (!acc) grads.set(name, g);
        else for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + g[i]!;
      }
      for (const [node, stats] of r.batchStats) {
        const bn = this.bns.get(node);
        if (!bn) throw new Error(`the engine returned batch statistics for '${node}', which is not a BatchNormalization node`);
        updateRunningStats(this.state.running.get(bn.mean)!, this.state.running.get(bn.var)!, stats);
      }
    }
    return { loss: lossSum / paths.length, correct, seen: labels.length * paths.length, grads };
  }

  /** Refuses non-finite gradients, clips, and applies SGD at the step's learning rate; returns it. */
  private update(step: number, grads: Map<string, Float32Array>): number {
    const { config } = this.run;
    for (const [name, g] of grads) for (const v of g) if (!Number.isFinite(v)) throw this.diverged(step, `the gradient of '${name}' is not finite`);
    if (config.clip !== undefined) clipGradValues(grads, config.clip);
    const lr = learningRate(config.schedule, config.lr, step, this.total, config.warmup ?? 0);
    this.sgd.step(this.state.params, grads, lr);
    return lr;
  }

  /** Metrics, the epoch record at an epoch's end, and the checkpoint when one is due. */
  private account(step: number, o: StepOutcome): void {
    const p = this.progress;
    p.step = step + 1;
    p.epochLoss += o.loss;
    p.epochCorrect += o.correct;
    p.epochSeen += o.seen;
    p.epochSteps += 1;
    p.recent.push([o.loss, o.correct, o.seen]);
    if (p.recent.length > RECENT_WINDOW) p.recent.shift();
    const epochDone = step % this.stepsPerEpoch === this.stepsPerEpoch - 1;
    if (epochDone) this.recordEpoch(true);
    this.ranThisCall += 1;
    const ck = this.run.checkpoint;
    const due = ck && (ck.every > 0 ? p.step % ck.every === 0 : epochDone);
    if (due || p.step === this.total) {
      if (p.step === this.total && !epochDone && p.epochSteps > 0) this.recordEpoch(false);
      this.saveCheckpoint();
    }
  }

  /** One training step, start to end. */
  async step(): Promise<void> {
    const started = performance.now();
    const step = this.progress.step;
    const { x, labels } = await this.batchAt(step);
    this.prefetch(step + 1);
    const outcome = await this.forwardBackward(step, x, labels);
    const lr = this.update(step, outcome.grads);
    this.account(step, outcome);
    const ms = performance.now() - started;
    this.times.push(ms);
    this.run.onStep?.({ step: this.progress.step, total: this.total, loss: outcome.loss, accuracy: outcome.correct / outcome.seen, lr, ms });
  }

  /** Writes the trained values into the model (a complete run only) and summarises the run. */
  finish(): TrainResult {
    const p = this.progress;
    const complete = p.step >= this.total;
    if (complete) {
      const bad = this.state.firstNonFinite();
      if (bad) throw new NumericError((o) => `training produced non-finite values in '${bad}'; nothing was written; try a lower ${o("lr")} or ${o("clip")}`);
      this.state.writeBack();
    }
    const recentSeen = p.recent.reduce((s, r) => s + r[2], 0);
    return {
      steps: p.step,
      totalSteps: this.total,
      stepsPerEpoch: this.stepsPerEpoch,
      stepsThisRun: this.ranThisCall,
      complete,
      resumedFrom: this.resumedFrom,
      finalLoss: p.recent.reduce((s, r) => s + r[0], 0) / Math.max(1, p.recent.length),
      finalAccuracy: p.recent.reduce((s, r) => s + r[1], 0) / Math.max(1, recentSeen),
      msPerStep: median(this.times),
      history: p.history,
    };
  }

  private recordEpoch(complete: boolean): void {
    const p = this.progress;
    const epoch = complete ? p.step / this.stepsPerEpoch : Math.floor(p.step / this.stepsPerEpoch) + 1;
    p.history.push({
      epoch,
      step: p.step,
      complete,
      loss: p.epochLoss / Math.max(1, p.epochSteps),
      accuracy: p.epochCorrect / Math.max(1, p.epochSeen),
      ...indicatorSnapshot(this.run.structure, this.state.params),
    });
    p.epochLoss = p.epochCorrect = p.epochSeen = p.epochSteps = 0;
  }

  private saveCheckpoint(): void {
    const ck = this.run.checkpoint;
    if (!ck) return;
    // A checkpoint is only ever a good state to resume from: with a NaN or infinity in it the run
    // stops here and the previous checkpoint stays.
    const bad = this.state.firstNonFinite();
    if (bad) throw new NumericError((o) => `training produced non-finite values in '${bad}' at step ${this.progress.step}; nothing was written, the last good checkpoint ${ck.file} (if any) is kept; try a lower ${o("lr")} or ${o("clip")}`);
    const c: Checkpoint<RunProgress> = { identity: this.identity, progress: this.progress, tensors: { param: this.state.params, momentum: this.sgd.buffers, running: this.state.running } };
    writeCheckpoint(ck.file, c);
  }

  private diverged(step: number, what: string): NumericError {
    const ck = this.run.checkpoint;
    return new NumericError((o) => `training diverged at step ${step + 1} (${what}); nothing was written` +
      `${ck ? `, the last good checkpoint ${ck.file} is kept (resume from it with a lower ${o("lr")} or with ${o("clip")})` : ""}; try a lower ${o("lr")} or ${o("clip")}`);
  }
}

export async function train(run: TrainRun): Promise<TrainResult> {
  const loop = new TrainingLoop(run);
  loop.restore();
  while (loop.more()) await loop.step();
  return loop.finish();
}

/** Refuses to resume a checkpoint made from another supernet, other data or other options. */
function checkIdentity(saved: Record<string, unknown>, now: Record<string, unknown>, file: string): void {
  const flat = (o: unknown, prefix = ""): Map<string, string> => {
    const m = new Map<string, string>();
    if (o && typeof o === "object" && !Array.isArray(o)) {
      for (const [k, v] of Object.entries(o)) for (const [kk, vv] of flat(v, prefix ? `${prefix}.${k}` : k)) m.set(kk, vv);
    } else m.set(prefix, JSON.stringify(o));
    return m;
  };
  const a = flat(saved);
  const b = flat(now);
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(key) !== b.get(key)) {
      const what = key === "fingerprint" ? "a different supernet file" : `${key} = ${a.get(key) ?? "(unset)"}, now ${b.get(key) ?? "(unset)"}`;
      throw new OptionError("resume", (o) => `${o}: ${file} was made with ${what}; rerun with the same supernet, data and options, or delete the checkpoint to start over`);
    }
  }
}
