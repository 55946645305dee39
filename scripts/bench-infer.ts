/**
 * Benchmark: inference throughput of an extracted fmnist-small subnet on onnxruntime-node vs the
 * PyTorch peer (scripts/peer/torch_reference.py `infer_ms`: the same architecture, eval
 * mode, same batch and threads), measured in the same run, one after the other.
 *
 *   npm run build && node dist/scripts/bench-infer.js [--arch 3,1,6,3,6,0] [--batch 128]
 *        [--threads 2] [--steps 30] [--no-torch] [--json]
 *
 * The subnet is extracted (in memory, as `bnnas extract-subnet` does) from a freshly built
 * fmnist-small supernet, with BatchNorm kept in inference mode and with --fold-bn. Timing = median
 * of `steps` session runs after 3 warm-up runs, input copy and output copy included (what a
 * caller of Session.run pays), measured before and after the PyTorch run; the slower is reported.
 * torch_reference.py also times its training modes, so a run takes minutes. The machine may be
 * shared: absolute times are noisy; compare the ratio measured back to back, and rerun when in
 * doubt.
 */
import { execFileSync } from "node:child_process";
import { buildSupernet } from "../src/supernet/export.js";
import { builtinSpace } from "../src/space/builtins.js";
import { structureFromManifest } from "../src/supernet/manifest.js";
import { parseArch } from "../src/structure/arch.js";
import { extractSubnet } from "../src/extract/subnet.js";
import { Session } from "../src/runtime/ort.js";
import { PEER_DIR } from "./peer-dir.js";
import { arg, flag } from "./args.js";

const BENCH_DIR = PEER_DIR;

const archText = arg("arch", "3,1,6,3,6,0");
const batch = Number(arg("batch", "128"));
const threads = Number(arg("threads", "2"));
const steps = Number(arg("steps", "30"));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// Built once: each of the four timings only needs a fresh session of the (plain or folded) subnet.
const { model: supernet, manifest } = buildSupernet(builtinSpace("fmnist-small"), { seed: 0 });
const structure = structureFromManifest(manifest);
const arch = parseArch(archText, structure);

async function timeOrt(foldBn: boolean): Promise<number> {
  const { model } = extractSubnet(supernet, structure, arch, { foldBn });
  const session = await Session.create(model, { threads });
  const [c, h, w] = manifest.input.shape;
  const x = new Float32Array(batch * c * h * w);
  let s = 1;
  for (let i = 0; i < x.length; i++) x[i] = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const feeds = { [manifest.input.name]: { dims: [batch, c, h, w], data: x } };
  const times: number[] = [];
  for (let i = 0; i < steps + 3; i++) {
    const t = performance.now();
    await session.run(feeds);
    if (i >= 3) times.push(performance.now() - t);
  }
  await session.release();
  return median(times);
}

function timeTorch(): { infer_ms: number; torch: string } {
  const out = execFileSync("/usr/bin/python3", [`${BENCH_DIR}/torch_reference.py`, "--batch", String(batch), "--threads", String(threads), "--steps", String(steps)], {
    cwd: BENCH_DIR,
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").pop()!) as { infer_ms: number; torch: string };
}

// onnxruntime is timed before and after PyTorch and the slower of the two is kept, so load from
// other users that changes during the (minutes-long) PyTorch run cannot flatter bnnas.
const before = [await timeOrt(false), await timeOrt(true)];
const torch = flag("no-torch") ? undefined : timeTorch();
const after = torch ? [await timeOrt(false), await timeOrt(true)] : before;
const ortMs = Math.max(before[0]!, after[0]!);
const ortFoldedMs = Math.max(before[1]!, after[1]!);
const ips = (ms: number) => (batch * 1000) / ms;
const result = {
  arch: archText,
  batch,
  threads,
  steps,
  ort_ms_before_after: [...before, ...after].map((v) => Math.round(v * 1000) / 1000),
  ort_ms: Math.round(ortMs * 1000) / 1000,
  ort_folded_ms: Math.round(ortFoldedMs * 1000) / 1000,
  ort_images_per_s: Math.round(ips(ortMs)),
  ort_folded_images_per_s: Math.round(ips(ortFoldedMs)),
  ...(torch
    ? {
        torch: torch.torch,
        torch_infer_ms: torch.infer_ms,
        torch_images_per_s: Math.round(ips(torch.infer_ms)),
        speedup: Math.round((torch.infer_ms / ortMs) * 100) / 100,
        speedup_folded: Math.round((torch.infer_ms / ortFoldedMs) * 100) / 100,
      }
    : {}),
};
if (flag("json")) console.log(JSON.stringify(result));
else {
  console.log(`subnet ${archText} of fmnist-small, batch ${batch}, ${threads} threads, median of ${steps} runs (shared machine: timings are noisy)`);
  console.log(`  onnxruntime ms before/after PyTorch (plain, folded): ${result.ort_ms_before_after.join(", ")}; the slower is used`);
  console.log(`  onnxruntime-node, BN in inference mode: ${result.ort_ms.toFixed(2)} ms/batch  ${result.ort_images_per_s} images/s`);
  console.log(`  onnxruntime-node, BN folded:            ${result.ort_folded_ms.toFixed(2)} ms/batch  ${result.ort_folded_images_per_s} images/s`);
  if (torch) {
    console.log(`  PyTorch ${torch.torch} (torch_reference.py infer_ms): ${torch.infer_ms.toFixed(2)} ms/batch  ${result.torch_images_per_s} images/s`);
    console.log(`  throughput ratio onnxruntime/PyTorch: ${result.speedup}x (folded ${result.speedup_folded}x); target >= 2x`);
  }
}
