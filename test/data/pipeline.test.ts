/**
 * The data pipeline end to end: worker prefetch gives the synchronous path's batches bit for bit;
 * a PNG folder holding an IDX subset's pixels trains and evaluates exactly as the IDX files do;
 * a 3-channel supernet trains on a CIFAR-format file; class names reach the training record,
 * the subnet manifest, eval and serve.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDataset } from "../../src/data/dataset.js";
import { loadData } from "../../src/data/load.js";
import { makeBatch, augmentationFor, FASHION_MNIST_NORMALIZATION } from "../../src/data/batches.js";
import { openBatchSource, workerScript, workerSource } from "../../src/data/prefetch.js";
import { CIFAR10_CLASSES } from "../../src/data/classes.js";
import { exportSupernet } from "../../src/supernet/export.js";
import { loadSpace } from "../../src/space/builtins.js";
import { runTraining } from "../../src/pipeline/train-run.js";
import { evaluateFile } from "../../src/pipeline/evaluate.js";
import { readModel } from "../../src/model/model-io.js";
import { DataType } from "../../src/onnx/proto.js";
import { readFloats } from "../../src/onnx/tensor.js";
import { getTrainingRecord } from "../../src/supernet/manifest.js";
import { modelClassNames } from "../../src/supernet/subnet-manifest.js";
import { Predictor } from "../../src/runtime/serve/predictor.js";
import { SUBSET_DIR } from "../fixtures/paths.js";
import { runCli } from "../cli/run-cli.js";
import { cifarBytes, writeFolderSplit, writeIdxSplit } from "./make-data.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-data-pipeline-"));
const cache = join(dir, "cache");
const floats = (file: string) => new Map(readModel(file).graph!.initializer.filter((t) => t.dataType === DataType.FLOAT).map((t) => [t.name, Array.from(readFloats(t))]));
const config = { batch: 16, steps: 4, lr: 1, momentum: 0.9, weightDecay: 0, weightDecayBn: false, schedule: "linear" as const, labelSmoothing: 0, bn: "all" as const, trainHead: false, seed: 3, augment: true };

describe("worker prefetch", () => {
  it("makes the synchronous path's batches, bit for bit, augmentation included", async () => {
    const ds = loadDataset(SUBSET_DIR, "test");
    const script = workerScript();
    expect(script, "the compiled worker (npm run build)").toBeDefined();
    const source = workerSource(ds, FASHION_MNIST_NORMALIZATION, script!);
    try {
      for (const step of [0, 1, 7]) {
        const indices = Uint32Array.from({ length: 32 }, (_, i) => (i * 31 + step * 5) % ds.count);
        const augment = step > 0 ? { seed: 5, step } : undefined;
        const [a, b] = [await source.get({ indices, augment }), makeBatch(ds, indices, FASHION_MNIST_NORMALIZATION, augment ? augmentationFor(5, step) : undefined)];
        expect(a.x.dims).toEqual(b.x.dims);
        expect(Buffer.from(a.x.data.buffer).equals(Buffer.from(b.x.data.buffer))).toBe(true);
        expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
      }
      await expect(source.get({ indices: Uint32Array.of(ds.count) })).rejects.toThrow(/outside/);
    } finally {
      await source.close();
    }
    for (const [mode, kind] of [[undefined, "worker"], ["worker", "worker"], ["main", "sync"]] as const) {
      const { source: s } = openBatchSource(ds, FASHION_MNIST_NORMALIZATION, mode);
      expect(s.kind, String(mode)).toBe(kind);
      await s.close();
    }
  });
});

describe("a PNG folder with an IDX subset's pixels", () => {
  const png = join(dir, "png");
  const idx = join(dir, "idx");
  const supernet = join(dir, "fm.onnx");
  beforeAll(async () => {
    const train = loadDataset(SUBSET_DIR, "train");
    const test = loadDataset(SUBSET_DIR, "test");
    // Class folders c0..c9 sort as the labels do, so label i is folder i in both routes.
    const names = Array.from({ length: 10 }, (_, i) => `c${i}`);
    writeIdxSplit(idx, "train", train, await writeFolderSplit(png, "train", train, Array.from({ length: 64 }, (_, i) => i * 7), names));
    writeIdxSplit(idx, "t10k", test, await writeFolderSplit(png, "test", test, Array.from({ length: 40 }, (_, i) => i * 3), names));
    exportSupernet(loadSpace("fmnist-small"), supernet, { seed: 0 });
  });

  it("loads the same bytes, trains to the same losses and weights (worker or not), and evaluates the same", async () => {
    const a = await loadData(png, "train", { cacheDir: cache, want: { channels: 1, height: 28, width: 28 } });
    const b = await loadData(idx, "train");
    expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));

    const run = (data: string, out: string, prefetch: "worker" | "main") => runTraining({ supernet, output: join(dir, out), data, dataOptions: { cacheDir: cache }, prefetch, config });
    const fromPng = await run(png, "png.onnx", "worker");
    const fromIdx = await run(idx, "idx.onnx", "worker");
    const sync = await run(idx, "sync.onnx", "main");
    expect(fromPng.history.map((h) => h.loss)).toEqual(fromIdx.history.map((h) => h.loss));
    expect(fromPng.finalLoss).toBe(fromIdx.finalLoss);
    expect(sync.finalLoss).toBe(fromIdx.finalLoss);
    expect(floats(join(dir, "png.onnx"))).toEqual(floats(join(dir, "idx.onnx")));
    expect(floats(join(dir, "sync.onnx"))).toEqual(floats(join(dir, "idx.onnx")));
    // The folder names are the class names in the training record.
    expect((getTrainingRecord(readModel(join(dir, "png.onnx"))) as { data: { classNames: string[] } }).data.classNames).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`));

    const arch = [0, 1, 2, 0, 1, 2];
    const e1 = await evaluateFile(join(dir, "png.onnx"), { arch, data: png, dataOptions: { cacheDir: cache } });
    const e2 = await evaluateFile(join(dir, "idx.onnx"), { arch, data: idx });
    expect(e1.accuracy).toBe(e2.accuracy);
    expect(e1.confusion).toEqual(e2.confusion);
    expect(e1.classes).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`));
  });
});

describe("a 3-channel supernet on a CIFAR-format file", () => {
  it("trains a few steps, evaluates with per-class accuracy and a confusion matrix, and its subnet serves labels", async () => {
    const data = join(dir, "cifar");
    mkdirSync(data);
    writeFileSync(join(data, "data_batch_1.bin"), cifarBytes(64, "cifar10", 10, 1).bytes);
    writeFileSync(join(data, "test_batch.bin"), cifarBytes(30, "cifar10", 10, 2).bytes);
    const space = {
      name: "rgb-tiny", input: { name: "input", shape: [3, 32, 32], normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } }, classes: 10,
      stem: [{ op: { type: "conv", k: 3, act: "relu" }, out: 8, stride: 2 }],
      candidates: [{ name: "mb_k3_e3", op: { type: "mbconv", k: 3, e: 3 } }, { name: "skip", op: { type: "skip" } }],
      layers: [{ label: "layer0", in: 8, out: 16, stride: 2, allowed: ["mb_k3_e3"] }, { label: "layer1", in: 16, out: 16, stride: 1, allowed: ["mb_k3_e3", "skip"] }],
      head: { ops: [] },
    };
    const spaceFile = join(dir, "rgb.json");
    writeFileSync(spaceFile, JSON.stringify(space));
    const s = join(dir, "rgb.onnx");
    const t = join(dir, "rgb.trained.onnx");
    expect((await runCli(["export-supernet", "--space", spaceFile, "-o", s])).code).toBe(0);
    const trained = await runCli(["train", s, "-o", t, "--data", data, "--cache-dir", cache, "--steps", "3", "--batch", "16", "--bn", "all", "--quiet", "--json"]);
    expect(trained.err).toBe("");
    expect(trained.code).toBe(0);
    expect(JSON.parse(trained.out)).toMatchObject({ steps: 3, images: 64 });
    expect(JSON.parse(trained.out).final_loss).toBeGreaterThan(1);

    const ev = await runCli(["eval", t, "--arch", "0,1", "--data", data, "--quiet", "--json"]);
    expect(ev.code).toBe(0);
    const r = JSON.parse(ev.out) as { correct: number; images: number; classes: string[]; per_class: { label: string; acc: number; n: number }[]; confusion: number[][] };
    expect(r.classes).toEqual(CIFAR10_CLASSES);
    expect(r.per_class.map((c) => c.n)).toEqual(r.confusion.map((row) => row.reduce((a, b) => a + b, 0)));
    expect(r.per_class.reduce((a, c) => a + c.n, 0)).toBe(30);
    expect(r.confusion.reduce((a, row, i) => a + row[i]!, 0)).toBe(r.correct);
    r.per_class.forEach((c, i) => expect(c.acc).toBeCloseTo(c.n ? r.confusion[i]![i]! / c.n : 0, 12));
    const text = await runCli(["eval", t, "--arch", "0,1", "--data", data, "--quiet"]);
    expect(text.out).toMatch(/per class:\n\s+airplane\s/);
    expect(text.out).toMatch(/confusion \(rows: true class, columns: predicted 0 1 2/);

    const sub = join(dir, "rgb.sub.onnx");
    expect((await runCli(["extract-subnet", t, "--arch", "0,1", "-o", sub])).code).toBe(0);
    expect(modelClassNames(readModel(sub))).toEqual(CIFAR10_CLASSES);
    const predictor = await Predictor.create(readModel(sub), sub, { threads: 1 });
    try {
      expect(predictor.info.labels).toEqual(CIFAR10_CLASSES);
      const [p] = await predictor.predict(new Float32Array(3 * 32 * 32), 1);
      expect(p!.label).toBe(CIFAR10_CLASSES[p!.argmax]);
    } finally {
      await predictor.close();
    }
    // Retrained on other data, the subnet's manifest carries that data's names.
    const re = join(dir, "rgb.re.onnx");
    const png = join(dir, "rgbpng");
    const cif = await loadData(data, "test");
    const names = ["x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"];
    await writeFolderSplit(png, "train", cif, Array.from({ length: 30 }, (_, i) => i), names);
    expect((await runCli(["train", sub, "-o", re, "--data", png, "--cache-dir", cache, "--steps", "1", "--batch", "8", "--quiet"])).code).toBe(0);
    expect(modelClassNames(readModel(re))).toEqual(names);
  });
});
