import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { builtinSpace } from "../../src/space/builtins.js";
import { buildSupernet } from "../../src/supernet/export.js";
import { supernetOf } from "../../src/supernet/load.js";
import { encodeModel, writeModel } from "../../src/model/model-io.js";
import { createHash } from "node:crypto";
import { latencyBlocks } from "../../src/latency/blocks.js";
import { withTinyOutput } from "../../src/latency/measure.js";
import { extractSubnet } from "../../src/extract/subnet.js";
import { Session } from "../../src/runtime/ort.js";
import { Random } from "../../src/util/random.js";
import { randomizeBatchNorms, tempDir } from "../supernet/oracle.js";
import { onnxCheckerProblems } from "../extract/onnx-checker.js";

function fmnistSupernet() {
  const { model } = buildSupernet(builtinSpace("fmnist-small"), { seed: 3 });
  randomizeBatchNorms(model); // distinct statistics, so a BatchNorm folded wrongly shows
  const bytes = encodeModel(model);
  return supernetOf({ model, sha256: createHash("sha256").update(bytes).digest("hex") }, "fmnist.onnx");
}

describe("latency blocks", () => {
  const loaded = fmnistSupernet();
  const batch = 2;
  const blocks = latencyBlocks(loaded.model, loaded.structure, batch, loaded.file);

  it("cuts the stem, every candidate and the head, with static shapes at the batch; skips are empty", () => {
    expect(blocks.map((b) => b.key)).toEqual([
      "stem",
      ...loaded.structure.layers.flatMap((l, i) => l.candidates.map((c) => `layer${i}.${c.position}.${c.name}`)),
      "head",
    ]);
    expect(blocks[0]!.input.shape).toEqual([batch, 1, 28, 28]);
    for (const b of blocks) {
      expect(b.input.shape[0]).toBe(batch);
      expect(b.model === null).toBe(b.name === "skip");
    }
    for (const b of blocks.filter((x) => x.model)) {
      const g = b.model!.graph!;
      expect(g.input.map((i) => i.name)).toEqual([b.input.name]); // no mask inputs
      expect(g.node.filter((n) => n.opType === "BatchNormalization")).toEqual([]); // folded
      expect(g.node.some((n) => /mask/i.test(n.input.join(" ")))).toBe(false);
    }
  });

  it("blocks are valid ONNX (full check)", () => {
    const dir = tempDir();
    const files = blocks.filter((b) => b.model).slice(0, 3).concat(blocks[blocks.length - 1]!).map((b) => {
      const f = join(dir, `${b.key}.onnx`);
      writeModel(f, b.model!);
      return f;
    });
    expect(onnxCheckerProblems(files)).toBe("");
  });

  it("the blocks of an architecture, chained, compute the extracted subnet's logits (and the probe its first element)", async () => {
    const arch = [1, 4, 6, 2, 5, 0];
    const chain = ["stem", ...arch.map((p, l) => blocks.find((b) => b.layer === l && b.position === p)!.key), "head"].map((k) => blocks.find((b) => b.key === k)!);
    const rng = new Random(5);
    const x = { dims: [batch, 1, 28, 28], data: Float32Array.from({ length: batch * 784 }, () => rng.uniform() * 2 - 1) };
    let h = x;
    let headInput = x;
    for (const b of chain) {
      if (!b.model) continue;
      if (b.kind === "head") headInput = h;
      const s = await Session.create(b.model, { threads: 1 });
      h = Object.values(await s.run({ [b.input.name]: h }))[0]! as typeof x;
      await s.release();
    }
    const sub = await Session.create(extractSubnet(loaded.model, loaded.structure, arch, { foldBn: true }).model, { threads: 1 });
    const want = Object.values(await sub.run({ input: x }))[0]!;
    await sub.release();
    expect(h.dims).toEqual(want.dims);
    for (let i = 0; i < want.data.length; i++) expect(h.data[i]!).toBeCloseTo(Number(want.data[i]), 4);
    // The probe keeps the block's work and returns one element of its output.
    const head = chain[chain.length - 1]!;
    const probe = await Session.create(withTinyOutput(head.model!, head.output.shape.length), { threads: 1 });
    const one = Object.values(await probe.run({ [head.input.name]: headInput }))[0]!;
    await probe.release();
    expect(one.dims).toEqual([1, 1]);
    expect(Number(one.data[0])).toBeCloseTo(Number(want.data[0]), 4);
  });
});

