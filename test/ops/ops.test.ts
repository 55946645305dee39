/**
 * Every op kind's ONNX emission against PyTorch (F.conv2d / batch_norm / pooling, built from the
 * manifest's space by test/fixtures/space/torch_oracle.py): each candidate of each layer is
 * selected at least once, plus a soft mask mixing all candidates (checks the Sum).
 */
import { describe, expect, test } from "vitest";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { buildSupernet } from "../../src/supernet/export.js";
import { writeModel } from "../../src/model/model-io.js";
import { PYTHON, maxAbsDiff, oneHotMasks, randomInput, randomizeBatchNorms, runMasks, tempDir, torchLogits } from "../supernet/oracle.js";
import { allOpsSpace } from "./all-ops-space.js";

describe.each([false, true])("all op kinds, unbiased=%s", (unbiased) => {
  test("logits match PyTorch for every candidate in every layer", async () => {
    const spec = allOpsSpace();
    const { model, manifest } = buildSupernet(spec, { seed: 3, unbiased });
    randomizeBatchNorms(model, 9);
    const file = join(tempDir(), "all-ops.onnx");
    writeModel(file, model);
    const maxK = Math.max(...manifest.layers.map((l) => l.candidates.length));
    const archs = Array.from({ length: maxK }, (_, i) => manifest.layers.map((l) => l.candidates[i % l.candidates.length]!.position));
    const masks = archs.map((a) => oneHotMasks(manifest, a));
    // A soft mask: every allowed candidate weighted (the supernet's Sum over all branches).
    masks.push(manifest.layers.map((l) => {
      const m = new Float32Array(spec.candidates.length);
      l.candidates.forEach((c, i) => (m[c.position] = 0.3 + 0.1 * i));
      return m;
    }));
    const dims = [2, 3, 13, 11];
    const x = randomInput(dims, 5);
    const ours = await runMasks(model, manifest, x, dims, masks);
    const torch = torchLogits(file, "generic", x, dims, masks);
    ours.forEach((o, i) => {
      expect(o.every(Number.isFinite)).toBe(true);
      expect(maxAbsDiff(o, torch[i]!), `mask set ${i}`).toBeLessThan(2e-4);
    });
    // Every op kind also passes the ONNX checker (full_check runs shape inference).
    const checked = execFileSync(PYTHON, ["-c", "import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('ok')", file], { encoding: "utf8" });
    expect(checked.trim()).toBe("ok");
    // Distinct architectures really give distinct outputs.
    expect(maxAbsDiff(ours[0]!, [Array.from(ours[1]!)])).toBeGreaterThan(1e-4);
  });
});
