import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SUBSET_DIR } from "../fixtures/paths.js";
import { runCli } from "../cli/run-cli.js";

// PyTorch supernets bnnas cannot train (made by fixtures/not-differentiable/make_fixtures.py):
// the refusal is a user error (exit 1, one line naming the node and op type), not an internal error (70).
const FIXTURES = join(import.meta.dirname, "../fixtures/not-differentiable");
const out = join(mkdtempSync(join(tmpdir(), "bnnas-not-diff-")), "trained.onnx");
const train = (file: string) => runCli(["train", join(FIXTURES, file), "-o", out, "--data", SUBSET_DIR, "--batch", "8", "--steps", "1", "--threads", "1", "--quiet"]);

describe("bnnas train refuses a supernet it cannot differentiate", () => {
  it("an op without a gradient rule on a trained path (HardSwish from nn.Hardswish)", async () => {
    const r = await train("hardswish.onnx");
    expect(r.code, r.err).toBe(1);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/node '\/layer0\.0\/layer0\.0\.2\/HardSwish' \(HardSwish\): bnnas has no gradient rule for HardSwish.*replace the op/);
  });
  it("symbolic spatial dims (exported with dynamic height and width axes)", async () => {
    const r = await train("dynamic-spatial.onnx");
    expect(r.code, r.err).toBe(1);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/node '\/stem\/stem\.0\/Conv' \(Conv\): spatial dim 0 of its input is symbolic \('height'\).*re-export with a dynamic batch axis only/);
  });
});
