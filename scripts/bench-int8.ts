/**
 * Benchmark: a trained fmnist-small subnet as float, BatchNorm-folded and int8 (QDQ), in the same
 * run: test-set accuracy of each and inference throughput at a fixed batch and thread count.
 * Issue 16's targets: int8 loses at most 0.5 accuracy points and runs at least 1.5x the float
 * subnet's images/s (batch 128, 2 threads).
 *
 *   npm run build && node dist/scripts/bench-int8.js [--model TRAINED.onnx] [--arch 0,1,3,1,2,0]
 *        [--epochs 2] [--data DIR] [--batch 128] [--threads 2] [--rounds 7] [--runs 20]
 *        [--calibrate 512] [--activations uint8|int8] [--json]
 *
 * Without --model it trains one first with the CLI, as a user would: export-supernet, extract-subnet
 * --arch, train --reinit (every weight, --epochs on --data: the system Fashion-MNIST when
 * installed, else the shipped subset; cosine lr 0.1, Nesterov, wd 5e-5). The variants are then
 * written with extract-subnet (--fold-bn; --quantize int8) and evaluated with `bnnas eval`'s library
 * function on the whole test split.
 *
 * Speed: `rounds` rounds of `runs` session runs per variant on one batch of real test images, after
 * 3 warm-up runs, the variants' runs interleaved (so load on a shared machine hits them alike); per
 * round the median time per variant and the float/int8 ratio; the median over rounds is reported.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModel } from "../src/model/model-io.js";
import { Session } from "../src/runtime/ort.js";
import { evaluateFile } from "../src/pipeline/evaluate.js";
import { loadDataset } from "../src/data/dataset.js";
import { makeBatch } from "../src/data/batches.js";
import { readSubnetManifest } from "../src/supernet/subnet-manifest.js";
import { arg, flag } from "./args.js";

const batch = Number(arg("batch", "128"));
const threads = Number(arg("threads", "2"));
const rounds = Number(arg("rounds", "7"));
const runs = Number(arg("runs", "20"));
const data = arg("data", "");
const json = flag("json");
const dir = mkdtempSync(join(tmpdir(), "bnnas-bench-int8-"));
const cli = (args: string[]) => execFileSync(process.execPath, [join(process.cwd(), "bin/bnnas.js"), ...args, ...(data ? ["--data", data] : [])].filter(Boolean), { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
const log = (s: string) => process.stderr.write(`${s}\n`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

let trained = arg("model", "");
if (!trained) {
  const supernet = join(dir, "supernet.onnx");
  const init = join(dir, "subnet.init.onnx");
  trained = join(dir, "subnet.onnx");
  log("training a subnet first (pass --model to skip)...");
  execFileSync(process.execPath, ["bin/bnnas.js", "export-supernet", "--space", "fmnist-small", "-o", supernet], { stdio: "ignore" });
  execFileSync(process.execPath, ["bin/bnnas.js", "extract-subnet", supernet, "--arch", arg("arch", "0,1,3,1,2,0"), "-o", init], { stdio: "ignore" });
  cli(["train", init, "-o", trained, "--reinit", "--epochs", arg("epochs", "2"), "--lr", "0.1", "--lr-schedule", "cosine", "--nesterov", "--weight-decay", "5e-5", "--threads", String(threads)]);
}

const variants: { name: string; file: string; secs?: number }[] = [
  { name: "float", file: trained },
  { name: "folded", file: join(dir, "folded.onnx") },
  { name: "int8", file: join(dir, "int8.onnx") },
];
execFileSync(process.execPath, ["bin/bnnas.js", "extract-subnet", trained, "--fold-bn", "-o", variants[1]!.file], { stdio: "ignore" });
const t0 = performance.now();
cli(["extract-subnet", trained, "--quantize", "int8", "--calibrate", arg("calibrate", "512"), "--activations", arg("activations", "uint8"), "--threads", String(threads), "-o", variants[2]!.file, "--quiet"]);
const quantizeSecs = (performance.now() - t0) / 1000;

const accuracy = new Map<string, number>();
for (const v of variants) {
  const r = await evaluateFile(v.file, { data: data || undefined, batch, threads });
  accuracy.set(v.name, r.accuracy);
  log(`${v.name}: accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.images} test images`);
}

// One batch of real test images, the same for every variant.
const test = loadDataset(data || undefined, "test");
const norm = readSubnetManifest(readModel(trained))!.input.normalize!;
const { x } = makeBatch(test, Uint32Array.from({ length: batch }, (_, i) => i % test.count), norm);
const sessions = await Promise.all(variants.map((v) => Session.create(readModel(v.file), { threads })));
const perRound = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  // Runs interleaved across the variants, so a burst of load elsewhere hits them alike.
  const times = variants.map(() => [] as number[]);
  for (const s of sessions) for (let w = 0; w < 3; w++) await s.run({ input: x });
  for (let k = 0; k < runs; k++) {
    for (const [i, s] of sessions.entries()) {
      const t = performance.now();
      await s.run({ input: x });
      times[i]!.push(performance.now() - t);
    }
  }
  const ms = new Map<string, number>(variants.map((v, i) => [v.name, median(times[i]!)]));
  for (const v of variants) perRound.get(v.name)!.push(ms.get(v.name)!);
  ratios.push(ms.get("float")! / ms.get("int8")!);
  log(`round ${r + 1}/${rounds}: ${variants.map((v) => `${v.name} ${ms.get(v.name)!.toFixed(2)} ms`).join(", ")}; int8 speed-up ${ratios[ratios.length - 1]!.toFixed(2)}x`);
}
for (const s of sessions) await s.release();

const result = {
  batch,
  threads,
  rounds,
  model: trained,
  quantize_s: quantizeSecs,
  variants: Object.fromEntries(variants.map((v) => {
    const m = median(perRound.get(v.name)!);
    return [v.name, { accuracy: accuracy.get(v.name), ms_per_batch: m, images_per_s: (1000 * batch) / m }];
  })),
  int8_accuracy_drop_points: 100 * (accuracy.get("float")! - accuracy.get("int8")!),
  int8_speedup: median(ratios),
  int8_speedup_range: [Math.min(...ratios), Math.max(...ratios)],
};
if (json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  for (const [name, v] of Object.entries(result.variants)) console.log(`${name.padEnd(7)} accuracy ${(100 * v.accuracy!).toFixed(2)}%  ${v.ms_per_batch.toFixed(2)} ms/batch  ${v.images_per_s.toFixed(0)} images/s`);
  console.log(`int8: accuracy drop ${result.int8_accuracy_drop_points.toFixed(2)} points (target <= 0.5), speed-up ${result.int8_speedup.toFixed(2)}x median over ${rounds} rounds (${result.int8_speedup_range.map((r) => r.toFixed(2)).join("-")}; target >= 1.5x), quantized in ${quantizeSecs.toFixed(1)} s`);
}
