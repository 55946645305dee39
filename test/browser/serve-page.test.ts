/**
 * `bnnas serve`'s page in a real browser (Chromium): it loads the model into onnxruntime-web
 * (served by bnnas from node_modules), and for a Fashion-MNIST test image, or a drawing, its
 * in-browser probabilities equal the server's, and an independent run of the model in Node on
 * the same pixels, to 1e-4. An undecodable image gets a visible message. The page and its assets
 * come with their content types and the same-origin policy. Screenshots go to the test's
 * temporary folder.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import type { Browser, Page } from "puppeteer-core";
import { loadSpace } from "../../src/space/builtins.js";
import { exportSupernet } from "../../src/supernet/export.js";
import { extractToFile } from "../../src/pipeline/extract.js";
import { serveModel, type Serving } from "../../src/pipeline/serve.js";
import { loadDataset } from "../../src/data/dataset.js";
import { ORT_FILES, PAGE_CSP } from "../../src/runtime/serve/page.js";
import { SUBSET_DIR } from "../fixtures/paths.js";
import { chromiumPath, collectErrors, launch, skipReason } from "./chromium.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-serve-page-"));
let serving: Serving;
let browser: Browser | undefined;
let page: Page;
let errors: string[];

interface Last {
  pixels: number[][][];
  browser: number[];
  server: number[];
}

beforeAll(async () => {
  exportSupernet(loadSpace("fmnist-small"), join(dir, "supernet.onnx"), { seed: 3 });
  extractToFile(join(dir, "supernet.onnx"), { arch: [0, 1, 3, 1, 2, 0], output: join(dir, "subnet.onnx") });
  serving = await serveModel(join(dir, "subnet.onnx"), { port: 0, threads: 1 });
  if (!chromiumPath) return;
  browser = await launch();
  page = await browser.newPage();
  errors = collectErrors(page);
  await page.setViewport({ width: 1000, height: 680 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await serving?.close();
});

/** Normalised model input of [C][H][W] pixels, as the server normalises {"pixels"}. */
function normalised(px: number[][][]): Float32Array {
  const { mean, std } = serving.predictor.info.normalize!;
  return Float32Array.from(px.flatMap((plane, c) => plane.flat().map((p) => (p / 255 - mean[c % mean.length]!) / std[c % std.length]!)));
}

/** Forgets the last result, so waitResult() waits for the next one rather than returning a stale one. */
async function arm(): Promise<void> {
  await page.evaluate(() => {
    document.body.dataset.state = "waiting";
    (window as unknown as { bnnasPage: { last: unknown } }).bnnasPage.last = null;
  });
}

async function waitResult(): Promise<Last> {
  await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state ?? ""), { timeout: 15_000 });
  const status = await page.$eval("#status", (e) => e.textContent);
  expect(await page.evaluate(() => document.body.dataset.state), String(status)).toBe("done");
  return page.evaluate(() => (window as unknown as { bnnasPage: { last: Last } }).bnnasPage.last);
}

/** Browser vs server vs Node on the same pixels. */
async function expectAgreement(last: Last): Promise<number> {
  const [node] = await serving.predictor.predict(normalised(last.pixels), 1);
  const diff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
  expect(last.browser).toHaveLength(serving.predictor.info.classes);
  expect(diff(last.browser, last.server)).toBeLessThanOrEqual(1e-4);
  expect(diff(last.browser, node!.probabilities)).toBeLessThanOrEqual(1e-4);
  // The table shows those numbers, one row per class.
  const rows = await page.$$eval("#probs tr", (trs) => trs.map((t) => [Number((t as HTMLElement).dataset.browser), Number((t as HTMLElement).dataset.server)]));
  expect(rows.map((r) => r[0])).toEqual(last.browser);
  expect(rows.map((r) => r[1])).toEqual(last.server);
  return diff(last.browser, last.server);
}

