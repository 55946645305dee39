/**
 * `bnnas bench truth ...`: measurements a NAS user makes of a space, from inside the product.
 * `truth` trains architectures from scratch and writes their test accuracies (src/pipeline/truth.ts),
 * the table ranking studies compare an indicator with.
 */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { UsageError } from "../errors.js";
import { countOption, deviceOption, floatOption, intOption, threadsOption } from "./options.js";
import { loadSpace } from "../space/builtins.js";
import { spaceStructure } from "../supernet/export.js";
import { readArchsFile } from "../pipeline/archs-file.js";
import { buildTruthTable, sampleArchs } from "../pipeline/truth.js";
import type { Device } from "../runtime/ort.js";
import { LazyProgress } from "../util/progress.js";

interface TruthOptions {
  space: string;
  archs?: string;
  sample?: number;
  seed: number;
  seeds: number[];
  epochs: number;
  subset?: number;
  testLimit?: number;
  batch: number;
  lr: number;
  data?: string;
  output: string;
  device: Device;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
}

/** `0,1,2`: distinct whole numbers. */
function seedList(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim());
  const seeds = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (parts.length === 0 || seeds.some((s) => !Number.isSafeInteger(s) || s > 0xffffffff)) throw new UsageError(`--seeds takes comma-separated whole numbers such as 0,1, not '${value}'`);
  if (new Set(seeds).size !== seeds.length) throw new UsageError(`--seeds lists a seed twice: '${value}'`);
  return seeds;
}

export function register(program: Command, io: ConsoleIO): void {
  const bench = program.command("bench").description("measurements of a space from inside bnnas (truth: accuracies of architectures trained from scratch)");
  bench
    .command("truth")
    .description("train architectures from scratch (every weight, the space's init per seed) and append one JSON line per (arch, seed) with its test accuracy; resumable")
    .option("--space <name|file>", "search space", "fmnist-small")
    .option("--archs <file>", "architectures to train, one per line (comma-separated mask positions)")
    .option("--sample <n>", "train n distinct random architectures of the space instead (drawn with --seed)", intOption("--sample", 1))
    .option("--seed <s>", "seed of --sample", intOption("--seed", 0, 0xffffffff), 0)
    .option("--seeds <list>", "training seeds per architecture (init, data order), e.g. 0,1", seedList, [0])
    .option("--epochs <n>", "training epochs per run", intOption("--epochs", 1), 3)
    .option("--subset <n>", "train on a fixed sample of n training images (default: all)", countOption("--subset"))
    .option("--test-limit <n>", "evaluate on the first n test images (default: all)", intOption("--test-limit", 1))
    .option("--batch <n>", "batch size", intOption("--batch", 1), 128)
    .option("--lr <x>", "learning rate (cosine, Nesterov, weight decay 5e-5)", floatOption("--lr", 0), 0.1)
    .option("--data <dir>", "folder with IDX files (default: system Fashion-MNIST if installed, else the shipped subset)")
    .requiredOption("-o, --output <file>", "JSONL file to append to (lines already there are skipped)")
    .addOption(deviceOption())
    .addOption(threadsOption("--threads <n>"))
    .option("--json", "print a JSON summary on stdout")
    .option("--quiet", "no progress output")
    .action(async (opts: TruthOptions) => {
      if ((opts.archs === undefined) === (opts.sample === undefined)) throw new UsageError("give --archs FILE or --sample N (one of them)");
      const space = loadSpace(opts.space);
      const structure = spaceStructure(space);
      const archs = opts.archs !== undefined ? readArchsFile(opts.archs, structure) : sampleArchs(structure, opts.sample!, opts.seed);
      const progress = new LazyProgress(io, "truth", opts.quiet);
      const result = await buildTruthTable({
        space, archs, seeds: opts.seeds, epochs: opts.epochs, output: opts.output, data: opts.data, subsetImages: opts.subset, testLimit: opts.testLimit,
        batch: opts.batch, lr: opts.lr, engine: { device: opts.device, threads: opts.threads },
        onRun: (done, total, line) => progress.update(done, total, line ? { acc: line.acc, secs: line.secs } : {}),
      });
      progress.finish();
      const summary = { output: result.output, written: result.written.length, skipped: result.skipped, runs: archs.length * opts.seeds.length };
      if (opts.json) io.stdout(`${JSON.stringify(summary)}\n`);
      else io.stdout(`${opts.output}: ${summary.written} runs written, ${summary.skipped} already there (${archs.length} architectures x ${opts.seeds.length} seeds)\n`);
    });
}
