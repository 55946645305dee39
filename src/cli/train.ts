/**
 * `bnnas train SUPERNET -o OUT.onnx [options]`: BN-only training of a supernet (bnnas export or
 * PyTorch convention) on an IDX dataset; writes a copy with trained gamma/beta/running
 * statistics and a training record. The run (files, data, checkpoints, record) is
 * src/pipeline/train-run.ts; this file maps flags to its request and prints the result.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { addDataOptions, checkOutputIsNotInput, choiceOption, dataOptions, deviceOption, floatOption, intOption, threadsOption, type DataFlags } from "./options.js";
import { normalizationOptions, type NormalizationFlags } from "./normalization.js";
import { UsageError } from "../errors.js";
import type { Device } from "../runtime/ort.js";
import type { EngineLayout } from "../train/engine.js";
import { RECENT_WINDOW, type TrainConfig } from "../train/trainer.js";
import { LR_SCHEDULES, type LrSchedule } from "../train/schedule.js";
import { SAMPLERS, type SamplerKind } from "../train/sampler.js";
import { runTraining, type TrainRunRequest, type WeightsMode } from "../pipeline/train-run.js";
import { PREFETCH_MODES, type PrefetchMode } from "../data/prefetch.js";
import { LazyProgress } from "../util/progress.js";

/** The options that are TrainConfig fields under the same name take their types from it. */
interface Options extends NormalizationFlags, DataFlags, Pick<TrainConfig, "epochs" | "steps" | "batch" | "lr" | "momentum" | "weightDecay" | "labelSmoothing" | "clip" | "bn" | "seed" | "warmup"> {
  weights?: WeightsMode;
  reinit?: boolean;
  nesterov?: boolean;
  augment?: boolean;
  output: string;
  weightDecayBn?: boolean;
  lrSchedule: TrainConfig["schedule"];
  sampler?: Exclude<SamplerKind, "fixed">;
  arch?: string;
  trainHead?: boolean;
  holdout?: number;
  checkpointEvery?: number;
  checkpointDir?: string;
  resume?: boolean;
  device: Device;
  threads?: number;
  engine: EngineLayout;
  prefetch: PrefetchMode;
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

export function register(program: Command, io: ConsoleIO): void {
  addDataOptions(program
    .command("train")
    .description("train a supernet's BatchNorm gamma/beta (BN-NAS) or every weight (SPOS), or a standalone subnet's weights, on images (IDX, CIFAR or image folders); writes a trained copy")
    .argument("<model>", "supernet ONNX file (bnnas export or PyTorch convention, BatchNorm not folded), or a standalone subnet (extract-subnet output or any single-path ONNX classifier)")
    .requiredOption("-o, --output <file>", "trained supernet to write (a copy; the input is not changed)"), "the training data (its train split)")
    .option("--epochs <n>", "epochs to train (default 1 unless --steps is given)", intOption("--epochs", 1))
    .option("--steps <n>", "stop after this many steps (with --epochs, the smaller wins)", intOption("--steps", 1))
    .option("--batch <n>", "batch size", intOption("--batch", 1), 128)
    .option("--weights <what>", "what trains: bn (BatchNorm gamma/beta, BN-NAS; default for supernets) or all (every weight: SPOS on a supernet, from-scratch training of a subnet; default for subnets)", choiceOption("--weights", ["bn", "all"] as const))
    .option("--reinit", "first redraw every weight with the space's init (a bnnas supernet or subnet): train the architecture from scratch")
    .option("--lr <x>", "learning rate", floatOption("--lr", 0), 0.1)
    .option("--momentum <x>", "SGD momentum", floatOption("--momentum", 0, 1), 0.9)
    .option("--nesterov", "Nesterov momentum")
    .option("--weight-decay <x>", "weight decay of conv and linear weights (biases never; BatchNorm gamma/beta only with --weight-decay-bn)", floatOption("--weight-decay", 0), 0)
    .option("--weight-decay-bn", "apply weight decay to BatchNorm gamma/beta too")
    .option("--lr-schedule <s>", `learning-rate schedule: ${LR_SCHEDULES.join(", ")}`, choiceOption("--lr-schedule", LR_SCHEDULES), "linear" as LrSchedule)
    .option("--warmup <steps>", "linear learning-rate warm-up over this many steps before the schedule", intOption("--warmup", 0), 0)
    .option("--label-smoothing <x>", "label smoothing of the cross-entropy", floatOption("--label-smoothing", 0, 1), 0)
    .option("--augment", "random crop (2-pixel padding) and horizontal flip of training images, seeded (resume stays exact)")
    .option("--clip <x>", "clip each gradient value to [-x, x]", floatOption("--clip", Number.MIN_VALUE))
    .option("--sampler <s>", `path sampling of a supernet: uniform (BN-NAS/SPOS; the default) or fair (FairNAS: K paths per step covering every candidate)`, choiceOption("--sampler", SAMPLERS))
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
    .option("--prefetch <mode>", "where batches are made: worker (a thread, while the step runs) or main (between steps: one thread fewer competing with onnxruntime); the same batches either way", choiceOption("--prefetch", PREFETCH_MODES), "worker" as PrefetchMode)
    .option("--engine <layout>", "fused: the whole step in one onnxruntime session (fastest); blocks: one session per block, created when first sampled (least memory); auto: fused unless the supernet's weights pass 64 MB", choiceOption("--engine", ["auto", "fused", "blocks"] as const), "auto" as const)
    .option("--pattern <regex>", "for foreign supernets: name layer and candidate from initializer names (see score-onnx)")
    .option("--mean <m,...>", "input normalisation mean per channel, for foreign supernets without a manifest (default Fashion-MNIST's 0.286)")
    .option("--std <s,...>", "input normalisation std per channel, for foreign supernets without a manifest (default 0.353)")
    .option("--quiet", "no progress output")
    .option("--json", "print a JSON summary on stdout")
    .action(async (file: string, opts: Options) => {
      if (existsSync(file)) checkOutputIsNotInput(file, opts.output);
      if (opts.arch !== undefined && opts.sampler === "fair") throw new UsageError("--arch trains one fixed path; it cannot be combined with --sampler fair");
      const config: TrainRunRequest["config"] = {
        epochs: opts.epochs,
        steps: opts.steps,
        batch: opts.batch,
        lr: opts.lr,
        momentum: opts.momentum,
        weightDecay: opts.weightDecay,
        weightDecayBn: Boolean(opts.weightDecayBn),
        nesterov: Boolean(opts.nesterov),
        schedule: opts.lrSchedule,
        warmup: opts.warmup,
        augment: Boolean(opts.augment),
        labelSmoothing: opts.labelSmoothing,
        clip: opts.clip,
        sampler: opts.arch !== undefined ? "fixed" : opts.sampler,
        bn: opts.bn,
        trainHead: Boolean(opts.trainHead),
        seed: opts.seed,
      };
      const progress = new LazyProgress(io, "train", opts.quiet);
      const { onNote: _dataNote, finish: dataDone, ...dataOpts } = dataOptions(opts, io);
      const result = await runTraining({
        supernet: file,
        output: opts.output,
        config,
        weights: opts.weights,
        reinit: Boolean(opts.reinit),
        arch: opts.arch,
        data: opts.data,
        dataOptions: dataOpts,
        prefetch: opts.prefetch,
        holdout: opts.holdout,
        normalize: normalizationOptions(opts),
        pattern: opts.pattern,
        checkpoint: { dir: opts.checkpointDir, every: opts.checkpointEvery, resume: Boolean(opts.resume) },
        engine: { device: opts.device, threads: opts.threads, layout: opts.engine },
        onStep: (s) => {
          dataDone();
          progress.update(s.step, s.total, { loss: s.loss, acc: s.accuracy, lr: s.lr });
        },
        onNote: (text) => {
          dataDone();
          if (!opts.quiet) io.stderr(`${text}\n`);
        },
      });
      progress.finish();

      const summary = {
        output: opts.output,
        steps: result.steps,
        epochs: result.steps / result.stepsPerEpoch,
        ms_per_step: Number(result.msPerStep.toFixed(3)),
        final_loss: result.finalLoss,
        final_accuracy: result.finalAccuracy,
        resumed_from: result.resumedFrom ?? null,
        sampler: result.sampler,
        weights: result.weights,
        kind: result.kind,
        bn: result.bn,
        data: result.data.source,
        images: result.data.images,
      };
      if (opts.json) io.stdout(`${JSON.stringify(summary)}\n`);
      else {
        io.stdout(`wrote ${opts.output}: ${result.steps} steps (${summary.epochs.toFixed(2)} epochs of ${result.data.images} images, ${result.kind === "subnet" ? "subnet" : `${result.sampler} sampling`}, ${result.weights === "all" ? "every weight" : `--bn ${result.bn}`})\n`);
        io.stdout(`  final loss ${result.finalLoss.toFixed(4)}, training accuracy ${(result.finalAccuracy * 100).toFixed(1)}% (last ${Math.min(result.steps, RECENT_WINDOW)} steps)${result.stepsThisRun > 0 ? `; ${result.msPerStep.toFixed(1)} ms/step` : ""}\n`);
      }
    });
}
