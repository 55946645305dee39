/**
 * Benchmark: training steps on bnnas's engine vs the PyTorch peer (scripts/peer/torch_reference.py),
 * same batch, threads and (for the supernet rows) uniform path sampling. Four rows (--mode):
 *   bn_last      BN-only supernet training, the last BN of each candidate (the BN-NAS code) vs its bn_last_step_ms;
 *   bn_all       BN-only, every BN, vs bn_all_step_ms;
 *   full         SPOS supernet training: every weight of the sampled path (convs, BNs, the linear
 *                head), SGD lr 0.1 momentum 0.9, vs full_step_ms;
 *   subnet_full  a standalone subnet (3,1,6,3,6,0 extracted from the exported supernet, at its
 *                export init: from scratch) with every weight trained, SGD lr 0.1 momentum 0.9
 *                Nesterov weight decay 5e-5 (on every parameter, as torch_reference.py's
 *                bench_subnet_train does), vs subnet_full_step_ms.
 * A bnnas step = engine.step + the SGD update of the returned gradients in JS (src/train/sgd.ts,
 * torch.optim.SGD's rule).
 *
 *   node dist/scripts/bench-train.js [--mode bn_last,bn_all,full,subnet_full] [--batch 128] [--steps 30] [--threads 2]
 *        [--model FILE | --source bnnas|torch] [--layout fused|blocks] [--activations checkpoint|save|recompute]
 *        [--arena | --no-arena] [--spin] [--no-torch | --no-reference] [--torch-own-paths] [--profile] [--in-process]
 *
 * --mode takes one row or a comma list (default: all four). With more than one, torch_reference.py
 * runs once and each row runs in its own child process (this script with --mode ROW), so each
 * row's peak RSS is its own; --in-process runs them in this process instead (peak RSS is then
 * the peak so far). Without --model, the fmnist-small supernet is exported to a temp dir by
 * bnnas's own exporter (src/supernet/export.ts), or with --source torch, the PyTorch peer by
 * scripts/export-fmnist-torch.py (BN kept, one mask input per layer). Prints one JSON line:
 * per row ms/step, the bnnas/PyTorch ratios and peak RSS; a readable table goes to stderr.
 * The machine may be shared: besides torch_reference.py's own run (before bnnas's), PyTorch steps
 * are also timed interleaved with bnnas's, one for one, by scripts/torch-step-server.py (the same
 * step code), so `ratio_interleaved` compares both under the same load, and `ratio_paired_median`
 * is the median of per-step ratios on the same path.
 */
import { execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSupernet } from "../src/supernet/load.js";
import { createEngine, type EngineOptions } from "../src/train/engine.js";
import { readFloats } from "../src/onnx/tensor.js";
import type { ModelProto } from "../src/onnx/proto.js";
import type { SupernetStructure } from "../src/structure/structure.js";
import { Random } from "../src/util/random.js";
import { Sgd } from "../src/train/sgd.js";
import { exportSupernet } from "../src/supernet/export.js";
import { extractToFile } from "../src/pipeline/extract.js";
import { readModel } from "../src/model/model-io.js";
import { subnetStructure } from "../src/supernet/trainable.js";
import { builtinSpace } from "../src/space/builtins.js";
import { PEER_DIR, REPO_DIR } from "./peer-dir.js";
import { arg, flag } from "./args.js";

const BENCH_DIR = PEER_DIR;

const MODES = ["bn_last", "bn_all", "full", "subnet_full"] as const;
type Mode = (typeof MODES)[number];
/** The standalone subnet of the subnet_full row (torch_reference.py's bench_subnet_train and bench_infer). */
const SUBNET_ARCH = [3, 1, 6, 3, 6, 0];
const modes = arg("mode", MODES.join(",")).split(",").filter(Boolean) as Mode[];
for (const m of modes) if (!MODES.includes(m)) throw new Error(`--mode: unknown row '${m}' (one of ${MODES.join(", ")}, or a comma list)`);
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
  private readonly child;
  private readonly lines: string[] = [];
  private waiting?: (line: string) => void;
  constructor(serverModes: readonly Mode[]) {
    this.child = spawn("/usr/bin/python3", [join(REPO_DIR, "scripts/torch-step-server.py"), "--bench-dir", BENCH_DIR, "--batch", String(batch), "--threads", String(threads), "--modes", serverModes.join(",")], { stdio: ["pipe", "pipe", "inherit"] });
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
    const l = await this.next();
    if (l !== "ready") throw new Error(`torch-step-server.py did not start: ${l}`);
  }
  /** One PyTorch step on `arch` (op indices = bnnas mask positions for fmnist-small), or on a path it samples. */
  async step(mode: Mode, arch?: readonly number[]): Promise<number> {
    this.child.stdin!.write(arch ? `${mode} ${arch.join(",")}\n` : `${mode}\n`);
    return Number(await this.next());
  }
  close(): void {
    this.child.stdin!.end();
  }
}

