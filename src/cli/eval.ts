/**
 * `bnnas eval MODEL [--data DIR] [--arch A] [--recalibrate-bn N] ...`: top-1 accuracy and
 * throughput of a subnet, or of one path of a supernet (SPOS-style evaluation: only that path is
 * run, optionally with its BatchNorm statistics recomputed from N training batches).
 */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { intOption, deviceOption, threadsOption, addDataOptions, dataOptions, type DataFlags } from "./options.js";
import { normalizationOptions, type NormalizationFlags } from "./normalization.js";
import type { Device } from "../runtime/ort.js";
import { evaluateFile, RECALIBRATION_RULE } from "../pipeline/evaluate.js";
import type { EvalResult } from "../runtime/eval.js";
import { LazyProgress } from "../util/progress.js";

interface Options extends NormalizationFlags, DataFlags {
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
  addDataOptions(program
    .command("eval")
    .description("top-1 accuracy, per-class accuracy, confusion matrix and throughput of a subnet, or of one supernet path (--arch)")
    .argument("<model>", "subnet ONNX file, or a supernet with --arch"), "the data whose test split (test/ or val/) is evaluated")
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
      const data = dataOptions(opts, io);
      const result = await evaluateFile(file, {
        arch: opts.arch,
        data: opts.data,
        dataOptions: data,
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
          data.finish();
          recalibrating.finish();
          evaluating.update(done, total, { acc });
        },
      });
      evaluating.finish();
      const { arch, recalibration, data: source, ...measured } = result;
      if (opts.json) {
        io.stdout(`${JSON.stringify({ ...measured, model: file, ...(arch ? { arch } : {}), data: source, device: opts.device, threads: opts.threads ?? null, ...(recalibration ? { recalibrate_bn: recalibration } : {}) })}\n`);
        return;
      }
      io.stdout(`${file}${arch ? ` arch ${arch.join(",")}` : ""}: top-1 accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${result.images})\n`);
      io.stdout(`  ${result.images_per_s.toFixed(0)} images/s (batch ${result.batch}, ${opts.device}${opts.threads ? `, ${opts.threads} threads` : ""}; inference ${result.inference_s.toFixed(2)} s, wall ${result.wall_s.toFixed(2)} s)\n`);
      if (recalibration) io.stdout(`  BatchNorm statistics recomputed from ${recalibration.batches} training batches of ${recalibration.batch} (${RECALIBRATION_RULE})\n`);
      io.stdout(formatPerClass(result));
    });
}

/** Above this many classes the confusion matrix is left to --json (a table nobody can read). */
const MATRIX_MAX_CLASSES = 20;

/** Per-class accuracy, and the confusion matrix (rows: true class, columns: predicted) when it fits on a screen. */
export function formatPerClass(r: Pick<EvalResult, "classes" | "per_class" | "confusion">): string {
  const width = Math.min(24, Math.max(5, ...r.classes.map((c) => c.length)));
  const name = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}~` : s.padEnd(width));
  const lines = ["  per class:"];
  for (const c of r.per_class) lines.push(`    ${name(c.label)} ${c.n > 0 ? `${(100 * c.acc).toFixed(1).padStart(5)}%` : "     -"} of ${c.n}`);
  if (r.classes.length <= MATRIX_MAX_CLASSES) {
    const cell = Math.max(4, ...r.confusion.flat().map((v) => String(v).length + 1));
    lines.push(`  confusion (rows: true class, columns: predicted ${r.classes.map((_, i) => i).join(" ")}):`);
    r.confusion.forEach((row, i) => lines.push(`    ${String(i).padStart(2)} ${name(r.classes[i]!)} ${row.map((v) => String(v).padStart(cell)).join("")}`));
  } else {
    lines.push(`  (the ${r.classes.length}x${r.classes.length} confusion matrix is in --json)`);
  }
  return `${lines.join("\n")}\n`;
}
