/**
 * What `bnnas report` reads: each file is recognised by its content (an ONNX supernet or subnet,
 * a `score-onnx --json` output or the demo's search.json, `bench rank --json`, a `bench truth`
 * JSONL, `eval --json`, the demo's summary.json) and turned into one typed input. A file that
 * cannot be used becomes a Problem naming it and why; the report is still written from the rest.
 */
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { BnnasError } from "../errors.js";
import { readModelFile } from "../model/model-io.js";
import { modelKind } from "../supernet/model-kind.js";
import { supernetOf, type LoadedSupernet } from "../supernet/load.js";
import { getTrainingRecord } from "../supernet/manifest.js";
import { readSubnetManifest, type SubnetManifest } from "../supernet/subnet-manifest.js";
import type { Constraints } from "../search/problem.js";

/** Something the report could not show, and why: printed by the command and stated in the report. */
export interface Problem {
  /** The file concerned ("" when the problem is a missing input rather than a file). */
  file: string;
  message: string;
  /** "error": the file could not be used (a bad or mismatched input); "missing": a part of the report has no data. */
  level: "error" | "missing";
}

/** One epoch of a training record (what `bnnas train` stores per epoch). */
export interface EpochPoint {
  epoch: number;
  step: number;
  loss: number;
  accuracy: number;
  complete: boolean;
  /** Indicator per candidate (structure order), supernet runs only. */
  scores?: number[][];
}

export interface TrainingRun {
  /** Where it is shown ("supernet (BN-only)", "retraining 1"). */
  title: string;
  file: string;
  record: Record<string, unknown>;
  history: EpochPoint[];
}

export interface SupernetInput {
  file: string;
  loaded: LoadedSupernet;
  training: TrainingRun | null;
}

export interface SubnetInput {
  file: string;
  sha256: string;
  manifest: SubnetManifest | undefined;
  retraining: TrainingRun[];
}

export interface ArchEntry {
  arch: number[];
  score: number;
  macs: number | null;
  params: number | null;
}

export interface SearchInput {
  file: string;
  /** `score-onnx --json`'s indicator table, when the file has one. */
  layers?: { label: string; candidates: { name: string; position: number; score: number | null }[] }[];
  indicator?: string;
  /** One entry per search run in the file (the demo's search.json has exact and evolution). */
  runs: { strategy: string; best: ArchEntry[]; constraints: Constraints }[];
}

export interface RankInput {
  file: string;
  n: number;
  indicator?: string;
  kendall_tau: { value: number; ci95: [number, number] };
  spearman?: { value: number; ci95: [number, number] };
  top10_precision?: number;
  best_percentile?: number;
  seed_tau?: { seeds: [number, number]; n: number; value: number } | null;
  rank_stability: { epoch: number; tau: number }[];
}

export interface TruthRow {
  arch: number[];
  seed: number;
  acc: number;
  macs?: number;
  params?: number;
}

export interface TruthInput {
  file: string;
  rows: TruthRow[];
}

export interface EvalInput {
  file: string;
  accuracy: number;
  correct?: number;
  images?: number;
  images_per_s?: number;
  batch?: number;
  model?: string;
  data?: string;
  device?: string;
  threads?: number | null;
  classes?: string[];
  per_class?: { label: string; acc: number; n: number }[];
  confusion?: number[][];
}

export interface DemoInput {
  file: string;
  stages: { name: string; command: string; seconds: number }[];
  files: Record<string, string>;
}

/** Everything the report was given, each kind at most once (the first file of a kind wins). */
export interface ReportInputs {
  supernet?: SupernetInput;
  subnet?: SubnetInput;
  search?: SearchInput;
  rank?: RankInput;
  truth?: TruthInput;
  eval?: EvalInput;
  demo?: DemoInput;
  problems: Problem[];
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isArch = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x));

/** A file that cannot be used; the message says why. */
class Unusable extends Error {}

/** The epochs of a training record's history, checked entry by entry. */
function historyOf(record: Json, file: string): EpochPoint[] {
  const h = record.history;
  if (h === undefined) return [];
  if (!Array.isArray(h)) throw new Unusable(`${file}: its training record's history is not a list`);
  return h.map((e, i) => {
    if (!isObj(e) || !isNum(e.epoch) || !isNum(e.loss) || !isNum(e.accuracy)) throw new Unusable(`${file}: its training record's history[${i}] has no numeric epoch, loss and accuracy`);
    const scores = Array.isArray(e.scores) && e.scores.every((l) => Array.isArray(l) && l.every(isNum)) ? (e.scores as number[][]) : undefined;
    return { epoch: e.epoch, step: isNum(e.step) ? e.step : NaN, loss: e.loss, accuracy: e.accuracy, complete: e.complete !== false, scores };
  });
}

