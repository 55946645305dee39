/**
 * Building a latency table (`bnnas latency SUPERNET -o table.json`): every block of the supernet,
 * an empty graph (the per-run overhead) and a few random whole subnets (the per-network
 * correction factor) are timed together, interleaved in the same rounds, so the correction is measured
 * under the same load as the blocks it corrects.
 */
import { cpus, loadavg, platform, arch as machineArch } from "node:os";
import { createRequire } from "node:module";
import { basename } from "node:path";
import { make, type ModelProto } from "../onnx/proto.js";
import { OptionError } from "../errors.js";
import type { LoadedSupernet } from "../supernet/load.js";
import type { Device } from "../runtime/ort.js";
import { extractSubnet } from "../extract/subnet.js";
import { streamFor } from "../util/random.js";
import type { SupernetStructure } from "../structure/structure.js";
import { latencyBlocks } from "./blocks.js";
import { DEFAULT_IDLE_MS, DEFAULT_WARM_MS, timeModels, timingStats, withTinyOutput, ZERO_STATS, type Timed, type TimingSettings } from "./measure.js";
import { candidateKey, candidateLatency, fixedLatency, LATENCY_TABLE_FORMAT, predictLatency, structureFingerprint, type BlockEntry, type LatencyStatistic, type LatencyTable, type TableFit } from "./table.js";
import { fitLatencies } from "./fit.js";
import { median } from "../util/stats.js";

export interface LatencyOptions extends TimingSettings {
  device: Device;
  threads: number;
  batch: number;
  repeats: number;
  warmup: number;
  seed: number;
  onProgress?: (phase: "sessions" | "rounds", done: number, total: number) => void;
}

export interface BuildOptions extends LatencyOptions {
  /** What predictions use of each block's samples (default median; see LatencyTable.statistic). */
  statistic?: LatencyStatistic;
  /** Random whole subnets timed for the per-network correction (0: no correction). */
  calibrate: number;
}

/** This machine's CPU, as tables record it. */
export function cpuDescription(): string {
  const list = cpus();
  return `${(list[0]?.model ?? "unknown CPU").trim()} x ${list.length}`;
}

