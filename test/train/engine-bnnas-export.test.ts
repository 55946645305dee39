/**
 * The engine on a bnnas-exported supernet (fmnist-small: Gather/Mul/Sum mask layers, residual
 * adds, ReLU6, GlobalAveragePool + Flatten + Gemm head) against one monolithic backward graph of
 * the WHOLE supernet (every candidate, masks fed one-hot) built by the same autodiff: checks the
 * partition, the chaining of segments through JavaScript, trainable-set selection and the mask
 * rules (Gather, Mul, Sum) on a real graph. (Finite differences are no oracle here: gradients of
 * BN biases ahead of ReLU6 are dominated by kinks a finite step crosses.)
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportSupernet } from "../../src/supernet/export.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { loadSupernet } from "../../src/supernet/load.js";
import { createEngine } from "../../src/train/engine.js";
import { GraphBuilder } from "../../src/onnx/builder.js";
import { GraphIndex } from "../../src/onnx/graph.js";
import { DataType } from "../../src/onnx/proto.js";
import { readFloats, type Tensor } from "../../src/onnx/tensor.js";
import { Session } from "../../src/runtime/ort.js";
import { inferShapes } from "../../src/opset/infer.js";
import { emitTrainingForward } from "../../src/autodiff/forward.js";
import { emitSoftmaxCrossEntropy } from "../../src/autodiff/loss.js";
import { buildBackward } from "../../src/autodiff/backward.js";
import { Random } from "../../src/util/random.js";

describe("engine on a bnnas-exported supernet", () => {
  it("matches a monolithic backward of the whole mask-weighted supernet (bn all, train head, label smoothing)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "bnnas-engine-")), "fmnist-small.onnx");
    exportSupernet(builtinSpace("fmnist-small"), file, { seed: 3 });
    const { model, structure } = loadSupernet(file);
    const engine = await createEngine(model, structure, { bn: "all", trainHead: true, labelSmoothing: 0.1, threads: 1 });
    const rng = new Random(11);
    const rand = () => rng.uniform() * 2 - 1;
    const n = 4;
    const x: Tensor = { dims: [n, 1, 28, 28], data: Float32Array.from({ length: n * 784 }, rand) };
    const labels = Int32Array.of(1, 7, 3, 3);
    // a residual candidate in layer 2 (32->32, stride 1) and the skip in layer 4
    const arch = structure.layers.map((l, i) => (i === 4 ? Math.max(...l.candidates.map((c) => c.position)) : l.candidates[(i * 2) % l.candidates.length]!.position));
    const names = engine.trainableOnPath(arch);
    const r = await engine.step(arch, x, labels, new Map());
    await engine.release();
    expect(new Set(r.grads.keys())).toEqual(new Set(names));

    // The monolithic graph: every node of the supernet, trainable params as inputs.
    const graph = model.graph!;
    const index = new GraphIndex(graph);
    const shapes = inferShapes(graph);
    const b = new GraphBuilder();
    for (const i of graph.input) if (!index.initializers.has(i.name)) b.inputs.push(i);
    for (const p of names) b.input(p, index.initializers.get(p)!.dims.map(Number));
    for (const t of graph.initializer) if (!names.includes(t.name)) b.initializer(t);
    const lab = b.input("labels", ["N"], DataType.INT64);
    const order = index.topoOrder();
    emitTrainingForward(b, order, shapes);
    const { loss, dlogits } = emitSoftmaxCrossEntropy(b, structure.output, lab, 10, 0.1);
    b.output(loss, []);
    const grads = buildBackward(b, { nodes: order, shapes, constant: (t) => (names.includes(t) ? undefined : index.constant(t)), seeds: new Map([[structure.output, dlogits]]), wrt: names });
    for (const g of grads.values()) b.output(g);
    const session = await Session.create(b.build({ name: "whole" }), { threads: 1 });
    const feeds: Record<string, Tensor> = { [structure.input.name]: x, labels: { dims: [n], data: BigInt64Array.from(labels, (v) => BigInt(v)) } };
    structure.layers.forEach((l, i) => {
      if (l.mask.kind !== "vector") throw new Error("expected vector masks");
      const k = shapes.get(l.mask.input)![0] as number;
      feeds[l.mask.input] = { dims: [k], data: Float32Array.from({ length: k }, (_, j) => (j === arch[i] ? 1 : 0)) };
    });
    for (const p of names) feeds[p] = { dims: index.initializers.get(p)!.dims.map(Number), data: readFloats(index.initializers.get(p)!) };
    const out = await session.run(feeds);
    await session.release();
    expect(Math.abs(r.loss - (out[loss]!.data as Float32Array)[0]!)).toBeLessThan(1e-5);
    for (const name of names) {
      const want = out[grads.get(name)!]!.data as Float32Array;
      const got = r.grads.get(name)!;
      const scale = Math.max(...Array.from(want, Math.abs), 1e-6);
      got.forEach((g, i) => expect(Math.abs(g - want[i]!), `${name}[${i}]`).toBeLessThanOrEqual(1e-4 * scale + 1e-7));
    }
  });
});
