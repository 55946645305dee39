/**
 * `bnnas bench truth|rank ...`: measurements a NAS user makes of a space, from inside the product.
 * `truth` trains architectures from scratch and writes their test accuracies (src/pipeline/truth.ts),
 * the table ranking studies compare an indicator with; `rank` measures how well an indicator's
 * ranking agrees with such a table (src/pipeline/rank.ts).
 */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { UsageError } from "../errors.js";
import { addDataOptions, addProxyOptions, countOption, dataOptions, deviceOption, floatOption, intOption, proxyOptions, threadsOption, type DataFlags, type ProxyFlags } from "./options.js";
import { loadSpace } from "../space/builtins.js";
import { spaceStructure } from "../supernet/export.js";
import { readArchsFile } from "../pipeline/archs-file.js";
import { buildTruthTable, sampleArchs } from "../pipeline/truth.js";
import { rankReport, readTruthTable, type RankReport } from "../pipeline/rank.js";
import { loadSupernet } from "../supernet/load.js";
import { checkIndicatorName, indicatorHelp } from "../proxy/registry.js";
import type { Device } from "../runtime/ort.js";
import { LazyProgress } from "../util/progress.js";
import { DEMO_RECIPE } from "../pipeline/demo.js";
import { runBenchSearch, type BenchSearchReport } from "../pipeline/bench-search.js";
import { readLatencyTable } from "../latency/table.js";
import { formatArch } from "../structure/arch.js";

/** What addFromScratchOptions declares. */
interface FromScratchFlags {
  seeds: number[];
  epochs: number;
  subset?: number;
  testLimit?: number;
  batch: number;
  lr: number;
}

interface TruthOptions extends DataFlags, FromScratchFlags {
  space: string;
  archs?: string;
  sample?: number;
  seed: number;
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

/** The from-scratch training of each (arch, seed), shared by bench truth and bench search (pipeline/truth.ts). */
function addFromScratchOptions(cmd: Command): Command {
  return cmd
    .option("--seeds <list>", "training seeds per architecture (init, data order), e.g. 0,1", seedList, [0])
    .option("--epochs <n>", "from-scratch training epochs per run", intOption("--epochs", 1), 3)
    .option("--subset <n>", "train on a fixed sample of n training images (default: all)", countOption("--subset"))
    .option("--test-limit <n>", "evaluate on the first n test images (default: all)", intOption("--test-limit", 1))
    .option("--batch <n>", "batch size of the from-scratch runs", intOption("--batch", 1), 128)
    .option("--lr <x>", "learning rate of the from-scratch runs (cosine, Nesterov, weight decay 5e-5)", floatOption("--lr", 0), 0.1);
}

export function register(program: Command, io: ConsoleIO): void {
  const bench = program.command("bench").description("measurements of a space from inside bnnas (truth: accuracies of architectures trained from scratch; rank: how well an indicator agrees with them; search: the chosen architecture's percentile among random ones)");
  addFromScratchOptions(addDataOptions(bench
    .command("truth")
    .description("train architectures from scratch (every weight, the space's init per seed) and append one JSON line per (arch, seed) with its test accuracy; resumable"), "the data (train split to train, test split to evaluate)")
    .option("--space <name|file>", "search space", "fmnist-small")
    .option("--archs <file>", "architectures to train, one per line (comma-separated mask positions)")
    .option("--sample <n>", "train n distinct random architectures of the space instead (drawn with --seed)", intOption("--sample", 1))
    .option("--seed <s>", "seed of --sample", intOption("--seed", 0, 0xffffffff), 0))
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
      const data = dataOptions(opts, io);
      const result = await buildTruthTable({
        space, archs, seeds: opts.seeds, epochs: opts.epochs, output: opts.output, data: opts.data, dataOptions: data, subsetImages: opts.subset, testLimit: opts.testLimit,
        batch: opts.batch, lr: opts.lr, engine: { device: opts.device, threads: opts.threads },
        onRun: (done, total, line) => {
          data.finish();
          progress.update(done, total, line ? { acc: line.acc, secs: line.secs } : {});
        },
      });
      progress.finish();
      const summary = { output: result.output, written: result.written.length, skipped: result.skipped, runs: archs.length * opts.seeds.length };
      if (opts.json) io.stdout(`${JSON.stringify(summary)}\n`);
      else io.stdout(`${opts.output}: ${summary.written} runs written, ${summary.skipped} already there (${archs.length} architectures x ${opts.seeds.length} seeds)\n`);
    });
  addProxyOptions(bench
    .command("rank")
    .description("how well an indicator ranks architectures: Kendall tau and Spearman rho against a truth table (with bootstrap 95% intervals), top-10% precision, the truth percentile of the indicator's best, the truth's own seed-to-seed tau, and rank stability over the training epochs")
    .argument("<supernet>", "a trained supernet ONNX file")
    .requiredOption("--truth <file>", "JSONL of {\"arch\": [...], \"acc\": x[, \"seed\": s]} (bench truth's output); the seeds of an architecture are averaged")
    .option("--indicator <name>", `indicator: ${indicatorHelp()}`, "bn"))
    .addOption(deviceOption())
    .addOption(threadsOption("--threads <n>"))
    .option("--bootstrap <n>", "bootstrap resamples of the intervals", intOption("--bootstrap", 10, 1_000_000), 1000)
    .option("--seed <s>", "seed of the bootstrap", intOption("--seed", 0, 0xffffffff), 0)
    .option("--json", "print the report as JSON on stdout")
    .action(async (file: string, opts: ProxyFlags & { truth: string; indicator: string; bootstrap: number; seed: number; json?: boolean }) => {
      checkIndicatorName(opts.indicator); // an unknown name is refused before any file is read
      const loaded = loadSupernet(file);
      const truth = readTruthTable(opts.truth, loaded.structure);
      const progress = new LazyProgress(io, `${opts.indicator} paths`, opts.json);
      const report = await rankReport(loaded, truth, {
        indicator: opts.indicator, rounds: opts.bootstrap, seed: opts.seed,
        proxy: proxyOptions(opts, io, (n) => progress.update(n, Math.max(n, truth.archs.length))),
      });
      progress.finish();
      io.stdout(opts.json ? `${JSON.stringify(report)}\n` : formatRank(file, opts.truth, report));
    });
  registerSearch(bench, io);
}

