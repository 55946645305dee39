import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PNG } from "pngjs";
import { extractSubnet } from "../../src/extract/subnet.js";
import { writeSubnetManifest, countParams } from "../../src/supernet/subnet-manifest.js";
import { Predictor, softmax } from "../../src/runtime/serve/predictor.js";
import { startServer, type RunningServer } from "../../src/runtime/serve/server.js";
import { BnnasError } from "../../src/errors.js";
import { loadTorchTiny, torchTinyExpected } from "../extract/torch-tiny.js";

const { model: supernet, structure } = loadTorchTiny();
const expected = torchTinyExpected();
const norm = { mean: [0.5, 0.4, 0.3], std: [0.25, 0.3, 0.2] };
const arch = [1, 2, 1];
const want = expected.cases.find((c) => c.arch.join() === arch.join())!;

let predictor: Predictor;
let srv: RunningServer;

beforeAll(async () => {
  const { model, names } = extractSubnet(supernet, structure, arch);
  writeSubnetManifest(model, {
    format: "bnnas-subnet/1", space: "torch-tiny", arch, candidates: names, params: countParams(model),
    input: { name: "x", shape: ["batch", 3, 16, 16], normalize: norm }, batchNorm: "inference",
    source: { file: "supernet.preserve.onnx", sha256: "0", kind: "pytorch" },
  });
  predictor = await Predictor.create(model, "subnet.onnx", { threads: 1 });
  srv = await startServer(predictor, { port: 0, maxBodyBytes: 200_000, maxBatch: 4 });
});

afterAll(async () => {
  await srv.close();
  await predictor.close();
});

/** [C, H, W] nested array of image `i` of the fixture input. */
function image(i: number): number[][][] {
  const per = 3 * 16 * 16;
  const flat = expected.input.slice(i * per, (i + 1) * per);
  return [0, 1, 2].map((c) => Array.from({ length: 16 }, (_, y) => flat.slice(c * 256 + y * 16, c * 256 + y * 16 + 16)));
}

