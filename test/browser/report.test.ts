/**
 * The HTML report in a real browser (Chromium), opened from disk as a user would: no console
 * error (its policy forbids fetching anything, so a stray reference would show here), every chart
 * rendered with the number of marks its data implies, and a screenshot in the test's folder.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "puppeteer-core";
import { makeRun, type RunFiles } from "../report/run-fixture.js";
import { writeReport } from "../../src/report/report.js";
import { loadSupernet } from "../../src/supernet/load.js";
import { getTrainingRecord } from "../../src/supernet/manifest.js";
import { readModel } from "../../src/model/model-io.js";
import { chromiumPath, collectErrors, launch, skipReason } from "./chromium.js";

let run: RunFiles;
let browser: Browser | undefined;

beforeAll(async () => {
  run = await makeRun("bnnas-report-browser-");
  if (chromiumPath) browser = await launch();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!chromiumPath)(`the report in Chromium${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  it("opens with no console error, and each chart holds the marks its data implies", async () => {
    const out = join(run.dir, "report.html");
    writeReport({ files: [run.trained, run.search, run.subnet, run.eval], output: out });
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
    const want: Record<string, number> = { "train-supernet-loss": history, "train-supernet-acc": history, heatmap: candidates, "rank-stability": history };
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
