import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { train, type TrainConfig, type TrainRun } from "../../src/train/trainer.js";
import { readCheckpoint } from "../../src/train/checkpoint.js";
import { readFloats } from "../../src/onnx/tensor.js";
import type { Dataset } from "../../src/data/dataset.js";
import { NumericError, UsageError, InputFileError } from "../../src/errors.js";
import { tinySupernet, fakeEngine } from "./fake-engine.js";

const data: Dataset = {
  images: new Uint8Array(40 * 4).map((_, i) => (i * 37) % 256),
  labels: new Uint8Array(40).map((_, i) => (i * 7) % 10),
  count: 40, channels: 1, height: 2, width: 2, classes: 10, source: "memory",
};
const norm = { mean: [0.5], std: [0.25] };
const base: TrainConfig = {
  epochs: 3, batch: 8, lr: 0.1, momentum: 0.9, weightDecay: 0.01, weightDecayBn: false, schedule: "cosine",
  labelSmoothing: 0, sampler: "uniform", bn: "all", trainHead: false, seed: 3,
};

function setup(config: Partial<TrainConfig> = {}, engineOptions: { nanAtCall?: number } = {}) {
  const { model, structure } = tinySupernet();
  const cfg = { ...base, ...config };
  const engine = fakeEngine(structure, { bn: cfg.bn, ...engineOptions });
  const run: TrainRun = { model, file: "tiny.onnx", structure, engine, data, norm, config: cfg };
  return { run, model, engine, structure };
}

const init = (model: ReturnType<typeof tinySupernet>["model"]) => new Map(model.graph!.initializer.map((t) => [t.name, readFloats(t)]));

