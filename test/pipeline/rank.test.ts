import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../cli/run-cli.js";
import { SUBSET_DIR } from "../fixtures/paths.js";
import { readModel, writeModel } from "../../src/model/model-io.js";
import { setFloats, readFloats } from "../../src/onnx/tensor.js";
import { loadSupernet } from "../../src/supernet/load.js";
import { scoreSupernet } from "../../src/pipeline/search.js";
import { sampleArchs } from "../../src/pipeline/truth.js";
import { Random } from "../../src/util/random.js";
import { averageRanks, kendallTau } from "../../src/score/rank-stats.js";
import { seedNoise } from "../../src/pipeline/rank.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-rank-"));
const supernet = join(dir, "scored.onnx");
let archs: number[][] = [];
let scores: number[] = [];
const truthFile = (name: string, lines: object[]) => {
  const f = join(dir, name);
  writeFileSync(f, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  return f;
};

beforeAll(async () => {
  // A supernet whose indicator gammas are spread out, so architectures have distinct scores.
  const fresh = join(dir, "fresh.onnx");
  expect((await runCli(["export-supernet", "--space", "fmnist-small", "-o", fresh])).code).toBe(0);
  const model = readModel(fresh);
  const rng = new Random(5);
  for (const t of model.graph!.initializer) if (/bn3\.scale$/.test(t.name)) setFloats(t, readFloats(t).map(() => 0.5 + rng.uniform()));
  writeModel(supernet, model);
  const loaded = loadSupernet(supernet);
  archs = sampleArchs(loaded.structure, 30, 1);
  const scored = scoreSupernet(loaded);
  scores = archs.map((a) => scored.row(a).score);
}, 60_000);

describe("bnnas bench rank", () => {
  it("an indicator that orders the truth exactly scores tau = rho = 1, top-10% precision 1, best at the 100th percentile", async () => {
    const f = truthFile("same.jsonl", archs.flatMap((arch, i) => [{ arch, seed: 0, acc: scores[i] }, { arch, seed: 1, acc: scores[i]! + 1e-3 }]));
    const r = await runCli(["bench", "rank", supernet, "--truth", f, "--json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ indicator: "bn", n: 30, top10_precision: 1, best_percentile: 100 });
    expect(j.kendall_tau.value).toBeCloseTo(1, 12);
    expect(j.spearman.value).toBeCloseTo(1, 12);
    expect(j.kendall_tau.ci95).toEqual([1, 1]);
    expect(j.seed_tau).toMatchObject({ seeds: [0, 1], n: 30, value: 1, snr: null }); // seed 1 = seed 0 + 1e-3: no noise
    expect(j.seed_tau.noise_sd).toBeLessThan(1e-9);
    expect(j.rank_stability).toEqual([]); // never trained
    // by layer: the indicator is the truth (up to a constant), so every layer's effects agree
    expect(j.by_layer).toHaveLength(6);
    for (const e of j.by_layer) if (e.candidates.length > 1) expect(e.tau).toBeCloseTo(1, 12);
  });

  it("a reversed truth gives tau = -1 with an interval, in text too", async () => {
    const f = truthFile("reversed.jsonl", archs.map((arch, i) => ({ arch, acc: -scores[i]! })));
    const j = JSON.parse((await runCli(["bench", "rank", supernet, "--truth", f, "--json"])).out);
    expect(j.kendall_tau.value).toBeCloseTo(-1, 12);
    expect(j.top10_precision).toBe(0);
    expect(j.seed_tau).toBeNull();
    const text = await runCli(["bench", "rank", supernet, "--truth", f]);
    expect(text.out).toMatch(/Kendall tau\s+-1\.000 \(95% CI -1\.000 \.\. -1\.000\)/);
    expect(text.out).toMatch(/the truth has one seed/);
    expect(text.out).toMatch(/layer 0: truth best \S+ [+-]\d+\.\d\d \+- \d+\.\d\d \(n \d+\), worst .*agreement tau -1\.00/);
  });

  it("rank stability over the training epochs recorded in the manifest", async () => {
    const trained = join(dir, "trained.onnx");
    const t = await runCli(["train", supernet, "-o", trained, "--data", SUBSET_DIR, "--holdout", "5000", "--batch", "100", "--epochs", "2", "--bn", "all", "--lr", "1", "--threads", "2", "--quiet"]);
    expect(t.code, t.err).toBe(0);
    const f = truthFile("stability.jsonl", archs.map((arch, i) => ({ arch, acc: scores[i] })));
    const j = JSON.parse((await runCli(["bench", "rank", trained, "--truth", f, "--json"])).out);
    expect(j.rank_stability.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2]);
    expect(j.rank_stability[1].tau).toBe(1); // the last epoch against itself
    expect(j.rank_stability[0].tau).toBeGreaterThan(-1);
    expect(j.truth_tau_by_epoch.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2]);
    // info shows the same record's stability over a fixed sample of 1000 architectures
    const info = JSON.parse((await runCli(["info", trained, "--json"])).out);
    expect(info.rank_stability.archs).toBe(1000);
    expect(info.rank_stability.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2]);
    expect(info.rank_stability.epochs[1].tau).toBe(1);
    expect((await runCli(["info", trained])).out).toMatch(/rank stability \(Kendall tau of each epoch's BN ranking of 1,000 architectures against the last epoch's\): epoch 1 -?[01]\.\d{3}, epoch 2 1\.000/);
    expect(JSON.parse((await runCli(["info", supernet, "--json"])).out).rank_stability).toBeNull();
  });

  it("refuses bad truth files naming the line, and unknown indicators listing the known", async () => {
    const bad = async (lines: object[] | string, message: RegExp) => {
      const f = join(dir, "bad.jsonl");
      writeFileSync(f, typeof lines === "string" ? lines : lines.map((l) => JSON.stringify(l)).join("\n"));
      const r = await runCli(["bench", "rank", supernet, "--truth", f]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split("\n")).toHaveLength(1);
    };
    const five = archs.slice(0, 5).map((arch, i) => ({ arch, acc: i }));
    await bad(five.slice(0, 4), /holds 4 architecture\(s\); ranking needs at least 5/);
    await bad([...five, { arch: archs[0], acc: "NaN" }], /line 6: "acc" is "NaN", not a finite number/);
    await bad([...five, { arch: archs[0], acc: 0.5 }], /line 6: arch .* seed 0 has acc 0\.5, but an earlier line says 0/);
    await bad([...five, { arch: [0, 1, 2], acc: 0.5 }], /line 6: architecture .* has 3 values, but the supernet has 6 layers.*another space/);
    await bad("{not json\n", /line 1 is not JSON/);
    const r = await runCli(["bench", "rank", supernet, "--truth", "x", "--indicator", "nope"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--indicator must be one of bn/);
  });
});

describe("bench rank with architecture-level indicators", () => {
  it("ensemble:bn,macs is the average normalised rank of its parts over the truth's architectures", async () => {
    const f = truthFile("ens.jsonl", archs.map((arch, i) => ({ arch, acc: i })));
    const loaded = loadSupernet(supernet);
    const macs = archs.map((a) => scoreSupernet(loaded, "macs").row(a).score);
    const ranks = [averageRanks(scores), averageRanks(macs)];
    // the same float operations as the ensemble: 0 + share beaten / parts, per part in order
    const expected = archs.map((_, i) => 0 + (ranks[0]![i]! - 0.5) / archs.length / 2 + (ranks[1]![i]! - 0.5) / archs.length / 2);
    const j = JSON.parse((await runCli(["bench", "rank", supernet, "--truth", f, "--indicator", "ensemble:bn,macs", "--json"])).out);
    expect(j.indicator).toBe("ensemble:bn,macs");
    expect(j.kendall_tau.value).toBeCloseTo(kendallTau(expected, archs.map((_, i) => i)), 12);
  });

  it("a zero-cost proxy runs each truth architecture's path (naswot)", async () => {
    const few = archs.slice(0, 6);
    const f = truthFile("proxy.jsonl", few.map((arch, i) => ({ arch, acc: i })));
    const r = await runCli(["bench", "rank", supernet, "--truth", f, "--indicator", "naswot", "--data", SUBSET_DIR, "--proxy-batch", "8", "--threads", "1", "--json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ indicator: "naswot", n: 6 });
    expect(j.kendall_tau.value).toBeGreaterThanOrEqual(-1);
  });

  it("refuses unknown and malformed indicator names before reading files", async () => {
    for (const [name, msg] of [["synflo", /--indicator must be one of bn, macs, params, synflow, snip, grad_norm, naswot, oneshot, or ensemble:A,B/], ["ensemble:bn", /two or more/], ["ensemble:bn,bn", /twice/], ["ensemble:bn,ensemble:macs,params", /do not nest/]] as const) {
      const r = await runCli(["bench", "rank", "missing.onnx", "--truth", "missing.jsonl", "--indicator", name]);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(msg);
    }
  });
});

describe("seedNoise", () => {
  it("splits two seeds' accuracies into one run's noise and the architectures' spread", () => {
    // accuracies s +- e: the seeds differ by 2e, their mean is s
    const s = [0.80, 0.81, 0.82, 0.83, 0.84];
    const e = [0.004, -0.004, 0.004, -0.004, 0.004];
    const got = seedNoise(s.map((v, i) => v + e[i]!), s.map((v, i) => v - e[i]!));
    const sampleVar = (xs: number[]) => { const m = xs.reduce((a, b) => a + b) / xs.length; return xs.reduce((a, v) => a + (v - m) ** 2, 0) / (xs.length - 1); };
    const noise = Math.sqrt(sampleVar(e.map((v) => 2 * v)) / 2);
    expect(got.noise_sd).toBeCloseTo(noise, 12);
    expect(got.spread_sd).toBeCloseTo(Math.sqrt(sampleVar(s) - noise ** 2 / 2), 12);
    expect(got.snr).toBeCloseTo(got.spread_sd / got.noise_sd, 12);
    // pure noise: the spread is 0, not the square root of a negative number
    expect(seedNoise([0.8, 0.9, 0.8, 0.9], [0.9, 0.8, 0.9, 0.8]).spread_sd).toBe(0);
  });
});
