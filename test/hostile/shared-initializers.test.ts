/**
 * A fresh PyTorch export shares equal-valued BatchNorm initializers through Identity nodes
 * (test/fixtures/import/shared.onnx). The loader un-shares them, so the file loads, scores,
 * trains one step (moving each BN on its own) and extracts.
 */
import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModel } from "../../src/model/model-io.js";
import { readFloats } from "../../src/onnx/tensor.js";
import { loadSupernet } from "../../src/supernet/load.js";
import { FIXTURES_DIR, SUBSET_DIR as SUBSET } from "../fixtures/paths.js";
import { runCli as run } from "../cli/run-cli.js";

const FILE = join(FIXTURES_DIR, "import", "shared.onnx");
const dir = mkdtempSync(join(tmpdir(), "bnnas-shared-"));


describe("initializers shared through Identity (fresh PyTorch export)", () => {
  it("the fixture really shares them", () => {
    const g = readModel(FILE).graph!;
    const inits = new Set(g.initializer.map((t) => t.name));
    const bns = g.node.filter((n) => n.opType === "BatchNormalization");
    expect(bns.length).toBe(3);
    expect(bns.some((n) => n.input.slice(1).some((i) => !inits.has(i)))).toBe(true);
    expect(g.node.some((n) => n.opType === "Identity" && inits.has(n.input[0]!))).toBe(true);
  });

  it("loads with a distinct initializer per BatchNorm input", () => {
    const { model, structure } = loadSupernet(FILE);
    const g = model.graph!;
    expect(g.node.some((n) => n.opType === "Identity")).toBe(false);
    const inits = new Map(g.initializer.map((t) => [t.name, t]));
    const names = g.node.filter((n) => n.opType === "BatchNormalization").flatMap((n) => n.input.slice(1));
    expect(new Set(names).size).toBe(names.length); // no two BNs read the same tensor
    for (const n of names) expect(inits.has(n), n).toBe(true);
    expect(structure.layers).toHaveLength(1);
    expect(structure.layers[0]!.candidates.map((c) => c.indicator !== null)).toEqual([true, true, false]);
  });

  it("scores, trains one step (BNs move independently) and extracts", async () => {
    const score = await run(["score-onnx", FILE, "--arch", "0", "--json"]);
    expect(score.err).toBe("");
    expect(score.code).toBe(0);
    const out = join(dir, "trained.onnx");
    const tr = await run(["train", FILE, "-o", out, "--steps", "1", "--batch", "8", "--arch", "0", "--data", SUBSET, "--threads", "1", "--quiet", "--bn", "all"]);
    expect(tr.err).toBe("");
    expect(tr.code).toBe(0);
    const g = readModel(out).graph!;
    const inits = new Map(g.initializer.map((t) => [t.name, readFloats(t)]));
    const bn = (prefix: string) => g.node.find((n) => n.opType === "BatchNormalization" && n.name.includes(prefix))!;
    // Candidate 0 was trained, candidate 1 was not: their gammas were one shared tensor before.
    const g0 = inits.get(bn("ops.0").input[1]!)!;
    const g1 = inits.get(bn("ops.1").input[1]!)!;
    expect(Array.from(g1)).toEqual([1, 1, 1, 1]);
    expect(Array.from(g0).some((v) => v !== 1)).toBe(true);
    const sub = join(dir, "sub.onnx");
    const ex = await run(["extract-subnet", out, "--arch", "1", "-o", sub, "--mean", "0.286", "--std", "0.353"]);
    expect(ex.err).toBe("");
    expect(ex.code).toBe(0);
    expect(existsSync(sub)).toBe(true);
    const ev = await run(["eval", sub, "--data", SUBSET, "--limit", "16", "--threads", "1", "--quiet", "--json"]);
    expect(ev.code).toBe(0);
  });
});