describe("trainer (deterministic fake engine)", () => {
  it("trains, updates running stats of BNs on the path only, writes back, records per-epoch rankings", async () => {
    const { run, model, engine } = setup({ sampler: "fixed", arch: [1, 0], epochs: 2, weightDecay: 0 });
    const r = await train(run);
    expect(r.steps).toBe(10);
    expect(r.stepsPerEpoch).toBe(5);
    expect(engine.calls).toBe(10);
    expect(r.complete).toBe(true);
    const v = init(model);
    // On the path: stem, layers.0.op1.*, layers.1.op0.*: trained and running stats moved.
    for (const bn of ["stem.bn", "layers.0.op1.bn1", "layers.0.op1.bn2", "layers.1.op0.bn2"]) {
      expect(Array.from(v.get(`${bn}.mean`)!)).not.toEqual([0, 0, 0]);
      expect(Array.from(v.get(`${bn}.var`)!)).not.toEqual([1, 1, 1]);
    }
    for (const bn of ["layers.0.op1.bn2", "layers.1.op0.bn1"]) expect(Array.from(v.get(`${bn}.scale`)!)).not.toEqual([1, 1, 1]);
    // Off the path: untouched.
    for (const bn of ["layers.0.op0.bn2", "layers.1.op1.bn1"]) {
      expect(Array.from(v.get(`${bn}.scale`)!)).toEqual([1, 1, 1]);
      expect(Array.from(v.get(`${bn}.mean`)!)).toEqual([0, 0, 0]);
    }
    // The quadratic pulls gamma towards t*(i+1): loss falls.
    expect(r.history).toHaveLength(2);
    expect(r.history[1]!.loss).toBeLessThan(r.history[0]!.loss);
    expect(r.history[0]!.ranking[1]).toHaveLength(2);
    expect(r.history[0]!.ranking[0]![2]).toBe(2); // skip scores 0: last
    expect(r.history[0]!.scores[0]![2]).toBe(0);
    expect(r.finalAccuracy).toBeGreaterThan(0);
    expect(Number.isFinite(r.msPerStep)).toBe(true);
  });

  it("fair sampling runs K paths per step and sums their gradients", async () => {
    const fair = setup({ sampler: "fair", epochs: 1, momentum: 0, weightDecay: 0, schedule: "constant" });
    const r = await train(fair.run);
    expect(fair.engine.calls).toBe(3 * r.steps);
    // Layer 0 has 3 candidates: each step's 3 paths use each once.
    for (let s = 0; s < r.steps; s++) expect(fair.engine.seenPaths.slice(3 * s, 3 * s + 3).map((p) => p[0]).sort()).toEqual([0, 1, 2]);
    // One step by hand: with gradients g_k for the 3 paths, a shared parameter (stem has no trainable
    // BN in the fake: check a layer-1 candidate used twice) moves by lr * sum(g_k).
    const one = setup({ sampler: "fair", steps: 1, epochs: undefined, momentum: 0, weightDecay: 0, schedule: "constant" });
    const paths = (await import("../../src/train/sampler.js")).createSampler("fair", [[0, 1, 2], [0, 1]], base.seed).paths(0);
    // Layer 1 has 2 candidates for 3 paths: one of them runs twice.
    const twice = paths.filter((p) => p[1] === 0).length === 2 ? 0 : 1;
    expect(paths.filter((p) => p[1] === twice)).toHaveLength(2);
    await train(one.run);
    const gamma = init(one.model).get(`layers.1.op${twice}.bn2.scale`)!;
    // Gradients per path are s * (p - t(i+1)) with p = 1 at the start for every path.
    const { makeBatch, epochOrder } = await import("../../src/data/batches.js");
    const b = makeBatch(data, epochOrder(40, base.seed, 0).subarray(0, 8), norm);
    const m = b.x.data.reduce((a, v) => a + v, 0) / b.x.data.length;
    const t = Array.from(b.labels).reduce((a, l) => a + l, 0) / 8 / 10;
    const expected = [0, 1, 2].map((i) => 1 - 0.1 * 2 * (1 + m * m) * (1 - t * (i + 1)));
    expected.forEach((e, i) => expect(gamma[i]).toBeCloseTo(e, 5));
  });

  it("resumes exactly: an interrupted and resumed run ends bit for bit where the uninterrupted one does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bnnas-ck-"));
    const full = setup();
    full.run.checkpoint = { file: join(dir, "full.ckpt"), every: 4, resume: false, fingerprint: "f" };
    const a = await train(full.run);
    expect(a.steps).toBe(15);

    const file = join(dir, "part.ckpt");
    const first = setup();
    first.run.checkpoint = { file, every: 4, resume: false, fingerprint: "f" };
    first.run.stopAfter = 6; // "killed" after step 6: the checkpoint holds step 4
    const p = await train(first.run);
    expect(p.complete).toBe(false);
    expect(readCheckpoint<{ step: number }>(file)!.progress.step).toBe(4);
    // The interrupted run wrote nothing into its model.
    expect(Array.from(init(first.model).get("stem.bn.mean")!)).toEqual([0, 0, 0]);

    const second = setup();
    second.run.checkpoint = { file, every: 4, resume: true, fingerprint: "f" };
    const b = await train(second.run);
    expect(b.resumedFrom).toBe(4);
    expect(b.stepsThisRun).toBe(11);
    const va = init(full.model);
    const vb = init(second.model);
    for (const [name, v] of va) expect(Buffer.from(vb.get(name)!.buffer).equals(Buffer.from(v.buffer))).toBe(true);
    expect(b.history).toEqual(a.history);
    expect(b.finalLoss).toBe(a.finalLoss);
    expect(b.finalAccuracy).toBe(a.finalAccuracy);
  });

  it("refuses to resume with other options or another supernet, and a corrupt checkpoint", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bnnas-ck-"));
    const file = join(dir, "x.ckpt");
    const first = setup();
    first.run.checkpoint = { file, every: 2, resume: false, fingerprint: "f" };
    first.run.stopAfter = 2;
    await train(first.run);
    const other = setup({ lr: 0.2 });
    other.run.checkpoint = { file, every: 2, resume: true, fingerprint: "f" };
    await expect(train(other.run)).rejects.toThrow(/^resume: .*config\.lr = 0\.1, now 0\.2/);
    const otherNet = setup();
    otherNet.run.checkpoint = { file, every: 2, resume: true, fingerprint: "g" };
    await expect(train(otherNet.run)).rejects.toThrow(/a different supernet file/);
    const bytes = readFileSync(file);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, bytes.subarray(0, bytes.length - 5));
    const again = setup();
    again.run.checkpoint = { file, every: 2, resume: true, fingerprint: "f" };
    await expect(train(again.run)).rejects.toThrow(InputFileError);
    await expect(train(again.run)).rejects.toThrow(/not a usable bnnas checkpoint/);
  });

  it("stops on a NaN loss, keeps the last good checkpoint and writes nothing into the model", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bnnas-ck-"));
    const file = join(dir, "nan.ckpt");
    const bad = setup({}, { nanAtCall: 7 });
    bad.run.checkpoint = { file, every: 3, resume: false, fingerprint: "f" };
    await expect(train(bad.run)).rejects.toThrow(NumericError);
    await expect(train(setup({}, { nanAtCall: 1 }).run)).rejects.toThrow(/training diverged at step 1 \(loss NaN/);
    expect(readCheckpoint<{ step: number }>(file)!.progress.step).toBe(6);
    expect(Array.from(init(bad.model).get("stem.bn.mean")!)).toEqual([0, 0, 0]);
    expect(existsSync(file)).toBe(true);
  });

  it("refuses a batch larger than the data", async () => {
    await expect(train(setup({ batch: 41 }).run)).rejects.toThrow(UsageError);
    await expect(train(setup({ batch: 41 }).run)).rejects.toThrow(/^batch 41 is larger than the training data \(40 images in memory\)/);
  });

  it("caps with --steps and counts epochs: steps alone run past one epoch, both take the smaller", async () => {
    expect((await train(setup({ epochs: undefined, steps: 12 }).run)).steps).toBe(12);
    expect((await train(setup({ epochs: 1, steps: 12 }).run)).steps).toBe(5);
    const r = await train(setup({ epochs: undefined, steps: 7 }).run);
    expect(r.history.map((h) => [h.epoch, h.step, h.complete])).toEqual([[1, 5, true], [2, 7, false]]);
  });
});
