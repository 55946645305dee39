import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModel } from "../../src/model/model-io.js";
import { readSubnetManifest } from "../../src/supernet/subnet-manifest.js";
import { onnxCheckerProblems } from "../extract/onnx-checker.js";
import { runCli as run } from "./run-cli.js";
import { SUBSET_DIR } from "../fixtures/paths.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-cli-demo-"));


// A few steps per stage: the pipeline's wiring is under test here, not how well it learns.
const quick = ["--steps", "3", "--retrain-steps", "3", "--batch", "32", "--threads", "1"];

describe("bnnas demo", () => {
  it("runs every stage and leaves a consistent set of files and a summary", async () => {
    const out = join(dir, "run");
    const r = await run(["demo", "--out", out, ...quick, "--json"]);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.stages.map((s: { name: string }) => s.name)).toEqual([
      "export", "train", "search exact", "search evolution", "eval chosen path", "extract", "retrain from scratch", "eval",
    ]);
    expect(summary.training.steps).toBe(3);
    expect(summary.retraining.steps).toBe(3);
    // one recorded epoch (3 steps stop inside the first): the ranking against itself
    expect(summary.rank_stability).toEqual([{ epoch: 1, tau: 1 }]);
    // How far its ranking agreed with trained accuracy: the committed study's row of its recipe.
    const studyRow = readFileSync("bench/fmnist-small/results.jsonl", "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((x) => x.row === "all-lr1-3ep");
    expect(summary.recipe_study).toMatchObject({ row: "all-lr1-3ep", tau: studyRow.report.kendall_tau.value, n: studyRow.report.n, file: "bench/fmnist-small/results.jsonl" });
    // Exact search is optimal: evolution may tie it, never beat it; the chosen arch respects the budget.
    expect(summary.evolution_best.score).toBeLessThanOrEqual(summary.chosen.score + 1e-9);
    expect(summary.chosen.macs).toBeLessThanOrEqual(summary.max_macs);
    // The reported accuracy is the extracted subnet's on the test split, as `bnnas eval` measures it.
    const evaluated = await run(["eval", join(out, "subnet.onnx"), "--data", SUBSET_DIR, "--threads", "1", "--json"]);
    expect(evaluated.code, evaluated.err).toBe(0);
    expect(summary.accuracy).toBe(JSON.parse(evaluated.out).accuracy);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))).toEqual(summary);
    // The chosen arch is the exact search's best, and the subnet is that arch, standalone and valid.
    const search = JSON.parse(readFileSync(join(out, "search.json"), "utf8"));
    expect(search.exact.best[0].arch).toEqual(summary.chosen.arch);
    const subnet = readModel(join(out, "subnet.onnx"));
    const manifest = readSubnetManifest(subnet, "subnet.onnx")!;
    expect(manifest.arch).toEqual(summary.chosen.arch);
    expect(subnet.graph!.input.map((i) => i.name)).toHaveLength(1);
    // The final model is the extracted architecture trained from scratch, every weight: same
    // graph as the extracted subnet, other weights, and the run recorded in its manifest.
    const extracted = readModel(join(out, "subnet.init.onnx"));
    expect(subnet.graph!.node.map((n) => n.name)).toEqual(extracted.graph!.node.map((n) => n.name));
    expect(subnet.graph!.initializer.map((t) => t.name)).toEqual(extracted.graph!.initializer.map((t) => t.name));
    const w = (m: typeof subnet) => Buffer.from(m.graph!.initializer.find((t) => t.name === "head.fc.weight")!.rawData!).toString("hex");
    expect(w(subnet)).not.toEqual(w(extracted));
    expect(manifest.retraining).toHaveLength(1);
    expect(manifest.retraining![0]).toMatchObject({ weights: "all", reinit: true, steps: 3, nesterov: true, lrSchedule: "cosine" });
    expect(onnxCheckerProblems([join(out, "subnet.onnx"), join(out, "subnet.init.onnx"), join(out, "supernet.trained.onnx")])).toBe("");
  });

  it("prints a readable summary with the time of every stage", async () => {
    const out = join(dir, "text");
    const r = await run(["demo", "--out", out, ...quick, "--quiet"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/chosen arch\s+\d+(,\d+){5}/);
    expect(r.out).toMatch(/test accuracy\s+\d+\.\d\d%/);
    expect(r.out).toMatch(/rank stability\s+tau of each epoch's BN ranking against the last: 1: 1\.00/);
    expect(r.out).toMatch(/ranking vs truth Kendall tau -?\d\.\d\d \[95% -?\d\.\d\d, -?\d\.\d\d\] in the recipe study \(bench\/fmnist-small\/results\.jsonl, row all-lr1-3ep: the study trained 3 epochs, not 5/);
    for (const stage of ["export", "train", "search exact", "extract", "eval"]) expect(r.out).toMatch(new RegExp(`\\n\\s+${stage}\\s+\\d+\\.\\d s`));
    expect(r.err).toBe("");
  });

  it("never overwrites an earlier demo without --force", async () => {
    const out = join(dir, "keep");
    expect((await run(["demo", "--out", out, ...quick, "--quiet"])).code).toBe(0);
    const before = readFileSync(join(out, "subnet.onnx"));
    const again = await run(["demo", "--out", out, ...quick, "--quiet"]);
    expect(again.code).not.toBe(0);
    expect(again.err).toMatch(/already holds demo files .*--force/);
    expect(again.err.trim().split("\n")).toHaveLength(1);
    expect(readFileSync(join(out, "subnet.onnx")).equals(before)).toBe(true);
    expect((await run(["demo", "--out", out, ...quick, "--quiet", "--force", "--seed", "1"])).code).toBe(0);
  });

  it("ends with one line naming the stage when a stage fails", async () => {
    const out = join(dir, "budget");
    const r = await run(["demo", "--out", out, ...quick, "--quiet", "--max-macs", "1K"]);
    expect(r.code).not.toBe(0);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/no architecture under the limits; raise --max-macs/);
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    const bad = await run(["demo", "--out", file, ...quick, "--quiet"]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/not a directory/);
    const badData = await run(["demo", "--out", join(dir, "nodata"), ...quick, "--quiet", "--data", dir]);
    expect(badData.code).not.toBe(0);
    expect(badData.err).toMatch(/demo stopped at stage 'train': .*IDX/i);
    expect(existsSync(join(dir, "nodata", "supernet.trained.onnx"))).toBe(false);
  });
});
