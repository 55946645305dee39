/**
 * `bnnas train` with every weight: SPOS on a supernet, a subnet from scratch (what the demo's
 * final training does), and the bad inputs of full-weight training, each a one-line error with
 * no output file.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModel, writeModel } from "../../src/model/model-io.js";
import { readFloats } from "../../src/onnx/tensor.js";
import { DataType } from "../../src/onnx/proto.js";
import { GraphBuilder, attr } from "../../src/onnx/builder.js";
import { getTrainingRecord } from "../../src/supernet/manifest.js";
import { readSubnetManifest } from "../../src/supernet/subnet-manifest.js";
import { onnxCheckerProblems } from "../extract/onnx-checker.js";
import { SUBSET_DIR } from "../fixtures/paths.js";
import { runCli as run } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-train-full-"));
const supernet = join(dir, "fm.onnx");
const subnet = join(dir, "sub.onnx");
const quick = ["--data", SUBSET_DIR, "--batch", "16", "--threads", "2", "--quiet"];
const values = (file: string) => new Map(readModel(file).graph!.initializer.filter((t) => t.dataType === DataType.FLOAT).map((t) => [t.name, Array.from(readFloats(t))]));
const changed = (a: Map<string, number[]>, b: Map<string, number[]>) => [...a.keys()].filter((k) => a.get(k)!.some((v, i) => v !== b.get(k)![i]));

/** A one-line error, the exit code, and no output beside the input files. */
async function expectRefused(args: string[], code: number, message: RegExp): Promise<void> {
  const before = readdirSync(dir).sort();
  const r = await run(args);
  expect(r.code, r.err).toBe(code);
  expect(r.err).toMatch(message);
  expect(r.err.trim().split("\n")).toHaveLength(1);
  expect(readdirSync(dir).sort()).toEqual(before);
}

beforeAll(async () => {
  expect((await run(["export-supernet", "--space", "fmnist-small", "-o", supernet])).code).toBe(0);
  expect((await run(["extract-subnet", supernet, "--arch", "0,1,6,3,6,0", "-o", subnet])).code).toBe(0);
}, 60_000);

