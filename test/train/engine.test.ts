import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { loadSupernet } from "../../src/supernet/load.js";
import { FUSED_MAX_WEIGHT_BYTES, chooseLayout, createEngine } from "../../src/train/engine.js";
import { DataType, make } from "../../src/onnx/proto.js";
import { floatTensor, readFloats, tensorDims, type Tensor } from "../../src/onnx/tensor.js";
import type { ModelProto } from "../../src/onnx/proto.js";
import type { SupernetStructure } from "../../src/structure/structure.js";
import type { StepResult } from "../../src/train/engine.js";
import { extractSubnet } from "../../src/extract/subnet.js";
import { argmax } from "../../src/runtime/eval.js";
import { Session } from "../../src/runtime/ort.js";
import { Random } from "../../src/util/random.js";
import { TORCH_TINY_DIR } from "../fixtures/paths.js";

const DIR = TORCH_TINY_DIR;
interface TrainCase { arch: number[]; input_shape: number[]; input: number[]; labels: number[]; loss: number; grads: Record<string, number[]>; running_stats_after: Record<string, number[]> }
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, "utf8")) as { train_step: { cases: TrainCase[] } };

function relClose(actual: ArrayLike<number>, want: readonly number[], rel: number, what: string) {
  expect(actual.length, what).toBe(want.length);
  const scale = Math.max(...want.map(Math.abs), 1e-12);
  for (let i = 0; i < want.length; i++) {
    // relative to the entry, with a floor at 5e-2 of the tensor's largest entry: float32 engines
    // summing in different orders differ by ~1e-6 of the largest gradient (measured 1.4e-6..4.7e-6
    // on this fixture, before and after the centred BN), so entries under a few % of the largest
    // cannot be held to 1e-4 of themselves
    expect(Math.abs(actual[i]! - want[i]!), `${what}[${i}]: ${actual[i]} vs ${want[i]}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(want[i]!), 5e-2 * scale));
  }
}

/**
 * The step's top-1 hit count, computed outside the engine: the extracted path run by onnxruntime
 * with inference-mode BatchNorms whose running statistics are the step's batch statistics (a
 * training-mode BatchNorm normalises with the batch mean and biased variance, which is what an
 * inference-mode one does with those as its statistics), and `params` in place of the initializers.
 */
async function correctOutsideEngine(model: ModelProto, structure: SupernetStructure, arch: number[], x: Tensor, labels: Int32Array, r: StepResult, params: Map<string, Float32Array>): Promise<number> {
  const { model: subnet } = extractSubnet(model, structure, arch);
  const g = subnet.graph!;
  const values = new Map(params);
  for (const n of g.node.filter((n) => n.opType === "BatchNormalization")) {
    const stats = r.batchStats.get(n.name);
    expect(stats, `batch stats of ${n.name}`).toBeDefined();
    values.set(n.input[3]!, stats!.mean);
    values.set(n.input[4]!, stats!.var);
  }
  // New tensors, not setFloats: the subnet shares its initializer objects with the supernet.
  g.initializer = g.initializer.map((t) => (values.has(t.name) ? floatTensor(t.name, tensorDims(t), values.get(t.name)!) : t));
  const s = await Session.create(subnet, { threads: 1 });
  const logits = (await s.run({ [g.input[0]!.name]: x }))[g.output[0]!.name]!;
  const classes = logits.dims[1]!;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (argmax(logits.data as Float32Array, i * classes, classes) === labels[i]) correct++;
  return correct;
}

describe("engine vs PyTorch on torch-tiny (train_step)", () => {
  for (const layout of ["fused", "blocks"] as const)
  for (const policy of ["save", "recompute", "checkpoint"] as const) {
    it(`loss, every d/d gamma and beta, and running stats (bn all, ${layout} layout, activations ${policy})`, async () => {
      const { model, structure } = loadSupernet(`${DIR}/supernet.preserve.onnx`);
      const engine = await createEngine(model, structure, { bn: "all", trainHead: false, labelSmoothing: 0, threads: 1, layout, activations: policy });
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
          const x = { dims: c.input_shape, data: Float32Array.from(c.input) };
          expect(r.correct).toBe(await correctOutsideEngine(model, structure, c.arch, x, Int32Array.from(c.labels), r, params));
        }
      } finally {
        await engine.release();
      }
    });
  }
});

describe("engine modes on torch-tiny", () => {
  const c = expected.train_step.cases[0]!;
  const x = { dims: c.input_shape, data: Float32Array.from(c.input) };
  const labels = Int32Array.from(c.labels);

  it("--bn last trains only each candidate's indicator BN, with the same gradients as --bn all", async () => {
    const { model, structure } = loadSupernet(`${DIR}/supernet.preserve.onnx`);
    const all = await createEngine(model, structure, { bn: "all", trainHead: false, labelSmoothing: 0, threads: 1 });
    const last = await createEngine(model, structure, { bn: "last", trainHead: false, labelSmoothing: 0, threads: 1 });
    try {
      const indicators = c.arch.flatMap((pos, l) => {
        const ind = structure.layers[l]!.candidates.find((k) => k.position === pos)!.indicator;
        return ind ? [ind.scale, ind.bias] : [];
      });
      expect(last.trainableOnPath(c.arch).sort()).toEqual(indicators.sort());
      const ra = await all.step(c.arch, x, labels, new Map());
      const rl = await last.step(c.arch, x, labels, new Map());
      expect(rl.loss).toBeCloseTo(ra.loss, 6);
      expect([...rl.grads.keys()].sort()).toEqual(indicators.sort());
      for (const [name, g] of rl.grads) relClose(g, Array.from(ra.grads.get(name)!), 1e-5, name);
      // batch statistics cover every BN on the path, stem included, whatever trains
      expect(rl.batchStats.size).toBe(ra.batchStats.size);
    } finally {
      await all.release();
      await last.release();
    }
  });

  it("--train-head with label smoothing: head and BN gradients match central differences of the engine's loss", async () => {
    const { model, structure } = loadSupernet(`${DIR}/supernet.preserve.onnx`);
    const engine = await createEngine(model, structure, { bn: "last", trainHead: true, labelSmoothing: 0.1, threads: 1 });
    try {
      const names = engine.trainableOnPath(c.arch);
      expect(names).toEqual(expect.arrayContaining(["head.weight", "head.bias"]));
      const params = new Map<string, Float32Array>();
      for (const t of model.graph!.initializer) if (names.includes(t.name)) params.set(t.name, readFloats(t));
      const r = await engine.step(c.arch, x, labels, params);
      expect(r.correct).toBe(await correctOutsideEngine(model, structure, c.arch, x, labels, r, params));
      const rng = new Random(3);
      const rand = () => rng.uniform() * 2 - 1;
      for (const name of ["head.weight", "head.bias", names[0]!]) {
        const p = params.get(name)!;
        const v = Float32Array.from(p, () => rand());
        const eps = 1e-2;
        const at = async (s: number) => (await engine.step(c.arch, x, labels, new Map([...params, [name, p.map((pi, i) => pi + s * eps * v[i]!)]]))).loss;
        const fd = ((await at(1)) - (await at(-1))) / (2 * eps);
        const dir = r.grads.get(name)!.reduce((s, g, i) => s + g * v[i]!, 0);
        expect(Math.abs(dir - fd), `${name}: ${dir} vs ${fd}`).toBeLessThanOrEqual(2e-2 * Math.abs(fd) + 1e-4);
      }
    } finally {
      await engine.release();
    }
  });

  it("rejects an architecture that does not fit, naming the layer", async () => {
    const { model, structure } = loadSupernet(`${DIR}/supernet.preserve.onnx`);
    const engine = await createEngine(model, structure, { bn: "all", trainHead: false, labelSmoothing: 0, threads: 1 });
    await expect(engine.step([0, 3, 0], x, labels, new Map())).rejects.toThrow(/position 3 is not a candidate/);
    await expect(engine.step([0, 0], x, labels, new Map())).rejects.toThrow(/2 entries; the supernet has 3 layers/);
    await engine.release();
  });
});

describe("engine layout", () => {
  it("auto: fused for a supernet whose weights fit FUSED_MAX_WEIGHT_BYTES, blocks past it; an explicit layout wins", () => {
    const withWeights = (floats: number) => make.model({ graph: make.graph({ name: "g", initializer: [make.tensor({ name: "w", dims: [floats], dataType: DataType.FLOAT })] }) });
    const fits = withWeights(FUSED_MAX_WEIGHT_BYTES / 4);
    const over = withWeights(FUSED_MAX_WEIGHT_BYTES / 4 + 1);
    expect(chooseLayout(fits)).toBe("fused");
    expect(chooseLayout(over)).toBe("blocks");
    expect(chooseLayout(over, "fused")).toBe("fused");
    expect(chooseLayout(fits, "blocks")).toBe("blocks");
  });
});