function readModelInput(file: string, into: ReportInputs): void {
  // Errors of the readers are BnnasErrors naming the file: readReportInputs records them.
  const read = readModelFile(file);
  if (modelKind(read.model) === "supernet") {
    if (into.supernet) throw new Unusable(`${file}: a second supernet (the report shows ${into.supernet.file}); give one`);
    const loaded = supernetOf(read, file);
    const record = getTrainingRecord(read.model, file) as Json | null;
    const training = record ? { title: `supernet training (${String(record.weights ?? "bn")} weights)`, file, record, history: historyOf(record, file) } : null;
    into.supernet = { file, loaded, training };
    if (!record) into.problems.push({ file, level: "missing", message: `${file}: has no training record (it was not trained by bnnas train): no supernet training curves, no rank stability; the indicator shown is of its initial weights` });
    else if (training!.history.length === 0) into.problems.push({ file, level: "missing", message: `${file}: its training record has no per-epoch history: no supernet training curves, no rank stability` });
    return;
  }
  if (into.subnet) throw new Unusable(`${file}: a second subnet (the report shows ${into.subnet.file}); give one`);
  const manifest = readSubnetManifest(read.model, file);
  const retraining = (manifest?.retraining ?? []).map((r, i, all) => ({ title: all.length > 1 ? `retraining ${i + 1} of the subnet` : "retraining of the subnet", file, record: r, history: historyOf(r, file) }));
  into.subnet = { file, sha256: read.sha256, manifest, retraining };
  if (!manifest) into.problems.push({ file, level: "missing", message: `${file}: has no bnnas subnet manifest (not from bnnas extract-subnet): its architecture and training are unknown` });
}

function archEntries(v: unknown, file: string, where: string): ArchEntry[] {
  if (!Array.isArray(v)) throw new Unusable(`${file}: ${where} is not a list of architectures`);
  return v.map((r, i) => {
    if (!isObj(r) || !isArch(r.arch) || !isNum(r.score)) throw new Unusable(`${file}: ${where}[${i}] has no "arch" and "score"`);
    return { arch: r.arch, score: r.score, macs: isNum(r.macs) ? r.macs : null, params: isNum(r.params) ? r.params : null };
  });
}

function constraintsOf(v: unknown): Constraints {
  const c = isObj(v) ? v : {};
  return { maxMacs: isNum(c.maxMacs) ? c.maxMacs : undefined, minMacs: isNum(c.minMacs) ? c.minMacs : undefined, maxParams: isNum(c.maxParams) ? c.maxParams : undefined };
}

/** Which kind of JSON document this is, from the keys each producer always writes. */
function classifyJson(v: Json, file: string, into: ReportInputs): void {
  const once = <K extends keyof ReportInputs>(key: K, what: string): void => {
    if (into[key]) throw new Unusable(`${file}: a second ${what} (the report shows ${(into[key] as { file: string }).file}); give one`);
  };
  if (Array.isArray(v.stages) && isObj(v.chosen)) {
    once("demo", "demo summary");
    const stages = (v.stages as unknown[]).filter(isObj).map((s) => ({ name: String(s.name), command: String(s.command), seconds: isNum(s.seconds) ? s.seconds : NaN }));
    into.demo = { file, stages, files: isObj(v.files) ? Object.fromEntries(Object.entries(v.files).map(([k, f]) => [k, String(f)])) : {} };
    return;
  }
  if (isObj(v.kendall_tau)) {
    once("rank", "bench rank output");
    const kt = v.kendall_tau;
    if (!isNum(kt.value) || !Array.isArray(kt.ci95)) throw new Unusable(`${file}: "kendall_tau" has no value and ci95`);
    const stab = Array.isArray(v.rank_stability) ? (v.rank_stability as unknown[]).filter((e): e is { epoch: number; tau: number } => isObj(e) && isNum(e.epoch) && isNum(e.tau)) : [];
    const interval = (o: unknown) => (isObj(o) && isNum(o.value) && Array.isArray(o.ci95) ? { value: o.value, ci95: o.ci95 as [number, number] } : undefined);
    into.rank = {
      file,
      n: isNum(v.n) ? v.n : NaN,
      indicator: typeof v.indicator === "string" ? v.indicator : undefined,
      kendall_tau: { value: kt.value, ci95: kt.ci95 as [number, number] },
      spearman: interval(v.spearman),
      top10_precision: isNum(v.top10_precision) ? v.top10_precision : undefined,
      best_percentile: isNum(v.best_percentile) ? v.best_percentile : undefined,
      seed_tau: isObj(v.seed_tau) ? (v.seed_tau as unknown as RankInput["seed_tau"]) : null,
      rank_stability: stab,
    };
    return;
  }
  if (isObj(v.exact) || isObj(v.evolution)) {
    once("search", "search output");
    const runs = (["exact", "evolution", "random"] as const).filter((k) => isObj(v[k])).map((k) => {
      const run = v[k] as Json;
      return { strategy: k, best: archEntries(run.best, file, `${k}.best`), constraints: constraintsOf(isObj(run.info) ? run.info.constraints : undefined) };
    });
    into.search = { file, runs };
    return;
  }
  if (Array.isArray(v.layers) && typeof v.indicator === "string") {
    once("search", "search output");
    const layers = (v.layers as unknown[]).map((l, i) => {
      if (!isObj(l) || !Array.isArray(l.candidates)) throw new Unusable(`${file}: layers[${i}] has no candidates`);
      return {
        label: String(l.label),
        candidates: (l.candidates as unknown[]).map((c, k) => {
          if (!isObj(c) || !Number.isInteger(c.position)) throw new Unusable(`${file}: layers[${i}].candidates[${k}] has no position`);
          return { name: String(c.name), position: c.position as number, score: isNum(c.score) ? c.score : null };
        }),
      };
    });
    const search = isObj(v.search) ? v.search : undefined;
    const runs = v.best !== undefined ? [{ strategy: String(search?.strategy ?? "search"), best: archEntries(v.best, file, "best"), constraints: constraintsOf(search?.constraints) }] : [];
    into.search = { file, layers, indicator: v.indicator, runs };
    return;
  }
  if (isNum(v.accuracy) && (isNum(v.images_per_s) || isNum(v.images))) {
    once("eval", "eval output");
    const confusion = Array.isArray(v.confusion) && v.confusion.every((r) => Array.isArray(r) && r.every(isNum)) ? (v.confusion as number[][]) : undefined;
    if (confusion && confusion.some((r) => r.length !== confusion.length)) throw new Unusable(`${file}: "confusion" is not a square matrix`);
    const classes = Array.isArray(v.classes) ? (v.classes as unknown[]).map(String) : undefined;
    const perClass = Array.isArray(v.per_class) ? (v.per_class as unknown[]).filter(isObj).map((p) => ({ label: String(p.label), acc: Number(p.acc), n: Number(p.n) })) : undefined;
    into.eval = {
      file,
      accuracy: v.accuracy,
      correct: isNum(v.correct) ? v.correct : undefined,
      images: isNum(v.images) ? v.images : undefined,
      images_per_s: isNum(v.images_per_s) ? v.images_per_s : undefined,
      batch: isNum(v.batch) ? v.batch : undefined,
      model: typeof v.model === "string" ? v.model : undefined,
      data: typeof v.data === "string" ? v.data : undefined,
      device: typeof v.device === "string" ? v.device : undefined,
      threads: isNum(v.threads) ? v.threads : null,
      classes,
      per_class: perClass,
      confusion,
    };
    return;
  }
  throw new Unusable(`${file}: a JSON file report does not know (expected score-onnx --json, the demo's search.json or summary.json, bench rank --json or eval --json)`);
}