describe("bnnas train --weights all", () => {
  it("SPOS on a supernet: every weight of each sampled path trains; other candidates stay", async () => {
    const out = join(dir, "spos.onnx");
    const r = await run(["train", supernet, "-o", out, ...quick, "--steps", "3", "--weights", "all", "--lr", "0.02", "--json"]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ steps: 3, weights: "all", kind: "supernet", sampler: "uniform" });
    const moved = changed(values(supernet), values(out));
    expect(moved.filter((k) => k.endsWith("conv1.weight")).length).toBeGreaterThan(0);
    expect(moved).toContain("head.fc.weight");
    expect(moved).toContain("stem.0.conv.weight");
    // Three uniform paths touch at most three candidates per layer: the rest of the supernet is as exported.
    const candidatesMoved = new Set(moved.filter((k) => k.startsWith("layers.")).map((k) => k.split(".").slice(0, 3).join(".")));
    expect(candidatesMoved.size).toBeLessThanOrEqual(3 * 6);
    expect(candidatesMoved.size).toBeGreaterThan(0);
    expect(getTrainingRecord(readModel(out))).toMatchObject({ weights: "all", sampler: "uniform" });
  });

  it("a subnet from scratch: a clean subnet again, its weights trained, the run in its manifest; bnnas eval reads it", async () => {
    const out = join(dir, "sub.trained.onnx");
    const r = await run(["train", subnet, "-o", out, ...quick, "--steps", "4", "--reinit", "--seed", "3", "--nesterov", "--weight-decay", "5e-5", "--lr-schedule", "cosine", "--warmup", "2", "--augment", "--json"]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ steps: 4, weights: "all", kind: "subnet", sampler: "fixed" });
    const before = readModel(subnet);
    const after = readModel(out);
    // Same graph, same initializers (no unused ones added), BatchNorm still in inference form.
    expect(after.graph!.node.map((n) => `${n.opType}:${n.name}`)).toEqual(before.graph!.node.map((n) => `${n.opType}:${n.name}`));
    expect(after.graph!.initializer.map((t) => t.name)).toEqual(before.graph!.initializer.map((t) => t.name));
    expect(after.graph!.node.filter((n) => n.opType === "BatchNormalization").every((n) => n.output.length === 1 && !n.attribute.some((a) => a.name === "training_mode"))).toBe(true);
    const moved = changed(values(subnet), values(out));
    expect(moved.filter((k) => k.endsWith(".weight")).length).toBeGreaterThan(10);
    expect(moved.filter((k) => k.endsWith(".mean") || k.endsWith(".var")).length).toBeGreaterThan(10); // running statistics learned
    const m = readSubnetManifest(after, out)!;
    expect(m.arch).toEqual([0, 1, 6, 3, 6, 0]);
    expect(m.retraining).toHaveLength(1);
    expect(m.retraining![0]).toMatchObject({ tool: "bnnas train", subnet: "sub.onnx", weights: "all", reinit: true, nesterov: true, warmup: 2, augment: true, seed: 3, steps: 4 });
    expect(onnxCheckerProblems([out])).toBe("");
    const evaluated = await run(["eval", out, "--data", SUBSET_DIR, "--limit", "64", "--threads", "2", "--json"]);
    expect(evaluated.code, evaluated.err).toBe(0);
    expect(JSON.parse(evaluated.out).images).toBe(64);
  });

  it("--reinit draws the space's init with --seed: two seeds start (and end) apart, one seed twice gives the same file", async () => {
    const a = join(dir, "seed-a.onnx");
    const b = join(dir, "seed-b.onnx");
    const c = join(dir, "seed-c.onnx");
    for (const [out, seed] of [[a, "1"], [b, "1"], [c, "2"]] as const) expect((await run(["train", subnet, "-o", out, ...quick, "--steps", "2", "--reinit", "--seed", seed])).code).toBe(0);
    expect(values(a)).toEqual(values(b));
    expect(changed(values(a), values(c)).length).toBeGreaterThan(10);
  });

  it("refuses what full-weight training cannot do, in one line, writing nothing", async () => {
    const out = join(dir, "never.onnx");
    // A subnet with one path: no --arch, no path sampling.
    await expectRefused(["train", subnet, "-o", out, ...quick, "--steps", "1", "--sampler", "fair"], 2, /sub\.onnx is a subnet \(one path\): --sampler fair samples the paths of a supernet/);
    // Nothing to train: a model without a single weight.
    const empty = new GraphBuilder();
    empty.input("x", ["N", 1, 28, 28]);
    const flat = empty.op("Flatten", ["x"], { axis: attr.int(1) });
    empty.node("Slice", [flat, empty.int64Init("s", [1], [0]), empty.int64Init("e", [1], [10]), empty.int64Init("a", [1], [1])], {}, { outputs: ["logits"] });
    empty.output("logits", ["N", 10]);
    const noWeights = join(dir, "no-weights.onnx");
    writeModel(noWeights, empty.build({ name: "no_weights" }));
    await expectRefused(["train", noWeights, "-o", out, ...quick, "--steps", "1"], 2, /has no weights to train/);
    // No bnnas manifest: the init is unknown.
    const foreign = readModel(subnet);
    foreign.metadataProps = [];
    const foreignFile = join(dir, "foreign.onnx");
    writeModel(foreignFile, foreign);
    await expectRefused(["train", foreignFile, "-o", out, ...quick, "--steps", "1", "--reinit"], 2, /foreign\.onnx has no bnnas manifest, so its initialisation is unknown; --reinit/);
    // Non-image input: nothing to crop or flip.
    const vector = new GraphBuilder();
    vector.input("x", ["N", 784]);
    vector.node("Gemm", ["x", vector.floatInit("w", [10, 784], new Float32Array(7840).fill(0.01)), vector.floatInit("b", [10], new Float32Array(10))], { transB: attr.int(1) }, { outputs: ["logits"] });
    vector.output("logits", ["N", 10]);
    const vectorFile = join(dir, "vector.onnx");
    writeModel(vectorFile, vector.build({ name: "vector" }));
    await expectRefused(["train", vectorFile, "-o", out, ...quick, "--steps", "1", "--augment"], 2, /--augment crops and flips images, but .*vector\.onnx's input has shape \[batch, 784\]/);
    // An op without a gradient rule on the trained path: named, with its node.
    const sig = new GraphBuilder();
    sig.input("x", ["N", 1, 28, 28]);
    const conv = sig.op("Conv", ["x", sig.floatInit("cw", [4, 1, 3, 3], new Float32Array(36).fill(0.1))], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }, "conv");
    const act = sig.op("Sigmoid", [conv], {}, "gate");
    const pooled = sig.op("Flatten", [sig.op("GlobalAveragePool", [act], {}, "pool")], { axis: attr.int(1) }, "flat");
    sig.node("Gemm", [pooled, sig.floatInit("fw", [10, 4], new Float32Array(40).fill(0.1)), sig.floatInit("fb", [10], new Float32Array(10))], { transB: attr.int(1) }, { name: "fc", outputs: ["logits"] });
    sig.output("logits", ["N", 10]);
    const sigFile = join(dir, "sigmoid.onnx");
    writeModel(sigFile, sig.build({ name: "sigmoid" }));
    await expectRefused(["train", sigFile, "-o", out, ...quick, "--steps", "1"], 1, /node 'gate' \(Sigmoid\): bnnas has no gradient rule for Sigmoid/);
    expect(existsSync(out)).toBe(false);
  });
});
