/**
 * A whole training run from files to files, as `bnnas train` and the demo run it: open the model
 * (a supernet, or a standalone subnet), resolve the input normalisation, optionally redraw every
 * weight with the space's init, load and check the data (with an optional validation hold-out),
 * manage the checkpoint's lifecycle (refuse to overwrite one, resume it, remove it once the
 * result is written), train, attach the training record and write the trained copy atomically.
 *
 * What trains: on a supernet, its BatchNorms (BN-NAS, the default) or every weight of the
 * sampled path (SPOS); on a subnet, every weight (the default) or its BatchNorms.
 */
import { existsSync, mkdirSync, unlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { BnnasError, FoldedBatchNormError, InputFileError, OptionError, UsageError } from "../errors.js";
import { isQuantized } from "../extract/deploy-info.js";
import type { ModelProto } from "../onnx/proto.js";
import { setTrainingRecord } from "../supernet/manifest.js";
import { loadTrainable, type LoadedTrainable } from "../supernet/trainable.js";
import { readSubnetManifest, recordClassNames, writeSubnetManifest } from "../supernet/subnet-manifest.js";
import { checkArch, parseArch } from "../structure/arch.js";
import type { Normalization } from "../structure/normalization.js";
import type { SupernetStructure } from "../structure/structure.js";
import { writeModel } from "../model/model-io.js";
import { reinitializeWeights } from "../ops/init.js";
import { cudaAvailable, CUDA_HELP, type Device } from "../runtime/ort.js";
import { splitValidation, type Dataset } from "../data/dataset.js";
import { inputImageShape, loadData, type DataOptions } from "../data/load.js";
import { openBatchSource, type PrefetchMode } from "../data/prefetch.js";
import { FASHION_MNIST_NORMALIZATION } from "../data/batches.js";
import { createEngine, type EngineLayout } from "../train/engine.js";
import { train, RECENT_WINDOW, type StepInfo, type TrainConfig, type TrainResult } from "../train/trainer.js";
import { batchNormTable } from "../train/params.js";
import type { SamplerKind } from "../train/sampler.js";

export type WeightsMode = "bn" | "all";

export interface EngineChoice {
  device?: Device;
  threads?: number;
  layout?: EngineLayout;
}

/** What to train, on what, and where the results go. */
export interface TrainRunRequest {
  /** The file to train: a supernet (bnnas export or PyTorch convention) or a standalone subnet. */
  supernet: string;
  /** The trained copy to write. */
  output: string;
  /**
   * Training options. `arch` is the path of sampler "fixed" (config.arch is ignored); without a
   * sampler: "fixed" for a subnet or when an arch is given, else "uniform".
   */
  config: Omit<TrainConfig, "arch" | "sampler"> & { sampler?: SamplerKind };
  /** What trains (default: "bn" on a supernet, "all" on a subnet). */
  weights?: WeightsMode;
  /** Redraw every weight with the space's init first (a bnnas file: training from scratch). */
  reinit?: boolean;
  /** The one path to train (sampler "fixed"): mask positions, or their text form `3,1,6,...` (-1 = identity). */
  arch?: string | readonly number[];
  /** Data folder: IDX, CIFAR binary or image folders (default: the system Fashion-MNIST, else the shipped subset). */
  data?: string;
  /** Format, cache and strictness of reading `data`; its notes go to onNote. */
  dataOptions?: Omit<DataOptions, "onNote">;
  /** Where batches are made (default "worker": a thread, while the step runs; the same batches either way). */
  prefetch?: PrefetchMode;
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
    /** Continue from an earlier run's checkpoint (same model, data and options). */
    resume?: boolean;
  };
  engine?: EngineChoice;
  onStep?: (info: StepInfo) => void;
  /** Things worth telling a person that are not errors (e.g. nothing to resume). */
  onNote?: (text: string) => void;
}

export interface TrainRunResult extends TrainResult {
  output: string;
  sampler: SamplerKind;
  /** Whose BatchNorms trained in BN mode (every BN of a subnet). */
  bn: TrainConfig["bn"];
  kind: "supernet" | "subnet";
  weights: WeightsMode;
  /** The training data actually used (after the hold-out). */
  data: { source: string; images: number };
  /** The training record written into the output's manifest. */
  record: Record<string, unknown>;
}

/** A model in memory and everything training it needs; `trainModel` runs it. */
export interface TrainJob {
  model: ModelProto;
  /** Its file name (messages, the record). */
  file: string;
  structure: SupernetStructure;
  data: Dataset;
  norm: Normalization;
  config: TrainConfig;
  weights: WeightsMode;
  engine?: EngineChoice;
  checkpoint?: { file: string; every: number; resume: boolean; fingerprint: string };
  onStep?: (info: StepInfo) => void;
  /** Where batches are made (default "worker", see data/prefetch.ts; the same batches either way). */
  prefetch?: PrefetchMode;
}

