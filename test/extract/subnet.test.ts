import { describe, expect, it } from "vitest";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extractSubnet } from "../../src/extract/subnet.js";
import { oneHotMaskFeeds } from "../../src/extract/masks.js";
import { encodeModel, writeModel } from "../../src/model/model-io.js";
import { nodeReads } from "../../src/extract/prune.js";
import { Session } from "../../src/runtime/ort.js";
import { ArchError } from "../../src/errors.js";
import type { ModelProto, NodeProto } from "../../src/onnx/proto.js";
import { GraphIndex } from "../../src/onnx/graph.js";
import { candidateAt } from "../../src/structure/structure.js";
import type { Tensor } from "../../src/onnx/tensor.js";
import { loadTorchTiny, torchTinyExpected } from "./torch-tiny.js";
import { onnxCheckerProblems } from "./onnx-checker.js";

const { model: supernet, structure } = loadTorchTiny();
const expected = torchTinyExpected();
const x: Tensor = { dims: expected.input_shape, data: Float32Array.from(expected.input) };

async function runOnce(model: ModelProto, feeds: Record<string, Tensor>): Promise<Float32Array> {
  const s = await Session.create(model, { threads: 1 });
  try {
    const out = await s.run(feeds);
    return out[s.outputNames[0]!]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const superSession = await Session.create(supernet, { threads: 1 });
async function supernetLogits(arch: number[], input: Tensor = x): Promise<Float32Array> {
  const out = await superSession.run({ [structure.input.name]: input, ...oneHotMaskFeeds(structure, arch, supernet.graph!) });
  return out[structure.output]!.data as Float32Array;
}

describe("extractSubnet on the PyTorch torch-tiny supernet", () => {
  it("matches PyTorch's standalone subnet logits (expected.json cases), with and without --fold-bn", async () => {
    for (const c of expected.cases) {
      for (const foldBn of [false, true]) {
        const { model } = extractSubnet(supernet, structure, c.arch, { foldBn });
        const logits = await runOnce(model, { x });
        expect(maxAbsDiff(logits, c.logits), `arch ${c.arch} foldBn ${foldBn}`).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it("matches the supernet run with the one-hot mask for many architectures", async () => {
    const archs = [
      [0, 0, 0], [3, 2, 3], [1, 1, 1], [2, 2, 2], [3, 0, 3], [0, 2, 3], [2, 1, 0], [3, 1, 2],
    ];
    for (const arch of archs) {
      const want = await supernetLogits(arch);
      for (const foldBn of [false, true]) {
        const got = await runOnce(extractSubnet(supernet, structure, arch, { foldBn }).model, { x });
        expect(maxAbsDiff(got, want), `arch ${arch} foldBn ${foldBn}`).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it("keeps only the chosen path: no masks, no unused initializer, BNs in inference mode or folded", () => {
    const arch = [2, 0, 3];
    const { model, names } = extractSubnet(supernet, structure, arch);
    const g = model.graph!;
    expect(names).toEqual(["op2", "op0", "op3"]);
    expect(g.input.map((i) => i.name)).toEqual(["x"]);
    const read = new Set(g.node.flatMap(nodeReads));
    expect(g.initializer.filter((t) => !read.has(t.name)).map((t) => t.name)).toEqual([]);
    expect(g.node.filter((n) => ["Gather", "Sum"].includes(n.opType))).toEqual([]);
    // stem + dw-separable (2 BNs) + conv3x3 (1 BN) + skip (0) = 4 BatchNorms
    expect(g.node.filter((n) => n.opType === "BatchNormalization")).toHaveLength(4);
    const inits = g.initializer.map((t) => t.name).sort();
    expect(inits.every((n) => /^(stem|blocks\.0\.2|blocks\.1\.0|head)\./.test(n))).toBe(true);
    const folded = extractSubnet(supernet, structure, arch, { foldBn: true }).model.graph!;
    expect(folded.node.filter((n) => n.opType === "BatchNormalization")).toHaveLength(0);
    expect(folded.node.filter((n) => n.opType === "Conv").every((n) => n.input.length === 3)).toBe(true);
  });

  it("does not modify the supernet it was given", () => {
    const before = Buffer.from(encodeModel(supernet));
    extractSubnet(supernet, structure, [1, 2, 1], { foldBn: true });
    expect(Buffer.from(encodeModel(supernet)).equals(before)).toBe(true);
  });

  it("has a dynamic batch", async () => {
    const { model } = extractSubnet(supernet, structure, [1, 2, 1]);
    expect(model.graph!.input[0]!.type!.tensorType!.shape!.dim[0]!.dimParam).toBe("batch");
    const one: Tensor = { dims: [1, 3, 16, 16], data: (x.data as Float32Array).slice(0, 3 * 16 * 16) };
    const logits1 = await runOnce(model, { x: one });
    const case2 = expected.cases.find((c) => c.arch.join() === "1,2,1")!;
    expect(maxAbsDiff(logits1, case2.logits.slice(0, 5))).toBeLessThanOrEqual(1e-5);
  });

  it("writes files the ONNX checker (full_check) accepts, with sizes proportional to the subnet", () => {
    const dir = mkdtempSync(join(tmpdir(), "bnnas-extract-"));
    const files: string[] = [];
    const sizes = new Map<string, number>();
    for (const [arch, foldBn] of [[[0, 0, 0], false], [[1, 1, 1], false], [[2, 0, 3], true], [[3, 2, 3], false]] as const) {
      const f = join(dir, `sub-${arch.join("")}-${foldBn}.onnx`);
      const { model } = extractSubnet(supernet, structure, arch, { foldBn });
      writeModel(f, model);
      files.push(f);
      const weightBytes = model.graph!.initializer.reduce((s, t) => s + t.rawData.length, 0);
      const size = statSync(f).size;
      // The file is its weights plus a small graph: nothing of the other candidates is left.
      expect(size).toBeGreaterThanOrEqual(weightBytes);
      expect(size - weightBytes).toBeLessThan(6000);
      sizes.set(arch.join(""), size);
    }
    // Weight bytes are exactly the fixed part plus the chosen candidates' own weights.
    const index = new GraphIndex(supernet.graph!);
    const initBytes = (nodes: Iterable<NodeProto>) => {
      const names = new Set([...nodes].flatMap((n) => n.input).filter((i) => index.initializers.has(i)));
      return [...names].reduce((s, n) => s + index.initializers.get(n)!.rawData.length, 0);
    };
    const candBytes = (l: number, k: number) => initBytes(index.ancestors(candidateAt(structure.layers[l]!, k)!.output, new Set([structure.layers[l]!.input])));
    const allCandidates = structure.layers.flatMap((layer, l) => layer.candidates.map((c) => candBytes(l, c.position)));
    const fixedBytes = initBytes(supernet.graph!.node) - allCandidates.reduce((a, b) => a + b, 0);
    for (const arch of [[0, 0, 0], [1, 1, 1], [3, 2, 3]]) {
      const { model } = extractSubnet(supernet, structure, arch);
      const bytes = model.graph!.initializer.reduce((s, t) => s + t.rawData.length, 0);
      expect(bytes).toBe(fixedBytes + arch.reduce((s, k, l) => s + candBytes(l, k), 0));
    }
    expect(sizes.get("111")!).toBeGreaterThan(sizes.get("000")!);
    expect(onnxCheckerProblems(files)).toBe("");
  });

  it("refuses an invalid architecture, naming the layer and the allowed values", () => {
    expect(() => extractSubnet(supernet, structure, [0, 3, 0])).toThrow(ArchError);
    expect(() => extractSubnet(supernet, structure, [0, 3, 0])).toThrow(/layer 1 .*allowed: 0 \(op0\), 1 \(op1\), 2 \(op2\)/);
    expect(() => extractSubnet(supernet, structure, [0, 0])).toThrow(/2 entries but the supernet has 3 choice layers/);
  });
});
