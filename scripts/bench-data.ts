/**
 * Benchmark: what data loading adds to a training step, at 1x28x28 (the fmnist-small supernet on
 * the shipped Fashion-MNIST subset) and at 3x64x64 (an fmnist-small-shaped RGB space at 64x64 on a
 * CIFAR-format file resized to 64x64 through the cache), BN-only, uniform paths, --augment on.
 * Three batch sources run the same steps on one engine, interleaved round by round:
 *   none    a batch made once and handed out again (the step with no data work: the baseline);
 *   sync    makeBatch on the main thread before each step (what training did before prefetching);
 *   worker  makeBatch in the prefetch worker while the previous step runs (what training does now).
 * Each row prints the median ms/step of each source over the rounds and the overhead over `none`
 * (targets: <= 5% at 1x28x28, <= 10% at 3x64x64), and `data_ms`: the median time makeBatch takes
 * on the main thread (sync), as a share of the step (`data_pct`), which is less exposed to the
 * machine's load than the difference of two step times. Also timed: decoding an image folder
 * (JPEG 96x96 -> 64x64) into the cache, and loading it back from the cache.
 *
 *   node dist/scripts/bench-data.js [--batch 128] [--steps 20] [--rounds 3] [--threads 2] [--rows 28,64]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { exportSupernet } from "../src/supernet/export.js";
import { builtinSpace } from "../src/space/builtins.js";
import { loadTrainable } from "../src/supernet/trainable.js";
import { createEngine } from "../src/train/engine.js";
import { train, type TrainConfig } from "../src/train/trainer.js";
import { loadData } from "../src/data/load.js";
import { makeBatch, type Batch } from "../src/data/batches.js";
import { syncSource, workerScript, workerSource, type BatchSource } from "../src/data/prefetch.js";
import type { Dataset } from "../src/data/dataset.js";
import type { Normalization } from "../src/structure/normalization.js";
import type { SpaceSpec } from "../src/space/spec.js";
import { REPO_DIR } from "./peer-dir.js";
import { arg } from "./args.js";

const batch = Number(arg("batch", "128"));
const steps = Number(arg("steps", "20"));
const rounds = Number(arg("rounds", "3"));
const threads = Number(arg("threads", "2"));
const rows = arg("rows", "28,64").split(",");
const dir = mkdtempSync(join(tmpdir(), "bnnas-bench-data-"));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The baseline: one batch, made once, handed out for every step. */
function constantSource(data: Dataset, norm: Normalization): BatchSource {
  const fixed: Batch = makeBatch(data, Uint32Array.from({ length: batch }, (_, i) => i % data.count), norm);
  return { kind: "sync", get: async () => fixed, close: async () => undefined };
}

async function row(name: string, space: SpaceSpec, data: Dataset): Promise<Record<string, number | string>> {
  const file = join(dir, `${name}.onnx`);
  exportSupernet(space, file, { seed: 0 });
  const loaded = loadTrainable(file);
  const norm = space.input.normalize!;
  const engine = await createEngine(loaded.model, loaded.structure, { weights: "bn", bn: "all", trainHead: false, labelSmoothing: 0, threads });
  const config: TrainConfig = { steps, batch, lr: 0.1, momentum: 0.9, weightDecay: 0, weightDecayBn: false, schedule: "constant", labelSmoothing: 0, sampler: "uniform", bn: "all", trainHead: false, seed: 0, augment: true };
  const script = workerScript();
  if (!script) throw new Error("the compiled worker is missing: run npm run build");
  const times: Record<"none" | "sync" | "worker", number[]> = { none: [], sync: [], worker: [] };
  const dataMs: number[] = [];
  /** The sync source, timing each makeBatch. */
  const timedSync = (): BatchSource => {
    const inner = syncSource(data, norm);
    return { kind: "sync", close: inner.close, get: (req) => {
      const t = performance.now();
      const b = inner.get(req);
      dataMs.push(performance.now() - t);
      return b;
    } };
  };
  // One source of each kind for the whole row, as one training run has: the worker starts and
  // warms up (JIT) once, in round 0, which is not counted.
  const sources = { none: constantSource(data, norm), sync: timedSync(), worker: workerSource(data, norm, script) };
  try {
    for (let r = 0; r < rounds + 1; r++) {
      if (r === 1) dataMs.length = 0;
      for (const kind of ["none", "sync", "worker"] as const) {
        const res = await train({ model: loaded.model, file, structure: loaded.structure, engine, data, norm, config: { ...config, seed: r }, batches: sources[kind] });
        if (r > 0) times[kind].push(res.msPerStep);
      }
    }
  } finally {
    for (const s of Object.values(sources)) await s.close();
    await engine.release();
  }
  const none = median(times.none);
  const sync = median(times.sync);
  const worker = median(times.worker);
  return {
    row: name, shape: `${data.channels}x${data.height}x${data.width}`, batch,
    none_ms: +none.toFixed(2), sync_ms: +sync.toFixed(2), worker_ms: +worker.toFixed(2),
    sync_overhead_pct: +(100 * (sync / none - 1)).toFixed(2), worker_overhead_pct: +(100 * (worker / none - 1)).toFixed(2),
    data_ms: +median(dataMs).toFixed(3), data_pct: +(100 * median(dataMs) / none).toFixed(2), threads,
  };
}