interface SearchOptions extends DataFlags, FromScratchFlags {
  space: string;
  maxMacs: number;
  maxParams?: number;
  maxLatency?: number;
  latencyTable?: string;
  supernetEpochs: number;
  supernetSteps?: number;
  seed: number;
  random: number;
  truthOut: string;
  workDir?: string;
  force?: boolean;
  device: Device;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
}

/** `bench search`: the demo's pipeline checked against random architectures trained from scratch (src/pipeline/bench-search.ts). */
function registerSearch(bench: Command, io: ConsoleIO): void {
  addFromScratchOptions(addDataOptions(bench
    .command("search")
    .description("search checked end to end: the demo's pipeline (export, BN-only training, BN indicator, exact search under the budget), then the chosen architecture and N random ones under the same budget trained from scratch as bench truth does; reports the chosen one's percentile among them (target: 80th); resumable"), "the data (supernet training, and the from-scratch runs)")
    .option("--space <name|file>", "search space", "fmnist-small")
    .option("--max-macs <n>", "MACs budget (e.g. 4M)", countOption("--max-macs"), DEMO_RECIPE.maxMacs)
    .option("--max-params <n>", "parameter budget (e.g. 100K)", countOption("--max-params"))
    .option("--latency-table <file>", "predicted latencies from bnnas latency (for --max-latency)")
    .option("--max-latency <ms>", "predicted-latency budget in ms (needs --latency-table)", floatOption("--max-latency", 0))
    .option("--supernet-epochs <n>", "epochs of the BN-only supernet training (the demo's recipe otherwise)", intOption("--supernet-epochs", 1), DEMO_RECIPE.epochs)
    .option("--supernet-steps <n>", "cap on the supernet training's steps (quick trials)", intOption("--supernet-steps", 1))
    .option("--seed <s>", "seed of the export, supernet training and the random architectures", intOption("--seed", 0, 0xffffffff), 0)
    .option("--random <n>", "random architectures under the budget to train (besides the chosen one)", intOption("--random", 1), 20))
    .requiredOption("-o, --truth-out <file>", "bench truth JSONL file to append the runs to (lines already there are skipped; bench rank reads it)")
    .option("--work-dir <dir>", "folder for the supernet files, reused by a rerun (default: <truth-out>.work)")
    .option("--force", "retrain the work folder's supernet when it was made with other options")
    .addOption(deviceOption())
    .addOption(threadsOption("--threads <n>"))
    .option("--json", "print the report as JSON on stdout")
    .option("--quiet", "no progress output")
    .action(async (opts: SearchOptions) => {
      if (opts.maxLatency !== undefined && opts.latencyTable === undefined) throw new UsageError("--max-latency needs --latency-table FILE (make one with bnnas latency SUPERNET -o table.json)");
      const latency = opts.latencyTable !== undefined ? { table: readLatencyTable(opts.latencyTable), file: opts.latencyTable } : undefined;
      const data = dataOptions(opts, io);
      const report = await runBenchSearch({
        space: opts.space, data: opts.data, dataOptions: data,
        budget: { maxMacs: opts.maxMacs, maxParams: opts.maxParams, maxLatency: opts.maxLatency }, latency,
        supernetEpochs: opts.supernetEpochs, supernetSteps: opts.supernetSteps, seed: opts.seed, random: opts.random,
        truth: { output: opts.truthOut, seeds: opts.seeds, epochs: opts.epochs, subsetImages: opts.subset, testLimit: opts.testLimit, batch: opts.batch, lr: opts.lr },
        workDir: opts.workDir, force: opts.force, device: opts.device, threads: opts.threads, io, quiet: opts.quiet,
      });
      data.finish();
      io.stdout(opts.json ? `${JSON.stringify(report)}\n` : formatSearch(report));
    });
}

