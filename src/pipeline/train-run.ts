/**
 * A whole training run from files to files, as `bnnas train` and the demo run it: open the
 * supernet, resolve the input normalisation, load and check the data (with an optional
 * validation hold-out), manage the checkpoint's lifecycle (refuse to overwrite one, resume it,
 * remove it once the result is written), create the engine, train, attach the training record
 * and write the trained copy atomically.
 */
import { existsSync, mkdirSync, unlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { BnnasError, FoldedBatchNormError, OptionError, UsageError } from "../errors.js";
import { loadSupernet } from "../supernet/load.js";
import { setTrainingRecord } from "../supernet/manifest.js";
import { checkArch, parseArch } from "../structure/arch.js";
import type { Normalization } from "../structure/normalization.js";
import { writeModel } from "../model/model-io.js";
import { cudaAvailable, CUDA_HELP, type Device } from "../runtime/ort.js";
import { loadDataset, splitValidation, type Dataset } from "../data/dataset.js";
import { FASHION_MNIST_NORMALIZATION } from "../data/batches.js";
import { createEngine, type EngineLayout } from "../train/engine.js";
import { train, RECENT_WINDOW, type StepInfo, type TrainConfig, type TrainResult } from "../train/trainer.js";
import { batchNormTable } from "../train/params.js";

/** What to train, on what, and where the results go. `config.arch` trains one fixed path. */
export interface TrainRunRequest {
  /** The supernet file to train (bnnas export or PyTorch convention). */
  supernet: string;
  /** The trained copy to write. */
  output: string;
  /** Training options; with sampler "fixed", `arch` is the path (config.arch is ignored). */
  config: Omit<TrainConfig, "arch">;
  /** The one path to train (sampler "fixed"): mask positions, or their text form `3,1,6,...` (-1 = identity). */
  arch?: string | readonly number[];
  /** IDX data folder (default: the system Fashion-MNIST, else the shipped subset). */
  data?: string;
  /** Training images (or a fraction) kept out as the validation split, chosen by config.seed. */
  holdout?: number;
  /** Input normalisation; default: the manifest's, else Fashion-MNIST's. */
  normalize?: Normalization;
  /** For foreign supernets: assign BatchNorms from initializer names (see supernet/import.ts). */
  pattern?: string;
  checkpoint?: {
    /** Folder for the checkpoint (default: beside the output, `<output>.ckpt`). */
    dir?: string;
    /** Steps between checkpoints; 0 or absent: at the end of every epoch. */
    every?: number;
    /** Continue from an earlier run's checkpoint (same supernet, data and options). */
    resume?: boolean;
  };
  engine?: { device?: Device; threads?: number; layout?: EngineLayout };
  onStep?: (info: StepInfo) => void;
  /** Things worth telling a person that are not errors (e.g. nothing to resume). */
  onNote?: (text: string) => void;
}

export interface TrainRunResult extends TrainResult {
  output: string;
  /** The training data actually used (after the hold-out). */
  data: { source: string; images: number };
  /** The training record written into the output's manifest. */
  record: Record<string, unknown>;
}

/** The supernet's input must be [batch, C, H, W] images of the data's size. */
function checkInputShape(shape: readonly (number | string)[], data: Dataset, file: string): void {
  const [, c, h, w] = shape;
  const want = [c, h, w];
  const have = [data.channels, data.height, data.width];
  if (shape.length === 4 && want.every((d, i) => typeof d !== "number" || d === have[i])) return;
  if (shape.length !== 4) throw new UsageError(`${file}: input has shape [${shape.join(", ")}]; bnnas trains on [batch, C, H, W] images`);
  throw new UsageError((o) => `${file}: the supernet takes ${want.join(" x ")} inputs but ${data.source} holds ${have.join(" x ")} images; use ${o("data")} with a matching dataset`);
}

/** Where a run's checkpoint lives, created if its folder is given and missing. */
function checkpointFile(output: string, dir: string | undefined): string {
  if (!dir) return `${output}.ckpt`;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new OptionError("checkpointDir", (o) => `${o} ${dir}: cannot create it (${(e as Error).message})`);
  }
  return join(dir, `${basename(output)}.ckpt`);
}

