/**
 * `bnnas eval MODEL [--data DIR] [--arch A] [--recalibrate-bn N] ...`: top-1 accuracy and
 * throughput of a subnet, or of one path of a supernet (SPOS-style evaluation: only that path is
 * run, optionally with its BatchNorm statistics recomputed from N training batches).
 */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { intOption, deviceOption, threadsOption } from "./options.js";
import { normalizationOptions, type NormalizationFlags } from "./normalization.js";
import type { Device } from "../runtime/ort.js";
import { evaluateFile, RECALIBRATION_RULE } from "../pipeline/evaluate.js";
import { LazyProgress } from "../util/progress.js";

interface Options extends NormalizationFlags {
  data?: string;
  arch?: string;
  recalibrateBn?: number;
  recalibrateBatch: number;
  batch: number;
  limit?: number;
  device: Device;
  threads?: number;
  seed: number;
  pattern?: string;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("eval")
    .description("top-1 accuracy and throughput of a subnet, or of one supernet path (--arch)")
    .argument("<model>", "subnet ONNX file, or a supernet with --arch")
    .option("--data <dir>", "folder with IDX files (default: system Fashion-MNIST, else the shipped subset); the test split is evaluated")
    .option("--arch <A>", "for a supernet: the path to evaluate (mask position per layer)")
    .option("--recalibrate-bn <N>", "recompute BatchNorm statistics from N training batches first (SPOS)", intOption("--recalibrate-bn", 1))
    .option("--recalibrate-batch <B>", "images per recalibration batch", intOption("--recalibrate-batch", 2, 65536), 128)
    .option("--batch <B>", "images per run", intOption("--batch", 1, 65536), 256)
    .option("--limit <N>", "evaluate only the first N test images", intOption("--limit", 1))
    .addOption(deviceOption())
    .addOption(threadsOption("--threads <N>"))
    .option("--seed <S>", "which training images recalibration uses", intOption("--seed", 0, 0xffffffff), 0)
    .option("--pattern <regex>", "for foreign supernets: name layer and candidate from initializer names")
    .option("--mean <m,...>", "input normalisation mean (for models without a bnnas manifest)")
    .option("--std <s,...>", "input normalisation std (for models without a bnnas manifest)")
    .option("--json", "print the result as JSON on stdout")
    .option("--quiet", "no progress output")
    .action(async (file: string, opts: Options) => {
      const recalibrating = new LazyProgress(io, "recalibrate-bn", opts.quiet);
      const evaluating = new LazyProgress(io, "eval", opts.quiet);
      const result = await evaluateFile(file, {
        arch: opts.arch,
        data: opts.data,
        normalize: normalizationOptions(opts),
        recalibrate: opts.recalibrateBn === undefined ? undefined : {
          batches: opts.recalibrateBn,
          batch: opts.recalibrateBatch,
          seed: opts.seed,
          onBatch: (done, total) => recalibrating.update(done, total),
        },
        batch: opts.batch,
        limit: opts.limit,
        device: opts.device,
        threads: opts.threads,
        pattern: opts.pattern,
        onBatch: (done, total, acc) => {
          recalibrating.finish();
          evaluating.update(done, total, { acc });
        },
      });
      evaluating.finish();
      const { arch, recalibration, data, ...measured } = result;
      if (opts.json) {
        io.stdout(`${JSON.stringify({ ...measured, model: file, ...(arch ? { arch } : {}), data, device: opts.device, threads: opts.threads ?? null, ...(recalibration ? { recalibrate_bn: recalibration } : {}) })}\n`);
        return;
      }
      io.stdout(`${file}${arch ? ` arch ${arch.join(",")}` : ""}: top-1 accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${result.images})\n`);
      io.stdout(`  ${result.images_per_s.toFixed(0)} images/s (batch ${result.batch}, ${opts.device}${opts.threads ? `, ${opts.threads} threads` : ""}; inference ${result.inference_s.toFixed(2)} s, wall ${result.wall_s.toFixed(2)} s)\n`);
      if (recalibration) io.stdout(`  BatchNorm statistics recomputed from ${recalibration.batches} training batches of ${recalibration.batch} (${RECALIBRATION_RULE})\n`);
    });
}
