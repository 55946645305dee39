/**
 * How far an indicator's ranking of architectures can be trusted (`bnnas bench rank`): its
 * agreement with trained accuracies from a truth table (`bench truth` output, or any JSONL of
 * {"arch", "acc"[, "seed"]}), with bootstrap intervals, the top-10% precision, the truth
 * percentile of the indicator's best, the seed-to-seed agreement of the truth itself (the
 * ceiling), and rank stability over the supernet's training epochs (the BN-NAS paper's Fig. 5).
 */
import { readFileSync } from "node:fs";
import { InputFileError } from "../errors.js";
import type { LoadedSupernet } from "../supernet/load.js";
import { checkArch, formatArch } from "../structure/arch.js";
import type { SupernetStructure } from "../structure/structure.js";
import { bestPercentile, bootstrap, kendallTau, spearmanRho, topPrecision, type WithInterval } from "../score/rank-stats.js";
import { resolveIndicator, type ProxyOptions } from "../proxy/registry.js";
import { streamFor } from "../util/random.js";
import { layerEffects, type LayerEffects } from "../score/layer-effects.js";
import { mean, sampleVariance } from "../util/stats.js";

/** The architectures of a truth table with their accuracy per seed (a line without a seed is seed 0). */
export interface TruthTable {
  archs: number[][];
  /** accs[i]: seed -> accuracy of archs[i]. */
  accs: Map<number, number>[];
}

/** Fewer architectures than this give no meaningful rank statistic. */
export const MIN_TRUTH_ARCHS = 5;

export function readTruthTable(file: string, structure: SupernetStructure): TruthTable {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputFileError(file, code === "ENOENT" ? "no such file" : (e as Error).message);
  }
  const index = new Map<string, number>();
  const table: TruthTable = { archs: [], accs: [] };
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const at = `line ${i + 1}`;
    let v: { arch?: unknown; acc?: unknown; seed?: unknown };
    try {
      v = JSON.parse(line) as typeof v;
    } catch {
      throw new InputFileError(file, `${at} is not JSON`);
    }
    if (!Array.isArray(v.arch) || !v.arch.every((x) => Number.isInteger(x))) throw new InputFileError(file, `${at} has no "arch" list of mask positions`);
    if (typeof v.acc !== "number" || !Number.isFinite(v.acc)) throw new InputFileError(file, `${at}: "acc" is ${JSON.stringify(v.acc ?? null)}, not a finite number`);
    const seed = v.seed === undefined ? 0 : v.seed;
    if (typeof seed !== "number" || !Number.isInteger(seed)) throw new InputFileError(file, `${at}: "seed" must be a whole number`);
    let arch: number[];
    try {
      arch = checkArch(v.arch as number[], structure);
    } catch (e) {
      throw new InputFileError(file, `${at}: ${(e as Error).message} (is the table from another space?)`);
    }
    const key = formatArch(arch);
    let k = index.get(key);
    if (k === undefined) {
      index.set(key, (k = table.archs.length));
      table.archs.push(arch);
      table.accs.push(new Map());
    }
    const before = table.accs[k]!.get(seed);
    if (before !== undefined && before !== v.acc) throw new InputFileError(file, `${at}: arch ${key} seed ${seed} has acc ${v.acc}, but an earlier line says ${before}`);
    table.accs[k]!.set(seed, v.acc);
  });
  if (table.archs.length < MIN_TRUTH_ARCHS) throw new InputFileError(file, `holds ${table.archs.length} architecture(s); ranking needs at least ${MIN_TRUTH_ARCHS}`);
  return table;
}

export interface RankReport {
  indicator: string;
  n: number;
  kendall_tau: WithInterval;
  spearman: WithInterval;
  /** Share of the indicator's top 10% that is in the truth's top 10%. */
  top10_precision: number;
  /** Truth percentile (0..100) of the architecture the indicator ranks first. */
  best_percentile: number;
  /**
   * Kendall tau between the truth's two first seeds over the architectures that have both (null with
   * one seed): the ceiling. With it, what limits it (seedNoise): the sd of one run's accuracy about
   * its architecture's, the sd of the architectures' own accuracies, and their ratio.
   */
  seed_tau: ({ seeds: [number, number]; n: number; value: number } & SeedNoise) | null;
  /** Kendall tau of each recorded epoch's indicator ranking of the truth's architectures against the last epoch's. */
  rank_stability: { epoch: number; tau: number }[];
  /** Kendall tau of each recorded epoch's BN-indicator ranking against the truth: how trust grows with training. */
  truth_tau_by_epoch: { epoch: number; tau: number }[];
  /** Per layer and candidate, the truth's and the indicator's main effects (score/layer-effects.ts): where they disagree. */
  by_layer: LayerEffects[];
}

export interface RankOptions {
  indicator?: string;
  /** Data, minibatch and runtime of the zero-cost proxies. */
  proxy?: ProxyOptions;
  /** Bootstrap resamples (default 1000). */
  rounds?: number;
  seed?: number;
}

