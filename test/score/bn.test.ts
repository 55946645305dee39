import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSupernet } from "../../src/supernet/load.js";
import { bnIndicator } from "../../src/score/bn.js";
import { getIndicator } from "../../src/score/registry.js";
import { ArchScorer } from "../../src/score/arch-scorer.js";
import { GraphIndex } from "../../src/onnx/graph.js";
import { readFloats, setFloats } from "../../src/onnx/tensor.js";
import { NumericError, UsageError } from "../../src/errors.js";
import { TORCH_TINY_DIR } from "../fixtures/paths.js";

const TINY = TORCH_TINY_DIR;
const FIX = join(__dirname, "../fixtures/import");

/** The same float32 value as PyTorch computed. */
function expectF32(actual: number | null, expected: number | null) {
  if (expected === null) return expect(actual).toBeNull();
  expect(actual).not.toBeNull();
  expect(actual).toBe(expected);
}

describe("the bn indicator", () => {
  it("reproduces torch-tiny's expected scores", () => {
    const loaded = loadSupernet(join(TINY, "supernet.preserve.onnx"));
    const expected = JSON.parse(readFileSync(join(TINY, "expected.json"), "utf8")) as { scores: (number | null)[][] };
    const scores = getIndicator("bn").score({ ...loaded });
    expect(scores.map((r) => r.length)).toEqual(expected.scores.map((r) => r.length));
    scores.forEach((row, l) => row.forEach((s, k) => expectF32(s, expected.scores[l]![k]!)));
  });

  for (const file of ["matrix.onnx", "rowmask.onnx", "vector-pool.onnx", "shuffle.onnx"]) {
    it(`reproduces PyTorch's scores on ${file} (negative gammas included)`, () => {
      const loaded = loadSupernet(join(FIX, file));
      const exp = (JSON.parse(readFileSync(join(FIX, "expected.json"), "utf8")) as Record<string, { layers: { scores: (number | null)[] }[] }>)[file]!;
      const scores = bnIndicator.score(loaded);
      scores.forEach((row, l) => row.forEach((s, k) => expectF32(s, exp.layers[l]!.scores[k]!)));
    });
  }

  it("names the initializer holding NaN or Inf", () => {
    const loaded = loadSupernet(join(TINY, "supernet.preserve.onnx"));
    const t = new GraphIndex(loaded.model.graph!).initializers.get("blocks.2.1.1.weight")!;
    const g = readFloats(t);
    g[3] = Infinity;
    setFloats(t, g);
    expect(() => bnIndicator.score(loaded)).toThrow(NumericError);
    expect(() => bnIndicator.score(loaded)).toThrow(/'blocks\.2\.1\.1\.weight' of layer2\/op1 holds Infinity at channel 3/);
    g[3] = NaN;
    setFloats(t, g);
    expect(() => bnIndicator.score(loaded)).toThrow(/holds NaN/);
  });

  it("an unknown indicator is a usage error listing the known ones", () => {
    expect(() => getIndicator("synflow")).toThrow(UsageError);
    expect(() => getIndicator("synflow")).toThrow(/one of bn/);
  });
});

describe("ArchScorer", () => {
  it("sums candidate scores (null = 0) and costs like the per-candidate tables", () => {
    const loaded = loadSupernet(join(TINY, "supernet.preserve.onnx"));
    const scores = bnIndicator.score(loaded);
    const scorer = new ArchScorer(loaded.structure, scores);
    const arch = [2, 0, 3];
    expect(scorer.score(arch)).toBe(0 + scores[0]![2]! + scores[1]![0]! + 0);
    const batch = Int32Array.from([2, 0, 3, 0, 1, 2]);
    const out = new Float64Array(2);
    scorer.scoreBatch(batch, out);
    expect(out[0]).toBe(scorer.score(arch));
    expect(out[1]).toBe(scorer.score([0, 1, 2]));
    const s = loaded.structure;
    expect(scorer.cost(arch)).toEqual({
      macs: s.fixed!.macs + s.layers[0]!.candidates[2]!.macs! + s.layers[1]!.candidates[0]!.macs! + s.layers[2]!.candidates[3]!.macs!,
      params: s.fixed!.params + s.layers[0]!.candidates[2]!.params! + s.layers[1]!.candidates[0]!.params! + s.layers[2]!.candidates[3]!.params!,
    });
  });
});

describe("meanAbs", () => {
  it("equals PyTorch's float32 x.abs().mean() bit for bit, for many lengths", async () => {
    const { meanAbs } = await import("../../src/score/bn.js");
    const data = JSON.parse(readFileSync(join(__dirname, "../fixtures/score/mean_abs.json"), "utf8")) as { cases: { bits: number[]; mean_abs: number }[] };
    for (const c of data.cases) {
      const x = new Float32Array(new Uint32Array(c.bits).buffer);
      expect({ n: x.length, v: meanAbs(x) }).toEqual({ n: x.length, v: c.mean_abs });
    }
  });
});

describe("the bn indicator on a BNNAS++ (unbiased) supernet", () => {
  it("skip candidates have a BatchNorm and get a score, read the same from the manifest and from the graph", async () => {
    const { buildSupernet } = await import("../../src/supernet/export.js");
    const { builtinSpace } = await import("../../src/space/builtins.js");
    const { structureFromManifest } = await import("../../src/supernet/manifest.js");
    const { inferStructure } = await import("../../src/supernet/import.js");
    const { model, manifest } = buildSupernet(builtinSpace("fmnist-small"), { seed: 1, unbiased: true });
    const index = new GraphIndex(model.graph!);
    let i = 0;
    for (const l of manifest.layers) for (const c of l.candidates) {
      const t = index.initializers.get(c.indicator!.scale)!;
      setFloats(t, Float32Array.from(readFloats(t), (_, j) => ((i + j) % 7) * 0.25 - 0.5));
      i++;
    }
    const byManifest = bnIndicator.score({ model, structure: structureFromManifest(manifest), file: "m" });
    const byGraph = bnIndicator.score({ model, structure: inferStructure(model), file: "m" });
    expect(byGraph).toEqual(byManifest);
    expect(byManifest[2]![6]).not.toBeNull(); // layer 2's skip
    expect(byManifest.flat().every((s) => s !== null && s > 0)).toBe(true);
  });
});
