/**
 * The latency table: per block of a supernet (stem, each candidate, head), its measured latency
 * on one runtime configuration, in the ProxylessNAS/OFA convention (`count`, `mean`, `var` per
 * entry) plus the median the predictions use and the spread. The table says where it was
 * measured (device, threads, batch, onnxruntime version, CPU), so it can refuse to be used for
 * another supernet or another runtime configuration, and how sums of blocks are corrected into
 * whole-network latencies (a per-run overhead and a per-network factor, both measured).
 *
 * Prediction, with 10 or more calibration subnets (the default 60): the fitted intercept plus
 * each chosen candidate's fitted in-network cost (`correction.fit`, latency/fit.ts), a sum over
 * layers. With fewer: factor * (overhead + sum over the network's blocks of max(0, median -
 * overhead)), with the table's `statistic` in place of the median where it says `min`. Each
 * block was timed as its own session run, so each paid the per-run overhead that a whole
 * network pays once; the factor (a multiplier, so a prediction never turns negative and the
 * per-block columns of a search problem stay additive) is the median measured/summed ratio of
 * the calibration subnets, and it scales the prior the fit starts from.
 *
 * A table belongs to a supernet's *structure* (layers, candidates, their shapes and costs), not
 * to its trained weights: the table of `supernet.onnx` serves `supernet.trained.onnx`.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { InputFileError } from "../errors.js";
import type { SupernetStructure } from "../structure/structure.js";
import { JsonPath, asArray, asInt, asNumber, asObject, asString, optional, required, type JsonObject } from "../util/json.js";
import type { Device } from "../runtime/ort.js";
import type { TimingStats } from "./measure.js";

export const LATENCY_TABLE_FORMAT = "bnnas-latency-table/1";

export interface BlockEntry extends TimingStats {
  /** Input shape at the measured batch; absent for empty blocks. */
  input?: number[];
  /** True for a block that computes nothing (a skip candidate): 0 ms by definition, never run. */
  empty?: boolean;
}

export interface LatencyTable {
  format: typeof LATENCY_TABLE_FORMAT;
  unit: "ms";
  supernet: { file: string; sha256: string; space: string | null; fingerprint: string };
  device: Device;
  threads: number;
  batch: number;
  onnxruntime: string;
  cpu: string;
  platform: string;
  measuredAt: string;
  repeats: number;
  warmup: number;
  /** Length of one sample (ms of back-to-back runs, see MeasureOptions.sampleMs); validation uses the same. */
  sampleMs: number;
  /** Untimed back-to-back runs before each sample (ms, see MeasureOptions.warmMs); validation uses the same. 0 in tables made before it existed. */
  warmMs: number;
  /** Idle time before each model's turn (ms, see MeasureOptions.idleMs); validation uses the same. 0 in tables made before it existed. */
  idleMs: number;
  /** Whether the worker threads were pinned to processors (MeasureOptions.pinThreads); validation does the same. */
  pinThreads: boolean;
  seed: number;
  /** 1-minute load average before and after measuring (how quiet the machine was). */
  loadavg: [number, number];
  /** Cost of one session run of an empty graph: paid once by a whole network, once per block by the table's blocks. */
  overhead: TimingStats;
  /**
   * Multiplies every prediction: the median over `archs` (random subnets measured whole,
   * interleaved with the blocks) of measured over summed latency, `ratios`; what sums of blocks
   * miss (fusions and layout changes across block borders, caches). 1 with no calibration.
   */
  correction: { factor: number; archs: number[][]; ratios: number[]; fit?: TableFit };
  /**
   * Which statistic of the samples predictions use: `median` (the default), or `min`, for a
   * machine loaded beyond its cores, where most samples are preempted and the median measures
   * the load rather than the model; the least-disturbed sample then is the repeatable one.
   * Validation compares with the same statistic of each whole subnet.
   */
  statistic: LatencyStatistic;
  /** Keyed by block: `stem`, `layer<l>.<position>.<name>`, `fixed.<l>`, `head`. */
  blocks: Record<string, BlockEntry>;
}

/**
 * In-network costs fitted to the calibration subnets (latency/fit.ts): where present, predictions
 * are `intercept` + the fitted cost of each chosen candidate, instead of the corrected sums of
 * standalone blocks.
 */