/** An fmnist-small-shaped space on RGB 64x64 images. */
function rgb64(): SpaceSpec {
  const base = builtinSpace("fmnist-small");
  return { ...base, name: "rgb64", input: { ...base.input, shape: [3, 64, 64], normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } } };
}

/** A CIFAR-format file of n records with varied pixels. */
function cifarDir(n: number): string {
  const d = join(dir, "cifar");
  mkdirSync(d, { recursive: true });
  const rec = 3073;
  const bytes = new Uint8Array(n * rec);
  for (let i = 0; i < n; i++) {
    bytes[i * rec] = i % 10;
    for (let k = 1; k < rec; k++) bytes[i * rec + k] = (k * 7 + i * 13) & 255;
  }
  writeFileSync(join(d, "data_batch_1.bin"), bytes);
  return d;
}

/** Decoding an image folder of JPEGs into the cache, then reading it back. */
async function decodeRow(n: number): Promise<Record<string, number | string>> {
  const root = join(dir, "jpeg");
  for (let i = 0; i < n; i++) {
    const cls = join(root, "train", `c${i % 10}`);
    mkdirSync(cls, { recursive: true });
    const px = Buffer.alloc(96 * 96 * 3);
    for (let k = 0; k < px.length; k++) px[k] = (k * 5 + i * 11) & 255;
    await sharp(px, { raw: { width: 96, height: 96, channels: 3 } }).jpeg().toFile(join(cls, `${i}.jpg`));
  }
  const cache = join(dir, "cache-jpeg");
  const want = { channels: 3, height: 64, width: 64 };
  let t = performance.now();
  await loadData(root, "train", { cacheDir: cache, want });
  const first = performance.now() - t;
  t = performance.now();
  await loadData(root, "train", { cacheDir: cache, want });
  const cached = performance.now() - t;
  return { row: "decode", images: n, shape: "96x96 JPEG -> 3x64x64", decode_s: +(first / 1000).toFixed(3), decode_images_per_s: Math.round(n / (first / 1000)), cached_load_ms: +cached.toFixed(1) };
}

const results: Record<string, number | string>[] = [];
try {
  if (rows.includes("28")) {
    const data = await loadData(join(REPO_DIR, "data", "fashion-mnist-subset"), "train");
    results.push(await row("1x28x28", builtinSpace("fmnist-small"), data));
  }
  if (rows.includes("64")) {
    const data = await loadData(cifarDir(2048), "train", { cacheDir: join(dir, "cache"), want: { channels: 3, height: 64, width: 64 } });
    results.push(await row("3x64x64", rgb64(), data));
  }
  if (rows.includes("decode")) results.push(await decodeRow(Number(arg("images", "1000"))));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const r of results) process.stderr.write(`${Object.entries(r).map(([k, v]) => `${k}=${v}`).join("  ")}\n`);
process.stdout.write(`${JSON.stringify(results)}\n`);
