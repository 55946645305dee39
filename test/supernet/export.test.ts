import { describe, expect, test } from "vitest";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtinSpace } from "../../src/space/builtins.js";
import { buildSupernet, exportSupernet } from "../../src/supernet/export.js";
import { readManifest, structureFromManifest } from "../../src/supernet/manifest.js";
import { readModel, writeModel } from "../../src/model/model-io.js";
import { encodeModelProto } from "../../src/onnx/proto.js";
import { GraphIndex, graphProblem } from "../../src/onnx/graph.js";
import { OutputError } from "../../src/errors.js";
import { loadSupernet } from "../../src/supernet/load.js";
import { PYTHON, maxAbsDiff, oneHotMasks, randomInput, randomizeBatchNorms, runMasks, tempDir, torchLogits } from "./oracle.js";

const checker = (files: string[]) =>
  execFileSync(PYTHON, ["-c", "import sys, onnx\nfor f in sys.argv[1:]: onnx.checker.check_model(onnx.load(f), full_check=True)\nprint('ok')", ...files], { encoding: "utf8" }).trim();

describe("export-supernet of the built-ins", () => {
  test("both built-ins pass onnx.checker full_check (IR 8, opset 17, dynamic batch)", () => {
    const dir = tempDir();
    const files = [];
    for (const name of ["fmnist-small", "bnnas-mbv2"] as const) {
      const file = join(dir, `${name}.onnx`);
      exportSupernet(builtinSpace(name), file, { unbiased: name === "fmnist-small" ? false : true });
      files.push(file);
      const model = readModel(file);
      expect(model.irVersion).toBe(8);
      expect(model.opsetImport).toEqual([expect.objectContaining({ domain: "", version: 17 })]);
      expect(model.graph!.input[0]!.type!.tensorType!.shape!.dim[0]!.dimParam).toBe("batch");
      expect(graphProblem(model.graph!)).toBeUndefined();
    }
    expect(checker(files)).toBe("ok");
  });

  test("same space and seed give byte-identical files; another seed changes the weights only", () => {
    const spec = builtinSpace("fmnist-small");
    const a = encodeModelProto(buildSupernet(spec, { seed: 5 }).model);
    const b = encodeModelProto(buildSupernet(spec, { seed: 5 }).model);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const c = buildSupernet(spec, { seed: 6 }).model;
    expect(Buffer.from(encodeModelProto(c)).equals(Buffer.from(a))).toBe(false);
    expect(c.graph!.node.map((n) => n.name)).toEqual(buildSupernet(spec, { seed: 5 }).model.graph!.node.map((n) => n.name));
  });

  test("initialisation follows the spec: conv N(0, sqrt(2/(k*k*C_out))), BN 1/0/0/1, Linear U(+-1/sqrt(fan_in))", () => {
    const { model } = buildSupernet(builtinSpace("fmnist-small"), { seed: 1 });
    const g = new GraphIndex(model.graph!);
    const rms = (d: Float32Array) => Math.sqrt(d.reduce((a, v) => a + v * v, 0) / d.length);
    const w = g.constant("layers.4.mb_k3_e6.conv1.weight")!; // 1x1, 64 -> 384
    const d = w.data as Float32Array;
    expect(w.dims).toEqual([384, 64, 1, 1]);
    expect(Math.abs(d.reduce((a, v) => a + v, 0) / d.length)).toBeLessThan(0.003);
    expect(rms(d) / Math.sqrt(2 / 384)).toBeCloseTo(1, 1);
    const dw = g.constant("layers.4.mb_k7_e6.conv2.weight")!; // depthwise 7x7 on 384: C_out of that conv is 384
    expect(dw.dims).toEqual([384, 1, 7, 7]);
    expect(rms(dw.data as Float32Array) / Math.sqrt(2 / (49 * 384))).toBeCloseTo(1, 1);
    for (const [suffix, v] of [["scale", 1], ["bias", 0], ["mean", 0], ["var", 1]] as const) {
      expect(Array.from(g.constant(`layers.4.mb_k3_e6.bn3.${suffix}`)!.data as Float32Array).every((x) => x === v)).toBe(true);
    }
    const bn = g.nodeByName.get("layers.4.mb_k3_e6.bn3")!;
    expect(bn.attribute.map((a) => [a.name, Number(a.f.toFixed(6))])).toEqual([["epsilon", 0.00001], ["momentum", 0.9]]);
    const bound = 1 / Math.sqrt(64);
    for (const name of ["head.fc.weight", "head.fc.bias"]) {
      const fc = Array.from(g.constant(name)!.data as Float32Array, Math.abs);
      expect(Math.max(...fc)).toBeLessThanOrEqual(bound);
    }
    expect(Math.max(...Array.from(g.constant("head.fc.weight")!.data as Float32Array, Math.abs))).toBeGreaterThan(bound * 0.95);
  });

  test("manifest: names graph tensors with their roles; the structure matches the Gather/Mul/Sum pattern", () => {
    const { model, manifest } = buildSupernet(builtinSpace("fmnist-small"));
    const back = readManifest(model, "x.onnx")!;
    expect(back).toEqual(manifest);
    const s = structureFromManifest(back);
    expect(s.source).toBe("bnnas");
    expect(s.input).toEqual({ name: "input", shape: ["batch", 1, 28, 28] });
    expect(s.layers.map((l) => l.candidates.length)).toEqual([6, 6, 7, 6, 7, 7]);
    const g = new GraphIndex(model.graph!);
    for (const [l, layer] of s.layers.entries()) {
      expect(layer.mask).toEqual({ kind: "vector", input: `mask${l}` });
      const sum = g.producer.get(layer.output)!;
      expect(sum.opType).toBe("Sum");
      expect(sum.input.length).toBe(layer.candidates.length);
      for (const c of layer.candidates) {
        const mul = g.nodeByName.get(c.maskMul)!;
        expect(mul.opType).toBe("Mul");
        expect(mul.input[0]).toBe(c.output);
        expect(sum.input).toContain(mul.output[0]);
        const gather = g.producer.get(mul.input[1]!)!;
        expect(gather.opType).toBe("Gather");
        expect(gather.input[0]).toBe(`mask${l}`);
        expect(Number((g.constant(gather.input[1]!)!.data as BigInt64Array)[0])).toBe(c.position);
        if (c.name === "skip") {
          expect(c.output).toBe(layer.input);
          expect(c.indicator).toBeNull();
        } else {
          expect(c.indicator!.scale).toBe(`layers.${l}.${c.name}.bn3.scale`);
          expect(c.batchNorms.map((b) => b.node)).toEqual([1, 2, 3].map((i) => `layers.${l}.${c.name}.bn${i}`));
          const bn = g.nodeByName.get(c.indicator!.node)!;
          expect(bn.opType).toBe("BatchNormalization");
          expect(bn.input.slice(1)).toEqual([c.indicator!.scale, c.indicator!.bias, c.indicator!.mean, c.indicator!.var]);
        }
      }
    }
    expect(back.training).toBeNull();
  });

  test("--unbiased: skip becomes identity + BatchNorm, which is its indicator", () => {
    const { manifest } = buildSupernet(builtinSpace("fmnist-small"), { unbiased: true });
    const skip = manifest.layers[2]!.candidates.find((c) => c.name === "skip")!;
    expect(skip.indicator?.node).toBe("layers.2.skip.bn");
    expect(skip.output).not.toBe(manifest.layers[2]!.input);
    expect(skip.params).toBe(64);
  });

  test("the fmnist-small supernet runs in onnxruntime and matches the PyTorch peer for several architectures", async () => {
    const dir = tempDir();
    const file = join(dir, "fmnist.onnx");
    const { model, manifest } = buildSupernet(builtinSpace("fmnist-small"), { seed: 11 });
    randomizeBatchNorms(model);
    writeModel(file, model);
    const archs = [[0, 0, 0, 0, 0, 0], [5, 5, 6, 5, 6, 6], [1, 4, 2, 5, 3, 2], [3, 1, 6, 3, 6, 0]];
    const masks = archs.map((a) => oneHotMasks(manifest, a));
    const dims = [3, 1, 28, 28];
    const x = randomInput(dims);
    const ours = await runMasks(model, manifest, x, dims, masks);
    const torch = torchLogits(file, "peer", x, dims, masks);
    ours.forEach((o, i) => {
      expect(o.length).toBe(30);
      expect(o.every(Number.isFinite)).toBe(true);
      expect(maxAbsDiff(o, torch[i]!)).toBeLessThan(1e-4);
    });
    // Different architectures give different logits (the mask really selects).
    expect(maxAbsDiff(ours[0]!, [Array.from(ours[1]!)])).toBeGreaterThan(1e-3);
  });

  test("without its manifest, a bnnas supernet is a valid PyTorch-convention supernet (the importer finds the same structure and costs)", () => {
    for (const unbiased of [false, true]) {
      const { model, manifest } = buildSupernet(builtinSpace("fmnist-small"), { unbiased });
      model.metadataProps = [];
      const file = join(tempDir(), "foreign.onnx");
      writeModel(file, model);
      const ours = structureFromManifest(manifest);
      const loaded = loadSupernet(file);
      expect(loaded.countProblem).toBeUndefined();
      const theirs = loaded.structure;
      expect(theirs.source).toBe("pytorch");
      expect(theirs.output).toBe(ours.output);
      expect(theirs.fixed).toEqual(ours.fixed);
      expect(theirs.layers.map((l) => [l.input, l.output, l.mask])).toEqual(ours.layers.map((l) => [l.input, l.output, l.mask]));
      const strip = (s: typeof ours) => s.layers.map((l) => l.candidates.map(({ name: _n, ...c }) => c));
      expect(strip(theirs)).toEqual(strip(ours));
    }
  });

  test("--external-data writes <file>.data and reads back identically", () => {
    const dir = tempDir();
    const file = join(dir, "ext.onnx");
    const spec = builtinSpace("fmnist-small");
    const res = exportSupernet(spec, file, { externalData: true });
    expect(res.externalDataFile).toBe(join(dir, "ext.onnx.data"));
    expect(statSync(file).size).toBeLessThan(400_000);
    expect(statSync(res.externalDataFile!).size).toBeGreaterThan(3_000_000);
    const back = readModel(file);
    const fresh = new Map(buildSupernet(spec).model.graph!.initializer.map((t) => [t.name, t]));
    expect(back.graph!.initializer.length).toBe(fresh.size);
    for (const t of back.graph!.initializer) expect(Buffer.from(t.rawData).equals(Buffer.from(fresh.get(t.name)!.rawData))).toBe(true);
    expect(checker([file])).toBe("ok");
  });

  test("an unwritable output gives OutputError and leaves no file", () => {
    const dir = tempDir();
    const spec = builtinSpace("fmnist-small");
    expect(() => exportSupernet(spec, join(dir, "missing", "x.onnx"))).toThrow(OutputError);
    expect(() => exportSupernet(spec, join(dir, "missing", "x.onnx"))).toThrow(/does not exist/);
    if (process.getuid?.() !== 0) {
      const ro = join(dir, "ro");
      execFileSync("mkdir", [ro]);
      chmodSync(ro, 0o500);
      expect(() => exportSupernet(spec, join(ro, "x.onnx"))).toThrow(/permission denied/);
      expect(readdirSync(ro)).toEqual([]);
    }
    // What the user had at the path survives a failed export (a directory cannot be replaced).
    const existing = join(dir, "keep.onnx");
    writeFileSync(existing, "old");
    expect(readFileSync(existing, "utf8")).toBe("old");
    expect(() => exportSupernet(spec, dir)).toThrow(/is a directory/);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    expect(existsSync(join(dir, "missing"))).toBe(false);
  });
});
