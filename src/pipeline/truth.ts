/**
 * Ground truth for ranking studies, from inside the product (`bnnas bench truth`): each
 * architecture of a space trained from scratch, every weight, for each seed, and evaluated on the
 * test split; one JSON line per (arch, seed) appended to a JSONL file:
 *   {"arch": [..], "seed": s, "acc": .., "macs": .., "params": .., "secs": .., "epochs": .., ...}
 *
 * The weights of (arch, seed) are the space's init drawn with that seed, so they equal the
 * path's weights in `export-supernet --seed s`. The output is resumable: lines already there are
 * skipped, and each new line is appended and flushed as soon as its run ends, so a killed table
 * keeps every finished line (a torn last line is dropped on the next run).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import { InputFileError, OptionError } from "../errors.js";
import type { ModelProto } from "../onnx/proto.js";
import type { SpaceSpec } from "../space/spec.js";
import { buildSupernet } from "../supernet/export.js";
import { structureFromManifest } from "../supernet/manifest.js";
import { subnetStructure } from "../supernet/trainable.js";
import { archCost, checkArch, formatArch } from "../structure/arch.js";
import type { SupernetStructure } from "../structure/structure.js";
import type { Normalization } from "../structure/normalization.js";
import { extractSubnet } from "../extract/subnet.js";
import { reinitializeWeights } from "../ops/init.js";
import { subset, type Dataset } from "../data/dataset.js";
import { loadData, type DataOptions } from "../data/load.js";
import { iota, shuffleInPlace } from "../data/shuffle.js";
import { streamFor } from "../util/random.js";
import { evaluate } from "../runtime/eval.js";
import { trainModel, type EngineChoice } from "./train-run.js";
import type { TrainConfig } from "../train/trainer.js";

export interface TruthLine {
  arch: number[];
  seed: number;
  /** Top-1 test accuracy after training. */
  acc: number;
  macs: number;
  params: number;
  /** Wall seconds of training and evaluation. */
  secs: number;
  epochs: number;
  /** Training images used. */
  images: number;
  final_loss: number;
}

export interface TruthRequest {
  space: SpaceSpec;
  /** The architectures (mask positions per layer), checked against the space. */
  archs: readonly (readonly number[])[];
  seeds: readonly number[];
  epochs: number;
  /** JSONL file to append to. */
  output: string;
  /** Data folder: IDX, CIFAR binary or image folders (default: the system Fashion-MNIST, else the shipped subset). */
  data?: string;
  /** Format, cache and strictness of reading `data`. */
  dataOptions?: DataOptions;
  /** Train on this many training images (a seeded, fixed sample), not all. */
  subsetImages?: number;
  /** Evaluate on the first this many test images. */
  testLimit?: number;
  batch?: number;
  lr?: number;
  weightDecay?: number;
  engine?: EngineChoice;
  /** Called after each (arch, seed) with the runs done and to do (skipped ones count as done). */
  onRun?: (done: number, total: number, line: TruthLine | undefined) => void;
}

export interface TruthResult {
  output: string;
  written: TruthLine[];
  /** (arch, seed) pairs already in the file. */
  skipped: number;
}

/** `count` distinct architectures drawn uniformly per layer from the allowed candidates, seeded. */
export function sampleArchs(structure: SupernetStructure, count: number, seed: number): number[][] {
  const rng = streamFor(seed, "truth/sample");
  const space = structure.layers.reduce((n, l) => n * l.candidates.length, 1);
  if (count > space) throw new OptionError("sample", (o) => `${o} ${count} is more than the ${space} architectures of the space`);
  const seen = new Set<string>();
  const out: number[][] = [];
  while (out.length < count) {
    const arch = structure.layers.map((l) => l.candidates[rng.int(l.candidates.length)]!.position);
    const key = formatArch(arch);
    if (!seen.has(key)) seen.add(key), out.push(arch);
  }
  return out;
}

/**
 * The lines a truth file already holds (1-based line numbers), parsed. A torn last line (a run
 * killed while writing it) is left out, and cut off the file when `cutTorn` (before appending).
 */
