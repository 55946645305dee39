import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModel } from "../../src/model/model-io.js";
import { readFloats } from "../../src/onnx/tensor.js";
import { DataType } from "../../src/onnx/proto.js";
import { getTrainingRecord } from "../../src/supernet/manifest.js";
import { readCheckpoint } from "../../src/train/checkpoint.js";
import { encodeIdx } from "../../src/data/idx.js";
import { cudaAvailable } from "../../src/runtime/ort.js";
import { TORCH_TINY_DIR, SUBSET_DIR as SUBSET } from "../fixtures/paths.js";
import { runCli as run } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-train-cli-"));
const supernet = join(dir, "fm.onnx");


/** Every float initializer of a model file. */
const values = (file: string) => new Map(readModel(file).graph!.initializer.filter((t) => t.dataType === DataType.FLOAT).map((t) => [t.name, readFloats(t)]));
const quick = ["--data", SUBSET, "--batch", "16", "--threads", "2", "--quiet"];

beforeAll(async () => {
  expect((await run(["export-supernet", "--space", "fmnist-small", "-o", supernet])).code).toBe(0);
});

// Killing and resuming a run is test/train/kill.test.ts's subject (kills at exact fs calls, not timer races).
describe("bnnas train", () => {
  it("writes a trained copy with a training record; the input is unchanged", async () => {
    const before = readFileSync(supernet);
    const out = join(dir, "t.onnx");
    const r = await run(["train", supernet, "-o", out, ...quick, "--steps", "3", "--bn", "all", "--seed", "2", "--json"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ steps: 3, sampler: "uniform", bn: "all", images: 6000 });
    expect(summary.ms_per_step).toBeGreaterThan(0);
    expect(summary.final_loss).toBeGreaterThan(1);
    expect(summary.final_loss).toBeLessThan(4);
    expect(readFileSync(supernet).equals(before)).toBe(true);
    expect(existsSync(`${out}.ckpt`)).toBe(false); // removed once the output is written
    const rec = getTrainingRecord(readModel(out), out) as Record<string, any>;
    expect(rec).toMatchObject({ steps: 3, sampler: "uniform", bn: "all", seed: 2, batch: 16 });
    expect(rec.final.loss).toBeCloseTo(summary.final_loss, 10);
    expect(rec.history).toHaveLength(1);
    expect(rec.history[0].ranking).toHaveLength(6);
    expect(rec.history[0].ranking[2]).toHaveLength(7);
    // The stem BN is on every path: its gamma and running statistics moved.
    const a = values(supernet);
    const b = values(out);
    const changed = [...a.keys()].filter((k) => a.get(k)!.some((v, i) => v !== b.get(k)![i]));
    expect(changed.some((k) => /stem.*(scale|weight)/.test(k))).toBe(true);
    expect(changed.some((k) => /stem.*mean/.test(k))).toBe(true);
    expect(changed.some((k) => /stem.*var/.test(k))).toBe(true);
    // Only BatchNorm tensors change: conv weights and the classifier are frozen.
    expect(changed.filter((k) => !/\.bn\d*\.(scale|bias|mean|var)$/.test(k))).toEqual([]);
  });

  it("--train-head trains the classifier too (with weight decay), --sampler fair runs", async () => {
    const out = join(dir, "head.onnx");
    const r = await run(["train", supernet, "-o", out, ...quick, "--steps", "2", "--train-head", "--weight-decay", "0.01", "--sampler", "fair", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ steps: 2, sampler: "fair" });
    const a = values(supernet);
    const b = values(out);
    for (const k of ["head.fc.weight", "head.fc.bias"]) expect(Array.from(b.get(k)!)).not.toEqual(Array.from(a.get(k)!));
    expect(Array.from(b.get("layers.0.mb_k3_e3.conv1.weight")!)).toEqual(Array.from(a.get("layers.0.mb_k3_e3.conv1.weight")!));
  });

  it("--engine fused and --engine blocks train the same (same losses, gamma to float noise); auto picks fused for a small supernet", async () => {
    const runs = [];
    for (const engine of ["fused", "blocks", "auto"]) {
      const out = join(dir, `engine-${engine}.onnx`);
      const r = await run(["train", supernet, "-o", out, ...quick, "--steps", "4", "--lr", "0.5", "--engine", engine, "--json"]);
      expect(r.code, r.err).toBe(0);
      runs.push({ loss: JSON.parse(r.out).final_loss as number, params: values(out) });
    }
    const [fused, blocks, auto] = runs;
    expect(Math.abs(fused!.loss - blocks!.loss)).toBeLessThan(1e-4 * fused!.loss);
    let maxDiff = 0;
    for (const [k, v] of blocks!.params) v.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - fused!.params.get(k)![i]!))));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(auto!.loss).toBe(fused!.loss);
  });

  it("refuses bad input with one-line errors and writes nothing", async () => {
    const out = join(dir, "never.onnx");
    const cases: [string[], RegExp][] = [
      [["train", join(TORCH_TINY_DIR, "supernet.eval.onnx"), "-o", out, ...quick], /BatchNorm was folded|no BatchNormalization|folded/],
      [["train", join(TORCH_TINY_DIR, "supernet.preserve.onnx"), "-o", out, ...quick, "--cache-dir", join(dir, "cache")], /outputs 5 classes but .*fashion-mnist-subset.* \(as 3x16x16\) has 10 .*export a space with "classes": 10/], // images are resized to the model; the classes cannot be
      [["train", supernet, "-o", out, "--data", dir], /holds no data bnnas reads: MNIST-style IDX files \(train-images-idx3-ubyte\[\.gz\]/],
      [["train", supernet, "-o", out, "--data", SUBSET, "--batch", "6001", "--quiet"], /--batch 6001 is larger than the training data \(6000 images/],
      [["train", supernet, "-o", supernet, ...quick], /is the supernet itself/],
      [["train", supernet, "-o", out, ...quick, "--arch", "1,4,2,5,3"], /has 5 values, but the supernet has 6 layers/],
      [["train", supernet, "-o", out, ...quick, "--arch", "6,0,0,0,0,0"], /layer 0.*6 is not a candidate/],
      [["train", supernet, "-o", out, ...quick, "--arch", "1,4,2,5,3,2", "--sampler", "fair"], /cannot be combined with --sampler fair/],
      [["train", supernet, "-o", out, ...quick, "--lr", "-1"], /--lr takes a number >= 0/],
      [["train", join(dir, "missing.onnx"), "-o", out, ...quick], /missing\.onnx: no such file/],
    ];
    if (!cudaAvailable()) cases.push([["train", supernet, "-o", out, ...quick, "--device", "cuda"], /--device cuda: the CUDA execution provider is not installed/]);
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.err, args.join(" ")).toMatch(message);
      expect(r.err.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(out)).toBe(false);
  });

  it("refuses corrupt IDX data and a mismatched label file", async () => {
    const bad = join(dir, "bad-data");
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, "train-images-idx3-ubyte"), encodeIdx([3, 28, 28], new Uint8Array(3 * 784)).subarray(0, 500));
    writeFileSync(join(bad, "train-labels-idx1-ubyte"), encodeIdx([3], new Uint8Array(3)));
    let r = await run(["train", supernet, "-o", join(dir, "x.onnx"), "--data", bad]);
    expect(r.err).toMatch(/train-images-idx3-ubyte: is truncated/);
    writeFileSync(join(bad, "train-images-idx3-ubyte"), encodeIdx([3, 28, 28], new Uint8Array(3 * 784)));
    writeFileSync(join(bad, "train-labels-idx1-ubyte"), encodeIdx([2], new Uint8Array(2)));
    r = await run(["train", supernet, "-o", join(dir, "x.onnx"), "--data", bad]);
    expect(r.err).toMatch(/has 2 labels but .* has 3 images/);
  });

  it("stops on a diverging loss, keeps the last good checkpoint, writes no output", async () => {
    const out = join(dir, "nan.onnx");
    const r = await run(["train", supernet, "-o", out, ...quick, "--steps", "6", "--lr", "1e30", "--lr-schedule", "constant", "--checkpoint-every", "1", "--bn", "all"]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/training diverged at step \d+ .*last good checkpoint .*nan\.onnx\.ckpt is kept/);
    expect(existsSync(out)).toBe(false);
    const ck = readCheckpoint<{ step: number }>(`${out}.ckpt`)!;
    expect(ck.progress.step).toBeGreaterThanOrEqual(1);
    for (const v of ck.tensors.param.values()) for (const x of v) expect(Number.isFinite(x)).toBe(true);
    // Without --resume, an existing checkpoint is not overwritten.
    const again = await run(["train", supernet, "-o", out, ...quick, "--steps", "2"]);
    expect(again.err).toMatch(/checkpoint .*nan\.onnx\.ckpt exists from an earlier run: pass --resume/);
  });
});
