import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { TORCH_TINY_DIR } from "../fixtures/paths.js";
import { runCli as run } from "./run-cli.js";

const TINY = TORCH_TINY_DIR;
const PRESERVE = join(TINY, "supernet.preserve.onnx");
const expected = JSON.parse(readFileSync(join(TINY, "expected.json"), "utf8")) as { scores: (number | null)[][] };
const dir = mkdtempSync(join(tmpdir(), "bnnas-score-cli-"));


describe("bnnas score-onnx", () => {
  it("--json prints the layer x candidate table equal to PyTorch's scores", async () => {
    const r = await run(["score-onnx", PRESERVE, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { layers: { label: string; candidates: { name: string; score: number | null }[] }[] };
    expect(j.layers.map((l) => l.candidates.map((c) => c.score))).toEqual(expected.scores);
    expect(j.layers[0]!.label).toBe("layer0");
  });

  it("--arch and --archs: score, MACs and params in input order", async () => {
    const f = join(dir, "archs.txt");
    writeFileSync(f, "# comment\n2,0,3\n\n0,1,2\n");
    const r = await run(["score-onnx", PRESERVE, "--archs", f, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { archs: { arch: number[]; score: number; macs: number; params: number }[] };
    expect(j.archs.map((a) => a.arch)).toEqual([[2, 0, 3], [0, 1, 2]]);
    const s = expected.scores;
    expect(j.archs[0]!.score).toBe(0 + s[0]![2]! + s[1]![0]! + 0);
    expect(j.archs[1]!.score).toBe(0 + s[0]![0]! + s[1]![1]! + s[2]![2]!);
    // stem 55296 + head 80; conv3x3 8->8 s1 147456... see test/supernet for the per-candidate counts
    expect(j.archs[0]!.macs).toBe(16 * 16 * 8 * 3 * 9 + 16 * 5 + (16 * 16 * 8 * 9 + 16 * 16 * 8 * 8) + 8 * 8 * 16 * 8 * 9 + 0);
    const one = JSON.parse((await run(["score-onnx", PRESERVE, "--arch", "2,0,3", "--json"])).out) as { archs: unknown[] };
    expect(one.archs).toEqual([j.archs[0]]);
  });

  it("--search exact returns the best architectures, best first, within the limits", async () => {
    const r = await run(["score-onnx", PRESERVE, "--search", "exact", "--top", "3", "--max-macs", "300K", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { best: { arch: number[]; score: number; macs: number }[]; search: { space: string } };
    expect(j.best.length).toBe(3);
    for (const b of j.best) expect(b.macs).toBeLessThanOrEqual(300_000);
    expect(j.best[0]!.score).toBeGreaterThanOrEqual(j.best[1]!.score);
    expect(j.search.space).toBe("full");
    // evolution finds nothing better than exact
    const e = JSON.parse((await run(["score-onnx", PRESERVE, "--search", "evolution", "--top", "3", "--max-macs", "300K", "--seed", "4", "--json"])).out) as { best: { score: number }[] };
    expect(e.best[0]!.score).toBeLessThanOrEqual(j.best[0]!.score);
  });

  it("text output is a readable table", async () => {
    const r = await run(["score-onnx", PRESERVE, "--arch", "2,0,3", "--search", "random", "--top", "2"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("layer0");
    expect(r.out).toContain(expected.scores[0]![2]!.toFixed(4));
    expect(r.out).toMatch(/best 2 by random search/);
  });

  it("bad input: one-line errors and non-zero exits", async () => {
    const cases: [string[], RegExp][] = [
      [["score-onnx", PRESERVE, "--arch", "0,0"], /has 2 values, but the supernet has 3 layers/],
      [["score-onnx", PRESERVE, "--arch", "0,3,0"], /layer 1: 3 is not a candidate/],
      [["score-onnx", PRESERVE, "--arch", "0,x,0"], /layer 1: 'x' is not a whole number/],
      [["score-onnx", join(TINY, "supernet.eval.onnx")], /folded into Conv.*TrainingMode\.PRESERVE/],
      [["score-onnx", join(TINY, "expected.json")], /is not an ONNX model/],
      [["score-onnx", join(dir, "missing.onnx")], /no such file/],
      [["score-onnx", PRESERVE, "--max-macs", "lots", "--search", "exact"], /--max-macs takes a count/],
      [["score-onnx", PRESERVE, "--max-macs", "1M"], /apply to --search/],
      [["score-onnx", PRESERVE, "--indicator", "synflo"], /--indicator must be one of bn, macs, params, synflow, snip, grad_norm, naswot, oneshot, or ensemble:A,B/],
    ];
    for (const [args, re] of cases) {
      const r = await run(args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.err, args.join(" ")).toMatch(re);
      expect(r.err.trim().split("\n").length, args.join(" ")).toBe(1);
    }
    const bad = join(dir, "bad-archs.txt");
    writeFileSync(bad, "0,0,0\n0,9,0\n");
    const r = await run(["score-onnx", PRESERVE, "--archs", bad]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/bad-archs\.txt:2: .*layer 1: 9 is not a candidate/);
  });

  it("a NaN gamma is named", async () => {
    const { readModel, writeModel } = await import("../../src/model/model-io.js");
    const { readFloats, setFloats } = await import("../../src/onnx/tensor.js");
    const model = readModel(PRESERVE);
    const t = model.graph!.initializer.find((x) => x.name === "blocks.0.1.1.weight")!;
    const g = readFloats(t);
    g[0] = NaN;
    setFloats(t, g);
    const f = join(dir, "nan.onnx");
    writeModel(f, model);
    const r = await run(["score-onnx", f]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/'blocks\.0\.1\.1\.weight' .* holds NaN/);
  });
});

describe("bnnas score-onnx on a bnnas supernet with a fixed depth", () => {
  it("searches the fixed-depth space by default and the full space with --full-space; costs from the manifest", async () => {
    const { exportSupernet } = await import("../../src/supernet/export.js");
    const { builtinSpace } = await import("../../src/space/builtins.js");
    const { readModel } = await import("../../src/model/model-io.js");
    const { readManifest } = await import("../../src/supernet/manifest.js");
    const { setFloats } = await import("../../src/onnx/tensor.js");
    const { writeModel } = await import("../../src/model/model-io.js");
    const { Random } = await import("../../src/util/random.js");
    const spec = { ...builtinSpace("fmnist-small"), fixedDepth: [4] };
    const f = join(dir, "fd.onnx");
    exportSupernet(spec, f, { seed: 2 });
    // as after training: distinct gammas (the export initialises them to 1)
    const model = readModel(f);
    const rng = new Random(3);
    for (const t of model.graph!.initializer) if (/\.scale$/.test(t.name)) setFloats(t, Float32Array.from({ length: Number(t.dims[0]) }, () => 0.2 + 1.4 * rng.uniform()));
    writeModel(f, model);
    const manifest = readManifest(model, f)!;
    const fixed = JSON.parse((await run(["score-onnx", f, "--search", "exact", "--top", "4", "--max-macs", "4M", "--json"])).out) as { best: { arch: number[]; macs: number; params: number }[]; search: { space: string } };
    expect(fixed.search.space).toBe("fixed-depth");
    expect(fixed.best.length).toBe(4);
    for (const b of fixed.best) {
      expect(b.arch[4]).toBe(6); // layer 4 always skip
      expect(b.arch[2]).not.toBe(6);
      expect(b.arch[5]).not.toBe(6);
      expect(b.macs).toBeLessThanOrEqual(4_000_000);
      const macs = manifest.fixed.macs + b.arch.reduce((s, p, l) => s + manifest.layers[l]!.candidates.find((c) => c.position === p)!.macs, 0);
      expect(b.macs).toBe(macs);
    }
    const full = JSON.parse((await run(["score-onnx", f, "--search", "exact", "--top", "4", "--max-macs", "4M", "--full-space", "--json"])).out) as { best: { score: number }[]; search: { space: string } };
    expect(full.search.space).toBe("full");
    expect(full.best[0]!.score).toBeGreaterThanOrEqual((fixed.best as unknown as { score: number }[])[0]!.score);
    // the documented cost table of fmnist-small
    const r = JSON.parse((await run(["score-onnx", f, "--arch", "5,5,6,5,6,6", "--json"])).out) as { archs: { macs: number; params: number }[] };
    expect(r.archs[0]).toMatchObject({ macs: 3_600_592, params: 54_298 });
  });
});

describe("bnnas score-onnx when MACs cannot be counted", () => {
  it("scores and searches without limits, prints null costs, refuses limits with a reason", async () => {
    const { GraphBuilder, attr } = await import("../../src/onnx/builder.js");
    const { writeModel } = await import("../../src/model/model-io.js");
    const g = new GraphBuilder();
    const x = g.input("x", ["batch", 2, 4, 4]);
    const m = g.input("mask", [2]);
    const terms = [0, 1].map((k) => {
      const e = g.op("Gather", [m, g.int64Init(`i${k}`, [], [k])], { axis: attr.int(0) });
      let y = g.op("Conv", [x, g.floatInit(`w${k}`, [2, 2, 1, 1], new Float32Array(4).fill(0.5))]);
      if (k === 1) y = g.op("Resize", [y, "", g.floatInit("scales", [4], [1, 1, 1, 1])]); // an op count.ts does not know
      y = g.op("BatchNormalization", [y, g.floatInit(`g${k}`, [2], [k + 1, 1]), g.floatInit(`b${k}`, [2], [0, 0]), g.floatInit(`m${k}`, [2], [0, 0]), g.floatInit(`v${k}`, [2], [1, 1])], {}, `bn${k}`);
      return g.op("Mul", [e, y], {}, `mul${k}`);
    });
    g.output(g.op("ReduceMean", [g.op("Add", terms)], { keepdims: attr.int(0), axes: attr.ints([1, 2, 3]) }));
    const f = join(dir, "uncounted.onnx");
    writeModel(f, g.build({ name: "uncounted" }));
    const r = await run(["score-onnx", f, "--search", "exact", "--top", "1", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { layers: { candidates: { score: number; macs: number | null }[] }[]; best: { arch: number[]; score: number; macs: number | null }[] };
    expect(j.layers[0]!.candidates.map((c) => [c.score, c.macs])).toEqual([[1, null], [1.5, null]]);
    expect(j.best).toEqual([{ arch: [1], score: 1.5, macs: null, params: null }]);
    const limited = await run(["score-onnx", f, "--search", "exact", "--max-macs", "1M"]);
    expect(limited.code).not.toBe(0);
    expect(limited.err).toMatch(/MACs\/params are unknown \(cannot count op Resize/);
  });
});

describe("score-onnx with architecture-level indicators", () => {
  const fresh = join(dir, "fmnist.onnx");
  it("scores given paths with a zero-cost proxy, searches with an ensemble, refuses exact search for them", async () => {
    expect((await run(["export-supernet", "--space", "fmnist-small", "-o", fresh])).code).toBe(0);
    const one = await run(["score-onnx", fresh, "--indicator", "synflow", "--arch", "0,1,6,2,6,3", "--threads", "1", "--json"]);
    expect(one.code, one.err).toBe(0);
    const j1 = JSON.parse(one.out);
    expect(j1).toMatchObject({ indicator: "synflow", evaluated: 1, archs: [{ arch: [0, 1, 6, 2, 6, 3] }] });
    expect(Number.isFinite(j1.archs[0].score) && j1.archs[0].macs > 0).toBe(true);

    const evo = await run(["score-onnx", fresh, "--indicator", "ensemble:macs,params", "--search", "evolution", "--top", "3", "--max-macs", "4M", "--json"]);
    expect(evo.code, evo.err).toBe(0);
    const j2 = JSON.parse(evo.out);
    expect(j2.best).toHaveLength(3);
    for (const b of j2.best) expect(b.macs).toBeLessThanOrEqual(4e6);
    // scores are shares of a reference sample beaten, best first
    const got = j2.best.map((b: { score: number }) => b.score);
    expect(got).toEqual([...got].sort((a: number, b: number) => b - a));
    for (const s of got) expect(s > 0 && s <= 1).toBe(true);

    const exact = await run(["score-onnx", fresh, "--indicator", "naswot", "--search", "exact"]);
    expect(exact.code).toBe(2);
    expect(exact.err).toMatch(/--search exact needs an indicator that sums over layers \(bn, macs, params\); 'naswot' scores whole architectures: use --search evolution or random/);
    const bare = await run(["score-onnx", fresh, "--indicator", "naswot"]);
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/scores whole architectures, not candidates: give --arch, --archs or --search evolution\|random/);
  });
});
