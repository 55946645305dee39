/**
 * Full-weight training against PyTorch: two SGD steps (Nesterov, weight decay on conv and linear
 * weights) of a standalone fmnist-small subnet on one batch, every weight trained, compared with
 * test/fixtures/full-step/expected.json (made by its make_fixture.py with Debian's torch, from an
 * independent interpretation of the same ONNX file). Step 1 is compared at the engine (loss,
 * logits' argmax count, every weight gradient, batch statistics); both steps through the trainer
 * (parameter updates, running statistics), so the optimiser and the statistics are covered too.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readModel } from "../../src/model/model-io.js";
import { subnetStructure } from "../../src/supernet/trainable.js";
import { readSubnetManifest } from "../../src/supernet/subnet-manifest.js";
import { createEngine } from "../../src/train/engine.js";
import { train, type TrainConfig } from "../../src/train/trainer.js";
import { makeBatch } from "../../src/data/batches.js";
import type { Dataset } from "../../src/data/dataset.js";
import { readFloats } from "../../src/onnx/tensor.js";
import type { ModelProto } from "../../src/onnx/proto.js";
import { FIXTURES_DIR } from "../fixtures/paths.js";

const dir = join(FIXTURES_DIR, "full-step");
const file = join(dir, "subnet.onnx");
interface Tol { rtol?: number; atol?: number }
const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as {
  batch: { labels: number[]; pixels_base64: string };
  params: Record<string, number[]>;
  /** BN running statistics: name -> shape. */
  buffers: Record<string, number[]>;
  zero_grad_params: string[];
  tolerances: Record<string, Tol> & { delta_after_step2_rtol_per_tensor: Record<string, number> };
  loss: number;
  loss_step2: number;
  logits: number[][];
  grads: Record<string, number[]>;
  batch_stats: Record<string, { n: number; mean: number[]; var_biased: number[] }>;
  running: Record<string, number[]>;
  running_step2: Record<string, number[]>;
  after_step1: Record<string, number[]>;
  after_step2: Record<string, number[]>;
};

/** The fixture's batch as a 32-image dataset (training takes batch 32, so every step sees exactly it). */
function fixtureData(): Dataset {
  const images = Uint8Array.from(Buffer.from(expected.batch.pixels_base64, "base64"));
  return { images, labels: Uint8Array.from(expected.batch.labels), count: expected.batch.labels.length, channels: 1, height: 28, width: 28, classes: 10, source: "full-step fixture" };
}

/** max |a - e| <= rtol * max|e| + atol, the fixture's metric, per tensor. */
function expectClose(actual: ArrayLike<number>, want: readonly number[], tol: Tol, what: string): void {
  expect(actual.length, what).toBe(want.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - want[i]!));
    maxRef = Math.max(maxRef, Math.abs(want[i]!));
  }
  expect(maxDiff, `${what}: max diff ${maxDiff} vs max |ref| ${maxRef}`).toBeLessThanOrEqual((tol.rtol ?? 0) * maxRef + (tol.atol ?? 0));
}

const config: TrainConfig = {
  steps: 1, batch: 32, lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-5, weightDecayBn: false, schedule: "constant",
  labelSmoothing: 0.1, sampler: "fixed", arch: [], bn: "all", trainHead: true, seed: 0,
};

async function trainSteps(steps: number): Promise<ModelProto> {
  const model = readModel(file);
  const structure = subnetStructure(model, file, readSubnetManifest(model, file));
  const norm = readSubnetManifest(model, file)!.input.normalize!;
  const engine = await createEngine(model, structure, { weights: "all", bn: "all", trainHead: true, labelSmoothing: 0.1, threads: 1 });
  try {
    const r = await train({ model, file, structure, engine, data: fixtureData(), norm, config: { ...config, steps } });
    expect(r.complete).toBe(true);
  } finally {
    await engine.release();
  }
  return model;
}

const values = (m: ModelProto) => new Map(m.graph!.initializer.map((t) => [t.name, readFloats(t)]));
const minus = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a, (v, i) => v - b[i]!);

describe("full-weight training matches PyTorch (two SGD steps of a subnet)", () => {
  it("step 1 at the engine: loss, every weight gradient, batch statistics", async () => {
    const model = readModel(file);
    const structure = subnetStructure(model, file, readSubnetManifest(model, file));
    const engine = await createEngine(model, structure, { weights: "all", bn: "all", trainHead: true, labelSmoothing: 0.1, threads: 1 });
    try {
      const data = fixtureData();
      const { x, labels } = makeBatch(data, Array.from({ length: data.count }, (_, i) => i), readSubnetManifest(model, file)!.input.normalize!);
      const r = await engine.step([], x, labels, new Map());
      expect(Math.abs(r.loss - expected.loss)).toBeLessThanOrEqual(expected.tolerances.loss!.atol!);
      const argmaxHits = expected.logits.filter((row, i) => row.indexOf(Math.max(...row)) === expected.batch.labels[i]).length;
      expect(r.correct).toBe(argmaxHits);
      const trained = Object.keys(expected.params);
      expect([...r.grads.keys()].sort()).toEqual([...trained].sort());
      for (const name of trained) {
        const tol = expected.zero_grad_params.includes(name) ? { atol: 1e-6 } : expected.tolerances.grads!;
        expectClose(r.grads.get(name)!, expected.grads[name]!, tol, `grad ${name}`);
      }
      const bnOfScale = new Map(model.graph!.node.filter((n) => n.opType === "BatchNormalization").map((n) => [n.input[1]!, n.name]));
      for (const [scale, s] of Object.entries(expected.batch_stats)) {
        const got = r.batchStats.get(bnOfScale.get(scale)!)!;
        expect(got.count, scale).toBe(s.n);
        expectClose(got.mean, s.mean, expected.tolerances.batch_stats!, `batch mean of ${scale}`);
        expectClose(got.var, s.var_biased, expected.tolerances.batch_stats!, `batch var of ${scale}`);
      }
    } finally {
      await engine.release();
    }
  });

  it("steps 1 and 2 through the trainer: parameter updates (Nesterov, weight decay) and running statistics", async () => {
    const initial = values(readModel(file));
    const one = values(await trainSteps(1));
    for (const name of Object.keys(expected.params)) {
      expectClose(minus(one.get(name)!, initial.get(name)!), minus(expected.after_step1[name]!, initial.get(name)!), expected.tolerances.delta_after_step1!, `step 1 update of ${name}`);
    }
    for (const name of Object.keys(expected.buffers)) expectClose(one.get(name)!, expected.running[name]!, expected.tolerances.running!, `running ${name} after step 1`);
    const two = values(await trainSteps(2));
    for (const name of Object.keys(expected.params)) {
      // Step 2 amplifies step 1's float rounding: the fixture measured, per tensor, how far a 1-ulp
      // nudge of step 1 moves the step-2 update (up to 5%). bnnas sums in another order than
      // PyTorch, so it is held to twice that, at least 1%; a missing momentum or Nesterov term
      // changes every update by tens of percent.
      const rtol = Math.max(0.01, 2 * (expected.tolerances.delta_after_step2_rtol_per_tensor[name] ?? 0));
      expectClose(minus(two.get(name)!, expected.after_step1[name]!), minus(expected.after_step2[name]!, expected.after_step1[name]!), { rtol, atol: expected.tolerances.delta_after_step2!.atol }, `step 2 update of ${name}`);
    }
    for (const name of Object.keys(expected.buffers)) expectClose(two.get(name)!, expected.running_step2[name]!, expected.tolerances.running_step2!, `running ${name} after step 2`);
  });
});
