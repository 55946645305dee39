/**
 * bnnas report on a real (small) run: every section drawn from its data, the numbers checked
 * against their oracles (bench rank's rank stability and Kendall tau, a brute-force Pareto front,
 * the rebuilt training command reproducing the trained file), and the bad inputs: a search from
 * another supernet, a supernet without a training record, unknown and missing files. And the
 * report in a real browser (Chromium), opened from disk as a user would: no console error (its
 * policy forbids fetching anything, so a stray reference would show), every chart rendered with
 * the marks its data implies, a screenshot in the test's folder. (One file, so the run it needs
 * is made once.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../cli/run-cli.js";
import { makeRun, type RunFiles } from "./run-fixture.js";
import { readModel } from "../../src/model/model-io.js";
import { loadSupernet } from "../../src/supernet/load.js";
import { readSubnetManifest } from "../../src/supernet/subnet-manifest.js";
import { getTrainingRecord } from "../../src/supernet/manifest.js";
import { readTruthTable, rankReport } from "../../src/pipeline/rank.js";
import { readReportInputs } from "../../src/report/inputs.js";
import { currentScores, paretoFront, problemFor, rankStability } from "../../src/report/analysis.js";
import { evaluate } from "../../src/search/problem.js";
import { writeReport } from "../../src/report/report.js";
import { commandRows } from "../../src/report/commands.js";
import { SAMPLE_ARCHS, TOP_K } from "../../src/report/render.js";
import type { Browser } from "puppeteer-core";
import { chromiumPath, collectErrors, launch, skipReason } from "../browser/chromium.js";

let run: RunFiles;
let truthFile: string;
let rankFile: string;
let truthArchs: number[][];
let browser: Browser | undefined;

/** The data marks of one chart in the HTML: its figure's `pt` circles or `cell` rects. */
function marks(html: string, chart: string): { declared: number; counted: number } {
  const m = new RegExp(`<figure data-chart="${chart}" data-marks="(\\d+)">([\\s\\S]*?)</figure>`).exec(html);
  if (!m) throw new Error(`no chart ${chart}`);
  return { declared: Number(m[1]), counted: (m[2]!.match(/<circle class="pt|<rect class="cell/g) ?? []).length };
}

