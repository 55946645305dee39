/**
 * A small but real NAS run for the report's tests, made with the library the commands use: an
 * fmnist-small supernet trained BN-only for 3 epochs (on 64 images, so an epoch is 2 steps),
 * exact search under a budget, the best subnet extracted and retrained for 2 epochs, evaluated
 * on 200 test images. Made once per test file, in a temporary folder (a few seconds).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSpace } from "../../src/space/builtins.js";
import { exportSupernet } from "../../src/supernet/export.js";
import { loadSupernet } from "../../src/supernet/load.js";
import { runTraining } from "../../src/pipeline/train-run.js";
import { scoreSupernet, searchSupernet } from "../../src/pipeline/search.js";
import { extractToFile } from "../../src/pipeline/extract.js";
import { evaluateFile } from "../../src/pipeline/evaluate.js";
import { SUBSET_DIR } from "../fixtures/paths.js";

export interface RunFiles {
  dir: string;
  supernet: string;
  trained: string;
  search: string;
  extracted: string;
  subnet: string;
  eval: string;
  maxMacs: number;
}

const base = { momentum: 0.9, weightDecay: 0, weightDecayBn: false, schedule: "linear" as const, clip: undefined, seed: 0, batch: 32, labelSmoothing: 0.1 };
/** The subset has 6,000 training images: holding out all but 64 makes an epoch 2 steps of 32. */
const HOLDOUT = 6000 - 64;

export async function makeRun(prefix = "bnnas-report-"): Promise<RunFiles> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const f = (n: string) => join(dir, n);
  const files: RunFiles = { dir, supernet: f("supernet.onnx"), trained: f("supernet.trained.onnx"), search: f("search.json"), extracted: f("subnet.init.onnx"), subnet: f("subnet.onnx"), eval: f("eval.json"), maxMacs: 4_000_000 };
  exportSupernet(loadSpace("fmnist-small"), files.supernet, { seed: 0 });
  await runTraining({
    supernet: files.supernet, output: files.trained, data: SUBSET_DIR, holdout: HOLDOUT, engine: { threads: 1 },
    config: { ...base, epochs: 3, lr: 1, bn: "all", sampler: "uniform", trainHead: false },
  });
  const loaded = loadSupernet(files.trained);
  const scored = scoreSupernet(loaded);
  const found = searchSupernet(loaded, scored, { strategy: "exact", top: 5, seed: 0, constraints: { maxMacs: files.maxMacs } });
  // What `score-onnx --search exact --max-macs 4M --json` prints.
  writeFileSync(files.search, JSON.stringify({
    file: files.trained, source: "bnnas", indicator: "bn", fixed: loaded.structure.fixed,
    layers: loaded.structure.layers.map((l, li) => ({ label: l.label, candidates: l.candidates.map((c, k) => ({ name: c.name, position: c.position, score: scored.scores[li]![k], macs: c.macs, params: c.params })) })),
    search: found.info, best: found.best,
  }));
  extractToFile(files.trained, { arch: found.best[0]!.arch, output: files.extracted });
  await runTraining({
    supernet: files.extracted, output: files.subnet, data: SUBSET_DIR, holdout: HOLDOUT, weights: "all", reinit: true, engine: { threads: 1 },
    config: { ...base, epochs: 2, lr: 0.1, bn: "all", trainHead: true, nesterov: true },
  });
  const evaluated = await evaluateFile(files.subnet, { data: SUBSET_DIR, limit: 200, threads: 1 });
  writeFileSync(files.eval, JSON.stringify({ ...evaluated, model: files.subnet, device: "cpu", threads: 1 }));
  return files;
}
