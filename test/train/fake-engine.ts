/**
 * Test helper: a tiny supernet model (BatchNormalization nodes with initializers only; it is
 * never run) and a deterministic engine over it whose loss and gradients are a real function of
 * the batch, the labels, the path and the parameters. It lets the trainer's bookkeeping
 * (sampling, data order, optimiser, running statistics, checkpoints, resume) be tested exactly
 * without onnxruntime; the real engine is tested in engine-integration tests.
 */
import { GraphBuilder } from "../../src/onnx/builder.js";
import type { ModelProto } from "../../src/onnx/proto.js";
import type { Tensor } from "../../src/onnx/tensor.js";
import type { SupernetStructure, BatchNormRef } from "../../src/structure/structure.js";
import type { PathEngine } from "../../src/train/trainer.js";

const C = 3;

export function tinySupernet(): { model: ModelProto; structure: SupernetStructure } {
  const b = new GraphBuilder();
  let h = b.input("x", ["batch", 1, 2, 2]);
  const bn = (label: string, input: string): { out: string; ref: BatchNormRef } => {
    const scale = b.floatInit(`${label}.scale`, [C], [1, 1, 1]);
    const bias = b.floatInit(`${label}.bias`, [C], [0, 0, 0]);
    const mean = b.floatInit(`${label}.mean`, [C], [0, 0, 0]);
    const vr = b.floatInit(`${label}.var`, [C], [1, 1, 1]);
    const out = b.op("BatchNormalization", [input, scale, bias, mean, vr], {}, label);
    return { out, ref: { node: label, scale, bias, mean, var: vr } };
  };
  h = bn("stem.bn", h).out;
  const layers: SupernetStructure["layers"] = [];
  for (let l = 0; l < 2; l++) {
    const candidates = [];
    const n = l === 0 ? 3 : 2; // layer 1 has fewer candidates; position 2 is skip in layer 0
    for (let k = 0; k < n; k++) {
      if (l === 0 && k === 2) {
        candidates.push({ name: "skip", position: k, output: h, maskMul: `m${l}${k}`, batchNorms: [], indicator: null });
        continue;
      }
      const a = bn(`layers.${l}.op${k}.bn1`, h);
      const z = bn(`layers.${l}.op${k}.bn2`, a.out);
      candidates.push({ name: `op${k}`, position: k, output: z.out, maskMul: `m${l}${k}`, batchNorms: [a.ref, z.ref], indicator: z.ref });
    }
    layers.push({ label: `layers.${l}`, input: h, output: h, mask: { kind: "vector", input: `mask${l}` }, candidates });
  }
  b.output(h);
  return { model: b.build({ name: "tiny" }), structure: { source: "bnnas", input: { name: "x", shape: ["batch", 1, 2, 2] }, output: h, layers } };
}

/** Loss = sum over the path's trainable params of 0.5 * s * (p - t)^2, s and t from the batch. */
export function fakeEngine(structure: SupernetStructure, options: { bn: "last" | "all"; nanAtCall?: number }): PathEngine & { calls: number; seenPaths: number[][] } {
  const onPath = (arch: readonly number[]) => ["stem.bn", ...arch.flatMap((p, l) => structure.layers[l]!.candidates.find((c) => c.position === p)!.batchNorms.map((r) => r.node))];
  const engine = {
    calls: 0,
    seenPaths: [] as number[][],
    trainableOnPath(arch: readonly number[]) {
      const names: string[] = [];
      for (const [l, p] of arch.entries()) {
        const c = structure.layers[l]!.candidates.find((x) => x.position === p)!;
        const bns = options.bn === "last" ? (c.indicator ? [c.indicator] : []) : c.batchNorms;
        for (const r of bns) names.push(r.scale, r.bias);
      }
      return names;
    },
    async step(arch: readonly number[], x: Tensor, labels: Int32Array, params: ReadonlyMap<string, Float32Array>) {
      engine.calls += 1;
      engine.seenPaths.push([...arch]);
      const xs = x.data as Float32Array;
      let m = 0;
      for (const v of xs) m += v;
      m /= xs.length;
      const s = 1 + m * m;
      const t = labels.reduce((a, l) => a + l, 0) / labels.length / 10;
      let loss = 0;
      const grads = new Map<string, Float32Array>();
      for (const name of engine.trainableOnPath(arch)) {
        const p = params.get(name)!;
        const g = new Float32Array(p.length);
        for (let i = 0; i < p.length; i++) {
          const d = p[i]! - t * (i + 1);
          loss += 0.5 * s * d * d;
          g[i] = s * d;
        }
        grads.set(name, g);
      }
      if (options.nanAtCall === engine.calls) loss = NaN;
      const batchStats = new Map<string, { mean: Float32Array; var: Float32Array; count: number }>();
      for (const node of onPath(arch)) batchStats.set(node, { mean: Float32Array.of(m, 2 * m, t), var: Float32Array.of(s, 1, t + 0.5), count: labels.length * 4 });
      const correct = labels.filter((l) => l % 2 === 0).length;
      return { loss, correct, grads, batchStats };
    },
  };
  return engine;
}
