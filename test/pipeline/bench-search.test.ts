import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../cli/run-cli.js";
import { SUBSET_DIR } from "../fixtures/paths.js";
import { runBenchSearch, type BenchSearchRequest } from "../../src/pipeline/bench-search.js";
import { spaceStructure } from "../../src/supernet/export.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { archCost } from "../../src/structure/arch.js";
import { memoryIO } from "../../src/util/io.js";
import { BnnasError } from "../../src/errors.js";
import { predictLatency } from "../../src/latency/table.js";
import { sampleArchs } from "../../src/pipeline/truth.js";
import { syntheticTable } from "../latency/synthetic.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-bench-search-"));
const structure = spaceStructure(builtinSpace("fmnist-small"));
const BUDGET = 3_000_000;
// A latency budget too, from a made-up table: the median prediction of 50 sampled architectures.
const TABLE = syntheticTable(structure);
const latencies = sampleArchs(structure, 50, 7).map((a) => predictLatency(TABLE, structure, a)).sort((a, b) => a - b);
const MAX_LATENCY = latencies[25]!;
const SEEDS = [0, 1];
const RANDOM = 3;
// A tiny budget: the mechanics are under test, not how well architectures learn.
const request = (output: string, over: Partial<BenchSearchRequest> = {}): BenchSearchRequest => ({
  space: "fmnist-small", data: SUBSET_DIR, budget: { maxMacs: BUDGET, maxLatency: MAX_LATENCY }, latency: { table: TABLE, file: "synthetic.json" }, supernetSteps: 3, seed: 0, random: RANDOM,
  truth: { output, seeds: SEEDS, epochs: 1, subsetImages: 128, testLimit: 100, batch: 64, lr: 0.1 },
  threads: 1, io: memoryIO(), quiet: true, ...over,
});
const lines = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
/** The message a library error shows with the CLI's flag names. */
async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(BnnasError);
  const b = e as BnnasError;
  return b.render ? b.render((k) => `--${k}`) : b.message;
}