export interface TableFit {
  /** What every network pays (stem, head, fixed parts, per-run overhead), ms. */
  intercept: number;
  /** Fitted in-network cost (ms) per candidate key (`layer<l>.<position>.<name>`), skips included. */
  blocks: Record<string, number>;
  /** The calibration subnets' measured latency (the table's statistic), in `archs` order. */
  measured: number[];
  /** Ridge strength chosen by cross-validation. */
  lambda: number;
  /** Cross-validated relative error of each calibration subnet (predicted by a fit without it, / measured - 1). */
  cvErrors: number[];
}

export type LatencyStatistic = "median" | "min";
export const LATENCY_STATISTICS: readonly LatencyStatistic[] = ["median", "min"];

export const candidateKey = (l: number, position: number, name: string) => `layer${l}.${position}.${name}`;

/**
 * What a table must match: the supernet's structure (layer labels, candidates with their tensors
 * and costs, the input's shape without the batch), hashed. Trained values are left out.
 */
export function structureFingerprint(structure: SupernetStructure): string {
  const canonical = {
    input: structure.input.shape.slice(1),
    output: structure.output,
    fixed: structure.fixed ?? null,
    layers: structure.layers.map((l) => ({ label: l.label, input: l.input, output: l.output, candidates: l.candidates.map((c) => [c.position, c.name, c.output, c.macs ?? null, c.params ?? null]) })),
  };
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex").slice(0, 16);
}

/** A block's own work: its median (or min) less the per-run overhead it paid as a session of its own. */
const work = (table: LatencyTable, e: BlockEntry) => (e.empty ? 0 : Math.max(0, e[table.statistic] - table.overhead[table.statistic]));

/** Before the correction factor: the per-run overhead once, and every block outside the choice layers. */
export function uncorrectedFixed(table: LatencyTable): number {
  let t = table.overhead[table.statistic];
  for (const [key, e] of Object.entries(table.blocks)) if (!key.startsWith("layer")) t += work(table, e);
  return t;
}

/** Latency of everything outside the choice layers, plus the per-network terms: what every architecture pays. */
export function fixedLatency(table: LatencyTable): number {
  if (table.correction.fit) return table.correction.fit.intercept;
  return table.correction.factor * uncorrectedFixed(table);
}

/** A candidate's latency in the table: its fitted in-network cost, else its block's own work, corrected. */
export function candidateLatency(table: LatencyTable, l: number, position: number, name: string, file = "<table>"): number {
  const key = candidateKey(l, position, name);
  const e = table.blocks[key];
  const fitted = table.correction.fit?.blocks[key];
  if (fitted !== undefined) return fitted;
  if (!e || table.correction.fit) throw new InputFileError(file, `has no entry for layer ${l} candidate ${position} (${name}); measure the table again with bnnas latency`);
  return table.correction.factor * work(table, e);
}

/** Per layer (structure order), each candidate's latency; and the fixed part. What a search problem takes. */
export function latencyColumns(table: LatencyTable, structure: SupernetStructure, file = "<table>"): { fixed: number; perCandidate: number[][] } {
  return { fixed: fixedLatency(table), perCandidate: structure.layers.map((layer, l) => layer.candidates.map((c) => candidateLatency(table, l, c.position, c.name, file))) };
}

/** Predicted latency (ms) of an architecture (mask position per layer). */
export function predictLatency(table: LatencyTable, structure: SupernetStructure, arch: readonly number[], file = "<table>"): number {
  let t = fixedLatency(table);
  structure.layers.forEach((layer, l) => {
    const c = layer.candidates.find((x) => x.position === arch[l]);
    if (!c) throw new InputFileError(file, `architecture ${arch.join(",")} has no candidate at position ${arch[l]} in layer ${l}`);
    t += candidateLatency(table, l, c.position, c.name, file);
  });
  return t;
}

/**
 * Predicted latency of a subnet from what its manifest says (space, arch, candidate names): the
 * table's keys name layer, position and candidate, so no supernet is needed. A table of another
 * space, or one without these candidates, is refused (the space check unless `force`).
 */