export function readTruthLines(file: string, cutTorn = false): { line: number; value: Partial<TruthLine> }[] {
  if (!existsSync(file)) return [];
  let text = readFileSync(file, "utf8");
  if (text !== "" && !text.endsWith("\n")) {
    text = text.slice(0, text.lastIndexOf("\n") + 1);
    if (cutTorn) truncateSync(file, Buffer.byteLength(text));
  }
  const out: { line: number; value: Partial<TruthLine> }[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    if (raw.trim() === "") continue;
    try {
      out.push({ line: i + 1, value: JSON.parse(raw) as Partial<TruthLine> });
    } catch {
      throw new InputFileError(file, `line ${i + 1} is not JSON; fix or remove it (bench truth appends to this file)`);
    }
  }
  return out;
}

/** The (arch, seed) pairs already in `file`; a torn last line is cut off. */
function existingRuns(file: string): Set<string> {
  const done = new Set<string>();
  for (const { line, value: v } of readTruthLines(file, true)) {
    if (!Array.isArray(v.arch) || typeof v.seed !== "number") throw new InputFileError(file, `line ${line} has no "arch" and "seed"; is this a bench truth file?`);
    done.add(`${formatArch(v.arch)}|${v.seed}`);
  }
  return done;
}

/** Appends one line and flushes it to disk, so a finished run survives a kill. */
function appendLine(file: string, line: TruthLine): void {
  const fd = openSync(file, "a");
  try {
    writeSync(fd, `${JSON.stringify(line)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A fixed, seeded sample of the training images (the same for every arch and seed). */
function trainingImages(data: Dataset, count: number | undefined): Dataset {
  if (count === undefined || count >= data.count) return data;
  const order = shuffleInPlace(iota(data.count), streamFor(0, "truth/subset")).slice(0, count).sort();
  return subset(data, order, `truth sample of ${count}`);
}

export async function buildTruthTable(req: TruthRequest): Promise<TruthResult> {
  if (req.seeds.length === 0) throw new OptionError("seeds", (o) => `${o} needs at least one seed`);
  // Only the graph is needed: every (arch, seed) redraws all of its weights (reinitializeWeights).
  const built = buildSupernet(req.space, { weights: false });
  const structure = structureFromManifest(built.manifest);
  const archs = req.archs.map((a) => checkArch(a, structure));
  const norm = built.manifest.input.normalize;
  const [c, h, w] = built.manifest.input.shape;
  const want = { channels: c, height: h, width: w };
  const train = trainingImages(await loadData(req.data, "train", { ...req.dataOptions, want }), req.subsetImages);
  const test = await loadData(req.data, "test", { ...req.dataOptions, want });
  const done = existingRuns(req.output);
  const total = archs.length * req.seeds.length;
  const written: TruthLine[] = [];
  let skipped = 0;
  let count = 0;
  for (const arch of archs) {
    for (const seed of req.seeds) {
      count++;
      if (done.has(`${formatArch(arch)}|${seed}`)) {
        skipped++;
        req.onRun?.(count, total, undefined);
        continue;
      }
      const line = await trainFromScratch(built.model, structure, arch, seed, train, test, norm, req);
      appendLine(req.output, line);
      done.add(`${formatArch(arch)}|${seed}`);
      written.push(line);
      req.onRun?.(count, total, line);
    }
  }
  return { output: req.output, written, skipped };
}

async function trainFromScratch(supernet: ModelProto, structure: SupernetStructure, arch: number[], seed: number, train: Dataset, test: Dataset, norm: Normalization, req: TruthRequest): Promise<TruthLine> {
  const started = performance.now();
  const { model } = extractSubnet(supernet, structure, arch);
  reinitializeWeights(model.graph!, seed);
  const file = `${req.space.name} ${formatArch(arch)}`;
  const config: TrainConfig = {
    epochs: req.epochs, batch: req.batch ?? 128, lr: req.lr ?? 0.1, momentum: 0.9, nesterov: true, weightDecay: req.weightDecay ?? 5e-5, weightDecayBn: false,
    schedule: "cosine", labelSmoothing: 0, sampler: "fixed", arch: [], bn: "all", trainHead: true, seed,
  };
  const result = await trainModel({ model, file, structure: subnetStructure(model, file), data: train, norm, config, weights: "all", engine: req.engine });
  const evaluated = await evaluate(model, test, norm, { limit: req.testLimit, device: req.engine?.device, threads: req.engine?.threads });
  const cost = archCost(structure, arch);
  return {
    arch, seed, acc: evaluated.accuracy, macs: cost.macs, params: cost.params, secs: Number(((performance.now() - started) / 1000).toFixed(2)),
    epochs: req.epochs, images: train.count, final_loss: result.finalLoss,
  };
}