describe.skipIf(!chromiumPath)(`the serve page in Chromium${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  it("loads the model into onnxruntime-web with no console error", async () => {
    await page.goto(serving.server.url + "/");
    await page.waitForFunction(() => document.body.dataset.state !== "loading", { timeout: 20_000 });
    expect(await page.$eval("#status", (e) => e.textContent)).toBe("");
    expect(await page.evaluate(() => document.body.dataset.state)).toBe("ready");
    expect(errors).toEqual([]);
  }, 30_000);

  it("classifies a Fashion-MNIST test image in the browser as the server does (1e-4)", async () => {
    const test = loadDataset(SUBSET_DIR, "test");
    const i = 7;
    const png = new PNG({ width: 28, height: 28, colorType: 0 });
    for (let k = 0; k < 784; k++) {
      const v = test.images[i * 784 + k]!;
      png.data.set([v, v, v, 255], 4 * k);
    }
    const file = join(dir, "test-image.png");
    writeFileSync(file, PNG.sync.write(png));
    const input = await page.$("#file");
    await arm();
    await (input as unknown as { uploadFile(f: string): Promise<void> }).uploadFile(file);
    const last = await waitResult();
    // The image reached the model as itself: the page's pixels are the test image's.
    const original = Array.from(test.images.subarray(i * 784, (i + 1) * 784));
    expect(Math.max(...last.pixels[0]!.flat().map((p, k) => Math.abs(p - original[k]!)))).toBeLessThanOrEqual(1);
    await expectAgreement(last);
    await page.screenshot({ path: join(dir, "serve-page.png") });
    expect(errors).toEqual([]);
  }, 30_000);

  it("classifies a drawing in the browser as the server does (1e-4)", async () => {
    await page.click("#clear");
    await arm();
    const box = (await (await page.$("#draw"))!.boundingBox())!;
    await page.mouse.move(box.x + 80, box.y + 50);
    await page.mouse.down();
    await page.mouse.move(box.x + 140, box.y + 230, { steps: 6 });
    await page.mouse.move(box.x + 210, box.y + 60, { steps: 6 });
    await page.mouse.up();
    const last = await waitResult();
    expect(last.pixels[0]!.flat().some((p) => p > 128)).toBe(true);
    await expectAgreement(last);
    expect(errors).toEqual([]);
  }, 30_000);

  it("classifies an image dropped on the page", async () => {
    // A 56x56 RGB image (larger than the input: the page scales it down) dropped as a file.
    const png = new PNG({ width: 56, height: 56 });
    for (let y = 0; y < 56; y++) for (let x = 0; x < 56; x++) png.data.set([(x * 4) % 256, (y * 4) % 256, x > 20 && x < 40 ? 255 : 0, 255], 4 * (y * 56 + x));
    const bytes = Array.from(PNG.sync.write(png));
    await arm();
    await page.evaluate((b: number[]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(b)], "dropped.png", { type: "image/png" }));
      document.getElementById("drop")!.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    const last = await waitResult();
    expect(last.pixels[0]!.flat().some((p) => p > 0)).toBe(true);
    await expectAgreement(last);
    expect(errors).toEqual([]);
  }, 30_000);

  it("refuses an image it cannot decode with a visible message", async () => {
    const file = join(dir, "broken.png");
    writeFileSync(file, Buffer.from("\x89PNG\r\n\x1a\nthis is not an image"));
    await arm();
    await (await page.$("#file") as unknown as { uploadFile(f: string): Promise<void> }).uploadFile(file);
    await page.waitForFunction(() => document.body.dataset.state === "error", { timeout: 10_000 });
    const status = await page.$eval("#status", (e) => ({ text: e.textContent, visible: (e as HTMLElement).offsetHeight > 0 && getComputedStyle(e).visibility !== "hidden" }));
    expect(status.visible).toBe(true);
    expect(status.text).toMatch(/cannot decode broken\.png/);
  }, 20_000);
});

describe("the serve page's files over HTTP", () => {
  const get = (path: string, init?: RequestInit) => fetch(serving.server.url + path, init);

  it("serves the page, its script, the model and onnxruntime-web with content types and a same-origin policy", async () => {
    const expected: Record<string, string> = {
      "/": "text/html; charset=utf-8",
      "/page.js": "text/javascript; charset=utf-8",
      "/page.css": "text/css; charset=utf-8",
      "/model.onnx": "application/octet-stream",
      ...Object.fromEntries(Object.entries(ORT_FILES).map(([f, t]) => [`/ort/${f}`, t])),
    };
    for (const [path, type] of Object.entries(expected)) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get("content-type"), path).toBe(type);
      expect(r.headers.get("content-security-policy"), path).toBe(PAGE_CSP);
      expect(r.headers.get("x-content-type-options"), path).toBe("nosniff");
      await r.arrayBuffer();
    }
    // Only the page's origin: every fetch directive is 'self' (or nothing), never a host or a scheme.
    for (const directive of PAGE_CSP.split(";")) {
      const sources = directive.trim().split(/\s+/).slice(1);
      expect(sources.every((s) => ["'self'", "'none'", "'wasm-unsafe-eval'"].includes(s)), directive).toBe(true);
    }
  });

  it("serves only onnxruntime-web's named files, and keeps its existing errors", async () => {
    for (const path of ["/ort/ort.js", "/ort/../package.json", "/ort/%2e%2e/package.json", "/nope"]) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(((await r.json()) as { error: string }).error).toMatch(/no such/);
    }
    const post = await get("/", { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect((await get("/predict")).status).toBe(405);
    const bad = await get("/predict", { method: "POST", headers: { "content-type": "image/png" }, body: "not a png" });
    expect(bad.status).toBe(400);
  });
});
