/**
 * Does a bnnas supernet run follow the PyTorch peer's loss curve with the same recipe? (issue 3,
 * item 6.) BN-only training of the fmnist-small supernet with uniform path sampling, once by
 * bnnas's trainer (src/train/trainer.ts + the onnxruntime engine) and once by PyTorch
 * (scripts/compare-curve-peer.py over scripts/peer/fmnist_space.py), from the SAME weights (the
 * PyTorch peer exported by scripts/export-fmnist-torch.py, whose state_dict the peer reloads), on
 * the SAME batches and the SAME sampled paths (bnnas's trainer decides both; the peer replays
 * them), with the same lr, momentum, label smoothing and BN mode. Prints both loss curves,
 * averaged over windows of --every steps, side by side, and a JSON summary with --json.
 *
 *   node dist/scripts/compare-curve.js [--steps 300] [--every 25] [--batch 128] [--lr 1.0] [--momentum 0.9]
 *        [--label-smoothing 0.1] [--bn all|last] [--seed 0] [--data DIR] [--threads 2] [--controls 2] [--json]
 *
 * --data defaults to /usr/share/datasets/fashion-mnist when installed, else the shipped subset
 * (data/fashion-mnist-subset). The first steps agree to float rounding; after that the runs
 * drift apart, because this training is chaotic (see the control below): the fair reading is
 * bnnas-vs-PyTorch drift against PyTorch-vs-itself drift: --controls K more PyTorch runs start
 * 1e-6 away from the same weights, and the table shows the spread of all PyTorch runs per window
 * (--controls 0 skips them).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSupernet } from "../src/supernet/load.js";
import { createEngine } from "../src/train/engine.js";
import { train, allowedPositions, type TrainConfig } from "../src/train/trainer.js";
import { createSampler } from "../src/train/sampler.js";
import { batchesPerEpoch, epochOrder, FASHION_MNIST_NORMALIZATION } from "../src/data/batches.js";
import { defaultDataDir, loadDataset } from "../src/data/dataset.js";
import { PEER_DIR, REPO_DIR } from "./peer-dir.js";
import { arg, flag } from "./args.js";


const steps = Number(arg("steps", "300"));
const every = Number(arg("every", "25"));
const threads = Number(arg("threads", "2"));
const bnArg = arg("bn", "all");
if (bnArg !== "all" && bnArg !== "last") throw new Error(`--bn must be all or last, not ${bnArg}`);
const bn: "all" | "last" = bnArg;
const config: TrainConfig = {
  steps, batch: Number(arg("batch", "128")), lr: Number(arg("lr", "1.0")), momentum: Number(arg("momentum", "0.9")),
  weightDecay: 0, weightDecayBn: false, schedule: "constant", labelSmoothing: Number(arg("label-smoothing", "0.1")),
  sampler: "uniform", bn, trainHead: false, seed: Number(arg("seed", "0")),
};
const dataDir = arg("data", defaultDataDir());
const numControls = Number(arg("controls", "2"));
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Mean of each window of `every` consecutive values. */
function windows(xs: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < xs.length; i += every) {
    const w = xs.slice(i, i + every);
    out.push(w.reduce((a, b) => a + b, 0) / w.length);
  }
  return out;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "bnnas-curve-"));
  const onnxFile = join(dir, "fmnist-small.torch.onnx");
  const stateFile = join(dir, "fmnist-small.state.pt");
  log(`exporting the PyTorch peer supernet (seed ${config.seed}) to ${onnxFile}`);
  execFileSync("/usr/bin/python3", [join(REPO_DIR, "scripts/export-fmnist-torch.py"), onnxFile, "--bench-dir", PEER_DIR, "--seed", String(config.seed), "--state-dict", stateFile], { stdio: ["ignore", "ignore", "inherit"] });

  const { model, structure } = loadSupernet(onnxFile);
  const data = loadDataset(dataDir, "train");
  const norm = FASHION_MNIST_NORMALIZATION;

  // The plan the trainer will follow (same functions, same seed): batches and paths per step.
  const perEpoch = batchesPerEpoch(data.count, config.batch);
  const sampler = createSampler("uniform", allowedPositions(structure), config.seed);
  const indices: number[][] = [];
  const paths: number[][] = [];
  // One shuffle per epoch, as the trainer does (not one per step).
  let order: Uint32Array = new Uint32Array(0);
  for (let s = 0; s < steps; s++) {
    if (s % perEpoch === 0) order = epochOrder(data.count, config.seed, s / perEpoch);
    const at = (s % perEpoch) * config.batch;
    indices.push(Array.from(order.subarray(at, at + config.batch)));
    // Mask position -> index among the layer's candidates (the peer's choices[l][i]).
    paths.push(sampler.paths(s)[0]!.map((pos, l) => structure.layers[l]!.candidates.findIndex((c) => c.position === pos)));
  }

  log(`bnnas: ${steps} steps, batch ${config.batch}, lr ${config.lr}, momentum ${config.momentum}, label smoothing ${config.labelSmoothing}, --bn ${bn}, data ${data.source}`);
  const engine = await createEngine(model, structure, { bn, trainHead: false, labelSmoothing: config.labelSmoothing, threads });
  const bnnasLosses: number[] = [];
  let result;
  try {
    result = await train({
      model, file: onnxFile, structure, engine, data, norm, config,
      onStep: (s) => {
        bnnasLosses.push(s.loss);
        if ((s.step + 1) % every === 0) log(`  bnnas step ${s.step + 1}/${steps} loss ${s.loss.toFixed(4)}`);
      },
    });
  } finally {
    await engine.release();
  }

  const planFile = join(dir, "plan.json");
  writeFileSync(planFile, JSON.stringify({ data_dir: dataDir, normalize: norm, lr: config.lr, momentum: config.momentum, label_smoothing: config.labelSmoothing, bn, indices, paths }));
  log(`PyTorch: replaying the same ${steps} steps`);
  const runPeer = (extra: string[]) => JSON.parse(execFileSync("/usr/bin/python3", [join(REPO_DIR, "scripts/compare-curve-peer.py"), planFile, stateFile, "--bench-dir", PEER_DIR, "--threads", String(threads), ...extra], { encoding: "utf8", maxBuffer: 1 << 26, stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!) as { losses: number[]; ms_per_step: number };
  const peer = runPeer([]);
  // The control: BN-only training at large learning rates is chaotic (a 1e-6 change of the BN
  // parameters moved PyTorch's own gradients by ~0.4% at step 1 and ~30% by step 3, measured at
  // lr 1.0), so curves from identical starts drift apart whatever the engine. PyTorch runs started
  // 1e-6 away from the same weights show how far that drift alone goes: bnnas follows PyTorch's
  // curve when it stays inside their spread.
  const controls: number[][] = [];
  for (let k = 1; k <= numControls; k++) {
    log(`PyTorch control ${k}/${numControls}: BN parameters perturbed by 1e-6 (seed ${k})`);
    controls.push(windows(runPeer(["--perturb", "1e-6", "--perturb-seed", String(k)]).losses));
  }

  const ours = windows(bnnasLosses);
  const theirs = windows(peer.losses);
  const rows = ours.map((l, i) => {
    const spread = controls.length ? [Math.min(theirs[i]!, ...controls.map((c) => c[i]!)), Math.max(theirs[i]!, ...controls.map((c) => c[i]!))] : undefined;
    return {
      steps: `${i * every + 1}-${Math.min(steps, (i + 1) * every)}`, bnnas: +l.toFixed(4), pytorch: +theirs[i]!.toFixed(4), diff: +(l - theirs[i]!).toFixed(4),
      ...(spread ? { pytorch_min: +spread[0]!.toFixed(4), pytorch_max: +spread[1]!.toFixed(4), inside: l >= spread[0]! - 1e-4 && l <= spread[1]! + 1e-4 } : {}),
    };
  });
  const summary = {
    recipe: { ...config, data: data.source, space: "fmnist-small (PyTorch peer weights)" },
    every, rows,
    first_window: { bnnas: rows[0]!.bnnas, pytorch: rows[0]!.pytorch },
    last_window: { bnnas: rows[rows.length - 1]!.bnnas, pytorch: rows[rows.length - 1]!.pytorch },
    max_abs_window_diff: Math.max(...rows.map((r) => Math.abs(r.diff))),
    pytorch_runs: 1 + controls.length,
    windows_inside_pytorch_spread: controls.length ? rows.filter((r) => r.inside).length : undefined,
    // Same weights, batch and path: step 1 must agree to float rounding; later steps drift apart.
    first_steps: { bnnas: bnnasLosses.slice(0, 5).map((l) => +l.toFixed(5)), pytorch: peer.losses.slice(0, 5).map((l) => +l.toFixed(5)) },
    ms_per_step: { bnnas: +result.msPerStep.toFixed(1), pytorch: +peer.ms_per_step.toFixed(1) },
  };
  if (flag("json")) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(`loss per window of ${every} steps (mean), same weights, batches and paths; chance = ln 10 = 2.3026`);
  console.log(`${"steps".padEnd(10)} ${"bnnas".padStart(8)} ${"PyTorch".padStart(8)} ${"diff".padStart(8)}   PyTorch spread over ${1 + controls.length} runs (the extra ones started 1e-6 away)`);
  for (const r of rows) console.log(`${r.steps.padEnd(10)} ${r.bnnas.toFixed(4).padStart(8)} ${r.pytorch.toFixed(4).padStart(8)} ${r.diff.toFixed(4).padStart(8)}   ${r.pytorch_min !== undefined ? `${r.pytorch_min.toFixed(4)} .. ${r.pytorch_max!.toFixed(4)}${r.inside ? "" : "  (bnnas outside)"}` : "-"}`);
  console.log(`first steps: bnnas ${summary.first_steps.bnnas.join(", ")}; PyTorch ${summary.first_steps.pytorch.join(", ")}`);
  console.log(`max |window diff| bnnas vs PyTorch ${summary.max_abs_window_diff.toFixed(4)}; windows inside PyTorch's spread: ${summary.windows_inside_pytorch_spread ?? "-"}/${rows.length}; ms/step bnnas ${summary.ms_per_step.bnnas}, PyTorch ${summary.ms_per_step.pytorch}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
