import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../cli/run-cli.js";
import { tempDir } from "../supernet/oracle.js";
import { syntheticTable } from "./synthetic.js";
import { readLatencyTable, predictLatency, type LatencyTable } from "../../src/latency/table.js";
import { loadSupernet } from "../../src/supernet/load.js";

/*
 * One small measured table (1 thread, 2 timed rounds) for the tests of measuring and validating,
 * and a synthetic one (made-up numbers, test/latency/synthetic.ts) for search, flops and info:
 * they check what is reported and refused, never how fast anything ran (a measured table on a
 * loaded machine can be degenerate, e.g. every block within the per-run overhead).
 */
const dir = tempDir();
const supernet = join(dir, "s.onnx");
const tablePath = join(dir, "t.json");
const syntheticPath = join(dir, "synthetic.json");
let table: LatencyTable;
let synthetic: LatencyTable;
let built: { code: number; out: string; err: string };

beforeAll(async () => {
  expect((await runCli(["export-supernet", "--space", "fmnist-small", "-o", supernet])).code).toBe(0);
  built = await runCli(["latency", supernet, "-o", tablePath, "--threads", "1", "--repeats", "2", "--warmup", "1", "--calibrate", "10", "--json"]);
  table = readLatencyTable(tablePath);
  synthetic = syntheticTable(loadSupernet(supernet).structure);
  writeFileSync(syntheticPath, JSON.stringify(synthetic));
}, 120_000);

