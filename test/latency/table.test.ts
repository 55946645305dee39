import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { builtinSpace } from "../../src/space/builtins.js";
import { spaceStructure } from "../../src/supernet/export.js";
import {
  checkTable, fixedLatency, latencyColumns, predictLatency, predictSubnetLatency,
  readLatencyTable, structureFingerprint, tableMismatches, type LatencyTable,
} from "../../src/latency/table.js";
import { timingStats } from "../../src/latency/measure.js";
import { fastest, problemFromStructure } from "../../src/search/problem.js";
import { tempDir } from "../supernet/oracle.js";
import { syntheticTable as makeTable } from "./synthetic.js";

const structure = spaceStructure(builtinSpace("fmnist-small"));
const stats = (median: number) => ({ count: 3, mean: median, var: 0, median, min: median, p10: median, p90: median });
const syntheticTable = () => makeTable(structure);

describe("latency table", () => {
  it("predicts an architecture as the correction factor times (per-run overhead once + each block less its overhead)", () => {
    const t = syntheticTable();
    // fixed: 2 * (stem (1 - 0.5) + head (2 - 0.5) + overhead 0.5)
    expect(fixedLatency(t)).toBeCloseTo(5, 12);
    const arch = [1, 4, 6, 2, 5, 0];
    const want = 2 * (2.5 + (11 - 0.5) + (24 - 0.5) + 0 + (42 - 0.5) + (55 - 0.5) + (60 - 0.5));
    expect(predictLatency(t, structure, arch)).toBeCloseTo(want, 10);
    const names = arch.map((p, l) => structure.layers[l]!.candidates.find((c) => c.position === p)!.name);
    expect(predictSubnetLatency(t, "t.json", { space: "fmnist-small", arch, candidates: names }, "sub.onnx")).toBeCloseTo(want, 10);
    // The search problem's columns give the same number, and the fastest architecture is the per-layer minimum.
    const p = problemFromStructure(structure, structure.layers.map((l) => l.candidates.map(() => 1)), { latency: latencyColumns(t, structure) });
    const f = fastest(p);
    expect(f.arch).toEqual([0, 0, 6, 0, 6, 6]);
    expect(f.latency).toBeCloseTo(2 * (2.5 + 9.5 + 19.5 + 39.5), 10);
  });

  it("with statistic min, predictions use each block's fastest sample instead of its median", () => {
    const t = syntheticTable();
    for (const e of [...Object.values(t.blocks), t.overhead]) e.min = e.median / 2;
    const median = predictLatency(t, structure, [1, 4, 6, 2, 5, 0]);
    t.statistic = "min";
    expect(predictLatency(t, structure, [1, 4, 6, 2, 5, 0])).toBeCloseTo(median / 2, 10);
  });

  it("refuses another supernet, device, threads, batch or CPU, naming each reason; force accepts", () => {
    const t = syntheticTable();
    expect(tableMismatches(t, { structure, file: "s.onnx", device: "cpu", threads: 2, batch: 1, cpu: "Some CPU x 2" })).toEqual([]);
    const mbv2 = spaceStructure(builtinSpace("bnnas-mbv2"));
    const all = tableMismatches(t, { structure: mbv2, file: "mb.onnx", device: "cuda", threads: 4, batch: 128, cpu: "Other CPU x 8" });
    expect(all).toHaveLength(5);
    expect(all.join("; ")).toMatch(/another supernet \(fmnist-small, structure [0-9a-f]{16}; mb.onnx has structure [0-9a-f]{16}\).*device cpu, not cuda.*2 threads, not 4.*batch 1, not 128.*'Some CPU x 2', not on this machine's 'Other CPU x 8'/);
    expect(() => checkTable(t, "t.json", { structure, file: "s.onnx", threads: 4 })).toThrow(/^t.json: it was measured with 2 threads, not 4; measure a table for this with bnnas latency, or pass force to use it anyway$/);
    expect(() => checkTable(t, "t.json", { structure, file: "s.onnx", threads: 4 }, true)).not.toThrow();
    expect(() => predictSubnetLatency(t, "t.json", { space: "bnnas-mbv2", arch: [0], candidates: ["x"] }, "sub.onnx")).toThrow(/another supernet \(space fmnist-small\), but sub.onnx is a subnet of space bnnas-mbv2/);
  });

  it("the fingerprint ignores trained values and the batch, and changes with the structure", () => {
    const a = structureFingerprint(structure);
    const copy = structuredClone(structure);
    copy.input.shape[0] = 128;
    expect(structureFingerprint(copy)).toBe(a);
    copy.layers[3]!.candidates[1]!.macs = 1;
    expect(structureFingerprint(copy)).not.toBe(a);
  });

  it("reads what it writes, and refuses broken files by file and field", () => {
    const dir = tempDir();
    const good = join(dir, "t.json");
    writeFileSync(good, JSON.stringify(syntheticTable()));
    expect(readLatencyTable(good)).toEqual(syntheticTable());
    const bad = (name: string, text: string) => {
      const f = join(dir, name);
      writeFileSync(f, text);
      return () => readLatencyTable(f);
    };
    expect(() => readLatencyTable(join(dir, "none.json"))).toThrow(/none.json: no such file \(make one with bnnas latency SUPERNET -o FILE\)/);
    expect(bad("a.json", "{")).toThrow(/a.json: is not JSON/);
    expect(bad("b.json", JSON.stringify({ format: "x" }))).toThrow(/b.json: is not a bnnas latency table \(format "x", expected bnnas-latency-table\/1\)/);
    const t = syntheticTable() as unknown as Record<string, unknown>;
    expect(bad("c.json", JSON.stringify({ ...t, threads: 0 }))).toThrow(/c.json: threads: must be from 1/);
    expect(bad("d.json", JSON.stringify({ ...t, blocks: { stem: { count: 1 } } }))).toThrow(/d.json: blocks.stem.mean: is missing/);
    const { device: _d, ...noDevice } = t;
    expect(bad("e.json", JSON.stringify(noDevice))).toThrow(/e.json: device: is missing/);
    // A table without an entry the structure needs names it.
    const partial = syntheticTable();
    delete partial.blocks["layer2.3.mb_k5_e6"];
    expect(() => predictLatency(partial, structure, [0, 0, 3, 0, 0, 0], "p.json")).toThrow(/p.json: has no entry for layer 2 candidate 3 \(mb_k5_e6\)/);
  });

  it("timing statistics: count, mean, population variance, median and the 10-90% spread", () => {
    const s = timingStats([5, 1, 3, 2, 4]);
    expect(s).toEqual({ count: 5, mean: 3, var: 2, median: 3, min: 1, p10: 1.4, p90: 4.6 });
    expect(timingStats([]).count).toBe(0);
  });
});