async function post(body: string | Buffer, type: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${srv.url}/predict`, { method: "POST", headers: { "content-type": type }, body });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

type Pred = { argmax: number; probabilities: number[] };
function closeTo(a: number[], b: number[], tol: number): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol);
}

function png(width: number, height: number, rgba: (x: number, y: number) => [number, number, number, number]): Buffer {
  const p = new PNG({ width, height });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) p.data.set(rgba(x, y), 4 * (y * width + x));
  return PNG.sync.write(p);
}

describe("bnnas serve (real HTTP on 127.0.0.1)", () => {
  it("answers /health and /info", async () => {
    expect(await (await fetch(`${srv.url}/health`)).json()).toEqual({ status: "ok" });
    const info = (await (await fetch(`${srv.url}/info`)).json()) as Record<string, any>;
    expect(info.input).toEqual({ name: "x", shape: ["batch", 3, 16, 16] });
    expect(info.classes).toBe(5);
    expect(info.normalize).toEqual(norm);
    expect(info.manifest.arch).toEqual(arch);
  });

  it("predicts softmax of PyTorch's logits for one image and for a batch", async () => {
    const one = await post(JSON.stringify(image(0)), "application/json");
    expect(one.status).toBe(200);
    const p0 = (one.json.predictions as Pred[])[0]!;
    const ref0 = softmax(want.logits, 0, 5);
    expect(closeTo(p0.probabilities, ref0, 1e-6)).toBe(true);
    expect(p0.argmax).toBe(ref0.indexOf(Math.max(...ref0)));
    const both = await post(JSON.stringify({ input: [image(0), image(1)] }), "application/json");
    expect(both.json.batch).toBe(2);
    expect(closeTo((both.json.predictions as Pred[])[1]!.probabilities, softmax(want.logits, 5, 5), 1e-6)).toBe(true);
  });

  it("normalises pixels and PNGs with the manifest's normalisation, resizing PNGs bilinearly", async () => {
    const color = (x: number, y: number): [number, number, number, number] => [(x * 13 + y * 7) % 256, (x * y) % 256, (255 - x * 9) % 256, 255];
    const pixels = [0, 1, 2].map((c) => Array.from({ length: 16 }, (_, y) => Array.from({ length: 16 }, (_, x) => color(x, y)[c]!)));
    const viaPixels = await post(JSON.stringify({ pixels }), "application/json");
    const manual = pixels.map((plane, c) => plane.map((row) => row.map((p) => (p / 255 - norm.mean[c]!) / norm.std[c]!)));
    const viaInput = await post(JSON.stringify({ input: manual }), "application/json");
    const viaPng = await post(png(16, 16, color), "image/png");
    const a = (viaPixels.json.predictions as Pred[])[0]!.probabilities;
    expect(closeTo(a, (viaInput.json.predictions as Pred[])[0]!.probabilities, 1e-6)).toBe(true);
    expect(closeTo(a, (viaPng.json.predictions as Pred[])[0]!.probabilities, 1e-6)).toBe(true);
    // A uniform 40x40 image resizes to the same uniform 16x16 image.
    const flat = (x: number, y: number): [number, number, number, number] => [200, 100, 50, 255];
    const big = await post(png(40, 40, flat), "image/png");
    const small = await post(png(16, 16, flat), "image/png");
    expect(closeTo((big.json.predictions as Pred[])[0]!.probabilities, (small.json.predictions as Pred[])[0]!.probabilities, 1e-6)).toBe(true);
  });

  it("answers bad requests with 4xx JSON errors and keeps serving", async () => {
    const cases: [string | Buffer, string, number, RegExp][] = [
      ["{}", "text/plain", 415, /content type 'text\/plain'/],
      ["{not json", "application/json", 400, /not valid JSON/],
      [JSON.stringify([[1, 2], [3, 4]]), "application/json", 400, /shape \[2,2\]/],
      [JSON.stringify({ input: [image(0)].map((im) => { im[1]![3]![4] = null as never; return im; })[0] }), "application/json", 400, /entry \[1\]\[3\]\[4\] is null/],
      [JSON.stringify({ pixels: image(0).map((p) => p.map((r) => r.map(() => 300))) }), "application/json", 400, /0\.\.255/],
      [JSON.stringify({ other: 1 }), "application/json", 400, /"input"/],
      [JSON.stringify(Array.from({ length: 5 }, () => image(0))), "application/json", 413, /limit is 4/],
      ["x".repeat(300_000), "application/json", 413, /limit/],
      [Buffer.from("not a png at all, but long enough"), "image/png", 400, /not a PNG/],
      ["", "application/json", 400, /empty/],
    ];
    for (const [body, type, status, message] of cases) {
      const r = await post(body, type);
      expect(r.status, `${type} ${String(body).slice(0, 40)}`).toBe(status);
      expect(String(r.json.error)).toMatch(message);
    }
    const huge = png(1, 1, () => [0, 0, 0, 255]);
    huge.writeUInt32BE(100_000, 16); // header claims a 100000-pixel-wide image
    expect((await post(huge, "image/png")).status).toBe(413);
    const truncated = png(16, 16, () => [1, 2, 3, 255]).subarray(0, 40);
    expect((await post(truncated, "image/png")).status).toBe(400);
    expect((await fetch(`${srv.url}/nope`)).status).toBe(404);
    expect((await fetch(`${srv.url}/predict`)).status).toBe(405);
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
  });

  it("answers concurrent requests, each with its own result", async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => JSON.stringify(image(i % 2)));
    const results = await Promise.all(bodies.map((b) => post(b, "application/json")));
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      const p = (r.json.predictions as Pred[])[0]!;
      expect(closeTo(p.probabilities, softmax(want.logits, (i % 2) * 5, 5), 1e-6)).toBe(true);
    });
  });

  it("refuses a port already in use with a clear error", async () => {
    await expect(startServer(predictor, { port: srv.port })).rejects.toThrow(BnnasError);
    await expect(startServer(predictor, { port: srv.port })).rejects.toThrow(/port \d+ on 127\.0\.0\.1 is already in use/);
  });
});