describe("bnnas latency SUPERNET -o table.json", () => {
  it("writes a table of every block with count/mean/var/median/spread, where it was measured, and its corrections", () => {
    expect(built.code, built.err).toBe(0);
    expect(built.err).toMatch(/latency \d+\/6/); // progress over the rounds of both phases (blocks, then whole subnets), on stderr
    const out = JSON.parse(built.out);
    expect(out.output).toBe(tablePath);
    expect(out.table).toEqual(JSON.parse(JSON.stringify(table)));
    expect(table).toMatchObject({ format: "bnnas-latency-table/1", unit: "ms", device: "cpu", threads: 1, batch: 1, repeats: 2, warmup: 1, pinThreads: true, warmMs: 10, idleMs: 30, supernet: { file: "s.onnx", space: "fmnist-small" } });
    expect(table.onnxruntime).toMatch(/^\d+\.\d+\.\d+/);
    expect(table.cpu).toMatch(/ x \d+$/);
    const s = loadSupernet(supernet).structure;
    const keys = ["stem", ...s.layers.flatMap((l, i) => l.candidates.map((c) => `layer${i}.${c.position}.${c.name}`)), "head"];
    expect(Object.keys(table.blocks).sort()).toEqual(keys.sort());
    for (const [key, e] of Object.entries(table.blocks)) {
      if (key.endsWith(".skip")) {
        expect(e).toMatchObject({ empty: true, count: 0, median: 0 });
        continue;
      }
      expect(e.count).toBe(2);
      expect(e.median).toBeGreaterThan(0);
      expect(e.p10).toBeLessThanOrEqual(e.median);
      expect(e.p90).toBeGreaterThanOrEqual(e.median);
      expect(e.var).toBeGreaterThanOrEqual(0);
      expect(e.input![0]).toBe(1);
    }
    expect(table.correction.archs).toHaveLength(10);
    expect(table.correction.ratios).toHaveLength(10);
    expect(table.correction.factor).toBeGreaterThan(0);
    // 10 calibration subnets: the in-network cost of every candidate (skips too) is fitted to them,
    // and predictions are the intercept plus the fitted costs.
    const fit = table.correction.fit!;
    expect(Object.keys(fit.blocks).sort()).toEqual(keys.filter((k) => k.startsWith("layer")).sort());
    expect(fit.measured).toHaveLength(10);
    expect(fit.cvErrors).toHaveLength(10);
    for (const v of Object.values(fit.blocks)) expect(v).toBeGreaterThanOrEqual(0);
    const arch = table.correction.archs[0]!;
    const sum = arch.reduce((t, p, l) => t + fit.blocks[`layer${l}.${p}.${s.layers[l]!.candidates.find((c) => c.position === p)!.name}`]!, fit.intercept);
    expect(predictLatency(table, s, arch)).toBeCloseTo(sum, 12);
    expect(table.overhead.count).toBe(2);
  });

  it("--validate N TABLE SUPERNET reports predictions against whole subnets: errors, within 10%, Kendall tau", async () => {
    const r = await runCli(["latency", "--validate", "3", tablePath, supernet, "--repeats", "2", "--warmup", "1", "--json", "--quiet"]);
    expect(r.code, r.err).toBe(0);
    const v = JSON.parse(r.out);
    expect(v).toMatchObject({ n: 3, device: "cpu", threads: 1, batch: 1, repeats: 2 });
    expect(v.rows).toHaveLength(3);
    const s = loadSupernet(supernet).structure;
    for (const row of v.rows) {
      expect(row.predicted).toBeCloseTo(predictLatency(table, s, row.arch), 12);
      expect(row.error).toBeCloseTo((row.predicted - row.measured) / row.measured, 12);
      expect(table.correction.archs).not.toContainEqual(row.arch); // never the calibration subnets
    }
    expect(v.within10).toBe(v.rows.filter((x: { error: number }) => Math.abs(x.error) <= 0.1).length / 3);
    // The machine's drift since the table: 5 of its calibration subnets timed again; the share
    // within +-10% at that level is the predictions scaled by it.
    expect(v.drift.archs).toBe(5);
    expect(v.drift.ratio).toBeGreaterThan(0);
    expect(v.drift.within10).toBe(v.rows.filter((x: { predicted: number; measured: number }) => Math.abs((x.predicted * v.drift.ratio) / x.measured - 1) <= 0.1).length / 3);
    // null: undefined, when a degenerate table (a loaded machine) predicts every subnet alike.
    if (v.kendallTau !== null) {
      expect(v.kendallTau).toBeGreaterThanOrEqual(-1);
      expect(v.kendallTau).toBeLessThanOrEqual(1);
    }
    expect(v.error.min).toBeLessThanOrEqual(v.error.median);
    expect(v.error.median).toBeLessThanOrEqual(v.error.max);
    const human = await runCli(["latency", "--validate", "2", tablePath, supernet, "--repeats", "1", "--warmup", "1", "--quiet"]);
    expect(human.out).toMatch(/within \+-10%: [\d.]+%\s+Kendall tau: (-?[\d.]+|undefined)/);
  });

  it.each([
    [["latency", "TABLE", "SUPERNET", "--validate", "3", "--threads", "2"], 1, /t.json: it was measured with 1 threads, not 2; measure a table for this with bnnas latency, or pass --force to use it anyway/],
    [["latency", "TABLE", "SUPERNET", "--validate", "3", "--batch", "8"], 1, /it was measured at batch 1, not 8/],
    [["latency", "TABLE", "--validate", "3"], 2, /--validate N takes TABLE SUPERNET \(two files\)/],
    [["latency", "SUPERNET"], 2, /give -o FILE/],
    [["latency", "SUPERNET", "-o", "/nonexistent-dir/t.json"], 1, /cannot write \/nonexistent-dir\/t.json: directory \/nonexistent-dir does not exist/],
    [["score-onnx", "SUPERNET", "--search", "exact", "--max-latency", "1"], 2, /--max-latency needs --latency-table FILE/],
    [["score-onnx", "SUPERNET", "--latency-table", "SYNTHETIC", "--search", "exact", "--max-latency", "100"], 2, /--max-latency 100 ms is below the fastest architecture's predicted latency, 142.0000 ms \(arch 0,0,6,0,6,6\); raise it to at least that/],
    [["score-onnx", "SUPERNET", "--latency-table", "TABLE", "--pareto", "--search", "random"], 2, /--pareto is exact; drop --search random/],
    [["score-onnx", "SUPERNET", "--latency-table", join(dir, "s.onnx")], 1, /s.onnx: is not JSON/],
  ])("bad input %j", async (args, code, message) => {
    const r = await runCli(args.map((a) => (a === "TABLE" ? tablePath : a === "SYNTHETIC" ? syntheticPath : a === "SUPERNET" ? supernet : a)).concat(["--quiet"].filter(() => args[0] === "latency")));
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split("\n").filter((l) => l.startsWith("bnnas: error")).length).toBe(1);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    expect(existsSync("/nonexistent-dir")).toBe(false);
  });

  it("a table of another supernet is refused by score-onnx, flops and info, unless --force", async () => {
    const other = join(dir, "unbiased.onnx");
    expect((await runCli(["export-supernet", "--space", "fmnist-small", "--unbiased", "-o", other])).code).toBe(0);
    for (const args of [["score-onnx", other, "--search", "exact", "--pareto"], ["flops", other, "--arch", "0,0,0,0,0,0"], ["info", other]]) {
      const r = await runCli([...args, "--latency-table", tablePath]);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.err).toMatch(/t.json: it was measured for another supernet \(fmnist-small, structure [0-9a-f]+; .*unbiased.onnx has structure [0-9a-f]+\); .* or pass --force/);
      expect((await runCli([...args, "--latency-table", tablePath, "--force"])).code, args.join(" ")).toBe(0);
    }
  });
});