export function predictSubnetLatency(table: LatencyTable, tableFile: string, subnet: { space: string; arch: readonly number[]; candidates: readonly string[] }, subnetFile: string, force = false): number {
  if (table.supernet.space !== subnet.space && !force) {
    throw new InputFileError(tableFile, (o) => `it was measured for another supernet (space ${table.supernet.space ?? table.supernet.file}), but ${subnetFile} is a subnet of space ${subnet.space}; measure a table for its supernet with bnnas latency, or pass ${o("force")} to use it anyway`);
  }
  const layers = new Set(Object.keys(table.blocks).filter((k) => k.startsWith("layer")).map((k) => k.split(".")[0]));
  if (layers.size !== subnet.arch.length) throw new InputFileError(tableFile, `has ${layers.size} choice layers, but ${subnetFile} has ${subnet.arch.length}`);
  return subnet.arch.reduce((t, position, l) => t + candidateLatency(table, l, position, subnet.candidates[l]!, tableFile), fixedLatency(table));
}

/** What a table is checked against; fields left undefined are not checked. */
export interface TableTarget {
  structure: SupernetStructure;
  /** The supernet's file name, for the message. */
  file: string;
  device?: Device;
  threads?: number;
  batch?: number;
  /** This machine's CPU, where the table is about to be compared with measurements here. */
  cpu?: string;
}

/** Every way `table` does not fit `target`, as phrases (empty: it fits). */
export function tableMismatches(table: LatencyTable, target: TableTarget): string[] {
  const out: string[] = [];
  const fp = structureFingerprint(target.structure);
  if (table.supernet.fingerprint !== fp) out.push(`it was measured for another supernet (${table.supernet.space ?? table.supernet.file}, structure ${table.supernet.fingerprint}; ${target.file} has structure ${fp})`);
  if (target.device !== undefined && table.device !== target.device) out.push(`it was measured on device ${table.device}, not ${target.device}`);
  if (target.threads !== undefined && table.threads !== target.threads) out.push(`it was measured with ${table.threads} threads, not ${target.threads}`);
  if (target.batch !== undefined && table.batch !== target.batch) out.push(`it was measured at batch ${table.batch}, not ${target.batch}`);
  if (target.cpu !== undefined && table.cpu !== target.cpu) out.push(`it was measured on '${table.cpu}', not on this machine's '${target.cpu}'`);
  return out;
}

/** Refuses a table that does not fit, naming every reason, unless `force`. */
export function checkTable(table: LatencyTable, tableFile: string, target: TableTarget, force = false): void {
  const problems = tableMismatches(table, target);
  if (problems.length > 0 && !force) {
    throw new InputFileError(tableFile, (o) => `${problems.join("; ")}; measure a table for this with bnnas latency, or pass ${o("force")} to use it anyway`);
  }
}

function readStats(v: unknown, at: JsonPath): TimingStats {
  const o = asObject(v, at);
  const n = (k: string) => required(o, k, at, (x, p) => asNumber(x, p, 0));
  return { count: required(o, "count", at, (x, p) => asInt(x, p, 0, 2 ** 31)), mean: n("mean"), var: n("var"), median: n("median"), min: n("min"), p10: n("p10"), p90: n("p90") };
}

function asBoolean(v: unknown, at: JsonPath): boolean {
  if (typeof v !== "boolean") throw at.error("must be true or false");
  return v;
}

function readFit(v: unknown, at: JsonPath): TableFit {
  const o = asObject(v, at);
  const numbers = (k: string, min?: number) => required(o, k, at, (x, p) => asArray(x, p)).map((x, i) => asNumber(x, at.key(k).index(i), min));
  const blocksObj = required(o, "blocks", at, (x, p) => asObject(x, p));
  const blocks: Record<string, number> = {};
  for (const [key, x] of Object.entries(blocksObj)) blocks[key] = asNumber(x, at.key("blocks").key(key), 0);
  return { intercept: required(o, "intercept", at, asNumber), blocks, measured: numbers("measured", 0), lambda: required(o, "lambda", at, (x, p) => asNumber(x, p, 0)), cvErrors: numbers("cvErrors") };
}