beforeAll(async () => {
  run = await makeRun();
  // A truth table over 12 architectures with two seeds each; its accuracies are made up (the
  // report only draws them), its rank statistics are checked against bench rank's.
  const loaded = loadSupernet(run.trained);
  const p = problemFor({ file: run.trained, loaded, training: null }, currentScores({ file: run.trained, loaded, training: null }));
  truthArchs = Array.from({ length: 12 }, (_, i) => p.layers.map((l, k) => l.choices[(i * (k + 2) + k) % l.choices.length]!));
  truthFile = join(run.dir, "truth.jsonl");
  writeFileSync(truthFile, truthArchs.flatMap((arch, i) => [0, 1].map((seed) => JSON.stringify({ arch, seed, acc: 0.6 + 0.02 * ((i * 7) % 12) + 0.001 * seed, macs: evaluate(p, arch).macs }))).join("\n") + "\n");
  const rank = await rankReport(loaded, readTruthTable(truthFile, loaded.structure));
  rankFile = join(run.dir, "rank.json");
  writeFileSync(rankFile, JSON.stringify(rank));
  if (chromiumPath) browser = await launch();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe("bnnas report", () => {
  it("draws every section from a whole run, each chart with the marks its data implies", () => {
    const out = join(run.dir, "report.html");
    const r = writeReport({ files: [run.trained, run.search, run.subnet, run.eval, truthFile, rankFile], output: out });
    expect(r.problems.filter((p) => p.level === "error")).toEqual([]);
    expect(r.sections.map((s) => [s.id, s.shown])).toEqual([["training", true], ["indicator", true], ["rank-stability", true], ["pareto", true], ["truth", true], ["final", true], ["commands", true]]);
    const html = readFileSync(out, "utf8");
    // Self-contained: no script, nothing fetched.
    expect(html).not.toMatch(/<script|<link|@import|url\(|https?:\/\/(?!www\.w3\.org)/i);
    const trained = readModel(run.trained);
    const history = (getTrainingRecord(trained) as { history: unknown[] }).history;
    const retraining = readSubnetManifest(readModel(run.subnet))!.retraining!;
    const candidates = loadSupernet(run.trained).structure.layers.reduce((n, l) => n + l.candidates.length, 0);
    const rank = JSON.parse(readFileSync(rankFile, "utf8")) as { rank_stability: unknown[] };
    const expected: Record<string, number> = {
      "train-supernet-loss": history.length,
      "train-supernet-acc": history.length,
      "train-subnet-0-loss": (retraining[0]!.history as unknown[]).length,
      heatmap: candidates,
      "rank-stability": history.length + rank.rank_stability.length,
      pareto: truthArchs.length,
      truth: truthArchs.length,
    };
    expect(history).toHaveLength(3);
    for (const [chart, n] of Object.entries(expected)) expect(marks(html, chart), chart).toEqual({ declared: n, counted: n });
    // The chosen architecture (the search's best) is outlined, one cell per layer.
    const chosen = (JSON.parse(readFileSync(run.search, "utf8")) as { best: { arch: number[] }[] }).best[0]!.arch;
    expect((html.match(/<rect class="cell chosen"/g) ?? []).length).toBe(chosen.length);
    expect(html).toContain(`Chosen architecture <code>${chosen.join(",")}</code>`);
    // Top-k of each epoch, and the MACs budget line of the search.
    expect(html.match(/<td class="mono arch/g)).toHaveLength(history.length * TOP_K);
    expect(html).toContain('class="budget"');
    // The final model: the eval's accuracy, and its confusion matrix (one cell per pair of
    // classes) where the eval output has one; where not, the report says so.
    const ev = JSON.parse(readFileSync(run.eval, "utf8")) as { accuracy: number; confusion?: number[][] };
    expect(html).toContain(`data-value="accuracy">${(ev.accuracy * 100).toFixed(2)}%`);
    if (ev.confusion) expect(marks(html, "confusion")).toEqual({ declared: ev.confusion.length ** 2, counted: ev.confusion.length ** 2 });
    else expect(html).toMatch(/holds no confusion matrix/);
  });

  it("computes rank stability and tau as bench rank does, and the exact Pareto front", async () => {
    const inputs = readReportInputs([run.trained]);
    const s = inputs.supernet!;
    const loaded = loadSupernet(run.trained);
    const oracle = await rankReport(loaded, readTruthTable(truthFile, loaded.structure));
    expect(rankStability(s, truthArchs)).toEqual(oracle.rank_stability);
    expect(oracle.rank_stability).toHaveLength(3);
    // Without the bench rank output, the report's tau (and interval) is bench rank's.
    const out = join(run.dir, "tau.html");
    writeReport({ files: [run.trained, truthFile], output: out });
    expect(readFileSync(out, "utf8")).toContain(`data-value="tau">${oracle.kendall_tau.value.toFixed(3)}<`);
    // The front against brute force over every architecture of the space.
    const p = problemFor(s, currentScores(s));
    const all: { macs: number; score: number }[] = [];
    const walk = (prefix: number[]) => {
      if (prefix.length === p.layers.length) return void all.push(evaluate(p, prefix));
      for (const c of p.layers[prefix.length]!.choices) walk([...prefix, c]);
    };
    walk([]);
    const brute = all.filter((a) => !all.some((b) => (b.macs <= a.macs && b.score > a.score) || (b.macs < a.macs && b.score >= a.score)));
    const key = (x: { macs: number; score: number }) => `${x.macs}:${x.score.toFixed(9)}`;
    const { front, thinned } = paretoFront(p);
    expect(thinned).toBe(false);
    expect(new Set(front.map(key))).toEqual(new Set(brute.map(key)));
    for (const f of front) expect(evaluate(p, f.arch)).toMatchObject({ macs: f.macs });
    expect(all.length).toBeGreaterThan(SAMPLE_ARCHS);
  });

  it("rebuilds the training command from the record, and running it remakes the trained supernet", async () => {
    const row = commandRows(readReportInputs([run.trained])).find((r) => r.file === "supernet.trained.onnx")!;
    const argv = row.command.split(" ").slice(1);
    const again = join(run.dir, "again.onnx");
    argv[argv.indexOf("-o") + 1] = again;
    argv[1] = run.supernet;
    const r = await runCli([...argv, "--threads", "1", "--quiet"]);
    expect(r.code, r.err).toBe(0);
    const weights = (f: string) => readModel(f).graph!.initializer.filter((t) => /bn\d*\.(scale|bias)$/.test(t.name)).map((t) => Buffer.from(t.rawData!).toString("hex"));
    expect(weights(again)).toEqual(weights(run.trained));
  }, 30_000);

  it("renders a confusion matrix when the eval output has one, and says so when it has none", () => {
    const { confusion: _c, classes: _k, per_class: _p, ...ev } = JSON.parse(readFileSync(run.eval, "utf8")) as Record<string, unknown>;
    const bare = join(run.dir, "eval-bare.json");
    writeFileSync(bare, JSON.stringify(ev));
    writeReport({ files: [run.trained, bare], output: join(run.dir, "bare.html") });
    const bareHtml = readFileSync(join(run.dir, "bare.html"), "utf8");
    expect(bareHtml).toMatch(/eval-bare\.json holds no confusion matrix/);
    expect(bareHtml).not.toContain('data-chart="confusion"');
    const classes = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"];
    const confusion = classes.map((_, i) => classes.map((_, j) => (i === j ? 15 : (i + j) % 3)));
    const f = join(run.dir, "eval-confusion.json");
    writeFileSync(f, JSON.stringify({ ...ev, classes, confusion, per_class: classes.map((label, i) => ({ label, acc: 15 / confusion[i]!.reduce((a, b) => a + b, 0), n: confusion[i]!.reduce((a, b) => a + b, 0) })) }));
    const out = join(run.dir, "confusion.html");
    writeReport({ files: [run.trained, f], output: out });
    const html = readFileSync(out, "utf8");
    expect(marks(html, "confusion")).toEqual({ declared: 100, counted: 100 });
    expect(html).toContain("true Sneaker, predicted Bag");
    expect(html).not.toMatch(/holds no confusion matrix/);
  });

  it("names a search from another supernet and a supernet without a training record, and still writes the rest", async () => {
    const out = join(run.dir, "mismatch.html");
    // The untrained supernet with the trained one's search: another indicator table.
    const r = await runCli(["report", run.supernet, run.search, run.subnet, "-o", out]);
    expect(r.code).toBe(1);
    const lines = r.err.trim().split("\n");
    expect(lines.find((l) => l.includes("search.json"))).toMatch(/warning: .*search\.json: does not belong to .*supernet\.onnx: .*scores .* there and .* in the supernet/);
    expect(lines.find((l) => l.includes("no training record"))).toMatch(/note: .*supernet\.onnx: has no training record/);
    expect(lines.find((l) => l.includes("subnet.onnx: was extracted from"))).toMatch(/supernet\.trained\.onnx/);
    expect(lines.at(-1)).toMatch(/^bnnas: error: .*mismatch\.html was written without 1 input\(s\) that could not be used: .*search\.json$/);
    expect(r.err).not.toMatch(/\n\s+at /);
    const html = readFileSync(out, "utf8");
    expect(html).toContain("What is missing");
    expect(html).toMatch(/search\.json: does not belong/);
    // What it could draw: the subnet's training, the initial indicator, the cost scatter.
    expect(html).toContain('data-chart="train-subnet-0-loss"');
    expect(html).toContain('data-chart="heatmap"');
    expect(html).toMatch(/<section id="rank-stability" data-shown="false">/);
  }, 20_000);

  it("names files it cannot use; with none usable it writes nothing", async () => {
    const junk = join(run.dir, "junk.json");
    writeFileSync(junk, JSON.stringify({ hello: 1 }));
    const garbage = join(run.dir, "garbage.onnx");
    writeFileSync(garbage, Buffer.from([1, 2, 3, 4, 5, 250, 251]));
    const out = join(run.dir, "none.html");
    const r = await runCli(["report", junk, garbage, join(run.dir, "missing.onnx"), "-o", out]);
    expect(r.code).not.toBe(0);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/no input can be used, so no report was written: .*junk\.json: a JSON file report does not know.*garbage\.onnx: .*missing\.onnx: no such file/);
    expect(existsSync(out)).toBe(false);
    // With one usable file the report is written, the others named.
    const some = await runCli(["report", run.eval, junk, "-o", out, "--json"]);
    expect(some.code).toBe(1);
    const result = JSON.parse(some.out) as { problems: { file: string; level: string }[]; sections: { id: string; shown: boolean }[] };
    expect(result.problems.filter((p) => p.level === "error").map((p) => p.file)).toEqual([junk]);
    expect(result.sections.find((s) => s.id === "final")!.shown).toBe(true);
    expect(existsSync(out)).toBe(true);
  });
});

describe.skipIf(!chromiumPath)(`the report in Chromium${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  it("opens with no console error, and each chart holds the marks its data implies", async () => {
    const out = join(run.dir, "report-browser.html");
    writeReport({ files: [run.trained, run.search, run.subnet, run.eval, truthFile, rankFile], output: out });
    const page = await browser!.newPage();
    const errors = collectErrors(page);
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(`file://${out}`, { waitUntil: "load" });
    const charts = await page.$$eval("figure[data-chart]", (figs) => figs.map((f) => {
      const svg = f.querySelector("svg")!.getBoundingClientRect();
      return { chart: f.getAttribute("data-chart")!, declared: Number(f.getAttribute("data-marks")), drawn: f.querySelectorAll("circle.pt, rect.cell").length, width: svg.width, height: svg.height };
    }));
    // What the data implies, read from the files themselves.
    const history = (getTrainingRecord(readModel(run.trained)) as { history: unknown[] }).history.length;
    const candidates = loadSupernet(run.trained).structure.layers.reduce((n, l) => n + l.candidates.length, 0);
    const confusion = (JSON.parse(readFileSync(run.eval, "utf8")) as { confusion?: number[][] }).confusion;
    const want: Record<string, number> = { "train-supernet-loss": history, "train-supernet-acc": history, heatmap: candidates, pareto: truthArchs.length, truth: truthArchs.length };
    if (confusion) want.confusion = confusion.length ** 2;
    for (const [chart, n] of Object.entries(want)) expect(charts.find((c) => c.chart === chart), chart).toMatchObject({ declared: n, drawn: n });
    for (const c of charts) {
      expect(c.drawn, c.chart).toBe(c.declared);
      expect(c.width * c.height, c.chart).toBeGreaterThan(10_000);
    }
    // The chosen architecture: one outlined cell per layer of the heatmap.
    expect(await page.$$eval('figure[data-chart="heatmap"] rect.cell.chosen', (r) => r.length)).toBe(loadSupernet(run.trained).structure.layers.length);
    await page.screenshot({ path: join(run.dir, "report.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);
});
