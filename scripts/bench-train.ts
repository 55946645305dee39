/**
 * Benchmark: BN-only training steps of the fmnist-small supernet on bnnas's engine vs the PyTorch
 * peer (scripts/peer/torch_reference.py), same batch, threads and uniform path sampling.
 * A bnnas step = engine.step + an SGD-momentum update of the trained params in JS.
 *
 *   node dist/scripts/bench-train.js [--batch 128] [--steps 30] [--threads 2] [--model FILE | --source bnnas|torch]
 *        [--layout fused|blocks] [--activations checkpoint|save|recompute] [--arena | --no-arena] [--spin]
 *        [--no-torch | --no-reference] [--torch-own-paths] [--profile]
 *
 * Without --model, the fmnist-small supernet is exported to a temp dir by bnnas's own exporter
 * (src/supernet/export.ts), or with --source torch, the PyTorch peer by
 * scripts/export-fmnist-torch.py (BN kept, one mask input per layer). Prints one JSON line per
 * mode and a summary with ms/step, the bnnas/PyTorch ratio and peak RSS (of this node process).
 * The machine may be shared: besides torch_reference.py's own run (before bnnas's), PyTorch steps
 * are also timed interleaved with bnnas's, one for one, by scripts/torch-step-server.py (the same
 * step code), so `ratio_interleaved` compares both under the same load.
 */
import { execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSupernet } from "../src/supernet/load.js";
import { createEngine, type EngineOptions } from "../src/train/engine.js";
import { readFloats } from "../src/onnx/tensor.js";
import { Random } from "../src/util/random.js";
import { exportSupernet } from "../src/supernet/export.js";
import { builtinSpace } from "../src/space/builtins.js";
import { PEER_DIR, REPO_DIR } from "./peer-dir.js";
import { arg, flag } from "./args.js";

const BENCH_DIR = PEER_DIR;

const batch = Number(arg("batch", "128"));
const steps = Number(arg("steps", "30"));
const threads = Number(arg("threads", "2"));
/** Unset: the engine's default for the layout. */
const activations = (arg("activations", "") || undefined) as EngineOptions["activations"];
const layout = arg("layout", "fused") as NonNullable<EngineOptions["layout"]>;
const arena = flag("arena") ? true : flag("no-arena") ? false : undefined;
const spin = flag("spin");
/** The torch step server runs bnnas's sampled path (fmnist-small only: op index = mask position); --torch-own-paths lets it sample its own. */
const torchPaths = !flag("torch-own-paths") && !arg("model", "") && arg("source", "bnnas") === "bnnas";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The PyTorch step server (scripts/torch-step-server.py): one step per request, for interleaved timing. */
class TorchSteps {
  private readonly child = spawn("/usr/bin/python3", [join(REPO_DIR, "scripts/torch-step-server.py"), "--bench-dir", BENCH_DIR, "--batch", String(batch), "--threads", String(threads)], { stdio: ["pipe", "pipe", "ignore"] });
  private readonly lines: string[] = [];
  private waiting?: (line: string) => void;
  constructor() {
    createInterface({ input: this.child.stdout! }).on("line", (l) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(l);
      } else this.lines.push(l);
    });
  }
  private next(): Promise<string> {
    const l = this.lines.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((r) => (this.waiting = r));
  }
  async ready(): Promise<void> {
    await this.next();
  }
  /** One PyTorch step on `arch` (op indices = bnnas mask positions for fmnist-small), or on a path it samples. */
  async step(mode: string, arch?: readonly number[]): Promise<number> {
    this.child.stdin!.write(arch ? `${mode} ${arch.join(",")}\n` : `${mode}\n`);
    return Number(await this.next());
  }
  close(): void {
    this.child.stdin!.end();
  }
}

