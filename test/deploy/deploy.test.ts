/**
 * Deployment end to end, as a user runs it: a subnet trained briefly, then written folded, at
 * opset 10 and as int8, and read by consumers nobody on this project wrote (onnxruntime, OpenCV's
 * DNN module), plus the refusals (bad options, training a quantized model).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { buildSupernet } from "../../src/supernet/export.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { readModel, writeModel } from "../../src/model/model-io.js";
import { Session } from "../../src/runtime/ort.js";
import { loadDataset } from "../../src/data/dataset.js";
import { makeBatch } from "../../src/data/batches.js";
import { FASHION_MNIST_NORMALIZATION } from "../../src/data/batches.js";
import type { Tensor } from "../../src/onnx/tensor.js";
import { runCli as run } from "../cli/run-cli.js";
import { onnxCheckerProblems } from "../extract/onnx-checker.js";
import { FIXTURES_DIR, SUBSET_DIR } from "../fixtures/paths.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-deploy-"));
const supernet = join(dir, "supernet.onnx");
const trained = join(dir, "trained.onnx");
const file = (name: string) => join(dir, name);

async function logits(path: string, x: Tensor): Promise<Float32Array> {
  const s = await Session.create(readModel(path), { threads: 1 });
  try {
    return (await s.run({ input: x }))["logits"]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

// 16 real test images, normalised as the model expects.
const test = loadDataset(SUBSET_DIR, "test");
const x = makeBatch(test, Uint32Array.from({ length: 16 }, (_, i) => i * 61), FASHION_MNIST_NORMALIZATION).x;

beforeAll(async () => {
  writeModel(supernet, buildSupernet(builtinSpace("fmnist-small"), { seed: 0 }).model);
  // A small path (skips where the space allows them), trained for a few seconds: ~75% on the test images.
  expect((await run(["extract-subnet", supernet, "--arch", "0,0,6,0,6,6", "-o", file("init.onnx")])).code).toBe(0);
  const t = await run(["train", file("init.onnx"), "-o", trained, "--steps", "60", "--batch", "64", "--lr", "0.1", "--nesterov", "--data", SUBSET_DIR, "--threads", "2", "--quiet"]);
  expect(t.code, t.err).toBe(0);
}, 120_000);

describe("deploying a trained subnet", () => {
  it("writes it folded, at opset 10 and as int8; onnxruntime agrees with the float subnet (1e-5; int8 within 0.5 accuracy points), eval reports accuracy and images/s", async () => {
    const want = await logits(trained, x);
    for (const [name, flags] of [["folded", ["--fold-bn"]], ["o10", ["--opset", "10"]], ["f10", ["--fold-bn", "--opset", "10"]]] as const) {
      const r = await run(["extract-subnet", trained, ...flags, "-o", file(`${name}.onnx`)]);
      expect(r.code, r.err).toBe(0);
      expect(maxDiff(await logits(file(`${name}.onnx`), x), want), name).toBeLessThanOrEqual(1e-5);
    }
    const q = await run(["extract-subnet", trained, "--quantize", "int8", "--calibrate", "256", "--data", SUBSET_DIR, "-o", file("int8.onnx"), "--json", "--quiet"]);
    expect(q.code, q.err).toBe(0);
    expect(JSON.parse(q.out)).toMatchObject({ opset: 17, quantization: { type: "int8", calibration: { images: 256 } }, manifest: { arch: [0, 0, 6, 0, 6, 6], batchNorm: "folded" } });
    expect(onnxCheckerProblems([file("folded.onnx"), file("f10.onnx"), file("int8.onnx")])).toBe("");

    const evals: Record<string, { accuracy: number; images_per_s: number; images: number }> = {};
    for (const name of ["folded", "int8"]) {
      const e = await run(["eval", file(`${name}.onnx`), "--data", SUBSET_DIR, "--threads", "2", "--json", "--quiet"]);
      expect(e.code, e.err).toBe(0);
      evals[name] = JSON.parse(e.out);
    }
    expect(evals.folded!.images).toBe(1000);
    expect(evals.folded!.accuracy).toBeGreaterThan(0.6);
    expect(evals.int8!.images_per_s).toBeGreaterThan(0);
    expect(Math.abs(evals.folded!.accuracy - evals.int8!.accuracy) * 100).toBeLessThanOrEqual(0.5);
    const text = await run(["eval", file("int8.onnx"), "--data", SUBSET_DIR, "--limit", "256", "--quiet"]);
    expect(text.out).toMatch(/top-1 accuracy [\d.]+% \(\d+\/256\)\n\s+\d+ images\/s/);
  });

  it("loads in OpenCV's DNN module (python3-opencv) at --fold-bn --opset 10, with onnxruntime's logits to 1e-4", async () => {
    const model = file("cv.onnx");
    expect((await run(["extract-subnet", trained, "--fold-bn", "--opset", "10", "-o", model])).code).toBe(0);
    const input = file("x.f32");
    writeFileSync(input, new Uint8Array((x.data as Float32Array).buffer));
    const r = spawnSync("/usr/bin/python3", [join(FIXTURES_DIR, "deploy", "opencv_logits.py"), model, input, ...x.dims.map(String)], { encoding: "utf8" });
    expect(r.status, `OpenCV failed (is python3-opencv installed? .ci/run installs it): ${r.stderr}`).toBe(0);
    const cv = JSON.parse(r.stdout) as { version: string; shape: number[]; logits: number[] };
    expect(cv.shape).toEqual([16, 10]);
    expect(maxDiff(cv.logits, await logits(model, x))).toBeLessThanOrEqual(1e-4);
  });

  it("info shows the opset and whether a model is folded or quantized", async () => {
    const f10 = await run(["info", file("f10.onnx")]);
    expect(f10.out).toContain("deploy: opset 10 (IR 5), BatchNorm folded, float (not quantized)");
    const plain = await run(["info", trained]);
    expect(plain.out).toContain("deploy: opset 17 (IR 8), BatchNorm inference, float (not quantized)");
    const q = await run(["info", file("int8.onnx"), "--json"]);
    expect(JSON.parse(q.out).deploy).toMatchObject({ opset: 17, batchNorm: "folded", quantized: true, quantization: { calibration: { images: 256, seed: 0 } } });
  });

  it("refuses to train a quantized model: train the float model first", async () => {
    const r = await run(["train", file("int8.onnx"), "-o", file("never.onnx"), "--steps", "1", "--data", SUBSET_DIR]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/^bnnas: error: .*int8\.onnx: is quantized .*train the float model first/);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(existsSync(file("never.onnx"))).toBe(false);
  });

  it("turns bad deployment options into one-line errors and writes nothing", async () => {
    const cases: [string[], RegExp][] = [
      [["--opset", "9"], /--opset 9: bnnas writes opsets 10 to 17/],
      [["--opset", "18"], /--opset 18: bnnas writes opsets 10 to 17/],
      [["--opset", "ten"], /--opset takes a whole number/],
      [["--quantize", "fp4"], /--quantize 'fp4': unknown type; bnnas quantizes to int8/],
      [["--quantize", "int8", "--calibrate", "0", "--data", SUBSET_DIR], /--calibrate 0: calibrate on at least 1 image/],
      [["--quantize", "int8", "--calibrate", "6001", "--data", SUBSET_DIR], /--calibrate 6001: the training data .* holds only 6000 images/],
      [["--calibrate", "10"], /--calibrate only applies with --quantize/],
      [["--quantize", "int8", "--opset", "12"], /--opset 12 cannot hold per-channel int8 weights .*pass --opset 13 or higher/],
    ];
    for (const [flags, message] of cases) {
      const out = file("bad.onnx");
      const r = await run(["extract-subnet", supernet, "--arch", "0,0,6,0,6,6", ...flags, "-o", out]);
      expect(r.code, flags.join(" ")).toBe(2);
      expect(r.err, flags.join(" ")).toMatch(message);
      expect(r.err.trim().split("\n"), flags.join(" ")).toHaveLength(1);
      expect(existsSync(out), flags.join(" ")).toBe(false);
    }
    // A supernet needs a path; a subnet takes none; a quantized model is not requantized.
    expect((await run(["extract-subnet", supernet, "-o", file("bad.onnx")])).err).toMatch(/is a supernet: pass --arch A/);
    expect((await run(["extract-subnet", trained, "--arch", "0,0,6,0,6,6", "-o", file("bad.onnx")])).err).toMatch(/is a subnet bnnas extracted \(arch 0,0,6,0,6,6\), not a supernet; pass the supernet it came from, or drop --arch to fold, convert or quantize this subnet/);
    expect((await run(["extract-subnet", file("int8.onnx"), "--opset", "13", "-o", file("bad.onnx")])).err).toMatch(/int8\.onnx: is already quantized; start from the float model/);
    expect(existsSync(file("bad.onnx"))).toBe(false);
  });
});