/**
 * Trains a model in memory: creates the engine, runs the loop, releases the engine. On a complete
 * run the model's initializers hold the trained values.
 */
export async function trainModel(job: TrainJob): Promise<TrainResult> {
  const { config } = job;
  const engine = await createEngine(job.model, job.structure, {
    weights: job.weights, bn: config.bn, trainHead: config.trainHead, labelSmoothing: config.labelSmoothing,
    device: job.engine?.device, threads: job.engine?.threads, layout: job.engine?.layout,
  });
  const { source } = openBatchSource(job.data, job.norm, job.prefetch);
  try {
    return await train({ model: job.model, file: job.file, structure: job.structure, engine, data: job.data, norm: job.norm, config, checkpoint: job.checkpoint, onStep: job.onStep, batches: source });
  } finally {
    await source.close();
    await engine.release();
  }
}

/** The model's number of classes when its logits' shape says it. */
function outputClasses(structure: SupernetStructure, model: ModelProto): number | undefined {
  const out = model.graph!.output.find((o) => o.name === structure.output) ?? model.graph!.output[0];
  const d = out?.type?.tensorType?.shape?.dim?.[1]?.dimValue;
  return d !== undefined && d !== null && Number(d) > 0 ? Number(d) : undefined;
}

/** The model's input must be [batch, C, H, W] images of the data's size. */
function checkInputShape(shape: readonly (number | string)[], data: Dataset, file: string, augment: boolean): void {
  const [, c, h, w] = shape;
  const want = [c, h, w];
  const have = [data.channels, data.height, data.width];
  if (shape.length === 4 && want.every((d, i) => typeof d !== "number" || d === have[i])) return;
  if (shape.length !== 4) {
    if (augment) throw new OptionError("augment", (o) => `${o} crops and flips images, but ${file}'s input has shape [${shape.join(", ")}], not [batch, C, H, W]`);
    throw new UsageError(`${file}: input has shape [${shape.join(", ")}]; bnnas trains on [batch, C, H, W] images`);
  }
  throw new UsageError((o) => `${file}: the model takes ${want.join(" x ")} inputs but ${data.source} holds ${have.join(" x ")} images; use ${o("data")} with a matching dataset`);
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

/** The sampler and the architecture to train, checked against the model: a subnet has its one path. */
function pathToTrain(loaded: LoadedTrainable, req: TrainRunRequest): { sampler: SamplerKind; arch?: number[] } {
  const given = req.config.sampler;
  if (loaded.kind === "subnet") {
    if (req.arch !== undefined && req.arch.length > 0) throw new OptionError("arch", (o) => `${loaded.file} is a subnet (one path): drop ${o}`);
    if (given !== undefined && given !== "fixed") throw new OptionError("sampler", (o) => `${loaded.file} is a subnet (one path): ${o} ${given} samples the paths of a supernet`);
    return { sampler: "fixed", arch: [] };
  }
  const sampler = given ?? (req.arch !== undefined ? "fixed" : "uniform");
  if ((req.arch !== undefined) !== (sampler === "fixed")) throw new OptionError("arch", (o) => `${o} and sampler 'fixed' go together (sampler is '${sampler}')`);
  if (req.arch === undefined) return { sampler };
  return { sampler, arch: typeof req.arch === "string" ? parseArch(req.arch, loaded.structure) : checkArch(req.arch, loaded.structure) };
}

/** Only a bnnas file knows its init: its manifest names the space (a subnet's, the supernet it came from). */
function reinitialize(loaded: LoadedTrainable, seed: number): void {
  const fromBnnas = loaded.kind === "supernet" ? loaded.manifest !== undefined : loaded.subnetManifest?.source.kind === "bnnas";
  if (!fromBnnas) throw new OptionError("reinit", (o) => `${loaded.file} has no bnnas manifest, so its initialisation is unknown; ${o} redraws weights with the init of a bnnas space (drop it to train from the file's weights)`);
  reinitializeWeights(loaded.model.graph!, seed);
}

/** Puts the record where the output's kind keeps it: the supernet manifest, the subnet manifest's retraining list, or metadata. */
function attachRecord(loaded: LoadedTrainable, record: Record<string, unknown>): void {
  if (loaded.kind === "subnet") {
    const m = readSubnetManifest(loaded.model, loaded.file);
    if (m) {
      const labels = recordClassNames(record);
      writeSubnetManifest(loaded.model, { ...m, ...(labels ? { labels } : {}), retraining: [...(m.retraining ?? []), record] });
      return;
    }
  }
  setTrainingRecord(loaded.model, record);
}

export async function runTraining(req: TrainRunRequest): Promise<TrainRunResult> {
  const { config } = req;
  if (req.engine?.device === "cuda" && !cudaAvailable()) throw new BnnasError((o) => `${o("device")} cuda: ${CUDA_HELP}`);

  const loaded = loadTrainable(req.supernet, { pattern: req.pattern });
  const { model, structure } = loaded;
  const file = req.supernet;
  // Its weights are int8 constants behind DequantizeLinear: no gradient step can update them.
  if (isQuantized(model)) throw new InputFileError(file, "is quantized (int8, QuantizeLinear/DequantizeLinear): train the float model first, then quantize the trained one with `bnnas extract-subnet TRAINED --quantize int8`");
  const weights: WeightsMode = req.weights ?? (loaded.kind === "subnet" ? "all" : "bn");
  if (weights === "bn" && batchNormTable(model, file).size === 0) throw new FoldedBatchNormError(file);
  const manifestNorm = loaded.kind === "supernet" ? loaded.manifest?.input.normalize : loaded.subnetManifest?.input.normalize;
  const norm = req.normalize ?? manifestNorm ?? FASHION_MNIST_NORMALIZATION;
  const normSource = req.normalize ? "given" : manifestNorm ? "manifest" : "Fashion-MNIST default (give a normalisation for other data)";
  const { sampler, arch } = pathToTrain(loaded, req);
  // A subnet has no candidates, so no "last BatchNorm of a candidate": BN-only training of a subnet trains every BN.
  const bn = loaded.kind === "subnet" ? "all" : config.bn;
  if (req.reinit) reinitialize(loaded, config.seed);

  const full = await loadData(req.data, "train", { ...req.dataOptions, want: inputImageShape(structure.input.shape), onNote: req.onNote });
  checkInputShape(structure.input.shape, full, file, config.augment === true);
  const outputs = outputClasses(structure, model);
  if (outputs !== undefined && full.classes > outputs) {
    throw new UsageError(`${file} outputs ${outputs} classes but ${full.source} has ${full.classes} (${(full.classNames ?? []).slice(0, 3).join(", ")}, ...); export a space with "classes": ${full.classes}, or give data with at most ${outputs} classes`);
  }
  const data = req.holdout ? splitValidation(full, req.holdout, config.seed).train : full;

  const ckFile = checkpointFile(req.output, req.checkpoint?.dir);
  const resume = req.checkpoint?.resume === true;
  if (!resume && existsSync(ckFile)) {
    throw new OptionError("resume", (o) => `checkpoint ${ckFile} exists from an earlier run: pass ${o} to continue it, or delete it to start over`);
  }
  if (resume && !existsSync(ckFile)) req.onNote?.(`no checkpoint at ${ckFile}; starting from step 0`);

  const result = await trainModel({
    model, file, structure, data, norm, weights, engine: req.engine, onStep: req.onStep, prefetch: req.prefetch,
    config: { ...config, sampler, arch, bn },
    // The bytes the loader read identify the model (no second read of the file); the identity
    // also covers weights and reinit, which the config does not hold.
    checkpoint: { file: ckFile, every: req.checkpoint?.every ?? 0, resume, fingerprint: `${loaded.sha256}|weights=${weights}|reinit=${req.reinit === true}` },
  });

  const record = {
    tool: "bnnas train",
    [loaded.kind]: basename(file),
    weights,
    reinit: req.reinit === true,
    steps: result.steps,
    epochs: result.steps / result.stepsPerEpoch,
    stepsPerEpoch: result.stepsPerEpoch,
    sampler,
    ...(arch && loaded.kind === "supernet" ? { arch } : {}),
    bn,
    trainHead: config.trainHead,
    batch: config.batch,
    lr: config.lr,
    lrSchedule: config.schedule,
    warmup: config.warmup ?? 0,
    momentum: config.momentum,
    nesterov: config.nesterov ?? false,
    weightDecay: config.weightDecay,
    weightDecayBn: config.weightDecayBn,
    labelSmoothing: config.labelSmoothing,
    clip: config.clip ?? null,
    augment: config.augment ?? false,
    seed: config.seed,
    data: { source: full.source, images: data.count, classNames: Array.from({ length: Math.max(full.classes, outputClasses(structure, model) ?? 0) }, (_, i) => full.classNames?.[i] ?? String(i)), holdout: req.holdout ?? 0, holdoutSeed: config.seed, normalize: norm, normalizeSource: normSource },
    final: { loss: result.finalLoss, accuracy: result.finalAccuracy, window: Math.min(result.steps, RECENT_WINDOW) },
    history: result.history,
  };
  attachRecord(loaded, record);
  writeModel(req.output, model);
  // The run is complete and its result written: the checkpoint has served its purpose.
  try {
    unlinkSync(ckFile);
  } catch {
    /* none was written */
  }
  return { ...result, output: req.output, sampler, bn, kind: loaded.kind, weights, data: { source: full.source, images: data.count }, record };
}
