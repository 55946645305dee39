import { describe, expect, it } from "vitest";
import { mkdtempSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModel } from "../../src/model/model-io.js";
import { readSubnetManifest } from "../../src/supernet/subnet-manifest.js";
import { openSupernet } from "../../src/extract/from-file.js";
import { oneHotMaskFeeds } from "../../src/extract/masks.js";
import { Session } from "../../src/runtime/ort.js";
import type { Tensor } from "../../src/onnx/tensor.js";
import { TORCH_TINY, torchTinyExpected } from "../extract/torch-tiny.js";
import { onnxCheckerProblems } from "../extract/onnx-checker.js";
import { runCli as run } from "./run-cli.js";

const MATRIX = "test/fixtures/extract/matrix.onnx";
const matrixExpected = JSON.parse(readFileSync("test/fixtures/extract/matrix.expected.json", "utf8")) as { input_shape: number[]; input: number[]; cases: { arch: number[]; logits: number[] }[] };
const dir = mkdtempSync(join(tmpdir(), "bnnas-cli-extract-"));


async function logitsOf(file: string, feeds: Record<string, Tensor>): Promise<Float32Array> {
  const s = await Session.create(readModel(file), { threads: 1 });
  const out = await s.run(feeds);
  await s.release();
  return out[s.outputNames[0]!]!.data as Float32Array;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("bnnas extract-subnet", () => {
  it("extracts torch-tiny paths that match PyTorch's subnet logits, with a provenance manifest", async () => {
    const expected = torchTinyExpected();
    const x: Tensor = { dims: expected.input_shape, data: Float32Array.from(expected.input) };
    const files: string[] = [];
    for (const c of expected.cases) {
      for (const fold of [false, true]) {
        const out = join(dir, `tt-${c.arch.join("")}-${fold}.onnx`);
        const r = await run(["extract-subnet", TORCH_TINY, "--arch", c.arch.join(","), "-o", out, ...(fold ? ["--fold-bn"] : [])]);
        expect(r.code, r.err).toBe(0);
        expect(r.out).toMatch(/^wrote .*\n\s+arch \d,\d,\d: /);
        expect(maxDiff(await logitsOf(out, { x }), c.logits)).toBeLessThanOrEqual(1e-5);
        files.push(out);
      }
    }
    const m = readSubnetManifest(readModel(files[0]!))!;
    expect(m.arch).toEqual(expected.cases[0]!.arch);
    expect(m.source.kind).toBe("pytorch");
    expect(m.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.params).toBeGreaterThan(0);
    expect(m.macs).toBeGreaterThan(0);
    expect(m.batchNorm).toBe("inference");
    expect(readSubnetManifest(readModel(files[1]!))!.batchNorm).toBe("folded");
    expect(onnxCheckerProblems(files)).toBe("");
  });

  it("handles the [L, K] mask-matrix form (another PyTorch supernet: pooling, residuals, other names)", async () => {
    const x: Tensor = { dims: matrixExpected.input_shape, data: Float32Array.from(matrixExpected.input) };
    const files: string[] = [];
    for (const c of matrixExpected.cases) {
      for (const fold of [false, true]) {
        const out = join(dir, `mx-${c.arch.join("")}-${fold}.onnx`);
        const r = await run(["extract-subnet", MATRIX, "--arch", c.arch.join(","), "-o", out, ...(fold ? ["--fold-bn"] : [])]);
        expect(r.code, r.err).toBe(0);
        const model = readModel(out);
        expect(model.graph!.input.map((i) => i.name)).toEqual(["image"]);
        expect(maxDiff(await logitsOf(out, { image: x }), c.logits)).toBeLessThanOrEqual(1e-5);
        files.push(out);
      }
    }
    // And against the supernet itself with one-hot rows, for every architecture of the space.
    const src = openSupernet(MATRIX);
    const sess = await Session.create(src.model, { threads: 1 });
    const archs: number[][] = [];
    const allowed = src.structure.layers.map((l) => l.candidates.map((c) => c.position));
    for (const a of allowed[0]!) for (const b of allowed[1]!) for (const c of allowed[2]!) archs.push([a, b, c]);
    expect(archs.length).toBe(4 * 3 * 4);
    const { extractSubnet } = await import("../../src/extract/subnet.js");
    for (const arch of archs) {
      const want = (await sess.run({ image: x, ...oneHotMaskFeeds(src.structure, arch, src.model.graph!) }))["scores"]!.data as Float32Array;
      const sub = await Session.create(extractSubnet(src.model, src.structure, arch).model, { threads: 1 });
      const got = (await sub.run({ image: x }))["scores"]!.data as Float32Array;
      await sub.release();
      expect(maxDiff(got, want), `arch ${arch}`).toBeLessThanOrEqual(1e-5);
    }
    await sess.release();
    expect(onnxCheckerProblems(files)).toBe("");
  });

  it("writes external data on request and prints JSON", async () => {
    const out = join(dir, "ext.onnx");
    const r = await run(["extract-subnet", MATRIX, "--arch", "1,0,1", "-o", out, "--external-data", "--json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { external_data: string; manifest: { arch: number[] }; bytes: number };
    expect(j.manifest.arch).toEqual([1, 0, 1]);
    expect(existsSync(`${out}.data`)).toBe(true);
    expect(statSync(`${out}.data`).size).toBeGreaterThan(1000);
    const c = matrixExpected.cases.find((k) => k.arch.join() === "1,0,1")!;
    const x: Tensor = { dims: matrixExpected.input_shape, data: Float32Array.from(matrixExpected.input) };
    expect(maxDiff(await logitsOf(out, { image: x }), c.logits)).toBeLessThanOrEqual(1e-5);
  });

  it("refuses bad input with one clear line and a non-zero exit", async () => {
    const sub = join(dir, "sub.onnx");
    expect((await run(["extract-subnet", TORCH_TINY, "--arch", "2,0,3", "-o", sub])).code).toBe(0);
    expect((await run(["extract-subnet", TORCH_TINY, "--arch", "1,1,1", "-o", join(dir, "folded-sub.onnx"), "--fold-bn"])).code).toBe(0);
    const cases: [string[], number, RegExp][] = [
      [["extract-subnet", TORCH_TINY, "--arch", "2,3,3", "-o", join(dir, "x.onnx")], 2, /layer 1: 3 is not a candidate of this layer; allowed: 0=op0, 1=op1, 2=op2/],
      [["extract-subnet", TORCH_TINY, "--arch", "2,0", "-o", join(dir, "x.onnx")], 2, /has 2 values, but the supernet has 3 layers/],
      [["extract-subnet", sub, "--arch", "2,0,3", "-o", join(dir, "x.onnx")], 1, /is a subnet bnnas extracted \(arch 2,0,3\), not a supernet/],
      [["extract-subnet", TORCH_TINY.replace("preserve", "eval"), "--arch", "2,0,3", "-o", join(dir, "x.onnx")], 1, /BatchNorm was folded into Conv/],
      [["extract-subnet", sub, "--arch", "2,0,3", "-o", sub], 2, /is the supernet itself/],
      [["extract-subnet", join(dir, "folded-sub.onnx"), "--arch", "2,0,3", "-o", join(dir, "x.onnx")], 1, /is a subnet bnnas extracted \(arch 1,1,1\), not a supernet/],
      [["extract-subnet", join(dir, "missing.onnx"), "--arch", "1", "-o", join(dir, "x.onnx")], 1, /no such file/],
      [["extract-subnet", TORCH_TINY, "--arch", "2,0,3", "-o", join(dir, "nodir", "x.onnx")], 1, /does not exist/],
    ];
    for (const [args, code, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(" ")).toBe(code);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(dir, "x.onnx"))).toBe(false);
    // A refused run leaves the existing output as it was.
    const before = readFileSync(sub);
    expect((await run(["extract-subnet", TORCH_TINY, "--arch", "9,9,9", "-o", sub])).code).toBe(2);
    expect(readFileSync(sub).equals(before)).toBe(true);
    writeFileSync(join(dir, "garbage.onnx"), "not a model");
    expect((await run(["extract-subnet", join(dir, "garbage.onnx"), "--arch", "1", "-o", join(dir, "y.onnx")])).err).toMatch(/not an ONNX model/);
  });
});
