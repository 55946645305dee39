/** Test helpers: run a supernet in onnxruntime for one-hot masks and compare with the PyTorch oracle. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { ModelProto } from "../../src/onnx/proto.js";
import { readFloats, setFloats } from "../../src/onnx/tensor.js";
import { Session } from "../../src/runtime/ort.js";
import type { Manifest } from "../../src/supernet/manifest.js";
import { Random } from "../../src/util/random.js";

export const PYTHON = "/usr/bin/python3";
const ORACLE = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/space/torch_oracle.py");

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "bnnas-space-test-"));
}

/** Gives every BatchNorm distinct statistics and affine parameters, as after training, so BN mistakes show. */
export function randomizeBatchNorms(model: ModelProto, seed = 7): void {
  const rng = new Random(seed);
  const inits = new Map(model.graph!.initializer.map((t) => [t.name, t]));
  const refs = model.graph!.node.filter((n) => n.opType === "BatchNormalization");
  for (const n of refs) {
    const [, scale, bias, mean, variance] = n.input.map((i) => inits.get(i!)!);
    const c = readFloats(scale!).length;
    const fill = (lo: number, hi: number) => Float32Array.from({ length: c }, () => lo + (hi - lo) * rng.uniform());
    setFloats(scale!, fill(0.2, 1.6));
    setFloats(bias!, fill(-0.3, 0.3));
    setFloats(mean!, fill(-0.2, 0.2));
    setFloats(variance!, fill(0.5, 1.5));
  }
}

export function oneHotMasks(manifest: Manifest, arch: readonly number[]): Float32Array[] {
  const K = manifest.space.candidates.length;
  return arch.map((a) => {
    const m = new Float32Array(K);
    m[a] = 1;
    return m;
  });
}

export function randomInput(dims: number[], seed = 3): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

export async function runMasks(model: ModelProto, manifest: Manifest, x: Float32Array, dims: number[], masks: Float32Array[][]): Promise<Float32Array[]> {
  const session = await Session.create(model, { threads: 2 });
  const out: Float32Array[] = [];
  try {
    for (const m of masks) {
      const feeds: Record<string, { dims: number[]; data: Float32Array }> = { [manifest.input.name]: { dims, data: x } };
      manifest.layers.forEach((l, i) => (feeds[l.mask] = { dims: [m[i]!.length], data: m[i]! }));
      const res = await session.run(feeds, [manifest.output]);
      out.push(res[manifest.output]!.data as Float32Array);
    }
  } finally {
    await session.release();
  }
  return out;
}

/** Logits from the PyTorch oracle (test/fixtures/space/torch_oracle.py) for each mask set. */
export function torchLogits(modelFile: string, mode: "peer" | "generic", x: Float32Array, dims: number[], masks: Float32Array[][]): number[][][] {
  const dir = tempDir();
  const req = join(dir, "request.json");
  writeFileSync(req, JSON.stringify({ model: modelFile, mode, input: { dims, data: Array.from(x) }, masks: masks.map((m) => m.map((v) => Array.from(v))) }));
  const out = execFileSync(PYTHON, [ORACLE, req], { encoding: "utf8", maxBuffer: 1 << 26 });
  return (JSON.parse(out) as { logits: number[][][] }).logits;
}

export function maxAbsDiff(a: ArrayLike<number>, b: readonly number[][]): number {
  const flat = b.flat();
  if (flat.length !== a.length) throw new Error(`length ${a.length} vs ${flat.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - flat[i]!));
  return d;
}
