/**
 * How well a latency table predicts whole networks (`bnnas latency --validate N TABLE SUPERNET`):
 * N random subnets (a stream of their own, never the table's calibration subnets), extracted as
 * `extract-subnet --fold-bn` writes them and timed as the table's blocks were (same runtime
 * configuration, warm-up, interleaved rounds, medians), against the table's predictions.
 */
import { median } from "../util/stats.js";
import { loadavg } from "node:os";
import { BnnasError } from "../errors.js";
import type { LoadedSupernet } from "../supernet/load.js";
import { kendallTau } from "../score/rank-stats.js";
import { timeModels, timingStats, type TimingSettings } from "./measure.js";
import { predictLatency, type LatencyTable } from "./table.js";
import { randomArchs, subnetTimed, type LatencyOptions } from "./build.js";

export interface ValidationRow {
  arch: number[];
  predicted: number;
  measured: number;
  /** (predicted - measured) / measured. */
  error: number;
  /** measured: the table's statistic (median or min) of the subnet's samples; p10-p90: their spread (ms). */
  p10: number;
  p90: number;
}

export interface ValidationReport {
  n: number;
  rows: ValidationRow[];
  /** Fraction of predictions within +-10% of the measurement. */
  within10: number;
  /** Kendall tau-b between predicted and measured; null when one side is constant (undefined). */
  kendallTau: number | null;
  /** Distribution of the relative error. */
  error: { min: number; p10: number; median: number; p90: number; max: number; meanAbs: number };
  /**
   * How much faster or slower this machine runs now than when the table was measured: the median,
   * over up to 5 of the table's calibration subnets timed again in these rounds, of now / then.
   * The machine's level, not the table's shape: on a VM it moved by 6-11% within 20 minutes.
   * `within10` once each prediction is scaled by it shows what the table would predict at
   * today's level. Null for a table without fitted calibration subnets.
   */
  drift: { ratio: number; archs: number; within10: number } | null;
  /** The table's runtime configuration, used here. */
  device: string;
  threads: number;
  batch: number;
  repeats: number;
  /** 1-minute load average before and after (how quiet the machine was). */
  loadavg: [number, number];
  seconds: number;
}

/** Calibration subnets timed again during validation, for the machine's drift. */
export const DRIFT_REFERENCES = 5;

export async function validateLatencyTable(table: LatencyTable, loaded: LoadedSupernet, n: number, options: Omit<LatencyOptions, "device" | "threads" | "batch" | keyof TimingSettings>): Promise<ValidationReport> {
  if (!Number.isInteger(n) || n < 2) throw new BnnasError((o) => `${o("validate")} needs at least 2 architectures (Kendall tau compares pairs), not ${n}`);
  const started = performance.now();
  const archs = randomArchs(loaded.structure, n, options.seed, "latency-validation");
  // A few calibration subnets, timed again among the validation subnets: the machine's drift since the table.
  const fit = table.correction.fit;
  const refs = fit ? table.correction.archs.slice(0, DRIFT_REFERENCES) : [];
  const items = [...archs, ...refs].map((a) => subnetTimed(loaded, a, table.batch));
  const load0 = loadavg()[0]!;
  const samples = await timeModels(items, { device: table.device, threads: table.threads, repeats: options.repeats, warmup: options.warmup, seed: options.seed, sampleMs: table.sampleMs, warmMs: table.warmMs, idleMs: table.idleMs, pinThreads: table.pinThreads, onProgress: options.onProgress });
  const load1 = loadavg()[0]!;
  const rows = archs.map((arch, i) => {
    const s = timingStats(samples[i]!);
    const predicted = predictLatency(table, loaded.structure, arch);
    const measured = s[table.statistic];
    return { arch, predicted, measured, error: (predicted - measured) / measured, p10: s.p10, p90: s.p90 };
  });
  const errs = rows.map((r) => r.error).sort((a, b) => a - b);
  const ratios = refs.map((_, k) => timingStats(samples[archs.length + k]!)[table.statistic] / fit!.measured[k]!);
  const ratio = ratios.length === 0 ? null : median(ratios);
  const drift = ratio === null ? null : { ratio, archs: ratios.length, within10: rows.filter((r) => Math.abs((r.predicted * ratio) / r.measured - 1) <= 0.1).length / rows.length };
  const q = (p: number) => {
    const pos = (errs.length - 1) * p;
    const lo = Math.floor(pos);
    return errs[lo]! + (errs[Math.ceil(pos)]! - errs[lo]!) * (pos - lo);
  };
  return {
    n: rows.length,
    rows,
    within10: rows.filter((r) => Math.abs(r.error) <= 0.1).length / rows.length,
    drift,
    kendallTau: ((tau) => (Number.isNaN(tau) ? null : tau))(kendallTau(rows.map((r) => r.predicted), rows.map((r) => r.measured))),
    error: { min: errs[0]!, p10: q(0.1), median: q(0.5), p90: q(0.9), max: errs[errs.length - 1]!, meanAbs: errs.reduce((s, e) => s + Math.abs(e), 0) / errs.length },
    device: table.device,
    threads: table.threads,
    batch: table.batch,
    repeats: options.repeats,
    loadavg: [load0, load1],
    seconds: (performance.now() - started) / 1000,
  };
}
