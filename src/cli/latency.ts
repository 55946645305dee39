/**
 * `bnnas latency SUPERNET -o table.json`: a latency table measured on onnxruntime, per block of
 * the supernet (stem, every candidate at its input shape, head) in inference form; and
 * `bnnas latency --validate N TABLE SUPERNET`: how well that table predicts whole subnets.
 */
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { OutputError, UsageError } from "../errors.js";
import { choiceOption, deviceOption, floatOption, intOption, threadsOption, checkOutputIsNotInput } from "./options.js";
import { LazyProgress } from "../util/progress.js";
import { writeFileAtomic } from "../util/atomic.js";
import { formatArch } from "../structure/arch.js";
import { openSupernet } from "../extract/from-file.js";
import type { Device } from "../runtime/ort.js";
import { buildLatencyTable, cpuDescription } from "../latency/build.js";
import { DEFAULT_IDLE_MS, DEFAULT_WARM_MS } from "../latency/measure.js";
import { checkTable, latencyColumns, readLatencyTable, LATENCY_STATISTICS, type LatencyStatistic, type LatencyTable } from "../latency/table.js";
import { validateLatencyTable, type ValidationReport } from "../latency/validate.js";

interface Options {
  output?: string;
  device: Device;
  threads?: number;
  batch?: number;
  repeats: number;
  warmup: number;
  calibrate: number;
  statistic: LatencyStatistic;
  sampleMs: number;
  warmMs: number;
  idleMs: number;
  pinThreads: boolean;
  seed: number;
  validate?: number;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

const ms = (x: number) => (x >= 10 ? x.toFixed(2) : x >= 1 ? x.toFixed(3) : x.toFixed(4));
const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;

function describeTable(t: LatencyTable, file: string, structure: ReturnType<typeof openSupernet>["structure"]): string {
  const cols = latencyColumns(t, structure, file);
  const lines = [`latency table (${t.device}, ${t.threads} threads${t.pinThreads && t.threads > 1 ? " pinned" : ""}, batch ${t.batch}, onnxruntime ${t.onnxruntime}, ${t.cpu}); warm ${t.statistic === "median" ? "medians" : "minima"} in ms, spread p10-p90:`];
  const entry = (key: string) => t.blocks[key]!;
  const row = (label: string, key: string) => {
    const e = entry(key);
    const fitted = t.correction.fit?.blocks[key];
    const inNetwork = fitted === undefined ? "" : `  in a network ${ms(fitted)}`;
    lines.push(`  ${label.padEnd(26)} ${e.empty ? "0 (empty: nothing to run)" : `${ms(e[t.statistic]).padStart(8)}  (${ms(e.p10)}-${ms(e.p90)})`}${inNetwork}`);
  };
  row("stem", "stem");
  structure.layers.forEach((layer, l) => {
    for (const c of layer.candidates) row(`${layer.label} ${c.position}:${c.name}`, `layer${l}.${c.position}.${c.name}`);
    if (t.blocks[`fixed.${l}`]) row(`fixed after ${layer.label}`, `fixed.${l}`);
  });
  row("head", "head");
  lines.push(`  per-run overhead ${ms(t.overhead[t.statistic])} ms (paid once by a network, subtracted from each block); whole subnets ran x${t.correction.factor.toFixed(3)} of their summed blocks (median over ${t.correction.archs.length})`);
  const fit = t.correction.fit;
  if (fit) {
    const cv = fit.cvErrors.map(Math.abs).sort((a, b) => a - b);
    const within = cv.filter((e) => e <= 0.1).length / cv.length;
    lines.push(`  predictions: ${ms(fit.intercept)} ms + each candidate's in-network cost, fitted to those ${fit.measured.length} subnets (ridge ${fit.lambda}); cross-validated on them: ${(100 * within).toFixed(0)}% within +-10%, median |error| ${(100 * cv[Math.floor(cv.length / 2)]!).toFixed(1)}%`);
  }
  const fastest = cols.perCandidate.reduce((s, l) => s + Math.min(...l), cols.fixed);
  const slowest = cols.perCandidate.reduce((s, l) => s + Math.max(...l), cols.fixed);
  lines.push(`  predicted whole networks: fastest ${ms(fastest)} ms, slowest ${ms(slowest)} ms`);
  lines.push(`  load average while measuring: ${t.loadavg[0].toFixed(2)} -> ${t.loadavg[1].toFixed(2)}`);
  return lines.join("\n") + "\n";
}

function describeValidation(r: ValidationReport): string {
  const lines = [
    `validation: ${r.n} random subnets (${r.device}, ${r.threads} threads, batch ${r.batch}, ${r.repeats} rounds, ${r.seconds.toFixed(1)} s, load ${r.loadavg[0].toFixed(2)} -> ${r.loadavg[1].toFixed(2)})`,
    `  within +-10%: ${(100 * r.within10).toFixed(1)}%   Kendall tau: ${r.kendallTau === null ? "undefined (the predictions or the measurements are all equal)" : r.kendallTau.toFixed(3)}`,
    `  error (predicted vs measured): min ${pct(r.error.min)}, p10 ${pct(r.error.p10)}, median ${pct(r.error.median)}, p90 ${pct(r.error.p90)}, max ${pct(r.error.max)}; mean |error| ${(100 * r.error.meanAbs).toFixed(1)}%`,
    ...(r.drift ? [`  this machine now runs x${r.drift.ratio.toFixed(3)} the table's time (${r.drift.archs} calibration subnets timed again); at that level: ${(100 * r.drift.within10).toFixed(1)}% within +-10%`] : []),
    "  worst predictions:",
  ];
  for (const row of [...r.rows].sort((a, b) => Math.abs(b.error) - Math.abs(a.error)).slice(0, 5)) {
    lines.push(`    ${formatArch(row.arch).padEnd(20)} predicted ${ms(row.predicted)} ms, measured ${ms(row.measured)} ms (${ms(row.p10)}-${ms(row.p90)}), ${pct(row.error)}`);
  }
  return lines.join("\n") + "\n";
}

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("latency")
    .description("measure a latency table of a supernet's blocks on onnxruntime (stem, every candidate, head; BN folded), or --validate one against whole subnets")
    .argument("<files...>", "SUPERNET (to measure a table), or TABLE SUPERNET with --validate")
    .option("-o, --output <file>", "where to write the table (JSON)")
    .addOption(deviceOption())
    .addOption(threadsOption("--threads <n>", "onnxruntime intra-op threads (default: every core); recorded in the table"))
    .option("--batch <n>", "batch size the blocks are measured at (default 1)", intOption("--batch", 1, 1 << 20))
    .option("--repeats <n>", "timed rounds (each round runs every block once, in a fresh order)", intOption("--repeats", 1, 100000), 30)
    .option("--warmup <n>", "untimed rounds first", intOption("--warmup", 1, 100000), 5)
    .option("--calibrate <n>", "random whole subnets timed after the blocks, to which the in-network cost of each candidate is fitted (fewer than 10: only a per-network factor; 0: no correction)", intOption("--calibrate", 0, 1000), 60)
    .option("--statistic <s>", "what predictions use of each block's samples: median, or min on a machine loaded beyond its cores", choiceOption("--statistic", LATENCY_STATISTICS), "median")
    .option("--sample-ms <ms>", "length of one sample: back-to-back runs of a block lasting this long, after one untimed run", floatOption("--sample-ms", 0), 2)
    .option("--warm-ms <ms>", "before each sample, untimed back-to-back runs of the block lasting this long", floatOption("--warm-ms", 0), DEFAULT_WARM_MS)
    .option("--idle-ms <ms>", "idle time before each block's turn, so the previous session's spin-waiting threads stop first", floatOption("--idle-ms", 0), DEFAULT_IDLE_MS)
    .option("--no-pin-threads", "leave onnxruntime's worker threads unpinned (default: pinned to processors 2..threads, recorded in the table; --validate does as the table did)")
    .option("--validate <n>", "instead of measuring a table: time N random subnets and compare them with TABLE's predictions", intOption("--validate", 2, 100000))
    .option("--seed <n>", "seed of the interleaving order and the random subnets", intOption("--seed", 0, 2 ** 32 - 1), 0)
    .option("--force", "with --validate: use a table measured for another device, thread count, batch or CPU")
    .option("--json", "print JSON on stdout")
    .option("--quiet", "no progress on stderr")
    .action(async (files: string[], opts: Options) => {
      const progress = new LazyProgress(io, opts.validate !== undefined ? "latency validate" : "latency", opts.quiet);
      const onProgress = (phase: "sessions" | "rounds", done: number, total: number) => {
        if (phase === "rounds") progress.update(done, total);
      };
      if (opts.validate !== undefined) {
        if (files.length !== 2) throw new UsageError("--validate N takes TABLE SUPERNET (two files), e.g. bnnas latency --validate 50 table.json supernet.onnx");
        if (opts.output !== undefined) throw new UsageError("--validate writes no table; drop -o (use --json for machine output)");
        const [tableFile, supernetFile] = files as [string, string];
        const table = readLatencyTable(tableFile);
        const loaded = openSupernet(supernetFile);
        checkTable(table, tableFile, { structure: loaded.structure, file: supernetFile, device: opts.device, threads: opts.threads, batch: opts.batch, cpu: cpuDescription() }, opts.force);
        const report = await validateLatencyTable(table, loaded, opts.validate, { repeats: opts.repeats, warmup: opts.warmup, seed: opts.seed, onProgress });
        progress.finish();
        io.stdout(opts.json ? JSON.stringify({ table: tableFile, supernet: supernetFile, ...report }) + "\n" : describeValidation(report));
        return;
      }
      if (files.length !== 1) throw new UsageError(`give one SUPERNET to measure (got ${files.length} files); to check a table, use --validate N TABLE SUPERNET`);
      if (opts.output === undefined) throw new UsageError("give -o FILE: where to write the latency table");
      const file = files[0]!;
      checkOutputIsNotInput(file, opts.output);
      // Before minutes of measuring: a table that cannot be written is refused now.
      if (!existsSync(dirname(resolve(opts.output)))) throw new OutputError(opts.output, `directory ${dirname(opts.output)} does not exist`);
      const loaded = openSupernet(file);
      const started = performance.now();
      const table = await buildLatencyTable(loaded, {
        device: opts.device,
        threads: opts.threads ?? availableParallelism(),
        batch: opts.batch ?? 1,
        repeats: opts.repeats,
        warmup: opts.warmup,
        calibrate: opts.calibrate,
        statistic: opts.statistic,
        sampleMs: opts.sampleMs,
        warmMs: opts.warmMs,
        idleMs: opts.idleMs,
        pinThreads: opts.pinThreads,
        seed: opts.seed,
        onProgress,
      });
      progress.finish();
      writeFileAtomic(opts.output, JSON.stringify(table, null, 1) + "\n");
      const seconds = (performance.now() - started) / 1000;
      if (opts.json) io.stdout(JSON.stringify({ output: opts.output, seconds, table }) + "\n");
      else io.stdout(describeTable(table, opts.output, loaded.structure) + `wrote ${opts.output} (${Object.keys(table.blocks).length} blocks, ${seconds.toFixed(1)} s)\n`);
    });
}