export async function runTraining(req: TrainRunRequest): Promise<TrainRunResult> {
  const { config } = req;
  if (req.engine?.device === "cuda" && !cudaAvailable()) throw new BnnasError((o) => `${o("device")} cuda: ${CUDA_HELP}`);
  if ((req.arch !== undefined) !== (config.sampler === "fixed")) throw new OptionError("arch", (o) => `${o} and sampler 'fixed' go together (sampler is '${config.sampler}')`);

  const loaded = loadSupernet(req.supernet, { pattern: req.pattern });
  // loadSupernet has already parsed the manifest (absent for foreign files).
  const { model, structure, manifest } = loaded;
  const file = req.supernet;
  if (batchNormTable(model, file).size === 0) throw new FoldedBatchNormError(file);
  const norm = req.normalize ?? manifest?.input.normalize ?? FASHION_MNIST_NORMALIZATION;
  const normSource = req.normalize ? "given" : manifest ? "manifest" : "Fashion-MNIST default (give a normalisation for other data)";
  const arch = req.arch === undefined ? undefined : typeof req.arch === "string" ? parseArch(req.arch, structure) : checkArch(req.arch, structure);

  const full = loadDataset(req.data, "train");
  checkInputShape(structure.input.shape, full, file);
  const data = req.holdout ? splitValidation(full, req.holdout, config.seed).train : full;

  const ckFile = checkpointFile(req.output, req.checkpoint?.dir);
  const resume = req.checkpoint?.resume === true;
  if (!resume && existsSync(ckFile)) {
    throw new OptionError("resume", (o) => `checkpoint ${ckFile} exists from an earlier run: pass ${o} to continue it, or delete it to start over`);
  }
  if (resume && !existsSync(ckFile)) req.onNote?.(`no checkpoint at ${ckFile}; starting from step 0`);

  const engine = await createEngine(model, structure, { bn: config.bn, trainHead: config.trainHead, labelSmoothing: config.labelSmoothing, device: req.engine?.device, threads: req.engine?.threads, layout: req.engine?.layout });
  let result: TrainResult;
  try {
    result = await train({
      model, file, structure, engine, data, norm, config: { ...config, arch },
      // The bytes loadSupernet read identify the supernet (no second read of the file).
      checkpoint: { file: ckFile, every: req.checkpoint?.every ?? 0, resume, fingerprint: loaded.sha256 },
      onStep: req.onStep,
    });
  } finally {
    await engine.release();
  }

  const record = {
    tool: "bnnas train",
    supernet: basename(file),
    steps: result.steps,
    epochs: result.steps / result.stepsPerEpoch,
    stepsPerEpoch: result.stepsPerEpoch,
    sampler: config.sampler,
    ...(arch ? { arch } : {}),
    bn: config.bn,
    trainHead: config.trainHead,
    batch: config.batch,
    lr: config.lr,
    lrSchedule: config.schedule,
    momentum: config.momentum,
    weightDecay: config.weightDecay,
    weightDecayBn: config.weightDecayBn,
    labelSmoothing: config.labelSmoothing,
    clip: config.clip ?? null,
    seed: config.seed,
    data: { source: full.source, images: data.count, holdout: req.holdout ?? 0, holdoutSeed: config.seed, normalize: norm, normalizeSource: normSource },
    final: { loss: result.finalLoss, accuracy: result.finalAccuracy, window: Math.min(result.steps, RECENT_WINDOW) },
    history: result.history,
  };
  setTrainingRecord(model, record);
  writeModel(req.output, model);
  // The run is complete and its result written: the checkpoint has served its purpose.
  try {
    unlinkSync(ckFile);
  } catch {
    /* none was written */
  }
  return { ...result, output: req.output, data: { source: full.source, images: data.count }, record };
}