/** What a row trains: the model, its structure, the engine options and the optimiser. */
interface Setup {
  model: ModelProto;
  structure: SupernetStructure;
  engine: Pick<EngineOptions, "weights" | "bn" | "trainHead">;
  sgd: Sgd;
  /** The parameters the row trains from the start (BN-only rows: every BN; full rows: loaded when first on the path). */
  initial: (name: string) => boolean;
}

function setupFor(mode: Mode, supernetFile: string): Setup {
  if (mode === "subnet_full") {
    const file = join(mkdtempSync(join(tmpdir(), "bnnas-bench-subnet-")), `subnet-${SUBNET_ARCH.join("")}.onnx`);
    extractToFile(supernetFile, { arch: SUBNET_ARCH, output: file });
    const model = readModel(file);
    return { model, structure: subnetStructure(model, file), engine: { weights: "all", bn: "all", trainHead: true }, sgd: new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-5 }), initial: () => false };
  }
  const { model, structure } = loadSupernet(supernetFile);
  const bnInputs = new Set(model.graph!.node.filter((n) => n.opType === "BatchNormalization").flatMap((n) => [n.input[1], n.input[2]]));
  if (mode === "full") return { model, structure, engine: { weights: "all", bn: "all", trainHead: true }, sgd: new Sgd({ momentum: 0.9, weightDecay: 0 }), initial: () => false };
  return { model, structure, engine: { bn: mode === "bn_last" ? "last" : "all", trainHead: false }, sgd: new Sgd({ momentum: 0.9, weightDecay: 0 }), initial: (name) => bnInputs.has(name) };
}

async function benchMode(mode: Mode, supernetFile: string, torchSteps?: TorchSteps) {
  const { model, structure, engine: engineOptions, sgd, initial } = setupFor(mode, supernetFile);
  const engine = await createEngine(model, structure, { ...engineOptions, labelSmoothing: 0, threads, layout, activations, arena, spin, profile: flag("profile") });
  const random = new Random(0);
  const rand = () => random.uniform();
  const x = { dims: [batch, ...structure.input.shape.slice(1).map(Number)], data: Float32Array.from({ length: batch * 784 }, () => rand() * 2 - 1) };
  const labels = Int32Array.from({ length: batch }, () => Math.floor(rand() * 10));
  const inits = new Map(model.graph!.initializer.map((t) => [t.name, t]));
  const params = new Map<string, Float32Array>();
  for (const t of model.graph!.initializer) if (initial(t.name)) params.set(t.name, readFloats(t));
  const positions = structure.layers.map((l) => l.candidates.map((c) => c.position));
  /** The path's trained values are held (loaded on first use, as the trainer does), then stepped. */
  const step = async (arch: number[]) => {
    for (const name of engine.trainableOnPath(arch)) if (!params.has(name)) params.set(name, readFloats(inits.get(name)!));
    const r = await engine.step(arch, x, labels, params);
    sgd.step(params, r.grads, 0.1);
    return r;
  };
  // Warm-up: every candidate once (session creation is a one-off cost, timed separately); 3 steps at least.
  const t0 = performance.now();
  const kMax = Math.max(3, ...positions.map((p) => p.length));
  for (let j = 0; j < kMax; j++) await step(positions.map((p) => p[j % p.length]!));
  const warmupMs = performance.now() - t0;
  const times: number[] = [];
  const torchTimes: number[] = [];
  let loss = 0;
  if (torchSteps) for (let i = 0; i < 3; i++) await torchSteps.step(mode);
  for (let s = 0; s < steps; s++) {
    const arch = positions.map((p) => p[Math.floor(rand() * p.length)]!);
    // Same path on both sides: a step's cost depends a lot on the path (k7_e6 vs k3_e3), so the
    // interleaved comparison is paired. (subnet_full: one fixed net, no path.)
    if (torchSteps) torchTimes.push(await torchSteps.step(mode, torchPaths && arch.length ? arch : undefined));
    const t = performance.now();
    const r = await step(arch);
    times.push(performance.now() - t);
    loss = r.loss;
  }
  if (flag("profile") && engine.timings) {
    const rows = [...engine.timings()].map(([k, t]) => ({ kind: k, create: Math.round(t.createMs), runs: t.runs, msPerRun: +(t.runMs / Math.max(1, t.runs)).toFixed(2), totalMs: Math.round(t.runMs) }));
    rows.sort((a, b) => b.totalMs - a.totalMs);
    console.error(`${mode}: time per block kind (warm-up included)`);
    for (const r of rows.slice(0, 25)) console.error(JSON.stringify(r));
  }
  await engine.release();
  const pairedRatio = torchTimes.length ? median(times.map((t, i) => t / torchTimes[i]!)) : undefined;
  return { ms: median(times), torchInterleavedMs: torchTimes.length ? median(torchTimes) : undefined, pairedRatio, warmupMs, loss, trained: params.size };
}

