/**
 * The zero-cost proxies: an architecture is scored at initialisation from one minibatch (or none),
 * by running its path (extracted as a standalone subnet) on onnxruntime. Formulas (README,
 * "Indicators"), over the conv and linear weights W_l of the path:
 *
 * - grad_norm: sum_l ||dL/dW_l||_2, L the cross-entropy of the minibatch (Abdelfattah et al. 2021).
 * - snip: sum_l sum |W_l * dL/dW_l| (Lee et al. 2019, as a proxy: Abdelfattah et al. 2021).
 * - synflow: sum_l sum W_l * dR/dW_l for the linearised network (|W|, no BatchNorm, no
 *   activation) on an all-ones input, R = sum of the logits (Tanaka et al. 2020); reported as its
 *   natural log, as it spans many orders of magnitude.
 * - naswot: log|det K|, K_ij = the number of ReLU units on which images i and j of the minibatch
 *   agree (both active or both inactive) (Mellor et al. 2021).
 */
import type { ModelProto } from "../onnx/proto.js";
import type { Batch } from "../data/batches.js";
import { Session, type Device } from "../runtime/ort.js";
import { logAbsDet } from "../util/logdet.js";
import { activationProbe, lossGradientProbe, synflowProbe } from "./probe-graphs.js";
import { BnnasError } from "../errors.js";

export type ProxyName = "grad_norm" | "snip" | "synflow" | "naswot";

export interface ProxyRun {
  batch: Batch;
  classes: number;
  device?: Device;
  threads?: number;
}

async function withSession<T>(model: ModelProto, run: ProxyRun, f: (s: Session) => Promise<T>): Promise<T> {
  const session = await Session.create(model, { device: run.device, threads: run.threads });
  try {
    return await f(session);
  } finally {
    await session.release();
  }
}

function l2(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** Scores one path (a standalone subnet) with one proxy. */
export async function proxyScore(name: ProxyName, subnet: ModelProto, run: ProxyRun): Promise<number> {
  const x = run.batch.x;
  if (name === "naswot") {
    const probe = activationProbe(subnet, x.dims[0]!);
    const out = await withSession(probe.model, run, (s) => s.run({ [probe.input]: x }, probe.activations));
    return naswotScore(probe.activations.map((a) => out[a]!.data as Float32Array), x.dims[0]!);
  }
  if (name === "synflow") {
    const probe = synflowProbe(subnet);
    const ones = { dims: [1, ...x.dims.slice(1)], data: new Float32Array(x.data.length / x.dims[0]!).fill(1) };
    const out = await withSession(probe.model, run, (s) => s.run({ [probe.input]: ones }, [...probe.grads.values()]));
    let sum = 0;
    for (const [w, g] of probe.grads) {
      const wv = probe.weights.get(w)!;
      const gv = out[g]!.data as Float32Array;
      for (let i = 0; i < wv.length; i++) sum += wv[i]! * gv[i]!;
    }
    if (!(sum > 0) || !Number.isFinite(sum)) throw new BnnasError(`synflow: the linearised network's score is ${sum} (it overflowed or vanished in float32)`);
    return Math.log(sum);
  }
  const probe = lossGradientProbe(subnet, x.dims[0]!, run.classes);
  const labels = { dims: [run.batch.labels.length], data: BigInt64Array.from(run.batch.labels, (v) => BigInt(v)) };
  const out = await withSession(probe.model, run, (s) => s.run({ [probe.input]: x, [probe.labels!]: labels }, [...probe.grads.values()]));
  let sum = 0;
  for (const [w, g] of probe.grads) {
    const gv = out[g]!.data as Float32Array;
    if (name === "grad_norm") sum += l2(gv);
    else {
      const wv = probe.weights.get(w)!;
      for (let i = 0; i < wv.length; i++) sum += Math.abs(wv[i]! * gv[i]!);
    }
  }
  return sum;
}

/** NASWOT from the activations ([N, ...] each) of one minibatch of n images. */
export function naswotScore(activations: readonly Float32Array[], n: number): number {
  // Bit-pack each image's code (unit active or not), then K_ij = units - popcount(code_i ^ code_j).
  const units = activations.reduce((s, a) => s + a.length / n, 0);
  const words = Math.ceil(units / 32);
  const codes = new Uint32Array(n * words);
  let offset = 0;
  for (const a of activations) {
    const per = a.length / n;
    for (let i = 0; i < n; i++) {
      const base = i * words;
      for (let u = 0; u < per; u++) if (a[i * per + u]! > 0) codes[base + ((offset + u) >>> 5)]! |= 1 << ((offset + u) & 31);
    }
    offset += per;
  }
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    k[i * n + i] = units;
    for (let j = i + 1; j < n; j++) {
      let hamming = 0;
      for (let w = 0; w < words; w++) hamming += popcount(codes[i * words + w]! ^ codes[j * words + w]!);
      k[i * n + j] = k[j * n + i] = units - hamming;
    }
  }
  return logAbsDet(k, n);
}

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
