/**
 * The whole BN-NAS pipeline on a space and a dataset, as `bnnas demo` runs it: export ->
 * BN-only supernet training -> score and search (exact and evolution) -> evaluation of the
 * chosen path -> extraction -> retraining the found architecture from scratch, every weight
 * (the paper's stage 3) -> evaluation of the final model. Each stage calls
 * the library function behind its command and records the equivalent command line and its time,
 * so a person can rerun any stage by hand. The files stay in the output folder; the summary is
 * returned and written to summary.json.
 */
import { studyVerdict, type StudyVerdict } from "./study.js";
import { trainingRankStability } from "./rank.js";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { BnnasError, OutputError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import type { ConsoleIO } from "../util/io.js";
import { LazyProgress } from "../util/progress.js";
import { SHIPPED_SUBSET } from "../data/dataset.js";
import type { DataOptions } from "../data/load.js";
import { loadSpace } from "../space/builtins.js";
import { resolveSpace } from "../space/resolve.js";
import { exportSupernet, supernetParams } from "../supernet/export.js";
import { loadSupernet } from "../supernet/load.js";
import type { StepInfo } from "../train/trainer.js";
import { runTraining, type TrainRunRequest, type TrainRunResult } from "./train-run.js";
import { scoreSupernet, searchSupernet, type ArchRow, type SearchOutcome } from "./search.js";
import { evaluateFile, type EvaluateOutcome } from "./evaluate.js";
import { extractToFile } from "./extract.js";
import { writeReport } from "../report/report.js";
import { availableParallelism } from "node:os";
import { buildLatencyTable } from "../latency/build.js";
import type { LatencyTable } from "../latency/table.js";

export interface DemoOptions {
  /** Output folder. */
  out: string;
  /** Built-in space name or space file. */
  space: string;
  /** Data folder: IDX, CIFAR binary or image folders (default: the subset shipped with bnnas). */
  data?: string;
  /** Format, cache and strictness of reading `data`. */
  dataOptions?: Pick<DataOptions, "format" | "cacheDir" | "strict">;
  epochs: number;
  /** Cap on supernet training steps (quick trials). */
  steps?: number;
  batch: number;
  lr: number;
  bn: "last" | "all";
  labelSmoothing: number;
  maxMacs: number;
  /** Predicted-latency budget (ms) of the exact search: a latency table of the supernet is measured first (batch 1). */
  maxLatency?: number;
  /** Epochs of the final from-scratch training of the chosen architecture; 0 skips it. */
  retrainEpochs: number;
  /** Cap on its steps (quick trials). */
  retrainSteps?: number;
  retrainLr: number;
  seed: number;
  threads?: number;
  /** Replace the demo's files in an existing output folder. */
  force?: boolean;
}

/** The demo's supernet recipe (its CLI defaults), shared with `bench search`, which checks it end to end. */
export const DEMO_RECIPE = { epochs: 5, batch: 128, lr: 1, bn: "all", labelSmoothing: 0.1, maxMacs: 4_000_000 } as const satisfies Partial<DemoOptions>;

/** What the demo's BN-only supernet training needs: the recipe, uniform paths, linear decay. */
export interface SupernetTraining extends Pick<DemoOptions, "epochs" | "steps" | "batch" | "lr" | "bn" | "labelSmoothing" | "seed"> {
  supernet: string;
  output: string;
  data: string | undefined;
}

/** The demo's supernet training as a runTraining request (momentum 0.9, no weight decay, frozen head). */
export function supernetTrainRequest(t: SupernetTraining): Omit<TrainRunRequest, "onStep" | "onNote" | "engine"> {
  return {
    supernet: t.supernet, output: t.output, data: t.data,
    config: { momentum: 0.9, weightDecay: 0, weightDecayBn: false, schedule: "linear", clip: undefined, seed: t.seed, epochs: t.epochs, steps: t.steps, batch: t.batch, lr: t.lr, bn: t.bn, labelSmoothing: t.labelSmoothing, sampler: "uniform", trainHead: false },
  };
}

export interface StageRecord {
  name: string;
  seconds: number;
  /** The equivalent command line, so a user can rerun any stage by hand. */
  command: string;
}

export type ArchResult = ArchRow;

/** Weight decay of the final training (the PyTorch recipe the README compares with). */
const RETRAIN_WEIGHT_DECAY = 5e-5;

export interface DemoSummary {
  out: string;
  space: string;
  data: string;
  files: Record<string, string>;
  supernet: { parameters: number; candidates: number };
  training: { steps: number; ms_per_step: number; final_loss: number; final_accuracy: number; bn: string; lr: number };
  /** The chosen architecture trained from scratch (every weight, re-initialised); null when skipped. */
  retraining: { steps: number; epochs: number; ms_per_step: number; final_loss: number; final_accuracy: number; lr: number } | null;
  max_macs: number;
  /** With maxLatency: the budget and the table (chosen.latency is the chosen architecture's prediction). */
  max_latency?: number;
  chosen: ArchResult;
  evolution_best: ArchResult;
  /** Evolution is a heuristic; exact search is optimal, so evolution can only tie it. */
  evolution_matches_exact: boolean;
  /** Test accuracy of the chosen path straight after supernet training (random convolutions, BN-only). */
  accuracy_before_retraining: number;
  /**
   * Kendall tau of each epoch's BN ranking (1000 seeded architectures) against the last epoch's:
   * whether the supernet's ranking had settled (how far it agrees with trained accuracy is
   * `bench rank`'s question; README, "How far to trust the ranking").
   */
  rank_stability: { epoch: number; tau: number }[];
  /** The committed recipe study's tau for the indicator and recipe used (bench/<space>/results.jsonl); null when there is none. */
  recipe_study: StudyVerdict | null;
  /** Test accuracy of subnet.onnx, the final model (trained from scratch, unless that was skipped). */
  accuracy: number;
  images_per_s: number;
  stages: StageRecord[];
  total_seconds: number;
}

/** How the demo reports while it runs: stage lines and progress on `io`'s stderr, unless quiet. */
export interface DemoReporting {
  io: ConsoleIO;
  quiet?: boolean;
}

/** Files the demo writes; with `force` these (and only these) are replaced. */
export const DEMO_FILES = {
  supernet: "supernet.onnx",
  trained: "supernet.trained.onnx",
  search: "search.json",
  extracted: "subnet.init.onnx",
  subnet: "subnet.onnx",
  summary: "summary.json",
  report: "report.html",
  latency: "latency.json",
} as const;

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

export async function runDemo(opts: DemoOptions, report: DemoReporting): Promise<DemoSummary> {
  const out = resolve(opts.out);
  prepareOutputDir(out, opts.force === true);
  const path = (name: keyof typeof DEMO_FILES) => join(out, DEMO_FILES[name]);
  const data = opts.data ?? SHIPPED_SUBSET;
  const dataOptions: DataOptions = { ...opts.dataOptions, onNote: (t) => say(`${t}\n`) };
  // The data flags as the stage commands spell them.
  const dataFlags = [
    ...(opts.dataOptions?.format ? ["--data-format", opts.dataOptions.format] : []),
    ...(opts.dataOptions?.cacheDir ? ["--cache-dir", opts.dataOptions.cacheDir] : []),
    ...(opts.dataOptions?.strict ? ["--strict"] : []),
  ];
  const threads = opts.threads === undefined ? [] : ["--threads", String(opts.threads)];
  const stages: StageRecord[] = [];
  const say = (text: string) => {
    if (!report.quiet) report.io.stderr(text);
  };
  /** Runs one stage: announces its command, times it, and names it in any error it ends with. */
  const stage = async <T>(name: string, argv: string[], work: () => T | Promise<T>): Promise<T> => {
    const command = `bnnas ${argv.map(quoteArg).join(" ")}`;
    say(`[demo] ${name}: ${command}\n`);
    const started = performance.now();
    try {
      const result = await work();
      stages.push({ name, seconds: (performance.now() - started) / 1000, command });
      return result;
    } catch (e) {
      if (!(e instanceof BnnasError)) throw e;
      const render = e.render ?? (() => e.message);
      throw new BnnasError((o) => `demo stopped at stage '${name}': ${render(o)}`, e.exitCode);
    }
  };
  const trainStage = async (name: string, argv: string[], req: Omit<TrainRunRequest, "onStep" | "onNote" | "engine">): Promise<TrainRunResult> => {
    const p = new LazyProgress(report.io, "train", report.quiet);
    const onStep = (s: StepInfo) => p.update(s.step, s.total, { loss: s.loss, acc: s.accuracy, lr: s.lr });
    const r = await stage(name, argv, () => runTraining({ ...req, dataOptions, engine: { threads: opts.threads }, onStep, onNote: (t) => say(`${t}\n`) }));
    p.finish();
    return r;
  };
  const evalStage = async (name: string, argv: string[], file: string, arch?: number[]): Promise<EvaluateOutcome> => {
    const p = new LazyProgress(report.io, "eval", report.quiet);
    const r = await stage(name, argv, () => evaluateFile(file, { arch, data, dataOptions, threads: opts.threads, onBatch: (done, total, acc) => p.update(done, total, { acc }) }));
    p.finish();
    return r;
  };
  const baseConfig = { momentum: 0.9, weightDecay: 0, weightDecayBn: false, schedule: "linear" as "linear" | "cosine", clip: undefined, seed: opts.seed };

  const exported = await stage("export", ["export-supernet", "--space", opts.space, "--seed", String(opts.seed), "-o", path("supernet")], () => {
    const spec = loadSpace(opts.space);
    const { manifest } = exportSupernet(spec, path("supernet"), { seed: opts.seed });
    return { parameters: supernetParams(resolveSpace(spec, manifest.unbiased)), candidates: manifest.layers.reduce((n, l) => n + l.candidates.length, 0) };
  });
  const trained = await trainStage("train", [
    "train", path("supernet"), "-o", path("trained"), "--data", data, ...dataFlags,
    "--epochs", String(opts.epochs), ...(opts.steps ? ["--steps", String(opts.steps)] : []),
    "--batch", String(opts.batch), "--lr", String(opts.lr), "--bn", opts.bn,
    "--label-smoothing", String(opts.labelSmoothing), "--sampler", "uniform", "--seed", String(opts.seed), ...threads,
  ], supernetTrainRequest({ supernet: path("supernet"), output: path("trained"), data, epochs: opts.epochs, steps: opts.steps, batch: opts.batch, lr: opts.lr, bn: opts.bn, labelSmoothing: opts.labelSmoothing, seed: opts.seed }));

  // With a latency budget: a table of this machine (batch 1), measured on the supernet (a table
  // belongs to the structure, so it serves the trained supernet too).
  let latency: { table: LatencyTable; file: string } | undefined;
  if (opts.maxLatency !== undefined) {
    latency = await stage("latency", ["latency", path("supernet"), "-o", path("latency"), "--threads", String(opts.threads ?? availableParallelism()), "--repeats", "20", "--seed", String(opts.seed)], async () => {
      const p = new LazyProgress(report.io, "latency", report.quiet);
      const table = await buildLatencyTable(loadSupernet(path("supernet")), { device: "cpu", threads: opts.threads ?? availableParallelism(), batch: 1, repeats: 20, warmup: 5, calibrate: 5, seed: opts.seed, onProgress: (phase, done, total) => phase === "rounds" && p.update(done, total) });
      p.finish();
      writeFileAtomic(path("latency"), JSON.stringify(table, null, 1) + "\n");
      return { table, file: path("latency") };
    });
  }
  const macsLimit = ["--max-macs", String(opts.maxMacs)];
  const search = (strategy: "exact" | "evolution"): Promise<SearchOutcome> => {
    const timed = latency !== undefined;
    const limit = timed ? [...macsLimit, "--latency-table", latency!.file, "--max-latency", String(opts.maxLatency)] : macsLimit;
    const constraints = timed ? { maxMacs: opts.maxMacs, maxLatency: opts.maxLatency } : { maxMacs: opts.maxMacs };
    return stage(`search ${strategy}${timed ? " under the latency budget" : ""}`, ["score-onnx", path("trained"), "--search", strategy, "--top", "5", ...(strategy === "exact" ? [] : ["--seed", String(opts.seed)]), ...limit], () => {
      const loaded = loadSupernet(path("trained"));
      const found = searchSupernet(loaded, scoreSupernet(loaded), { strategy, top: 5, seed: opts.seed, constraints, latency: timed ? latency : undefined });
      if (found.best.length === 0) throw new BnnasError((o) => `the ${strategy} search found no architecture under the limits; raise ${o("maxMacs")}${timed ? ` or ${o("maxLatency")}` : ""}`);
      return found;
    });
  };
  const exact = await search("exact");
  const evolution = await search("evolution");
  const best = exact.best[0]!;
  const evoBest = evolution.best[0]!;
  writeFileAtomic(path("search"), `${JSON.stringify({ exact, evolution }, null, 2)}\n`);
  const archText = best.arch.join(",");

  // The supernet's path as it is after supernet training: the baseline the retraining improves on.
  const before = await evalStage("eval chosen path", ["eval", path("trained"), "--arch", archText, "--data", data, ...dataFlags, ...threads], path("trained"), best.arch);
  const retrain = opts.retrainEpochs > 0;
  // BN-NAS keeps the convolutions at their random init: the found architecture is trained from
  // scratch, every weight (the paper's stage 3), into the final model.
  await stage("extract", ["extract-subnet", path("trained"), "--arch", archText, "-o", path(retrain ? "extracted" : "subnet")], () => extractToFile(path("trained"), { arch: best.arch, output: path(retrain ? "extracted" : "subnet") }));
  let retrained: TrainRunResult | undefined;
  if (retrain) {
    retrained = await trainStage("retrain from scratch", [
      "train", path("extracted"), "-o", path("subnet"), "--weights", "all", "--reinit", "--data", data, ...dataFlags,
      "--epochs", String(opts.retrainEpochs), ...(opts.retrainSteps ? ["--steps", String(opts.retrainSteps)] : []), "--batch", String(opts.batch),
      "--lr", String(opts.retrainLr), "--lr-schedule", "cosine", "--nesterov", "--weight-decay", String(RETRAIN_WEIGHT_DECAY), "--seed", String(opts.seed), ...threads,
    ], {
      supernet: path("extracted"), output: path("subnet"), data, weights: "all", reinit: true,
      config: { ...baseConfig, epochs: opts.retrainEpochs, steps: opts.retrainSteps, batch: opts.batch, lr: opts.retrainLr, schedule: "cosine", nesterov: true, weightDecay: RETRAIN_WEIGHT_DECAY, bn: "all", labelSmoothing: 0, trainHead: true },
    });
  }
  const evaluated = await evalStage("eval", ["eval", path("subnet"), "--data", data, ...dataFlags, ...threads], path("subnet"));

  const trainingSummary = (r: TrainRunResult) => ({ steps: r.steps, ms_per_step: Number(r.msPerStep.toFixed(3)), final_loss: r.finalLoss, final_accuracy: r.finalAccuracy });
  const tie = 1e-6 * Math.max(1, Math.abs(best.score));
  const summary: DemoSummary = {
    out,
    space: opts.space,
    data,
    files: Object.fromEntries(Object.keys(DEMO_FILES).filter((k) => (k !== "extracted" || retrained) && (k !== "latency" || latency)).map((k) => [k, path(k as keyof typeof DEMO_FILES)])),
    supernet: exported,
    training: { ...trainingSummary(trained), bn: opts.bn, lr: opts.lr },
    retraining: retrained ? { ...trainingSummary(retrained), epochs: retrained.steps / retrained.stepsPerEpoch, lr: opts.retrainLr } : null,
    max_macs: opts.maxMacs,
    ...(opts.maxLatency !== undefined ? { max_latency: opts.maxLatency } : {}),
    chosen: best,
    evolution_best: evoBest,
    evolution_matches_exact: Math.abs(evoBest.score - best.score) <= tie,
    accuracy_before_retraining: before.accuracy,
    rank_stability: trainingRankStability(loadSupernet(path("trained"))).stability,
    recipe_study: studyVerdict({ space: opts.space, indicator: "bn", bn: opts.bn, lr: opts.lr, labelSmoothing: opts.labelSmoothing, epochs: opts.epochs }),
    accuracy: evaluated.accuracy,
    images_per_s: evaluated.images_per_s,
    stages,
    total_seconds: stages.reduce((s, r) => s + r.seconds, 0),
  };
  writeFileAtomic(path("summary"), `${JSON.stringify(summary, null, 2)}\n`);
  // The run as pictures (bnnas report): curves, indicator heatmap, rank stability, trade-off, final model.
  writeReport({ files: [path("trained"), path("search"), path("subnet"), path("summary")], output: path("report"), evaluation: { ...evaluated, model: path("subnet"), threads: opts.threads ?? null } });
  return summary;
}

/** Refuses to mix the demo's files into a directory that already has them, unless `force`. */
function prepareOutputDir(out: string, force: boolean): void {
  if (existsSync(out)) {
    let present: string[];
    try {
      present = readdirSync(out).filter((f) => (Object.values(DEMO_FILES) as string[]).includes(f));
    } catch {
      throw new OutputError(out, (o) => `exists and is not a directory; pass ${o("out")} with a new directory`);
    }
    if (present.length > 0 && !force) {
      throw new OutputError(out, (o) => `already holds demo files (${present.join(", ")}); pass ${o("force")} to replace them or ${o("out")} with a new directory`);
    }
    return;
  }
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new OutputError(out, `cannot create the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
