/**
 * Benchmark: `bnnas export-supernet` speed and file size for the built-in spaces, and for
 * fmnist-small the PyTorch peer's time to build the same supernet and torch.onnx.export it
 * (scripts/peer/fmnist_space.py `Supernet`, TrainingMode.PRESERVE), measured in the same run.
 *
 *   npm run build && node dist/scripts/bench-export.js [--runs 3] [--no-torch] [--json]
 *
 * Timing = median wall time of `runs` exports (build graph + weights, encode, atomic write with
 * fsync) and the CPU time of the same; the machine may be shared, so wall times are noisy and the
 * CPU time is the steadier number.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtinSpace, BUILTIN_SPACES } from "../src/space/builtins.js";
import { exportSupernet, supernetParams } from "../src/supernet/export.js";
import { resolveSpace } from "../src/space/resolve.js";
import { PEER_DIR } from "./peer-dir.js";

const BENCH_DIR = PEER_DIR;
const argValue = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const runs = Number(argValue("runs", "3"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), "bnnas-bench-export-"));
const results: Record<string, unknown>[] = [];
try {
  for (const name of BUILTIN_SPACES) {
    const spec = builtinSpace(name);
    const file = join(dir, `${name}.onnx`);
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      exportSupernet(spec, file, { seed: i });
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const row: Record<string, unknown> = { space: name, params: supernetParams(resolveSpace(spec)), bytes: statSync(file).size, wallMs: Math.round(median(wall)), cpuMs: Math.round(median(cpu)) };
    if (name === "fmnist-small" && !process.argv.includes("--no-torch")) {
      const py = [
        "import sys, time, warnings, torch; warnings.filterwarnings(\"ignore\"); sys.path.insert(0, sys.argv[1]); from fmnist_space import Supernet, LAYERS, OPS, allowed",
        "K = [sum(1 for o in range(len(OPS)) if allowed(l, o)) for l in range(len(LAYERS))]",
        "class W(torch.nn.Module):",
        "    def __init__(s): super().__init__(); s.net = Supernet()",
        "    def forward(s, x, *m): return s.net(x, list(m))",
        "ts = []",
        "for i in range(int(sys.argv[3])):",
        "    t = time.perf_counter(); torch.manual_seed(i); net = W().eval()",
        "    args = (torch.randn(1, 1, 28, 28), *[torch.ones(k) for k in K])",
        "    names = ['x'] + [f'mask{l}' for l in range(len(K))]",
        "    torch.onnx.export(net, args, sys.argv[2], training=torch.onnx.TrainingMode.PRESERVE, input_names=names, output_names=['logits'], dynamic_axes={'x': {0: 'batch'}}, opset_version=17)",
        "    ts.append(time.perf_counter() - t)",
        "print(sorted(ts)[len(ts) // 2] * 1000)",
      ].join("\n");
      const torchMs = Number(execFileSync("/usr/bin/python3", ["-c", py, BENCH_DIR, join(dir, "torch.onnx"), String(runs)], { encoding: "utf8" }).trim());
      row.torchMs = Math.round(torchMs);
      row.ratio = Number((torchMs / median(wall)).toFixed(2));
    }
    results.push(row);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (process.argv.includes("--json")) console.log(JSON.stringify(results));
else {
  for (const r of results) {
    console.log(
      `${r.space}: ${(r.params as number).toLocaleString("en-US")} params, ${((r.bytes as number) / 1e6).toFixed(1)} MB, export ${r.wallMs} ms wall / ${r.cpuMs} ms CPU` +
        (r.torchMs !== undefined ? `; PyTorch peer build + torch.onnx.export ${r.torchMs} ms (bnnas is ${r.ratio}x faster)` : ""),
    );
  }
}
