/**
 * Search checked end to end (`bnnas bench search`): the default pipeline as `bnnas demo` runs it
 * (export, BN-only supernet training with the demo's recipe, the BN indicator, exact search under
 * the budget), then the chosen architecture and N random architectures under the same budget
 * trained from scratch with `bench truth`'s training, and the chosen one's percentile among them.
 *
 * Files: the truth lines go to a `bench truth` JSONL file (resumable, and reusable by `bench rank`);
 * the supernet, its trained copy and a record of how it was made go to a work folder, so a killed
 * run continues where it stopped (supernet training from its checkpoint, the truth table from its
 * last line) and a rerun reuses the trained supernet, hence chooses the same architecture.
 */
import { median } from "../util/stats.js";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { BnnasError, InputFileError, OptionError, OutputError, UsageError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import type { ConsoleIO } from "../util/io.js";
import { LazyProgress } from "../util/progress.js";
import { streamFor } from "../util/random.js";
import type { DataOptions } from "../data/load.js";
import { inputImageShape, loadData } from "../data/load.js";
import { loadSpace } from "../space/builtins.js";
import { buildSupernet, exportSupernet } from "../supernet/export.js";
import { structureFromManifest } from "../supernet/manifest.js";
import { loadSupernet } from "../supernet/load.js";
import { archCost, checkArch, formatArch } from "../structure/arch.js";
import type { SupernetStructure } from "../structure/structure.js";
import { fastest, fixedDepthChoices, problemFromStructure, evaluate, type Constraints, type SearchProblem } from "../search/problem.js";
import { firstSightings, randomArch } from "../search/sampling.js";
import { checkTable, latencyColumns, structureFingerprint, type LatencyTable } from "../latency/table.js";
import type { Device } from "../runtime/ort.js";
import type { StepInfo } from "../train/trainer.js";
import { DEMO_RECIPE, supernetTrainRequest } from "./demo.js";
import { runTraining } from "./train-run.js";
import { scoreSupernet, searchSupernet, type ArchRow } from "./search.js";
import { buildTruthTable, readTruthLines, type TruthLine } from "./truth.js";

/** The issue's target: the chosen architecture at or above this percentile of the random ones. */
export const TARGET_PERCENTILE = 80;

export interface BenchSearchRequest {
  /** Built-in space name or space file. */
  space: string;
  /** Data folder for supernet training and the truth runs (default: the system Fashion-MNIST, else the shipped subset). */
  data?: string;
  dataOptions?: Omit<DataOptions, "want">;
  budget: { maxMacs?: number; maxParams?: number; maxLatency?: number };
  /** Predicted latencies for budget.maxLatency (a `bnnas latency` table of this space's supernet). */
  latency?: { table: LatencyTable; file: string };
  /** Supernet training: the demo's recipe, with its epochs and an optional cap on steps (quick trials). */
  supernetEpochs?: number;
  supernetSteps?: number;
  /** Seed of the export, supernet training and the random architectures. */
  seed: number;
  /** Random architectures to train (excluding the chosen one). */
  random: number;
  /** `bench truth`'s training of each architecture. */
  truth: { output: string; seeds: readonly number[]; epochs: number; subsetImages?: number; testLimit?: number; batch: number; lr: number };
  /** Folder for the supernet files (default: `<truth output>.work`). */
  workDir?: string;
  /** Redo the supernet in a work folder that holds one made with other options. */
  force?: boolean;
  device?: Device;
  threads?: number;
  io: ConsoleIO;
  quiet?: boolean;
}

export interface TrainedArch extends ArchRow {
  /** Test accuracy, the mean over the seeds. */
  acc: number;
  accs: { seed: number; acc: number }[];
  /** Wall seconds of its from-scratch runs (training and evaluation), summed over the seeds. */
  secs: number;
}

export interface BenchSearchStage {
  name: string;
  seconds: number;
  /** Done by an earlier run (the work folder's supernet; truth lines already in the file). */
  reused?: boolean;
}

export interface BenchSearchReport {
  space: string;
  truth_file: string;
  work_dir: string;
  budget: { max_macs: number | null; max_params: number | null; max_latency: number | null };
  supernet_recipe: SupernetRecord;
  truth_recipe: { epochs: number; images: number; seeds: number[]; batch: number; lr: number; test_limit: number | null };
  chosen: TrainedArch;
  random: TrainedArch[];
  /** Share of random architectures with accuracy strictly below the chosen one's, ties counting half, in percent. */
  percentile: number;
  best_random: number;
  median_random: number;
  target_percentile: number;
  meets_target: boolean;
  runs: { written: number; skipped: number };
  stages: BenchSearchStage[];
  total_seconds: number;
}

/** How the work folder's supernet was made; a rerun reuses it only when this is the same. */
interface SupernetRecord {
  space: string;
  /** The space's structure (a space file edited since changes it). */
  structure: string;
  data: string;
  epochs: number;
  steps: number | null;
  batch: number;
  lr: number;
  bn: string;
  label_smoothing: number;
  sampler: "uniform";
  seed: number;
}

const FILES = { supernet: "supernet.onnx", trained: "supernet.trained.onnx", record: "supernet.json" } as const;

/** Percentile of `value` among `others`: strictly below counts 1, a tie counts 1/2; in percent. */
export function percentileAmong(value: number, others: readonly number[]): number {
  if (others.length === 0) return NaN;
  const below = others.reduce((n, x) => n + (x < value ? 1 : x === value ? 0.5 : 0), 0);
  return (100 * below) / others.length;
}

/** The search problem of the space (allowed choices, costs, latencies) with the given scores. */
function problemOf(structure: SupernetStructure, fixedDepth: number[] | undefined, scores: (number | null)[][], latency: BenchSearchRequest["latency"]): SearchProblem {
  const allowed = fixedDepth && fixedDepth.length > 0 ? fixedDepthChoices(structure, fixedDepth) : undefined;
  return problemFromStructure(structure, scores, { ...(allowed ? { allowed } : {}), ...(latency ? { latency: latencyColumns(latency.table, structure, latency.file) } : {}) });
}

/** Refuses, before any training, a budget no architecture meets, saying the minimum. */
function checkBudget(p: SearchProblem, budget: BenchSearchRequest["budget"]): void {
  const cheapest = (cost: "macs" | "params") => {
    const arch = p.layers.map((l) => l.choices.reduce((best, c) => (l[cost][c]! < l[cost][best]! ? c : best)));
    return { arch, value: evaluate(p, arch)[cost] };
  };
  const limits = [["maxMacs", "macs", "MACs"], ["maxParams", "params", "parameters"]] as const;
  for (const [key, cost, what] of limits) {
    const limit = budget[key];
    if (limit === undefined) continue;
    const min = cheapest(cost);
    if (limit < min.value) throw new OptionError(key, (o) => `${o} ${limit} is below the cheapest architecture's ${what}, ${min.value} (arch ${formatArch(min.arch)}); raise it to at least that`);
  }
  if (budget.maxLatency !== undefined) {
    const min = fastest(p);
    if (budget.maxLatency < min.latency) throw new OptionError("maxLatency", (o) => `${o} ${budget.maxLatency} ms is below the fastest architecture's predicted latency, ${min.latency.toFixed(4)} ms (arch ${formatArch(min.arch)}); raise it to at least that`);
  }
}

/**
 * `count` distinct architectures other than `exclude`, drawn uniformly from the space's allowed
 * choices and kept when they meet the budget (so uniform over the architectures under it), seeded.
 */
export function sampleUnderBudget(p: SearchProblem, constraints: Constraints, count: number, seed: number, exclude: readonly number[]): number[][] {
  const rng = streamFor(seed, "bench-search/random");
  const firstSeen = firstSightings(p, constraints);
  firstSeen(exclude.slice()); // marks it seen, so it is never drawn
  const out: number[][] = [];
  const maxTries = Math.max(100_000, count * 1000);
  for (let tries = 0; out.length < count && tries < maxTries; tries++) {
    const e = firstSeen(randomArch(p, rng));
    if (e) out.push(e.arch);
  }
  if (out.length < count) {
    throw new OptionError("random", (o) => `only ${out.length} architectures other than the chosen one meet the budget (${maxTries} draws); lower ${o} to at most ${out.length} or raise the budget`);
  }
  return out;
}

/**
 * An existing truth file is appended to only when its lines were made the same way: architectures
 * of this space (their MACs and params as counted here) trained for the same epochs on the same
 * number of images. A line that differs is named; mixing would make the comparison meaningless.
 */
function checkTruthFile(file: string, structure: SupernetStructure, epochs: number, images: number): void {
  for (const { line, value } of readTruthLines(file)) {
    const at = `line ${line}`;
    if (!Array.isArray(value.arch)) throw new InputFileError(file, `${at} has no "arch"; is this a bench truth file?`);
    let cost;
    try {
      cost = archCost(structure, checkArch(value.arch, structure));
    } catch (e) {
      if (!(e instanceof BnnasError)) throw e;
      throw new InputFileError(file, `${at} is not an architecture of this space (${e.message}); use another truth output`);
    }
    const missing = (["seed", "acc", "macs", "params", "epochs", "images"] as const).filter((k) => typeof value[k] !== "number");
    if (missing.length > 0) throw new InputFileError(file, `${at} has no ${missing.map((k) => `"${k}"`).join(", ")}: not a line of bench truth; use another truth output`);
    if (value.macs !== cost.macs || value.params !== cost.params) throw new InputFileError(file, `${at} was made on another space (arch ${formatArch(value.arch)}: ${value.macs} MACs there, ${cost.macs} here); use another truth output`);
    if (value.epochs !== epochs || value.images !== images) {
      throw new InputFileError(file, (o) => `${at} was trained for ${value.epochs} epochs on ${value.images} images, this run trains ${epochs} on ${images}; use the same ${o("epochs")} and ${o("subset")}, or another truth output`);
    }
  }
}

export async function runBenchSearch(req: BenchSearchRequest): Promise<BenchSearchReport> {
  if (!Number.isInteger(req.random) || req.random < 1) throw new OptionError("random", (o) => `${o} takes a whole number >= 1, not ${req.random}`);
  const say = (text: string) => {
    if (!req.quiet) req.io.stderr(text);
  };
  const stages: BenchSearchStage[] = [];
  const stage = async <T>(name: string, work: () => T | Promise<T>, reused = false): Promise<T> => {
    say(`[bench search] ${name}${reused ? " (reused)" : ""}\n`);
    const started = performance.now();
    const result = await work();
    stages.push({ name, seconds: (performance.now() - started) / 1000, ...(reused ? { reused } : {}) });
    return result;
  };
  const output = resolve(req.truth.output);
  const work = resolve(req.workDir ?? `${output}.work`);
  const path = (k: keyof typeof FILES) => join(work, FILES[k]);
  const engine = { device: req.device, threads: req.threads };

  // Everything that can be refused is refused before any training.
  const spec = loadSpace(req.space);
  const { manifest } = buildSupernet(spec, { weights: false });
  const structure = structureFromManifest(manifest);
  const fixedDepth = manifest.space.fixedDepth;
  if (req.budget.maxLatency !== undefined && !req.latency) throw new UsageError((o) => `${o("maxLatency")} needs a latency table (${o("latencyTable")}; make one with bnnas latency SUPERNET -o table.json)`);
  if (req.latency) checkTable(req.latency.table, req.latency.file, { structure, file: req.space });
  checkBudget(problemOf(structure, fixedDepth, structure.layers.map((l) => l.candidates.map(() => 0)), req.latency), req.budget);
  const dataNotes: DataOptions = { ...req.dataOptions, onNote: (t) => say(`${t}\n`) };
  const train = await loadData(req.data, "train", { ...dataNotes, want: inputImageShape(structure.input.shape) });
  const images = req.truth.subsetImages === undefined || req.truth.subsetImages >= train.count ? train.count : req.truth.subsetImages;
  checkTruthFile(output, structure, req.truth.epochs, images);

  const record: SupernetRecord = {
    space: req.space, structure: structureFingerprint(structure), data: train.source, epochs: req.supernetEpochs ?? DEMO_RECIPE.epochs, steps: req.supernetSteps ?? null,
    batch: DEMO_RECIPE.batch, lr: DEMO_RECIPE.lr, bn: DEMO_RECIPE.bn, label_smoothing: DEMO_RECIPE.labelSmoothing, sampler: "uniform", seed: req.seed,
  };
  const reuse = reusableSupernet(work, path("record"), path("trained"), record, req.force === true);

  await stage("export", () => void (reuse || exportSupernet(spec, path("supernet"), { seed: req.seed })), reuse);
  await stage("train supernet (BN only, the demo's recipe)", async () => {
    if (reuse) return;
    const p = new LazyProgress(req.io, "train", req.quiet);
    const ckpt = `${path("trained")}.ckpt`;
    await runTraining({
      ...supernetTrainRequest({ supernet: path("supernet"), output: path("trained"), data: req.data, epochs: record.epochs, steps: req.supernetSteps, batch: record.batch, lr: record.lr, bn: DEMO_RECIPE.bn, labelSmoothing: record.label_smoothing, seed: req.seed }),
      dataOptions: req.dataOptions, engine, onNote: (t) => say(`${t}\n`),
      // A run killed during supernet training continues from its checkpoint.
      checkpoint: { resume: existsSync(ckpt) },
      onStep: (s: StepInfo) => p.update(s.step, s.total, { loss: s.loss, acc: s.accuracy }),
    });
    p.finish();
    writeFileAtomic(path("record"), `${JSON.stringify(record, null, 2)}\n`);
  }, reuse);

  const loaded = loadSupernet(path("trained"));
  const scored = scoreSupernet(loaded);
  const constraints: Constraints = { maxMacs: req.budget.maxMacs, maxParams: req.budget.maxParams, maxLatency: req.budget.maxLatency };
  const chosenRow = await stage("search (bn indicator, exact)", () => {
    const found = searchSupernet(loaded, scored, { strategy: "exact", top: 1, seed: req.seed, constraints, latency: req.latency });
    const given = (["maxMacs", "maxParams", "maxLatency"] as const).filter((k) => req.budget[k] !== undefined);
    if (found.best.length === 0) throw new BnnasError((o) => `no architecture meets ${given.map((k) => o(k)).join(" and ")} together; raise one of them`);
    return found.best[0]!;
  });
  say(`[bench search] chosen ${formatArch(chosenRow.arch)} (score ${chosenRow.score.toFixed(4)}, ${chosenRow.macs} MACs)\n`);
  const problem = problemOf(loaded.structure, fixedDepth, scored.scores, req.latency);
  const randomArchs = await stage(`draw ${req.random} random architectures under the budget`, () => sampleUnderBudget(problem, constraints, req.random, req.seed, chosenRow.arch));

  const runs = { written: 0, skipped: 0 };
  const truthStage = async (name: string, archs: number[][]) =>
    stage(name, async () => {
      const p = new LazyProgress(req.io, "truth", req.quiet);
      const r = await buildTruthTable({
        space: spec, archs, seeds: req.truth.seeds, epochs: req.truth.epochs, output, data: req.data, dataOptions: dataNotes,
        subsetImages: req.truth.subsetImages, testLimit: req.truth.testLimit, batch: req.truth.batch, lr: req.truth.lr, engine,
        onRun: (done, total, line) => p.update(done, total, line ? { acc: line.acc, secs: line.secs } : {}),
      });
      p.finish();
      runs.written += r.written.length;
      runs.skipped += r.skipped;
      return r;
    });
  await truthStage("train the chosen architecture from scratch", [chosenRow.arch]);
  await truthStage(`train ${req.random} random architectures from scratch`, randomArchs);

  // Accuracies from the file: this run's lines and those an earlier (killed) run wrote.
  const runsOf = new Map<string, Map<number, Partial<TruthLine>>>();
  for (const { value } of readTruthLines(output)) {
    const key = formatArch(value.arch!);
    if (!runsOf.has(key)) runsOf.set(key, new Map());
    runsOf.get(key)!.set(value.seed!, value);
  }
  const trained = (row: ArchRow): TrainedArch => {
    const bySeed = runsOf.get(formatArch(row.arch))!;
    const list = req.truth.seeds.map((seed) => bySeed.get(seed)!);
    const accs = list.map((l) => ({ seed: l.seed!, acc: l.acc! }));
    return { ...row, acc: accs.reduce((s, x) => s + x.acc, 0) / accs.length, accs, secs: Number(list.reduce((s, l) => s + (l.secs ?? 0), 0).toFixed(2)) };
  };
  const latencyOf = (arch: number[]) => (req.latency ? { latency: evaluate(problem, arch).latency! } : {});
  const chosen = trained({ ...chosenRow, ...latencyOf(chosenRow.arch) });
  const random = randomArchs.map((a) => trained({ ...scored.row(a), ...latencyOf(a) }));
  const randomAccs = random.map((r) => r.acc);
  const percentile = percentileAmong(chosen.acc, randomAccs);
  return {
    space: req.space,
    truth_file: output,
    work_dir: work,
    budget: { max_macs: req.budget.maxMacs ?? null, max_params: req.budget.maxParams ?? null, max_latency: req.budget.maxLatency ?? null },
    supernet_recipe: record,
    truth_recipe: { epochs: req.truth.epochs, images, seeds: [...req.truth.seeds], batch: req.truth.batch, lr: req.truth.lr, test_limit: req.truth.testLimit ?? null },
    chosen,
    random,
    percentile,
    best_random: Math.max(...randomAccs),
    median_random: median(randomAccs),
    target_percentile: TARGET_PERCENTILE,
    meets_target: percentile >= TARGET_PERCENTILE,
    runs,
    stages,
    total_seconds: stages.reduce((s, x) => s + x.seconds, 0),
  };
}

/**
 * Whether the work folder holds a trained supernet made the same way (reuse it: the same chosen
 * architecture). One made otherwise is refused unless `force`, so minutes of training are not
 * silently replaced; a folder without a finished record is (re)used for a new supernet.
 */
function reusableSupernet(work: string, recordFile: string, trainedFile: string, record: SupernetRecord, force: boolean): boolean {
  try {
    mkdirSync(work, { recursive: true });
  } catch (e) {
    throw new OutputError(work, (o) => `cannot create the work folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass ${o("workDir")} with another folder`);
  }
  if (!existsSync(recordFile) || !existsSync(trainedFile)) return false;
  let old: Record<string, unknown>;
  try {
    old = JSON.parse(readFileSync(recordFile, "utf8")) as Record<string, unknown>;
  } catch {
    old = {};
  }
  const differ = Object.entries(record).filter(([k, v]) => JSON.stringify(old[k]) !== JSON.stringify(v));
  if (differ.length === 0) return true;
  if (force) {
    rmSync(`${trainedFile}.ckpt`, { force: true }); // the other supernet's, not to be resumed
    return false;
  }
  throw new OutputError(work, (o) => `holds a supernet trained with other options (${differ.map(([k, v]) => `${k} ${JSON.stringify(old[k])}, not ${JSON.stringify(v)}`).join("; ")}); pass ${o("force")} to retrain it or ${o("workDir")} with another folder`);
}