/** A bench truth JSONL: every line checked; a torn last line (an interrupted run) is skipped with a note. */
function readTruth(text: string, file: string, into: ReportInputs): void {
  if (into.truth) throw new Unusable(`${file}: a second truth table (the report shows ${into.truth.file}); give one`);
  const lines = text.split("\n");
  const rows: TruthRow[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      if (i === lines.length - 1 || (i === lines.length - 2 && lines.at(-1) === "")) {
        into.problems.push({ file, level: "missing", message: `${file}: line ${i + 1} is torn (an interrupted bench truth?); it is left out` });
        return;
      }
      throw new Unusable(`${file}: line ${i + 1} is not JSON`);
    }
    if (!isObj(v) || !isArch(v.arch) || !isNum(v.acc)) throw new Unusable(`${file}: line ${i + 1} has no "arch" list and finite "acc"`);
    rows.push({ arch: v.arch, seed: Number.isInteger(v.seed) ? (v.seed as number) : 0, acc: v.acc, macs: isNum(v.macs) ? v.macs : undefined, params: isNum(v.params) ? v.params : undefined });
  });
  if (rows.length === 0) throw new Unusable(`${file}: holds no truth rows`);
  into.truth = { file, rows };
}

function readOne(file: string, into: ReportInputs): void {
  let bytes: Buffer;
  try {
    if (statSync(file).isDirectory()) throw new Unusable(`${file}: is a directory; give the files in it`);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof Unusable) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new Unusable(`${file}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  // JSON and JSONL start with '{' (after whitespace); anything else is tried as ONNX.
  const head = bytes.subarray(0, 64).toString("latin1").trimStart();
  if (!head.startsWith("{")) return readModelInput(file, into);
  const text = bytes.toString("utf8");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    // Several JSON documents, one a line: a truth table.
    return readTruth(text, file, into);
  }
  if (!isObj(v)) throw new Unusable(`${file}: is JSON but not an object`);
  // A one-line truth table parses as one object: recognise it by its keys.
  if (isArch(v.arch) && isNum(v.acc)) return readTruth(text, file, into);
  classifyJson(v, file, into);
}

/** Reads every file; each one that cannot be used is a Problem, the rest are the report's inputs. */
export function readReportInputs(files: readonly string[]): ReportInputs {
  const into: ReportInputs = { problems: [] };
  for (const file of files) {
    try {
      readOne(file, into);
    } catch (e) {
      if (e instanceof Unusable || e instanceof BnnasError) into.problems.push({ file, level: "error", message: e.message.startsWith(file) ? e.message : `${file}: ${e.message}` });
      else throw e;
    }
  }
  return into;
}

/** The name a report shows for a file (its base name: reports are often moved with their files). */
export const shownName = (file: string): string => basename(file);
