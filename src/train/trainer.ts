/**
 * The BN-only training loop: batches in a seeded order, paths from a sampler, forward/backward
 * by the engine, SGD on the returned gradients, PyTorch-style running statistics, per-epoch
 * indicator history, checkpoints and exact resumption.
 *
 * Everything random is a function of (seed, step) (data order: seed + epoch; paths: seed +
 * step), so a checkpoint only needs the step counter, the parameters, the momentum buffers, the
 * running statistics and the metric accumulators to continue bit for bit.
 */
import type { ModelProto } from "../onnx/proto.js";
import type { Tensor } from "../onnx/tensor.js";
import type { SupernetStructure } from "../structure/structure.js";
import type { Dataset } from "../data/dataset.js";
import { batchesPerEpoch, epochOrder, makeBatch } from "../data/batches.js";
import type { Normalization } from "../structure/normalization.js";
import { NumericError, UsageError } from "../errors.js";
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
  weightDecay: number;
  /** Apply weight decay to BatchNorm gamma/beta too (off by default, as usual for BN). */
  weightDecayBn: boolean;
  schedule: LrSchedule;
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

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
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

export async function train(run: TrainRun): Promise<TrainResult> {
  const { config, data, structure, engine } = run;
  const stepsPerEpoch = batchesPerEpoch(data.count, config.batch);
  if (stepsPerEpoch === 0) throw new UsageError(`--batch ${config.batch} is larger than the training data (${data.count} images in ${data.source})`);
  const total = plannedSteps(config, stepsPerEpoch);
  const bns = batchNormTable(run.model, run.file);
  const state = new TrainState(run.model, bns, run.file);
  const sgd = new Sgd({
    momentum: config.momentum,
    weightDecay: config.weightDecay,
    decays: (name) => config.weightDecayBn || !state.isBatchNormParam(name),
  });
  const sampler = createSampler(config.sampler, allowedPositions(structure), config.seed, config.arch);
  const identity = {
    fingerprint: run.checkpoint?.fingerprint ?? "",
    config: { ...config, totalSteps: total },
    data: { source: data.source, count: data.count },
  };

  let progress: RunProgress = { step: 0, epochLoss: 0, epochCorrect: 0, epochSeen: 0, epochSteps: 0, recent: [], history: [] };
  let resumedFrom: number | undefined;
  const ck = run.checkpoint;
  // A run killed while writing its checkpoint left a temporary file beside it; the checkpoint
  // itself is intact (rename is atomic), so the leftover is only clutter: remove it.
  if (ck) removeStaleTemps(ck.file);
  if (ck?.resume) {
    const saved = readCheckpoint<RunProgress>(ck.file);
    if (saved) {
      checkIdentity(saved.identity, identity, ck.file);
      for (const [name, v] of saved.tensors.param) state.ensureParam(name).set(v);
      for (const [name, v] of saved.tensors.running) {
        const r = state.running.get(name);
        if (!r || r.length !== v.length) throw new UsageError(`--resume: ${ck.file} holds running statistics '${name}' that this supernet does not have`);
        r.set(v);
      }
      // decodeCheckpoint returns fresh arrays: the buffers can be taken as they are.
      for (const [name, v] of saved.tensors.momentum) sgd.buffers.set(name, v);
      progress = saved.progress;
      resumedFrom = progress.step;
    }
  }

  const saveCheckpoint = () => {
    if (!ck) return;
    const c: Checkpoint<RunProgress> = {
      identity,
      progress,
      tensors: { param: state.params, momentum: sgd.buffers, running: state.running },
    };
    writeCheckpoint(ck.file, c);
  };
  const recordEpoch = (complete: boolean) => {
    const epoch = complete ? progress.step / stepsPerEpoch : Math.floor(progress.step / stepsPerEpoch) + 1;
    progress.history.push({
      epoch,
      step: progress.step,
      complete,
      loss: progress.epochLoss / Math.max(1, progress.epochSteps),
      accuracy: progress.epochCorrect / Math.max(1, progress.epochSeen),
      ...indicatorSnapshot(structure, state.params),
    });
    progress.epochLoss = progress.epochCorrect = progress.epochSeen = progress.epochSteps = 0;
  };

  const times: number[] = [];
  let order: Uint32Array | undefined;
  let orderEpoch = -1;
  let ranThisCall = 0;
  while (progress.step < total) {
    if (run.stopAfter !== undefined && ranThisCall >= run.stopAfter) break;
    const started = performance.now();
    const step = progress.step;
    const epoch = Math.floor(step / stepsPerEpoch);
    const inEpoch = step % stepsPerEpoch;
    if (epoch !== orderEpoch) {
      order = epochOrder(data.count, config.seed, epoch);
      orderEpoch = epoch;
    }
    const { x, labels } = makeBatch(data, order!.subarray(inEpoch * config.batch, (inEpoch + 1) * config.batch), run.norm);

    const grads = new Map<string, Float32Array>();
    let lossSum = 0;
    let correct = 0;
    // With --sampler fair the K paths share the batch; each path's forward updates the running
    // statistics of its BNs, as K PyTorch forwards would, and the gradients are summed (FairNAS).
    const paths = sampler.paths(step);
    for (const path of paths) {
      for (const name of engine.trainableOnPath(path)) state.ensureParam(name);
      const r = await engine.step(path, x, labels, state.params);
      if (!Number.isFinite(r.loss)) {
        throw new NumericError(`training diverged at step ${step + 1} (loss ${r.loss}, path ${path.join(",")}); ` +
          `nothing was written${ck ? `, the last good checkpoint ${ck.file} is kept (resume from it with a lower --lr or with --clip)` : ""}; try a lower --lr or --clip`);
      }
      lossSum += r.loss;
      correct += r.correct;
      for (const [name, g] of r.grads) {
        const acc = grads.get(name);
        // The first path's gradient is taken as is (fresh per call, see PathEngine), not copied.
        if (!acc) grads.set(name, g);
        else for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + g[i]!;
      }
      for (const [node, stats] of r.batchStats) {
        const bn = bns.get(node);
        if (!bn) throw new Error(`the engine returned batch statistics for '${node}', which is not a BatchNormalization node`);
        updateRunningStats(state.running.get(bn.mean)!, state.running.get(bn.var)!, stats);
      }
    }
    for (const [name, g] of grads) {
      for (const v of g) if (!Number.isFinite(v)) throw new NumericError(`training diverged at step ${step + 1} (the gradient of '${name}' is not finite); nothing was written${ck ? `, the last good checkpoint ${ck.file} is kept (resume from it with a lower --lr or with --clip)` : ""}; try a lower --lr or --clip`);
    }
    if (config.clip !== undefined) clipGradValues(grads, config.clip);
    const lr = learningRate(config.schedule, config.lr, step, total);
    sgd.step(state.params, grads, lr);

    const loss = lossSum / paths.length;
    const seen = labels.length * paths.length;
    progress.step = step + 1;
    progress.epochLoss += loss;
    progress.epochCorrect += correct;
    progress.epochSeen += seen;
    progress.epochSteps += 1;
    progress.recent.push([loss, correct, seen]);
    if (progress.recent.length > RECENT_WINDOW) progress.recent.shift();
    const epochDone = inEpoch === stepsPerEpoch - 1;
    if (epochDone) recordEpoch(true);
    ranThisCall += 1;
    const due = ck && (ck.every > 0 ? progress.step % ck.every === 0 : epochDone);
    if (due || progress.step === total) {
      if (progress.step === total && !epochDone && progress.epochSteps > 0) recordEpoch(false);
      saveCheckpoint();
    }
    const ms = performance.now() - started;
    times.push(ms);
    run.onStep?.({ step: progress.step, total, loss, accuracy: correct / seen, lr, ms });
  }

  const complete = progress.step >= total;
  if (complete) {
    const bad = state.firstNonFinite();
    if (bad) throw new NumericError(`training produced non-finite values in '${bad}'; nothing was written; try a lower --lr or --clip`);
    state.writeBack();
  }
  const recentSeen = progress.recent.reduce((s, r) => s + r[2], 0);
  return {
    steps: progress.step,
    totalSteps: total,
    stepsPerEpoch,
    stepsThisRun: ranThisCall,
    complete,
    resumedFrom,
    finalLoss: progress.recent.reduce((s, r) => s + r[0], 0) / Math.max(1, progress.recent.length),
    finalAccuracy: progress.recent.reduce((s, r) => s + r[1], 0) / Math.max(1, recentSeen),
    msPerStep: median(times),
    history: progress.history,
  };
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
      throw new UsageError(`--resume: ${file} was made with ${what}; rerun with the same supernet, data and options, or delete the checkpoint to start over`);
    }
  }
}