/** An architecture's score under per-layer candidate scores (structure order). */
function archScore(structure: SupernetStructure, scores: readonly (readonly (number | null)[])[], arch: readonly number[]): number {
  return arch.reduce((sum, pos, l) => sum + (scores[l]![structure.layers[l]!.candidates.findIndex((c) => c.position === pos)] ?? 0), 0);
}

export async function rankReport(loaded: LoadedSupernet, truth: TruthTable, options: RankOptions = {}): Promise<RankReport> {
  const indicator = resolveIndicator(options.indicator ?? "bn", loaded, options.proxy);
  // An ensemble ranks against the truth's own architectures: its score is then their rank average.
  const predicted = await indicator.scoreArchs(truth.archs, truth.archs);
  const acc = truth.accs.map((m) => mean([...m.values()]));
  const rounds = options.rounds ?? 1000;
  const seed = options.seed ?? 0;

  const seeds = [...new Set(truth.accs.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  let seedTau: RankReport["seed_tau"] = null;
  if (seeds.length >= 2) {
    const [s0, s1] = [seeds[0]!, seeds[1]!];
    const both = truth.accs.filter((m) => m.has(s0) && m.has(s1));
    if (both.length >= 2) {
      const [a, b] = [both.map((m) => m.get(s0)!), both.map((m) => m.get(s1)!)];
      seedTau = { seeds: [s0, s1], n: both.length, value: kendallTau(a, b), ...seedNoise(a, b) };
    }
  }

  const byEpoch = epochRankings(loaded, truth.archs);
  return {
    indicator: indicator.name,
    n: truth.archs.length,
    kendall_tau: bootstrap(predicted, acc, kendallTau, rounds, seed),
    spearman: bootstrap(predicted, acc, spearmanRho, rounds, seed),
    top10_precision: topPrecision(predicted, acc),
    best_percentile: bestPercentile(predicted, acc),
    seed_tau: seedTau,
    rank_stability: rankStability(byEpoch),
    truth_tau_by_epoch: byEpoch.map((e) => ({ epoch: e.epoch, tau: kendallTau(e.scores, acc) })),
    by_layer: layerEffects(loaded.structure, truth.archs, acc, predicted),
  };
}

export interface SeedNoise {
  /** sd of one run about its architecture's accuracy: the sd of the two seeds' difference over sqrt 2. */
  noise_sd: number;
  /** sd of the architectures' accuracies with the noise taken out: sqrt(var(seed means) - noise^2 / 2), 0 when the noise explains it all. */
  spread_sd: number;
  /** spread_sd / noise_sd (null when the seeds agree exactly). Two runs then agree at tau = (2/pi) asin(r), r = snr^2 / (1 + snr^2): tau 0.7 needs about 2.9. */
  snr: number | null;
}

/** How much of two seeds' accuracies over the same architectures is the architecture and how much the seed. */
export function seedNoise(a: readonly number[], b: readonly number[]): SeedNoise {
  const noise = Math.sqrt(sampleVariance(a.map((v, i) => v - b[i]!)) / 2);
  const spread = Math.sqrt(Math.max(0, sampleVariance(a.map((v, i) => (v + b[i]!) / 2)) - noise ** 2 / 2));
  return { noise_sd: noise, spread_sd: spread, snr: noise === 0 ? null : spread / noise };
}

/** Each recorded epoch's BN-indicator scores of `archs` (the training record's per-epoch history). */
function epochRankings(loaded: LoadedSupernet, archs: readonly number[][]): { epoch: number; scores: number[] }[] {
  const history = (loaded.manifest?.training as { history?: { epoch: number; scores: number[][] }[] } | null | undefined)?.history ?? [];
  return history.map((h) => ({ epoch: h.epoch, scores: archs.map((a) => archScore(loaded.structure, h.scores, a)) }));
}

function rankStability(byEpoch: { epoch: number; scores: number[] }[]): { epoch: number; tau: number }[] {
  const last = byEpoch.at(-1);
  return last ? byEpoch.map((e) => ({ epoch: e.epoch, tau: kendallTau(e.scores, last.scores) })) : [];
}

/** Architectures `info` ranks for its rank-stability line. */
export const STABILITY_SAMPLE = 1000;

/**
 * Rank stability of a trained supernet without a truth table (`info`): Kendall tau of each
 * recorded epoch's BN ranking of a fixed sample of architectures (seeded; the whole space when
 * smaller) against the last epoch's. Empty when the training record has no history.
 */
export function trainingRankStability(loaded: LoadedSupernet): { archs: number; stability: { epoch: number; tau: number }[] } {
  const layers = loaded.structure.layers;
  const size = layers.reduce((n, l) => n * l.candidates.length, 1);
  let archs: number[][];
  if (size <= STABILITY_SAMPLE) {
    archs = [[]];
    for (const l of layers) archs = archs.flatMap((a) => l.candidates.map((c) => [...a, c.position]));
  } else {
    const rng = streamFor(0, "info/stability");
    archs = Array.from({ length: STABILITY_SAMPLE }, () => layers.map((l) => l.candidates[rng.int(l.candidates.length)]!.position));
  }
  return { archs: archs.length, stability: rankStability(epochRankings(loaded, archs)) };
}