describe("bench search", () => {
  it("trains the chosen and random architectures under the budget, reports the percentile they imply, and resumes", async () => {
    const out = join(dir, "truth.jsonl");
    const r = await runBenchSearch(request(out));
    const tableFile = join(dir, "synthetic.json");
    writeFileSync(tableFile, JSON.stringify(TABLE));
    const cliArgs = ["bench", "search", "--max-macs", "3M", "--latency-table", tableFile, "--max-latency", String(MAX_LATENCY), "--supernet-steps", "3", "--random", "3", "--seeds", "0,1", "--epochs", "1", "--subset", "128", "--test-limit", "100", "--batch", "64", "--data", SUBSET_DIR, "--threads", "1", "-o", out, "--quiet"];
    const key = (a: readonly number[]) => a.join(",");

    // Everything keeps to the budget, with costs counted here, not taken from the report.
    for (const a of [r.chosen, ...r.random]) {
      expect(archCost(structure, a.arch)).toEqual({ macs: a.macs, params: a.params });
      expect(a.macs!).toBeLessThanOrEqual(BUDGET);
      expect(a.latency).toBeCloseTo(predictLatency(TABLE, structure, a.arch), 9);
      expect(a.latency!).toBeLessThanOrEqual(MAX_LATENCY);
      expect(a.accs.map((x) => x.seed)).toEqual(SEEDS);
      expect(a.acc).toBeCloseTo((a.accs[0]!.acc + a.accs[1]!.acc) / 2, 12);
      expect(a.secs).toBeGreaterThan(0);
    }
    expect(r.random).toHaveLength(RANDOM);
    expect(new Set([r.chosen, ...r.random].map((a) => key(a.arch))).size).toBe(RANDOM + 1);
    // Exact search is optimal under the budget: no random architecture under it scores higher.
    for (const a of r.random) expect(a.score).toBeLessThanOrEqual(r.chosen.score + 1e-9);

    // The percentile, best and median are what the reported accuracies imply.
    const accs = r.random.map((a) => a.acc);
    const below = accs.filter((x) => x < r.chosen.acc).length + accs.filter((x) => x === r.chosen.acc).length / 2;
    expect(r.percentile).toBeCloseTo((100 * below) / RANDOM, 9);
    expect(r.best_random).toBe(Math.max(...accs));
    expect(r.median_random).toBe(accs.slice().sort((a, b) => a - b)[1]);
    expect(r.meets_target).toBe(r.percentile >= 80);

    // The truth file holds one line per (arch, seed), with the accuracies reported.
    const table = lines(out);
    expect(table).toHaveLength((RANDOM + 1) * SEEDS.length);
    for (const a of [r.chosen, ...r.random]) {
      for (const { seed, acc } of a.accs) expect(table.filter((l) => key(l.arch) === key(a.arch) && l.seed === seed).map((l) => l.acc)).toEqual([acc]);
    }
    expect(r.runs).toEqual({ written: table.length, skipped: 0 });
    expect(r.stages.map((s) => s.name)).toHaveLength(6);

    // A rerun (through the CLI) reuses the supernet and skips every line: the same report.
    const again = await runCli([...cliArgs, "--json"]);
    expect(again.code, again.err).toBe(0);
    const r2 = JSON.parse(again.out);
    expect(r2.runs).toEqual({ written: 0, skipped: table.length });
    expect(r2.chosen).toEqual(r.chosen);
    expect(r2.random).toEqual(r.random);
    expect(r2.stages.slice(0, 2).map((s: { reused?: boolean }) => s.reused)).toEqual([true, true]);
    expect(lines(out)).toEqual(table);
    const text = await runCli(cliArgs);
    expect(text.out).toContain(`chosen at the ${r.percentile.toFixed(1)}th percentile`);
    expect(text.out).toMatch(r.meets_target ? /PASS the target of the 80th/ : /below the target of the 80th/);

    // The work folder's supernet is not replaced by one made otherwise, unless forced.
    const other = await refusal(runBenchSearch(request(join(dir, "other.jsonl"), { supernetSteps: 4, workDir: `${out}.work` })));
    expect(other).toMatch(/holds a supernet trained with other options \(steps 3, not 4\); pass --force/);
  });

  it("refuses bad input before training, naming the option or the line", async () => {
    // The cheapest architecture: the fixed part and each layer's cheapest candidate.
    const min = structure.layers.reduce((s, l) => s + Math.min(...l.candidates.map((c) => c.macs!)), structure.fixed!.macs);
    const low = await refusal(runBenchSearch(request(join(dir, "low.jsonl"), { budget: { maxMacs: min - 1 } })));
    expect(low).toContain(`--maxMacs ${min - 1} is below the cheapest architecture's MACs, ${min} (arch`);
    const slow = await refusal(runBenchSearch(request(join(dir, "low.jsonl"), { budget: { maxLatency: latencies[0]! / 100 } })));
    expect(slow).toMatch(/--maxLatency .* ms is below the fastest architecture's predicted latency/);

    for (const bad of ["0", "2.5", "x"]) {
      const r = await runCli(["bench", "search", "--random", bad, "-o", join(dir, "r.jsonl")]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--random takes a whole number >= 1, not '${bad}'`);
    }
    const cli = await runCli(["bench", "search", "--max-macs", "1K", "-o", join(dir, "r.jsonl"), "--data", SUBSET_DIR]);
    expect(cli.code).toBe(2);
    expect(cli.err).toMatch(/^bnnas: error: --max-macs 1000 is below the cheapest architecture's MACs/);

    // A truth file made with another training budget is refused, line named, and left as it was.
    const mixed = join(dir, "mixed.jsonl");
    const arch = structure.layers.map((l) => l.candidates[0]!.position);
    const first = JSON.stringify({ arch, seed: 0, acc: 0.5, ...archCost(structure, arch), secs: 1, epochs: 1, images: 128, final_loss: 1 });
    const second = JSON.stringify({ arch, seed: 1, acc: 0.5, ...archCost(structure, arch), secs: 1, epochs: 3, images: 128, final_loss: 1 });
    writeFileSync(mixed, `${first}\n${second}\n`);
    const m = await refusal(runBenchSearch(request(mixed)));
    expect(m).toMatch(/mixed\.jsonl: line 2 was trained for 3 epochs on 128 images, this run trains 1 on 128; use the same --epochs and --subset/);
    expect(readFileSync(mixed, "utf8")).toBe(`${first}\n${second}\n`);
    const foreign = join(dir, "foreign.jsonl");
    writeFileSync(foreign, `${JSON.stringify({ arch: [1, 2], seed: 0, acc: 0.5 })}\n`);
    expect(await refusal(runBenchSearch(request(foreign)))).toMatch(/foreign\.jsonl: line 1 is not an architecture of this space/);
    writeFileSync(foreign, `${JSON.stringify({ arch, acc: 0.5 })}\n`); // bench rank takes this; bench search needs how it was made
    expect(await refusal(runBenchSearch(request(foreign)))).toMatch(/foreign\.jsonl: line 1 has no "seed", "macs", "params", "epochs", "images": not a line of bench truth/);
  });
});