export function onnxruntimeVersion(): string {
  try {
    return (createRequire(import.meta.url)("onnxruntime-node/package.json") as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export function checkLatencyOptions(o: LatencyOptions): void {
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new OptionError("batch", (n) => `${n} must be a whole number >= 1, not ${o.batch}`);
  if (!Number.isInteger(o.threads) || o.threads < 1) throw new OptionError("threads", (n) => `${n} must be a whole number >= 1, not ${o.threads}`);
  if (!Number.isInteger(o.repeats) || o.repeats < 1) throw new OptionError("repeats", (n) => `${n} must be a whole number >= 1, not ${o.repeats}`);
  if (!Number.isInteger(o.warmup) || o.warmup < 1) throw new OptionError("warmup", (n) => `${n} must be a whole number >= 1, not ${o.warmup}`);
}

/** `n` distinct random architectures (fewer when the space is smaller), drawn from `stream`. */
export function randomArchs(structure: SupernetStructure, n: number, seed: number, stream: string): number[][] {
  const rng = streamFor(seed, stream);
  const size = structure.layers.reduce((s, l) => s * l.candidates.length, 1);
  const want = Math.min(n, size);
  const seen = new Set<string>();
  const out: number[][] = [];
  while (out.length < want) {
    const a = structure.layers.map((l) => l.candidates[rng.int(l.candidates.length)]!.position);
    const key = a.join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(a);
  }
  return out;
}

/** An empty graph (Identity of one float): what one session run costs before any work. */
export function overheadModel(like: ModelProto): Timed {
  const t = (dims: number[]) => ({ tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } });
  const model = make.model({
    irVersion: like.irVersion,
    opsetImport: like.opsetImport,
    producerName: "bnnas-latency",
    graph: make.graph({ name: "overhead", node: [make.node({ name: "identity", opType: "Identity", input: ["x"], output: ["y"] })], input: [make.valueInfo({ name: "x", type: t([1]) })], output: [make.valueInfo({ name: "y", type: t([1]) })] }),
  });
  return { model, input: { name: "x", shape: [1] } };
}

/** A whole subnet as `extract-subnet --fold-bn` writes it, ready to time. */
export function subnetTimed(loaded: LoadedSupernet, arch: readonly number[], batch: number): Timed {
  const { model } = extractSubnet(loaded.model, loaded.structure, arch, { foldBn: true, file: loaded.file });
  const input = loaded.structure.input;
  const rank = model.graph!.output[0]!.type?.tensorType?.shape?.dim?.length ?? 2;
  return { model: withTinyOutput(model, rank), input: { name: input.name, shape: input.shape.map((d, k) => (k === 0 ? batch : (d as number))) } };
}

/**
 * Below this many calibration subnets, only the factor is measured: the fit has about 40 costs
 * and its cross-validation needs several subnets per fold.
 */
export const MIN_FIT_SUBNETS = 10;

/** The in-network cost of each candidate and the intercept, fitted to the calibration subnets around the factor-corrected blocks. */
function fitTable(table: LatencyTable, structure: SupernetStructure, archs: number[][], measured: number[]): TableFit {
  const fit = fitLatencies({
    priorIntercept: fixedLatency(table),
    priorCandidates: structure.layers.map((layer, l) => layer.candidates.map((c) => candidateLatency(table, l, c.position, c.name))),
    choices: archs.map((a) => structure.layers.map((layer, l) => layer.candidates.findIndex((c) => c.position === a[l]))),
    measured,
  });
  const blocks: Record<string, number> = {};
  structure.layers.forEach((layer, l) => layer.candidates.forEach((c, k) => (blocks[candidateKey(l, c.position, c.name)] = fit.candidates[l]![k]!)));
  return { intercept: fit.intercept, blocks, measured, lambda: fit.lambda, cvErrors: fit.cvErrors };
}

export async function buildLatencyTable(loaded: LoadedSupernet, options: BuildOptions): Promise<LatencyTable> {
  checkLatencyOptions(options);
  const { structure } = loaded;
  const blocks = latencyBlocks(loaded.model, structure, options.batch, loaded.file);
  const timedBlocks = blocks.filter((b) => b.model !== null);
  const calibration = randomArchs(structure, options.calibrate, options.seed, "latency-calibration");
  const items: Timed[] = [...timedBlocks.map((b) => ({ model: withTinyOutput(b.model!, b.output.shape.length), input: b.input })), overheadModel(loaded.model)];
  const load0 = loadavg()[0]!;
  // Two phases, one progress: the blocks (and the empty graph) interleaved in their rounds, then
  // the calibration subnets in rounds of their own, as a user's network (and --validate) runs:
  // with no block sessions alive between them.
  const rounds = options.warmup + options.repeats;
  const phases = calibration.length > 0 ? 2 : 1;
  const measure = (what: Timed[], phase: number) =>
    timeModels(what, { device: options.device, threads: options.threads, repeats: options.repeats, warmup: options.warmup, seed: options.seed + phase, sampleMs: options.sampleMs, warmMs: options.warmMs, idleMs: options.idleMs, pinThreads: options.pinThreads, onProgress: (kind, done, total) => options.onProgress?.(kind, kind === "rounds" ? phase * rounds + done : done, kind === "rounds" ? phases * rounds : total) });
  const samples = await measure(items, 0);
  const wholeSamples = calibration.length > 0 ? await measure(calibration.map((a) => subnetTimed(loaded, a, options.batch)), 1) : [];
  const load1 = loadavg()[0]!;
  const entries: Record<string, BlockEntry> = {};
  for (const b of blocks) {
    const k = timedBlocks.indexOf(b);
    entries[b.key] = k < 0 ? { ...ZERO_STATS, empty: true } : { ...timingStats(samples[k]!), input: b.input.shape };
  }
  const table: LatencyTable = {
    format: LATENCY_TABLE_FORMAT,
    unit: "ms",
    supernet: { file: basename(loaded.file), sha256: loaded.sha256, space: loaded.manifest?.space.name ?? null, fingerprint: structureFingerprint(structure) },
    device: options.device,
    threads: options.threads,
    batch: options.batch,
    onnxruntime: onnxruntimeVersion(),
    cpu: cpuDescription(),
    platform: `${platform()} ${machineArch()}`,
    measuredAt: new Date().toISOString(),
    repeats: options.repeats,
    warmup: options.warmup,
    sampleMs: options.sampleMs ?? 2,
    warmMs: options.warmMs ?? DEFAULT_WARM_MS,
    idleMs: options.idleMs ?? DEFAULT_IDLE_MS,
    pinThreads: options.pinThreads ?? false,
    seed: options.seed,
    loadavg: [load0, load1],
    overhead: timingStats(samples[timedBlocks.length]!),
    correction: { factor: 1, archs: calibration, ratios: [] },
    statistic: options.statistic ?? "median",
    blocks: entries,
  };
  // Each calibration subnet measured over its uncorrected sum (the factor is 1 still); the factor is their median.
  const measured = wholeSamples.map((x) => timingStats(x)[table.statistic]);
  const ratios = calibration.map((a, i) => measured[i]! / predictLatency(table, structure, a));
  const factor = ratios.length === 0 ? 1 : median(ratios);
  table.correction = { factor, archs: calibration, ratios };
  if (calibration.length >= MIN_FIT_SUBNETS) table.correction.fit = fitTable(table, structure, calibration, measured);
  return table;
}