function torchReference(): Record<string, number> | undefined {
  if (flag("no-torch") || flag("no-reference")) return undefined;
  const given = arg("reference", "");
  if (given) return JSON.parse(given) as Record<string, number>;
  const out = execFileSync("/usr/bin/python3", [join(BENCH_DIR, "torch_reference.py"), "--batch", String(batch), "--steps", String(steps), "--threads", String(threads)], { encoding: "utf8", cwd: BENCH_DIR, stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(out.trim().split("\n").pop()!) as Record<string, number>;
}

function supernetFile(): string {
  let file = arg("model", "");
  if (!file && arg("source", "bnnas") === "torch") {
    file = join(mkdtempSync(join(tmpdir(), "bnnas-bench-")), "fmnist-small.torch.onnx");
    execFileSync("/usr/bin/python3", [join(REPO_DIR, "scripts/export-fmnist-torch.py"), file, "--bench-dir", BENCH_DIR], { stdio: ["ignore", "ignore", "inherit"] });
  } else if (!file) {
    file = join(mkdtempSync(join(tmpdir(), "bnnas-bench-")), "fmnist-small.onnx");
    exportSupernet(builtinSpace("fmnist-small"), file, { seed: 0 });
  }
  return file;
}

type Row = Record<string, unknown>;

/** Runs `rows` in this process; each row's peak RSS is the process's peak so far. */
async function runHere(rows: readonly Mode[], torch: Record<string, number> | undefined): Promise<Record<string, Row>> {
  const file = supernetFile();
  const torchSteps = flag("no-torch") ? undefined : new TorchSteps(rows);
  await torchSteps?.ready();
  const out: Record<string, Row> = {};
  try {
    for (const mode of rows) {
      const r = await benchMode(mode, file, torchSteps);
      const ref = torch?.[`${mode}_step_ms`];
      const inter = r.torchInterleavedMs;
      out[mode] = {
        bnnas_ms: +r.ms.toFixed(2),
        torch_ms: ref,
        ratio: ref ? +(r.ms / ref).toFixed(3) : undefined,
        // PyTorch steps alternated with bnnas steps: both see the same machine load
        torch_interleaved_ms: inter !== undefined ? +inter.toFixed(2) : undefined,
        ratio_interleaved: inter ? +(r.ms / inter).toFixed(3) : undefined,
        // median over steps of (bnnas step / the PyTorch step on the same path just before it)
        ratio_paired_median: r.pairedRatio !== undefined ? +r.pairedRatio.toFixed(3) : undefined,
        warmup_ms: Math.round(r.warmupMs),
        trained_tensors: r.trained,
        last_loss: +r.loss.toFixed(4),
        peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      };
    }
  } finally {
    torchSteps?.close();
  }
  return out;
}

/** Runs each row in a child process of this script (--mode ROW), with torch_reference.py's numbers passed on. */
function runChildren(rows: readonly Mode[], torch: Record<string, number> | undefined): Record<string, Row> {
  const args = process.argv.slice(2).filter((a, i, all) => a !== "--mode" && all[i - 1] !== "--mode" && a !== "--reference" && all[i - 1] !== "--reference");
  const out: Record<string, Row> = {};
  for (const mode of rows) {
    console.error(`bench-train: row ${mode}`);
    const line = execFileSync(process.execPath, [process.argv[1]!, ...args, "--mode", mode, ...(torch ? ["--reference", JSON.stringify(torch)] : [])], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const child = JSON.parse(line.trim().split("\n").pop()!) as Record<string, unknown>;
    out[mode] = child[mode] as Row;
  }
  return out;
}

function table(rows: Record<string, Row>): void {
  const f = (v: unknown, d = 1) => (typeof v === "number" ? v.toFixed(d) : "-");
  console.error(`${"row".padEnd(12)} ${"bnnas ms".padStart(9)} ${"torch ms".padStart(9)} ${"ratio".padStart(6)} ${"torch(i)".padStart(9)} ${"ratio(i)".padStart(8)} ${"paired".padStart(7)} ${"RSS MB".padStart(7)}`);
  for (const [mode, r] of Object.entries(rows)) {
    console.error(`${mode.padEnd(12)} ${f(r.bnnas_ms).padStart(9)} ${f(r.torch_ms).padStart(9)} ${f(r.ratio, 3).padStart(6)} ${f(r.torch_interleaved_ms).padStart(9)} ${f(r.ratio_interleaved, 3).padStart(8)} ${f(r.ratio_paired_median, 3).padStart(7)} ${f(r.peak_rss_mb, 0).padStart(7)}`);
  }
  console.error("ratio: bnnas / torch_reference.py (run before); (i): PyTorch steps interleaved with bnnas's; paired: median per-step ratio on the same path");
}

async function main() {
  const torch = torchReference();
  const separate = modes.length > 1 && !flag("in-process");
  const rows = separate ? runChildren(modes, torch) : await runHere(modes, torch);
  const results: Record<string, unknown> = {
    batch, steps, threads, layout, activations: activations ?? "default", arena: arena ?? "default", spin,
    ...(torch ? { torch_reference: torch } : {}),
    ...rows,
    peak_rss_mb: Math.max(...Object.values(rows).map((r) => Number(r.peak_rss_mb))),
  };
  if (modes.length > 1) table(rows);
  console.log(JSON.stringify(results));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
