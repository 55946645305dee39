/**
 * BN-only training of one fixed path of fmnist-small on (the shipped subset of) Fashion-MNIST
 * learns, as the PyTorch peer does (../shared/spaces/fmnist-small.md: arch 1,4,2,5,3,2, every
 * BN's gamma/beta, classifier frozen, lr 0.1, momentum 0.9: loss 1.8 -> 0.9 over 300 steps of
 * batch 128). This test runs 48 steps of batch 64 to stay fast, so its thresholds are loose, but
 * a trainer that does not learn (wrong sign, no update, frozen BNs) fails them: with the path
 * frozen the loss stays at ~2.35 and the accuracy at chance (0.1).
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/index.js";
import { memoryIO } from "../../src/util/io.js";
import { loadSupernet } from "../../src/supernet/load.js";
import { readManifest } from "../../src/supernet/manifest.js";
import { createEngine } from "../../src/train/engine.js";
import { train } from "../../src/train/trainer.js";
import { loadDataset, SHIPPED_SUBSET } from "../../src/data/dataset.js";

describe("fmnist-small fixed path, BN-only", () => {
  it("lowers the loss and lifts training accuracy", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "bnnas-fixed-")), "fm.onnx");
    expect(await main(["export-supernet", "--space", "fmnist-small", "-o", file], memoryIO())).toBe(0);
    const { model, structure } = loadSupernet(file);
    const engine = await createEngine(model, structure, { bn: "all", trainHead: false, labelSmoothing: 0, threads: 2 });
    const losses: number[] = [];
    const accs: number[] = [];
    try {
      await train({
        model, file, structure, engine, data: loadDataset(SHIPPED_SUBSET, "train"), norm: readManifest(model, file)!.input.normalize,
        config: { steps: 48, batch: 64, lr: 0.1, momentum: 0.9, weightDecay: 0, weightDecayBn: false, schedule: "constant", labelSmoothing: 0,
          sampler: "fixed", arch: [1, 4, 2, 5, 3, 2], bn: "all", trainHead: false, seed: 0 },
        onStep: (s) => { losses.push(s.loss); accs.push(s.accuracy); },
      });
    } finally {
      await engine.release();
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const first = mean(losses.slice(0, 8));
    const last = mean(losses.slice(-8));
    // Measured: ~2.35 -> ~2.08 (noisy machine, same seed); PyTorch's curve has the same shape.
    expect(first - last).toBeGreaterThan(0.15);
    expect(mean(accs.slice(-8))).toBeGreaterThan(0.15);
  });
});
