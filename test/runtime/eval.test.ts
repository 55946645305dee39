import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { evaluate, recalibrateBatchNorm, recalibrationBatches } from "../../src/runtime/eval.js";
import { extractSubnet } from "../../src/extract/subnet.js";
import { makeBatch } from "../../src/data/batches.js";
import type { Normalization } from "../../src/structure/normalization.js";
import type { Dataset } from "../../src/data/dataset.js";
import { Session } from "../../src/runtime/ort.js";
import { loadTorchTiny, TORCH_TINY } from "../extract/torch-tiny.js";

const { model: supernet, structure } = loadTorchTiny();
const norm: Normalization = { mean: [0.5, 0.4, 0.3], std: [0.25, 0.3, 0.2] };

/** A deterministic pseudo-random 3x16x16 image set with labels in 0..4. */
function randomDataset(count: number, seed: number): Dataset {
  let state = seed >>> 0;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) >>> 24); // LCG, top 8 bits
  const images = Uint8Array.from({ length: count * 3 * 16 * 16 }, next);
  const labels = Uint8Array.from({ length: count }, () => next() % 5);
  return { images, labels, count, channels: 3, height: 16, width: 16, classes: 5, source: "random" };
}

describe("evaluate", () => {
  it("counts top-1 hits exactly as argmax of the subnet's logits", async () => {
    const ds = randomDataset(37, 1);
    const { model } = extractSubnet(supernet, structure, [0, 1, 2]);
    const s = await Session.create(model, { threads: 1 });
    const { x, labels } = makeBatch(ds, Uint32Array.from({ length: ds.count }, (_, i) => i), norm);
    const logits = (await s.run({ x }))["logits"]!.data as Float32Array;
    let correct = 0;
    for (let i = 0; i < ds.count; i++) {
      const row = Array.from(logits.subarray(i * 5, i * 5 + 5));
      if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
    }
    const r = await evaluate(model, ds, norm, { batch: 8, threads: 1 });
    expect(r.images).toBe(37);
    expect(r.correct).toBe(correct);
    expect(r.accuracy).toBeCloseTo(correct / 37, 12);
    expect(r.images_per_s).toBeGreaterThan(0);
    const limited = await evaluate(model, ds, norm, { batch: 8, limit: 10, threads: 1 });
    expect(limited.images).toBe(10);
  });

  it("refuses data whose image shape does not fit the model input", async () => {
    const ds = { ...randomDataset(4, 2), channels: 1, images: new Uint8Array(4 * 16 * 16) };
    const { model } = extractSubnet(supernet, structure, [0, 1, 2]);
    await expect(evaluate(model, ds, { mean: [0.5], std: [0.5] })).rejects.toThrow(/input 'x' has shape .*3x16x16.*1x16x16/);
  });
});

describe("recalibrateBatchNorm", () => {
  it("matches PyTorch: reset stats, momentum=None, train-mode forwards of the path, eval logits", async () => {
    const arch = [2, 0, 3];
    const train = randomDataset(50, 3);
    const batches = 3, batch = 16;
    const { model } = extractSubnet(supernet, structure, arch);
    const recal = await recalibrateBatchNorm(model, train, norm, { batches, batch, seed: 7, threads: 1 });
    expect(recal.batchNorms).toBe(4);
    const evalSet = randomDataset(6, 4);
    const all = (ds: Dataset) => Uint32Array.from({ length: ds.count }, (_, i) => i);
    const evalX = makeBatch(evalSet, all(evalSet), norm).x;
    const s = await Session.create(recal.model, { threads: 1 });
    const ours = (await s.run({ x: evalX }))["logits"]!.data as Float32Array;
    const request = {
      onnx: TORCH_TINY,
      arch,
      batch_shape: [batch, 3, 16, 16],
      batches: recalibrationBatches(train.count, batches, batch, 7).map((idx) => Array.from(makeBatch(train, idx, norm).x.data)),
      eval_shape: evalX.dims,
      eval: Array.from(evalX.data),
    };
    const r = spawnSync("/usr/bin/python3", ["test/fixtures/extract/recal_oracle.py"], { input: JSON.stringify(request), encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const torch = (JSON.parse(r.stdout) as { logits: number[] }).logits;
    let diff = 0;
    for (let i = 0; i < torch.length; i++) diff = Math.max(diff, Math.abs(torch[i]! - ours[i]!));
    expect(diff).toBeLessThanOrEqual(1e-5);
    // The statistics changed (the fixture's are random), so the logits did too.
    const before = (await (await Session.create(model, { threads: 1 })).run({ x: evalX }))["logits"]!.data as Float32Array;
    expect(Math.max(...Array.from(before, (v, i) => Math.abs(v - ours[i]!)))).toBeGreaterThan(1e-3);
  });
});