describe("search under a latency budget", () => {
  it("exact search keeps every architecture within --max-latency; the Pareto front rises in score and latency", async () => {
    const s = loadSupernet(supernet).structure;
    const front = JSON.parse((await runCli(["score-onnx", supernet, "--latency-table", syntheticPath, "--pareto", "--json"])).out);
    expect(front.pareto).toBe(true);
    const pts = front.best as { arch: number[]; score: number; latency: number }[];
    expect(pts.length).toBeGreaterThan(1);
    for (let i = 1; i < pts.length; i++) {
      expect(pts[i]!.latency).toBeGreaterThan(pts[i - 1]!.latency);
      expect(pts[i]!.score).toBeGreaterThan(pts[i - 1]!.score);
    }
    for (const p of pts) expect(p.latency).toBeCloseTo(predictLatency(synthetic, s, p.arch), 9);
    const budget = (pts[0]!.latency + pts[pts.length - 1]!.latency) / 2;
    const r = await runCli(["score-onnx", supernet, "--latency-table", syntheticPath, "--search", "exact", "--max-latency", String(budget), "--top", "10", "--json"]);
    expect(r.code, r.err).toBe(0);
    const best = JSON.parse(r.out).best as { arch: number[]; score: number; latency: number }[];
    expect(best).toHaveLength(10);
    for (const b of best) expect(predictLatency(synthetic, s, b.arch)).toBeLessThanOrEqual(budget);
    // The best under the budget is the front's best point within it.
    expect(best[0]!.score).toBe(pts.filter((p) => p.latency <= budget).at(-1)!.score);
    // Evolution and random search keep to a budget too (the front's slowest point: room to sample in), and never beat exact search.
    const loose = pts[pts.length - 1]!.latency;
    for (const strategy of ["evolution", "random"]) {
      const h = await runCli(["score-onnx", supernet, "--latency-table", syntheticPath, "--search", strategy, "--max-latency", String(loose), "--json"]);
      expect(h.code, h.err).toBe(0);
      const found = JSON.parse(h.out).best as { arch: number[]; score: number }[];
      expect(found.length).toBeGreaterThan(0);
      for (const b of found) expect(predictLatency(synthetic, s, b.arch)).toBeLessThanOrEqual(loose);
      expect(found[0]!.score).toBeLessThanOrEqual(pts[pts.length - 1]!.score);
    }
  });

  it("flops and info show an architecture's predicted latency", async () => {
    const s = loadSupernet(supernet).structure;
    const f = JSON.parse((await runCli(["flops", supernet, "--arch", "1,4,6,2,5,0", "--latency-table", syntheticPath, "--json"])).out);
    expect(f.latency).toBeCloseTo(predictLatency(synthetic, s, [1, 4, 6, 2, 5, 0]), 12);
    expect((await runCli(["flops", "--space", "fmnist-small", "--arch", "1,4,6,2,5,0", "--latency-table", syntheticPath])).out).toMatch(/predicted latency [\d.]+ ms/);
    const sub = join(dir, "sub.onnx");
    expect((await runCli(["extract-subnet", supernet, "--arch", "1,4,6,2,5,0", "-o", sub])).code).toBe(0);
    const i = JSON.parse((await runCli(["info", sub, "--latency-table", syntheticPath, "--json"])).out);
    expect(i.latency.ms).toBeCloseTo(f.latency, 12);
    const sn = JSON.parse((await runCli(["info", supernet, "--latency-table", syntheticPath, "--json"])).out);
    expect(sn.latency.fastest).toBeLessThan(sn.latency.slowest);
  });
});