async function benchMode(file: string, bn: EngineOptions["bn"], torchSteps?: TorchSteps) {
  const { model, structure } = loadSupernet(file);
  const engine = await createEngine(model, structure, { bn, trainHead: false, labelSmoothing: 0, threads, layout, activations, arena, spin, profile: flag("profile") });
  const random = new Random(0);
  const rand = () => random.uniform();
  const x = { dims: [batch, ...structure.input.shape.slice(1).map(Number)], data: Float32Array.from({ length: batch * 784 }, () => rand() * 2 - 1) };
  const labels = Int32Array.from({ length: batch }, () => Math.floor(rand() * 10));
  const params = new Map<string, Float32Array>();
  const momentum = new Map<string, Float32Array>();
  for (const t of model.graph!.initializer) if (model.graph!.node.some((n) => n.opType === "BatchNormalization" && (n.input[1] === t.name || n.input[2] === t.name))) params.set(t.name, readFloats(t));
  const positions = structure.layers.map((l) => l.candidates.map((c) => c.position));
  const sgd = (grads: Map<string, Float32Array>) => {
    for (const [name, g] of grads) {
      const p = params.get(name)!;
      let v = momentum.get(name);
      if (!v) momentum.set(name, (v = new Float32Array(g.length)));
      for (let i = 0; i < g.length; i++) {
        v[i] = 0.9 * v[i]! + g[i]!;
        p[i] = p[i]! - 0.1 * v[i]!;
      }
    }
  };
  // Warm-up: every candidate once (session creation is a one-off cost, timed separately).
  const t0 = performance.now();
  const kMax = Math.max(...positions.map((p) => p.length));
  for (let j = 0; j < kMax; j++) sgd((await engine.step(positions.map((p) => p[j % p.length]!), x, labels, params)).grads);
  const warmupMs = performance.now() - t0;
  const times: number[] = [];
  const torchTimes: number[] = [];
  let loss = 0;
  if (torchSteps) for (let i = 0; i < 3; i++) await torchSteps.step(`bn_${bn}`);
  for (let s = 0; s < steps; s++) {
    const arch = positions.map((p) => p[Math.floor(rand() * p.length)]!);
    // Same path on both sides: a step's cost depends a lot on the path (k7_e6 vs k3_e3), so the
    // interleaved comparison is paired.
    if (torchSteps) torchTimes.push(await torchSteps.step(`bn_${bn}`, torchPaths ? arch : undefined));
    const t = performance.now();
    const r = await engine.step(arch, x, labels, params);
    sgd(r.grads);
    times.push(performance.now() - t);
    loss = r.loss;
  }
  if (flag("profile") && engine.timings) {
    const rows = [...engine.timings()].map(([k, t]) => ({ kind: k, create: Math.round(t.createMs), runs: t.runs, msPerRun: +(t.runMs / Math.max(1, t.runs)).toFixed(2), totalMs: Math.round(t.runMs) }));
    rows.sort((a, b) => b.totalMs - a.totalMs);
    console.error(`--bn ${bn}: time per block kind (warm-up included)`);
    for (const r of rows.slice(0, 25)) console.error(JSON.stringify(r));
  }
  await engine.release();
  const pairedRatio = torchTimes.length ? median(times.map((t, i) => t / torchTimes[i]!)) : undefined;
  return { ms: median(times), torchInterleavedMs: torchTimes.length ? median(torchTimes) : undefined, pairedRatio, warmupMs, loss };
}

function torchReference(): Record<string, number> | undefined {
  if (flag("no-torch") || flag("no-reference")) return undefined;
  const out = execFileSync("/usr/bin/python3", [join(BENCH_DIR, "torch_reference.py"), "--batch", String(batch), "--steps", String(steps), "--threads", String(threads)], { encoding: "utf8", cwd: BENCH_DIR, stdio: ["ignore", "pipe", "ignore"] });
  return JSON.parse(out.trim().split("\n").pop()!) as Record<string, number>;
}

async function main() {
  let file = arg("model", "");
  if (!file && arg("source", "bnnas") === "torch") {
    file = join(mkdtempSync(join(tmpdir(), "bnnas-bench-")), "fmnist-small.torch.onnx");
    execFileSync("/usr/bin/python3", [join(REPO_DIR, "scripts/export-fmnist-torch.py"), file, "--bench-dir", BENCH_DIR], { stdio: ["ignore", "ignore", "inherit"] });
  } else if (!file) {
    file = join(mkdtempSync(join(tmpdir(), "bnnas-bench-")), "fmnist-small.onnx");
    exportSupernet(builtinSpace("fmnist-small"), file, { seed: 0 });
  }
  const torch = torchReference();
  const torchSteps = flag("no-torch") ? undefined : new TorchSteps();
  await torchSteps?.ready();
  const results: Record<string, unknown> = { model: file, batch, steps, threads, layout, activations: activations ?? "default", arena: arena ?? "default", spin };
  for (const bn of ["last", "all"] as const) {
    const r = await benchMode(file, bn, torchSteps);
    const ref = torch?.[`bn_${bn}_step_ms`];
    const inter = r.torchInterleavedMs;
    results[`bn_${bn}`] = {
      bnnas_ms: +r.ms.toFixed(2),
      torch_ms: ref,
      ratio: ref ? +(r.ms / ref).toFixed(3) : undefined,
      // PyTorch steps alternated with bnnas steps: both see the same machine load
      torch_interleaved_ms: inter !== undefined ? +inter.toFixed(2) : undefined,
      ratio_interleaved: inter ? +(r.ms / inter).toFixed(3) : undefined,
      // median over steps of (bnnas step / the PyTorch step on the same path just before it)
      ratio_paired_median: r.pairedRatio !== undefined ? +r.pairedRatio.toFixed(3) : undefined,
      warmup_ms: Math.round(r.warmupMs),
      last_loss: +r.loss.toFixed(4),
    };
  }
  torchSteps?.close();
  results.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify(results));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
