/**
 * The one-session step (fused layout) against the per-block engine (blocks layout, itself held
 * to PyTorch in test/train/engine.test.ts and torch-tiny-step.test.ts): same loss, gradients and
 * batch statistics on every kind of path, including skip candidates, the If chains choosing them
 * and the slots their outputs share; and the fused model is a valid ONNX model.
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportSupernet } from "../../../src/supernet/export.js";
import { builtinSpace } from "../../../src/space/builtins.js";
import { loadSupernet } from "../../../src/supernet/load.js";
import { createEngine, type EngineOptions, type StepResult } from "../../../src/train/engine.js";
import { partitionSupernet } from "../../../src/train/engine/partition.js";
import { TrainingPlan } from "../../../src/train/engine/plan.js";
import { buildFusedStep } from "../../../src/train/engine/fused-step.js";
import { encodeModel } from "../../../src/model/model-io.js";
import { readFloats, type Tensor } from "../../../src/onnx/tensor.js";
import type { ModelProto } from "../../../src/onnx/proto.js";
import type { SupernetStructure } from "../../../src/structure/structure.js";
import { Random } from "../../../src/util/random.js";
import { TORCH_TINY_DIR } from "../../fixtures/paths.js";

/** Uniform(-1, 1) draws from the project's seeded generator. */
function random(seed: number): () => number {
  const rng = new Random(seed);
  return () => rng.uniform() * 2 - 1;
}

/**
 * Max |a - b| relative to b's largest entry, floored at 1e-2: some gradients are analytically 0
 * (the beta of a BN whose output only reaches the next BN through a linear conv: that BN removes
 * any per-channel shift) and come out as float noise of ~1e-8, which no two summation orders share.
 */
function relDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0, s = 1e-2;
  for (let i = 0; i < a.length; i++) (d = Math.max(d, Math.abs(a[i]! - b[i]!))), (s = Math.max(s, Math.abs(b[i]!)));
  return d / s;
}

function expectSameStep(fused: StepResult, blocks: StepResult, what: string) {
  expect(Math.abs(fused.loss - blocks.loss), `${what}: loss`).toBeLessThanOrEqual(1e-5 * Math.abs(blocks.loss));
  expect(fused.correct, `${what}: correct`).toBe(blocks.correct);
  expect([...fused.grads.keys()].sort(), `${what}: gradient names`).toEqual([...blocks.grads.keys()].sort());
  for (const [name, g] of blocks.grads) expect(relDiff(fused.grads.get(name)!, g), `${what}: d/d ${name}`).toBeLessThanOrEqual(1e-4);
  expect([...fused.batchStats.keys()].sort(), `${what}: BNs with statistics`).toEqual([...blocks.batchStats.keys()].sort());
  for (const [bn, s] of blocks.batchStats) {
    const f = fused.batchStats.get(bn)!;
    expect(f.count, `${what}: ${bn} count`).toBe(s.count);
    expect(relDiff(f.mean, s.mean), `${what}: ${bn} mean`).toBeLessThanOrEqual(1e-5);
    expect(relDiff(f.var, s.var), `${what}: ${bn} var`).toBeLessThanOrEqual(1e-5);
  }
}

/** Random BN params (so gamma/beta are not the trivial 1/0) for every initializer a BN reads as scale/bias. */
function perturbedParams(model: ModelProto, rand: () => number): Map<string, Float32Array> {
  const params = new Map<string, Float32Array>();
  for (const n of model.graph!.node)
    if (n.opType === "BatchNormalization")
      for (const name of [n.input[1]!, n.input[2]!]) {
        const t = model.graph!.initializer.find((i) => i.name === name)!;
        params.set(name, readFloats(t).map((v) => v + 0.3 * rand()));
      }
  return params;
}

async function compareLayouts(model: ModelProto, structure: SupernetStructure, options: EngineOptions, archs: number[][], x: Tensor, labels: Int32Array, params: Map<string, Float32Array>) {
  const fused = await createEngine(model, structure, { ...options, layout: "fused" });
  const blocks = await createEngine(model, structure, { ...options, layout: "blocks" });
  try {
    for (const arch of archs) expectSameStep(await fused.step(arch, x, labels, params), await blocks.step(arch, x, labels, params), `arch ${arch} (${JSON.stringify(options)})`);
  } finally {
    await fused.release();
    await blocks.release();
  }
}

describe("fused training step", () => {
  it("fmnist-small: equals the per-block engine on paths with skips, residuals and every kernel/expansion, --bn last and all", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "bnnas-fused-")), "fmnist-small.onnx");
    exportSupernet(builtinSpace("fmnist-small"), file, { seed: 5 });
    const { model, structure } = loadSupernet(file);
    const rand = random(7);
    const n = 8;
    const x: Tensor = { dims: [n, 1, 28, 28], data: Float32Array.from({ length: n * 784 }, rand) };
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 3) % 10);
    const params = perturbedParams(model, rand);
    const positions = structure.layers.map((l) => l.candidates.map((c) => c.position));
    const skip = (l: number) => positions[l]!.includes(6);
    const archs = [
      positions.map((p) => p[0]!),
      positions.map((p) => p[p.length - 1]!), // skip wherever allowed
      positions.map((p, l) => p[(l * 2 + 1) % p.length]!),
      positions.map((p, l) => (skip(l) ? 6 : p[5 - l]!)),
    ];
    await compareLayouts(model, structure, { bn: "last", trainHead: false, labelSmoothing: 0, threads: 2 }, archs, x, labels, params);
    await compareLayouts(model, structure, { bn: "all", trainHead: true, labelSmoothing: 0.1, threads: 2 }, archs.slice(1, 3), x, labels, params);
  });

  it("torch-tiny (PyTorch convention, skip candidates, a stem BN that trains with --bn all): equals the per-block engine on every path", async () => {
    const { model, structure } = loadSupernet(join(TORCH_TINY_DIR, "supernet.preserve.onnx"));
    const rand = random(3);
    const shape = structure.input.shape.map((d, i) => (i === 0 ? 4 : (d as number)));
    const x: Tensor = { dims: shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rand) };
    const classes = 5;
    const labels = Int32Array.from({ length: 4 }, (_, i) => i % classes);
    const params = perturbedParams(model, rand);
    const positions = structure.layers.map((l) => l.candidates.map((c) => c.position));
    const archs: number[][] = [[]];
    for (const p of positions) archs.splice(0, archs.length, ...archs.flatMap((a) => p.map((q) => [...a, q])));
    for (const options of [
      { bn: "all", trainHead: false, labelSmoothing: 0 },
      { bn: "last", trainHead: true, labelSmoothing: 0.1 },
    ] as const)
      await compareLayouts(model, structure, { ...options, threads: 1 }, archs, x, labels, params);
  });

  it("the fused model passes the ONNX checker (standard opset-17 ops, If branches included)", () => {
    const { model, structure } = loadSupernet(join(TORCH_TINY_DIR, "supernet.preserve.onnx"));
    const p = partitionSupernet(model, structure);
    const dir = mkdtempSync(join(tmpdir(), "bnnas-fused-check-"));
    const files = (["all", "last"] as const).map((bn) => {
      const fused = buildFusedStep(new TrainingPlan(structure, p, { bn, trainHead: bn === "last" }), "save", 0.1);
      const f = join(dir, `fused-${bn}.onnx`);
      writeFileSync(f, encodeModel(fused.model));
      return f;
    });
    const script = "import sys, onnx\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint(len(sys.argv) - 1)";
    expect(Number(execFileSync("/usr/bin/python3", ["-c", script, ...files], { encoding: "utf8" }).trim())).toBe(files.length);
  });
});
