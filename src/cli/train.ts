/**
 * `bnnas train SUPERNET -o OUT.onnx [options]`: BN-only training of a supernet (bnnas export or
 * PyTorch convention) on an IDX dataset; writes a copy with trained gamma/beta/running
 * statistics and a training record. The loop lives in src/train/trainer.ts, the forward and
 * backward in src/train/engine.ts; this file wires options, files and output.
 */
import { unlinkSync, existsSync, mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { checkOutputIsNotInput, choiceOption, deviceOption, floatOption, intOption, threadsOption } from "./options.js";
import { normalizationOptions, type NormalizationFlags } from "./normalization.js";
import { BnnasError, FoldedBatchNormError, UsageError } from "../errors.js";
import { loadSupernet } from "../supernet/load.js";
import { setTrainingRecord } from "../supernet/manifest.js";
import { parseArch } from "../structure/arch.js";
import { writeModel } from "../model/model-io.js";
import { cudaAvailable, CUDA_HELP, type Device } from "../runtime/ort.js";
import { loadDataset, splitValidation, type Dataset } from "../data/dataset.js";
import { FASHION_MNIST_NORMALIZATION } from "../data/batches.js";
import type { Normalization } from "../structure/normalization.js";
import { createEngine, type EngineLayout } from "../train/engine.js";
import { train, type TrainConfig, type TrainResult } from "../train/trainer.js";
import { LR_SCHEDULES, type LrSchedule } from "../train/schedule.js";
import { SAMPLERS, type SamplerKind } from "../train/sampler.js";
import { batchNormTable } from "../train/params.js";
import { Progress } from "../util/progress.js";

/** The options that are TrainConfig fields under the same name take their types from it. */
interface Options extends NormalizationFlags, Pick<TrainConfig, "epochs" | "steps" | "batch" | "lr" | "momentum" | "weightDecay" | "labelSmoothing" | "clip" | "bn" | "seed"> {
  output: string;
  data?: string;
  weightDecayBn?: boolean;
  lrSchedule: TrainConfig["schedule"];
  sampler: Exclude<SamplerKind, "fixed">;
  arch?: string;
  trainHead?: boolean;
  holdout?: number;
  checkpointEvery?: number;
  checkpointDir?: string;
  resume?: boolean;
  device: Device;
  threads?: number;
  engine: EngineLayout;
  pattern?: string;
  json?: boolean;
  quiet?: boolean;
}

/** A validation hold-out: a whole number of images, or a fraction in (0, 1). */
function holdoutOption(value: string): number {
  const v = Number(value);
  if (value.trim() === "" || !Number.isFinite(v) || v < 0 || (v >= 1 && !Number.isInteger(v))) {
    throw new UsageError(`--holdout takes a number of images or a fraction in (0, 1), not '${value}'`);
  }
  return v;
}

/** The input shape the supernet wants, [C, H, W], when its graph says so. */
function checkInputShape(shape: readonly (number | string)[], data: Dataset, file: string): void {
  const [, c, h, w] = shape;
  const want = [c, h, w];
  const have = [data.channels, data.height, data.width];
  if (shape.length === 4 && want.every((d, i) => typeof d !== "number" || d === have[i])) return;
  if (shape.length !== 4) throw new UsageError(`${file}: input has shape [${shape.join(", ")}]; bnnas trains on [batch, C, H, W] images`);
  throw new UsageError(`${file}: the supernet takes ${want.join(" x ")} inputs but ${data.source} holds ${have.join(" x ")} images; use --data with a matching dataset`);
}

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("train")
    .description("train a supernet's BatchNorm gamma/beta (BN-NAS) on an IDX image dataset; writes a trained copy")
    .argument("<supernet>", "supernet ONNX file (bnnas export or PyTorch convention, BatchNorm not folded)")
    .requiredOption("-o, --output <file>", "trained supernet to write (a copy; the input is not changed)")
    .option("--data <dir>", "folder with MNIST/Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist if installed, else the subset shipped with bnnas)")
    .option("--epochs <n>", "epochs to train (default 1 unless --steps is given)", intOption("--epochs", 1))
    .option("--steps <n>", "stop after this many steps (with --epochs, the smaller wins)", intOption("--steps", 1))
    .option("--batch <n>", "batch size", intOption("--batch", 1), 128)
    .option("--lr <x>", "learning rate", floatOption("--lr", 0), 0.1)
    .option("--momentum <x>", "SGD momentum", floatOption("--momentum", 0, 1), 0.9)
    .option("--weight-decay <x>", "weight decay (not applied to BatchNorm gamma/beta unless --weight-decay-bn)", floatOption("--weight-decay", 0), 0)
    .option("--weight-decay-bn", "apply weight decay to BatchNorm gamma/beta too")
    .option("--lr-schedule <s>", `learning-rate schedule: ${LR_SCHEDULES.join(", ")}`, choiceOption("--lr-schedule", LR_SCHEDULES), "linear" as LrSchedule)
    .option("--label-smoothing <x>", "label smoothing of the cross-entropy", floatOption("--label-smoothing", 0, 1), 0)
    .option("--clip <x>", "clip each gradient value to [-x, x]", floatOption("--clip", Number.MIN_VALUE))
    .option("--sampler <s>", `path sampling: uniform (BN-NAS/SPOS) or fair (FairNAS: K paths per step covering every candidate)`, choiceOption("--sampler", SAMPLERS), "uniform" as const)
    .option("--arch <A>", "train this one path every step instead of sampling (e.g. 1,4,2,5,3,2)")
    .option("--bn <mode>", "whose gamma/beta train: last (each candidate's last BN, the BN-NAS code) or all", choiceOption("--bn", ["last", "all"] as const), "last" as const)
    .option("--train-head", "train the classifier too")
    .option("--seed <n>", "seed of data order and path sampling", intOption("--seed", 0, 0xffffffff), 0)
    .option("--holdout <n>", "keep this many training images (or fraction) out of training as the validation split for search (same --seed)", holdoutOption)
    .option("--checkpoint-every <n>", "checkpoint every n steps (default: every epoch)", intOption("--checkpoint-every", 1))
    .option("--checkpoint-dir <dir>", "where the checkpoint goes (default: beside the output, <output>.ckpt)")
    .option("--resume", "continue from the checkpoint of an interrupted run with the same options")
    .addOption(deviceOption())
    .addOption(threadsOption("--threads <n>"))
    .option("--engine <layout>", "fused: the whole step in one onnxruntime session (fastest); blocks: one session per block, created when first sampled (least memory); auto: fused unless the supernet's weights pass 64 MB", choiceOption("--engine", ["auto", "fused", "blocks"] as const), "auto" as const)
    .option("--pattern <regex>", "for foreign supernets: name layer and candidate from initializer names (see score-onnx)")
    .option("--mean <m,...>", "input normalisation mean per channel, for foreign supernets without a manifest (default Fashion-MNIST's 0.286)")
    .option("--std <s,...>", "input normalisation std per channel, for foreign supernets without a manifest (default 0.353)")
    .option("--quiet", "no progress output")
    .option("--json", "print a JSON summary on stdout")
    .action(async (file: string, opts: Options) => {
      if (existsSync(file)) checkOutputIsNotInput(file, opts.output);
      if (opts.device === "cuda" && !cudaAvailable()) throw new BnnasError(`--device cuda: ${CUDA_HELP}`);
      if (opts.arch !== undefined && opts.sampler === "fair") throw new UsageError("--arch trains one fixed path; it cannot be combined with --sampler fair");

      const loaded = loadSupernet(file, { pattern: opts.pattern });
      // loadSupernet has already parsed the manifest (absent for foreign files).
      const { model, structure, manifest } = loaded;
      if (batchNormTable(model, file).size === 0) throw new FoldedBatchNormError(file);
      const flags = normalizationOptions(opts);
      const norm: Normalization = flags ?? manifest?.input.normalize ?? FASHION_MNIST_NORMALIZATION;
      const normSource = flags ? "--mean/--std" : manifest ? "manifest" : "Fashion-MNIST default (pass --mean/--std for other data)";
      const arch = opts.arch !== undefined ? parseArch(opts.arch, structure) : undefined;

      const full = loadDataset(opts.data, "train");
      checkInputShape(structure.input.shape, full, file);
      const data = opts.holdout ? splitValidation(full, opts.holdout, opts.seed).train : full;

      const config: TrainConfig = {
        epochs: opts.epochs,
        steps: opts.steps,
        batch: opts.batch,
        lr: opts.lr,
        momentum: opts.momentum,
        weightDecay: opts.weightDecay,
        weightDecayBn: Boolean(opts.weightDecayBn),
        schedule: opts.lrSchedule,
        labelSmoothing: opts.labelSmoothing,
        clip: opts.clip,
        sampler: arch ? "fixed" : opts.sampler,
        arch,
        bn: opts.bn,
        trainHead: Boolean(opts.trainHead),
        seed: opts.seed,
      };
      if (opts.checkpointDir) {
        try { mkdirSync(opts.checkpointDir, { recursive: true }); } catch (e) { throw new UsageError(`--checkpoint-dir ${opts.checkpointDir}: cannot create it (${(e as Error).message})`); }
      }
      const ckFile = join(opts.checkpointDir ?? "", opts.checkpointDir ? `${basename(opts.output)}.ckpt` : `${opts.output}.ckpt`);
      if (!opts.resume && existsSync(ckFile)) {
        throw new UsageError(`checkpoint ${ckFile} exists from an earlier run: pass --resume to continue it, or delete it to start over`);
      }
      if (opts.resume && !existsSync(ckFile) && !opts.quiet) io.stderr(`no checkpoint at ${ckFile}; starting from step 0\n`);
      const fingerprint = loaded.sha256; // the bytes loadSupernet read, not a second read of the file

      const engine = await createEngine(model, structure, { bn: opts.bn, trainHead: config.trainHead, labelSmoothing: opts.labelSmoothing, device: opts.device, threads: opts.threads, layout: opts.engine });
      let result: TrainResult;
      try {
        let progress: Progress | undefined;
        let last: Record<string, number> = {};
        result = await train({
          model, file, structure, engine, data, norm, config,
          checkpoint: { file: ckFile, every: opts.checkpointEvery ?? 0, resume: Boolean(opts.resume), fingerprint },
          onStep: (s) => {
            progress ??= new Progress(io, { label: "train", total: s.total, quiet: opts.quiet });
            last = { loss: s.loss, acc: s.accuracy, lr: s.lr };
            progress.update(s.step, last);
          },
        });
        progress?.finish(last);
      } finally {
        await engine.release();
      }

      setTrainingRecord(model, {
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
        data: { source: full.source, images: data.count, holdout: opts.holdout ?? 0, holdoutSeed: opts.seed, normalize: norm, normalizeSource: normSource },
        final: { loss: result.finalLoss, accuracy: result.finalAccuracy, window: Math.min(result.steps, 50) },
        history: result.history,
      });
      writeModel(opts.output, model);
      // The run is complete and its result written: the checkpoint has served its purpose.
      try { unlinkSync(ckFile); } catch { /* none was written */ }

      const summary = {
        output: opts.output,
        steps: result.steps,
        epochs: result.steps / result.stepsPerEpoch,
        ms_per_step: Number(result.msPerStep.toFixed(3)),
        final_loss: result.finalLoss,
        final_accuracy: result.finalAccuracy,
        resumed_from: result.resumedFrom ?? null,
        sampler: config.sampler,
        bn: config.bn,
        data: full.source,
        images: data.count,
      };
      if (opts.json) io.stdout(`${JSON.stringify(summary)}\n`);
      else {
        io.stdout(`wrote ${opts.output}: ${result.steps} steps (${summary.epochs.toFixed(2)} epochs of ${data.count} images, ${config.sampler} sampling, --bn ${config.bn})\n`);
        io.stdout(`  final loss ${result.finalLoss.toFixed(4)}, training accuracy ${(result.finalAccuracy * 100).toFixed(1)}% (last ${Math.min(result.steps, 50)} steps)${result.stepsThisRun > 0 ? `; ${result.msPerStep.toFixed(1)} ms/step` : ""}\n`);
      }
    });
}
