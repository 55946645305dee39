import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { loadSupernet } from "../../src/supernet/load.js";
import { createEngine } from "../../src/train/engine.js";
import { readFloats } from "../../src/onnx/tensor.js";

const DIR = "/work/shared/fixtures/torch-tiny";
interface TrainCase { arch: number[]; input_shape: number[]; input: number[]; labels: number[]; loss: number; grads: Record<string, number[]>; running_stats_after: Record<string, number[]> }
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, "utf8")) as { train_step: { cases: TrainCase[] } };

function relClose(actual: ArrayLike<number>, want: readonly number[], rel: number, what: string) {
  expect(actual.length, what).toBe(want.length);
  const scale = Math.max(...want.map(Math.abs), 1e-12);
  for (let i = 0; i < want.length; i++) {
    // relative to the entry, with a floor at 1e-4 of the tensor's largest entry (entries near 0)
    expect(Math.abs(actual[i]! - want[i]!), `${what}[${i}]: ${actual[i]} vs ${want[i]}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(want[i]!), 1e-2 * scale));
  }
}

describe("engine vs PyTorch on torch-tiny (train_step)", () => {
  for (const policy of ["save", "recompute"] as const) {
    it(`loss, every d/d gamma and beta, and running stats (bn all, activations ${policy})`, async () => {
      const { model, structure } = loadSupernet(`${DIR}/supernet.preserve.onnx`);
      const engine = await createEngine(model, structure, { bn: "all", trainHead: false, labelSmoothing: 0, threads: 1, activations: policy });
      const inits = new Map(model.graph!.initializer.map((t) => [t.name, t]));
      const params = new Map<string, Float32Array>();
      for (const l of structure.layers) for (const c of l.candidates) for (const bn of c.batchNorms) for (const n of [bn.scale, bn.bias]) params.set(n, readFloats(inits.get(n)!));
      for (const n of ["stem.1.weight", "stem.1.bias"]) params.set(n, readFloats(inits.get(n)!));
      try {
        for (const c of expected.train_step.cases) {
          const r = await engine.step(c.arch, { dims: c.input_shape, data: Float32Array.from(c.input) }, Int32Array.from(c.labels), params);
          expect(Math.abs(r.loss - c.loss) / c.loss, `loss ${r.loss} vs ${c.loss}`).toBeLessThanOrEqual(1e-4);
          expect(new Set(r.grads.keys())).toEqual(new Set(Object.keys(c.grads)));
          expect(new Set(engine.trainableOnPath(c.arch))).toEqual(new Set(Object.keys(c.grads)));
          for (const [name, g] of Object.entries(c.grads)) relClose(r.grads.get(name)!, g, 1e-4, `d loss / d ${name}`);
          // PyTorch's running-stat update applied to the engine's batch statistics.
          for (const [name, want] of Object.entries(c.running_stats_after)) {
            const bn = model.graph!.node.find((n) => n.opType === "BatchNormalization" && (n.input[3] === name || n.input[4] === name))!;
            const stats = r.batchStats.get(bn.name);
            expect(stats, `batch stats of ${bn.name}`).toBeDefined();
            const before = readFloats(inits.get(name)!);
            const isVar = name.endsWith("running_var");
            const batch = isVar ? stats!.var.map((v) => (v * stats!.count) / (stats!.count - 1)) : stats!.mean;
            relClose(before.map((v, i) => 0.9 * v + 0.1 * batch[i]!), want, 1e-4, name);
          }
          expect(r.correct).toBeGreaterThanOrEqual(0);
        }
      } finally {
        await engine.release();
      }
    });
  }
});