function formatSearch(r: BenchSearchReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const macs = (x: number | null) => (x === null ? "?" : `${(x / 1e6).toFixed(3)}M`);
  const budget = [r.budget.max_macs !== null ? `MACs <= ${r.budget.max_macs}` : "", r.budget.max_params !== null ? `params <= ${r.budget.max_params}` : "", r.budget.max_latency !== null ? `latency <= ${r.budget.max_latency} ms` : ""].filter(Boolean).join(", ");
  const t = r.truth_recipe;
  const row = (name: string, a: BenchSearchReport["chosen"]) => `  ${name.padEnd(9)} ${pct(a.acc).padStart(7)}  ${macs(a.macs).padStart(9)}  ${a.score.toFixed(4).padStart(9)}  ${a.secs.toFixed(0).padStart(6)}  ${formatArch(a.arch)}`;
  const lines = [
    `${r.space}, budget ${budget}: the chosen architecture against ${r.random.length} random ones under the budget, each trained from scratch`,
    `  (${t.epochs} epochs on ${t.images} images, seeds ${t.seeds.join(",")}, batch ${t.batch}, lr ${t.lr}; accuracy on ${t.test_limit ?? "all"} test images, mean over seeds)`,
    `           accuracy       MACs   BN score    secs  arch`,
    row("chosen", r.chosen),
    ...r.random.map((a, i) => row(`random ${i + 1}`, a)),
    `chosen at the ${r.percentile.toFixed(1)}th percentile of the random architectures (best ${pct(r.best_random)}, median ${pct(r.median_random)}): ${r.meets_target ? "PASS" : "below"} the target of the ${r.target_percentile}th`,
    `stages: ${r.stages.map((s) => `${s.name} ${s.seconds.toFixed(1)} s${s.reused ? " (reused)" : ""}`).join("; ")}`,
    `truth: ${r.truth_file} (${r.runs.written} runs written, ${r.runs.skipped} already there); supernet: ${r.work_dir}`,
  ];
  return lines.join("\n") + "\n";
}

function formatRank(file: string, truth: string, r: RankReport): string {
  const f = (x: number) => (Number.isNaN(x) ? "n/a" : x.toFixed(3));
  const ci = (w: RankReport["kendall_tau"]) => `${f(w.value)} (95% CI ${f(w.ci95[0])} .. ${f(w.ci95[1])})`;
  const lines = [
    `${file}, indicator ${r.indicator}, against ${truth} (${r.n} architectures):`,
    `  Kendall tau     ${ci(r.kendall_tau)}`,
    `  Spearman rho    ${ci(r.spearman)}`,
    `  top-10% precision ${f(r.top10_precision)}; the indicator's best is at the ${r.best_percentile.toFixed(1)}th percentile of the truth`,
    r.seed_tau
      ? `  the truth's own seed-to-seed tau (seeds ${r.seed_tau.seeds.join(" and ")}, ${r.seed_tau.n} architectures): ${f(r.seed_tau.value)} (the ceiling); ` +
        `one run's noise ${(100 * r.seed_tau.noise_sd).toFixed(2)} points, spread between architectures ${(100 * r.seed_tau.spread_sd).toFixed(2)} points: signal-to-noise ${r.seed_tau.snr === null ? "unbounded" : r.seed_tau.snr.toFixed(2)} (tau 0.7 needs about 2.9)`
      : "  the truth has one seed: no seed-to-seed ceiling",
    r.rank_stability.length
      ? `  rank stability (BN indicator; tau of each epoch's ranking against the last / against the truth): ${r.rank_stability.map((e, i) => `epoch ${e.epoch} ${f(e.tau)} / ${f(r.truth_tau_by_epoch[i]!.tau)}`).join(", ")}`
      : "  rank stability: the supernet has no per-epoch history (not trained by bnnas)",
    "  by layer (mean accuracy of the architectures using a candidate there, in points from the mean, +- its standard error):",
    ...r.by_layer.map(formatLayer),
  ];
  return lines.join("\n") + "\n";
}

/** One layer of bench rank's by-layer view: the truth's best and worst candidates and the indicator's favourite. */
function formatLayer(e: RankReport["by_layer"][number]): string {
  if (e.candidates.length < 2) return `    layer ${e.layer}: one candidate in the truth`;
  const points = (c: { truth: number; truth_se: number | null }) => `${c.truth >= 0 ? "+" : ""}${(100 * c.truth).toFixed(2)}${c.truth_se === null ? "" : ` +- ${(100 * c.truth_se).toFixed(2)}`}`;
  const byTruth = [...e.candidates].sort((a, b) => b.truth - a.truth);
  const favourite = e.candidates.reduce((a, b) => (b.indicator > a.indicator ? b : a));
  const best = byTruth[0]!;
  const worst = byTruth.at(-1)!;
  const tau = Number.isNaN(e.tau) ? "n/a" : e.tau.toFixed(2);
  return `    layer ${e.layer}: truth best ${best.name} ${points(best)} (n ${best.n}), worst ${worst.name} ${points(worst)} (n ${worst.n}); indicator's favourite ${favourite.name} (truth ${points(favourite)}); agreement tau ${tau}`;
}
