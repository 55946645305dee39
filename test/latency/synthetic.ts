/** Test helper: a latency table with made-up, deterministic numbers for a structure (no timing involved). */
import type { SupernetStructure } from "../../src/structure/structure.js";
import { LATENCY_TABLE_FORMAT, candidateKey, structureFingerprint, type LatencyTable } from "../../src/latency/table.js";

const stats = (median: number) => ({ count: 3, mean: median, var: 0, median, min: median, p10: median, p90: median });

/** Medians: stem 1, head 2, layer l position p = 10 * (l + 1) + p (skip empty), overhead 0.5, correction x2. */
export function syntheticTable(structure: SupernetStructure, space = "fmnist-small"): LatencyTable {
  const blocks: LatencyTable["blocks"] = { stem: stats(1), head: stats(2) };
  structure.layers.forEach((layer, l) => {
    for (const c of layer.candidates) blocks[candidateKey(l, c.position, c.name)] = c.name === "skip" ? { ...stats(0), count: 0, empty: true } : stats(10 * (l + 1) + c.position);
  });
  return {
    format: LATENCY_TABLE_FORMAT, unit: "ms",
    supernet: { file: "s.onnx", sha256: "0".repeat(64), space, fingerprint: structureFingerprint(structure) },
    device: "cpu", threads: 2, batch: 1, onnxruntime: "1.30.0", cpu: "Some CPU x 2", platform: "linux x64", measuredAt: "2026-12-04T00:00:00Z",
    repeats: 3, warmup: 1, sampleMs: 2, warmMs: 10, idleMs: 10, pinThreads: true, seed: 0, loadavg: [0.1, 0.2], overhead: stats(0.5), statistic: "median",
    correction: { factor: 2, archs: [[0, 0, 0, 0, 0, 0]], ratios: [2] }, blocks,
  };
}
