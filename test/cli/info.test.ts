import { describe, expect, test } from "vitest";
import { join } from "node:path";
import { readModel, writeModel } from "../../src/model/model-io.js";
import { setTrainingRecord } from "../../src/supernet/manifest.js";
import { tempDir } from "../supernet/oracle.js";
import { runCli } from "./run-cli.js";
import { readSubnetManifest } from "../../src/supernet/subnet-manifest.js";
import { SUBSET_DIR } from "../fixtures/paths.js";

const info = (args: string[]) => runCli(["info", ...args]);

describe("bnnas info", () => {
  test("a bnnas supernet: space, layers, candidates, costs, training record", async () => {
    const dir = tempDir();
    const file = join(dir, "s.onnx");
    expect((await runCli(["export-supernet", "--space", "bnnas-mbv2", "-o", file])).code).toBe(0);
    const r = await info([file]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${file}: bnnas supernet of space 'bnnas-mbv2' (seed 0)`);
    expect(r.out).toContain("21 choice layers");
    expect(r.out).toContain("fixed depth (search default): layers 1, 5, 6, 9 are always identity");
    expect(r.out).toMatch(/layer 1 'layer1' \(mask 'mask1'\):\n\s+0 mb_k3_e3\s+21,977,088 MACs/);
    expect(r.out).toMatch(/6 skip .* no BatchNorm \(scores 0\)/);
    expect(r.out).toContain("training: none");

  });

  test("--json, with a training record", async () => {
    const file = join(tempDir(), "f.onnx");
    expect((await runCli(["export-supernet", "--space", "fmnist-small", "--unbiased", "--seed", "2", "-o", file])).code).toBe(0);
    const model = readModel(file);
    setTrainingRecord(model, { steps: 10 });
    writeModel(file, model);
    const j = JSON.parse((await info([file, "--json"])).out);
    expect(j).toMatchObject({ source: "bnnas", space: "fmnist-small", seed: 2, unbiased: true, classes: 10, output: "logits", fixedDepth: null, training: { steps: 10 } });
    expect(j.input).toEqual({ name: "input", shape: ["batch", 1, 28, 28], normalize: { mean: [0.286], std: [0.353] } });
    expect(j.fixed).toEqual({ macs: 14 * 14 * 16 * 9 + 640, params: 144 + 32 + 650 });
    expect(j.layers[2].candidates[6]).toEqual({ name: "skip", position: 6, macs: 0, params: 64, batchNorms: 1, indicator: "layers.2.skip.bn" });
    expect(j.architectures).toBe(6 ** 3 * 7 ** 3);
  });

  test("a file without a bnnas manifest is described from its graph", async () => {
    const dir = tempDir();
    const file = join(dir, "f.onnx");
    expect((await runCli(["export-supernet", "--space", "fmnist-small", "-o", file])).code).toBe(0);
    const model = readModel(file);
    model.metadataProps = [];
    writeModel(file, model);
    const r = await info([file]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("PyTorch-convention supernet (no bnnas manifest; structure read from the graph)");
    expect(r.out).toContain("6 choice layers, 74,088 architectures");
    expect(r.out).toContain("training: none");
    const j = JSON.parse((await info([file, "--json"])).out);
    expect(j).toMatchObject({ source: "pytorch", space: null, fixed: { macs: 28_864, params: 826 } });
  });

  test("a subnet: architecture, costs, provenance, and each run that trained it", async () => {
    const dir = tempDir();
    const supernet = join(dir, "s.onnx");
    const subnet = join(dir, "sub.onnx");
    const trained = join(dir, "sub.trained.onnx");
    expect((await runCli(["export-supernet", "--space", "fmnist-small", "-o", supernet])).code).toBe(0);
    expect((await runCli(["extract-subnet", supernet, "--arch", "0,1,6,3,6,0", "-o", subnet])).code).toBe(0);
    const fresh = await info([subnet]);
    expect(fresh.code, fresh.err).toBe(0);
    expect(fresh.out).toContain(`${subnet}: bnnas subnet 0,1,6,3,6,0 of fmnist-small (mb_k3_e3, mb_k3_e6, skip, mb_k5_e6, skip, mb_k3_e3)`);
    expect(fresh.out).toContain("trained as a subnet: not yet");
    const t = await runCli(["train", subnet, "-o", trained, "--data", SUBSET_DIR, "--steps", "2", "--batch", "16", "--reinit", "--nesterov", "--lr-schedule", "cosine", "--quiet"]);
    expect(t.code, t.err).toBe(0);
    const r = await info([trained]);
    expect(r.out).toMatch(/trained as a subnet: every weight from scratch, 2 steps \(0\.01 epochs\), lr 0\.1 cosine Nesterov, final loss \d\.\d{4}, train acc \d+\.\d%/);
    const j = JSON.parse((await info([trained, "--json"])).out);
    expect(j).toMatchObject({ kind: "subnet", space: "fmnist-small", arch: [0, 1, 6, 3, 6, 0], classes: 10, batchNorm: "inference", source: { file: "s.onnx", kind: "bnnas" } });
    expect(j.retraining).toHaveLength(1);
    expect(j.retraining[0]).toMatchObject({ weights: "all", reinit: true, steps: 2 });
    expect(j.params).toBe(readSubnetManifest(readModel(trained), trained)!.params);
  });

  test("bad input: missing file, not ONNX", async () => {
    expect((await info(["/nonexistent.onnx"])).err).toMatch(/^bnnas: error: \/nonexistent.onnx: no such file\n$/);
    const r = await info([join(import.meta.dirname, "../../models/fmnist-small.json")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/fmnist-small.json: is not an ONNX model/);
  });
});