/** Reads and checks a table file; every problem names the file and the field. */
export function readLatencyTable(file: string): LatencyTable {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputFileError(file, code === "ENOENT" ? "no such file (make one with bnnas latency SUPERNET -o FILE)" : (e as Error).message);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputFileError(file, `is not JSON (${(e as Error).message}); is it a latency table from bnnas latency?`);
  }
  const at = new JsonPath("", file);
  const o = asObject(raw, at);
  if (o.format !== LATENCY_TABLE_FORMAT) throw new InputFileError(file, `is not a bnnas latency table (format ${JSON.stringify(o.format ?? null)}, expected ${LATENCY_TABLE_FORMAT})`);
  const sn = required(o, "supernet", at, (v, p) => asObject(v, p));
  const snAt = at.key("supernet");
  const corr = required(o, "correction", at, (v, p) => asObject(v, p));
  const corrAt = at.key("correction");
  const blocksObj = required(o, "blocks", at, (v, p) => asObject(v, p));
  const blocks: Record<string, BlockEntry> = {};
  for (const [key, v] of Object.entries(blocksObj)) {
    const p = at.key("blocks").key(key);
    const e = asObject(v, p) as JsonObject;
    blocks[key] = { ...readStats(e, p), ...(e.empty === true ? { empty: true } : {}), ...(e.input !== undefined ? { input: asArray(e.input, p.key("input")).map((d, i) => asInt(d, p.key("input").index(i), 1, 2 ** 31)) } : {}) };
  }
  const device = required(o, "device", at, (v, p) => asString(v, p, /^(cpu|cuda)$/, "cpu or cuda")) as Device;
  const load = required(o, "loadavg", at, (v, p) => asArray(v, p, 2, 2)).map((x, i) => asNumber(x, at.key("loadavg").index(i), 0));
  return {
    format: LATENCY_TABLE_FORMAT,
    unit: "ms",
    supernet: {
      file: required(sn, "file", snAt, asString),
      sha256: required(sn, "sha256", snAt, asString),
      space: sn.space === null ? null : optional(sn, "space", snAt, asString) ?? null,
      fingerprint: required(sn, "fingerprint", snAt, asString),
    },
    device,
    threads: required(o, "threads", at, (v, p) => asInt(v, p, 1, 1024)),
    batch: required(o, "batch", at, (v, p) => asInt(v, p, 1, 2 ** 20)),
    onnxruntime: required(o, "onnxruntime", at, asString),
    cpu: required(o, "cpu", at, asString),
    platform: required(o, "platform", at, asString),
    measuredAt: required(o, "measuredAt", at, asString),
    repeats: required(o, "repeats", at, (v, p) => asInt(v, p, 1, 2 ** 31)),
    warmup: required(o, "warmup", at, (v, p) => asInt(v, p, 0, 2 ** 31)),
    sampleMs: optional(o, "sampleMs", at, (v, p) => asNumber(v, p, 0)) ?? 2,
    warmMs: optional(o, "warmMs", at, (v, p) => asNumber(v, p, 0)) ?? 0,
    idleMs: optional(o, "idleMs", at, (v, p) => asNumber(v, p, 0)) ?? 0,
    pinThreads: optional(o, "pinThreads", at, asBoolean) ?? false,
    seed: required(o, "seed", at, (v, p) => asInt(v, p, 0, 2 ** 32)),
    loadavg: [load[0]!, load[1]!],
    overhead: required(o, "overhead", at, readStats),
    statistic: (optional(o, "statistic", at, (v, p) => asString(v, p, /^(median|min)$/, "median or min")) ?? "median") as LatencyStatistic,
    correction: {
      factor: required(corr, "factor", corrAt, (v, p) => asNumber(v, p, 0, Infinity, true)),
      archs: required(corr, "archs", corrAt, (v, p) => asArray(v, p)).map((a, i) => asArray(a, corrAt.key("archs").index(i)).map((x, j) => asInt(x, corrAt.key("archs").index(i).index(j), 0, 1 << 20))),
      ratios: required(corr, "ratios", corrAt, (v, p) => asArray(v, p)).map((x, i) => asNumber(x, corrAt.key("ratios").index(i), 0)),
      ...(corr.fit !== undefined ? { fit: readFit(corr.fit, corrAt.key("fit")) } : {}),
    },
    blocks,
  };
}
