/**
 * One BN-only training step on the PyTorch fixture (../shared/fixtures/torch-tiny), through the
 * real engine and the trainer's running-statistics bookkeeping: loss, gradients and running
 * statistics after the step must match PyTorch's (expected.json `train_step`) to 1e-4 relative.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { loadSupernet } from "../../src/supernet/load.js";
import { createEngine } from "../../src/train/engine.js";
import { TrainState, batchNormTable } from "../../src/train/params.js";
import { updateRunningStats } from "../../src/train/running-stats.js";
import { TORCH_TINY_DIR } from "../fixtures/paths.js";

const DIR = TORCH_TINY_DIR;
interface Case { arch: number[]; input_shape: number[]; input: number[]; labels: number[]; loss: number; grads: Record<string, number[]>; running_stats_after: Record<string, number[]> }
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, "utf8")) as { train_step: { cases: Case[] } };

/**
 * Gradients: 1e-4 relative to each entry, with a floor at 5e-2 of the tensor's largest entry. They
 * span 1e-6..7e-2 here, so an absolute 1e-4 would accept any small one; and two float32 engines
 * summing in different orders differ by ~1e-6 of the largest entry (measured), so entries under a
 * few % of it cannot be held to 1e-4 of themselves.
 */
function closeGrad(got: ArrayLike<number>, want: number[], what: string, rel = 1e-4) {
  expect(got.length, what).toBe(want.length);
  const scale = Math.max(...want.map(Math.abs));
  for (let i = 0; i < want.length; i++) {
    const tol = rel * Math.max(Math.abs(want[i]!), 5e-2 * scale);
    if (Math.abs(got[i]! - want[i]!) > tol) expect.fail(`${what}[${i}]: ${got[i]} vs PyTorch ${want[i]}`);
  }
}

function close(got: ArrayLike<number>, want: number[], what: string, rel = 1e-4) {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = rel * Math.max(1, Math.abs(want[i]!));
    if (Math.abs(got[i]! - want[i]!) > tol) expect.fail(`${what}[${i}]: ${got[i]} vs PyTorch ${want[i]}`);
  }
}

describe("torch-tiny training step vs PyTorch", () => {
  for (const c of expected.train_step.cases) {
    it(`arch ${c.arch}: loss, gradients and running statistics`, async () => {
      const { model, structure } = loadSupernet(`${DIR}/supernet.preserve.onnx`);
      const bns = batchNormTable(model, "torch-tiny");
      const state = new TrainState(model, bns, "torch-tiny");
      const engine = await createEngine(model, structure, { bn: "all", trainHead: false, labelSmoothing: 0, threads: 2 });
      try {
        const r = await engine.step(c.arch, { dims: c.input_shape, data: Float32Array.from(c.input) }, Int32Array.from(c.labels), state.params);
        expect(Math.abs(r.loss - c.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(c.loss)));
        // every BN gamma/beta on the path, and nothing else
        expect([...r.grads.keys()].sort()).toEqual(Object.keys(c.grads).sort());
        for (const [name, g] of Object.entries(c.grads)) closeGrad(r.grads.get(name)!, g, `d loss / d ${name}`);
        for (const [node, stats] of r.batchStats) {
          const bn = bns.get(node)!;
          updateRunningStats(state.running.get(bn.mean)!, state.running.get(bn.var)!, stats);
        }
        const names = Object.keys(c.running_stats_after);
        expect(names.length).toBeGreaterThan(0);
        // Tighter than 1e-4: the unbiased-variance factor n / (n - 1) moves running_var by only
        // ~1e-4 relative here (n = 512..2048), and this test must catch its absence.
        for (const name of names) close(state.running.get(name)!, c.running_stats_after[name]!, name, 1e-5);
        // every BN on the path (stem included) updates its running statistics
        expect(new Set(names)).toEqual(new Set([...r.batchStats.keys()].flatMap((node) => [bns.get(node)!.mean, bns.get(node)!.var])));
      } finally {
        await engine.release();
      }
    });

    it(`arch ${c.arch}, --bn last: the indicator BNs' gradients are PyTorch's, and only they train`, async () => {
      const { model, structure } = loadSupernet(`${DIR}/supernet.preserve.onnx`);
      const state = new TrainState(model, batchNormTable(model, "torch-tiny"), "torch-tiny");
      const engine = await createEngine(model, structure, { bn: "last", trainHead: false, labelSmoothing: 0, threads: 2 });
      try {
        const r = await engine.step(c.arch, { dims: c.input_shape, data: Float32Array.from(c.input) }, Int32Array.from(c.labels), state.params);
        expect(Math.abs(r.loss - c.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(c.loss)));
        const indicators = c.arch.flatMap((pos, l) => {
          const ind = structure.layers[l]!.candidates.find((k) => k.position === pos)!.indicator;
          return ind ? [ind.scale, ind.bias] : [];
        });
        expect(indicators.length).toBeGreaterThan(0);
        expect([...r.grads.keys()].sort()).toEqual(indicators.sort());
        for (const name of indicators) closeGrad(r.grads.get(name)!, c.grads[name]!, `d loss / d ${name} (--bn last)`);
      } finally {
        await engine.release();
      }
    });
  }
});
