/**
 * Central finite-difference check of gradient rules through onnxruntime (float32).
 * L = sum(out * R) for a fixed random R; the backward graph seeded with R gives dL/dx, checked
 * against (L(x + eps v) - L(x - eps v)) / 2eps for a random direction v, per input, with the
 * sums accumulated in double precision in JS.
 */
import { expect } from "vitest";
import { GraphBuilder } from "../../src/onnx/builder.js";
import { GraphIndex } from "../../src/onnx/graph.js";
import { floatTensor, int64Tensor, type Tensor } from "../../src/onnx/tensor.js";
import { Session } from "../../src/runtime/ort.js";
import type { ModelProto } from "../../src/onnx/proto.js";
import { buildBackward } from "../../src/autodiff/backward.js";
import { emitTrainingForward } from "../../src/autodiff/forward.js";
import { inferShapes } from "../../src/opset/infer.js";

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(n: number, rand: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  return out;
}

export interface FdInput {
  dims: number[];
  data: Float32Array | BigInt64Array;
  /** differentiate with respect to this input (fed at run time) */
  grad?: boolean;
  /** make it an initializer (constant), e.g. frozen conv weights */
  constant?: boolean;
  /** a fed input whose dims stay static under `dynamicBatch` (a trained weight fed each step) */
  staticShape?: boolean;
}

export interface FdOptions {
  inputs: Record<string, FdInput>;
  /** emits the forward nodes; returns the output to check */
  build(b: GraphBuilder): string;
  eps?: number;
  tol?: number;
  seed?: number;
  /** symbolic first dim for fed inputs (exercises dynamic-batch code paths) */
  dynamicBatch?: boolean;
}

function declare(b: GraphBuilder, opts: FdOptions): void {
  for (const [name, inp] of Object.entries(opts.inputs)) {
    if (inp.constant) b.initializer(inp.data instanceof BigInt64Array ? int64Tensor(name, inp.dims, inp.data) : floatTensor(name, inp.dims, inp.data));
    else b.input(name, opts.dynamicBatch && !inp.staticShape && inp.dims.length > 1 ? ["N", ...inp.dims.slice(1)] : inp.dims, inp.data instanceof BigInt64Array ? 7 : 1);
  }
}

/** The forward graph of `opts` and, with `withBackward`, its backward seeded at the output by a "seed" input. */
function trainingModels(opts: FdOptions) {
  const fb = new GraphBuilder();
  declare(fb, opts);
  const out = opts.build(fb);
  const fgraph = fb.graph("fwd");
  const shapes = inferShapes(fgraph);
  const outShape = shapes.get(out)!;
  const concreteOut = outShape.map((d, i) => (typeof d === "number" ? d : Object.values(opts.inputs).find((x) => !x.constant && !x.staticShape)!.dims[i]!));
  const index = new GraphIndex(fgraph);

  const train = (withBackward: boolean) => {
    const b = new GraphBuilder();
    declare(b, opts);
    for (const t of fb.initializers) if (!opts.inputs[t.name]) b.initializer(t);
    emitTrainingForward(b, fb.nodes, shapes);
    b.output(out);
    if (!withBackward) return { model: b.build({ name: "fd_forward" }), grads: new Map<string, string>() };
    const seed = b.input("seed", outShape);
    const wrt = Object.entries(opts.inputs).filter(([, v]) => v.grad).map(([k]) => k);
    const grads = buildBackward(b, { nodes: fb.nodes, shapes, constant: (t) => index.constant(t), seeds: new Map([[out, seed]]), wrt });
    for (const g of grads.values()) b.output(g);
    return { model: b.build({ name: "fd_backward" }), grads };
  };
  return { out, concreteOut, train };
}

function fedInputs(opts: FdOptions): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const [name, inp] of Object.entries(opts.inputs)) if (!inp.constant) feeds[name] = { dims: inp.dims, data: inp.data };
  return feeds;
}

/** The backward model checkGradients runs (forward + backward seeded by a "seed" input), for structural assertions. */
export function backwardModelFor(opts: FdOptions): ModelProto {
  return trainingModels(opts).train(true).model;
}

/** The analytic gradients of every `grad` input for the output seeded with `seed` (no finite differences). */
export async function gradientsFor(opts: FdOptions, seed: Float32Array): Promise<Record<string, Float32Array>> {
  const { concreteOut, train } = trainingModels(opts);
  const spec = train(true);
  const bwd = await Session.create(spec.model, { threads: 1 });
  const result = await bwd.run({ ...fedInputs(opts), seed: { dims: concreteOut, data: seed } });
  await bwd.release();
  return Object.fromEntries([...spec.grads].map(([name, g]) => [name, result[g]!.data as Float32Array]));
}

/** Checks every `grad` input's gradient; returns the analytic gradients for further assertions. */
export async function checkGradients(opts: FdOptions): Promise<Record<string, Float32Array>> {
  const eps = opts.eps ?? 1e-2, tol = opts.tol ?? 1e-2;
  const rand = rng(opts.seed ?? 7);
  const { out, concreteOut, train } = trainingModels(opts);

  const fwd = await Session.create(train(false).model, { threads: 1 });
  const bwdSpec = train(true);
  const bwd = await Session.create(bwdSpec.model, { threads: 1 });
  const feeds = fedInputs(opts);
  const r = randn(concreteOut.reduce((a, b) => a * b, 1), rand);
  const result = await bwd.run({ ...feeds, seed: { dims: concreteOut, data: r } });
  const lossAt = async (f: Record<string, Tensor>) => {
    const y = (await fwd.run(f, [out]))[out]!.data as Float32Array;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * r[i]!;
    return s;
  };
  const analytic: Record<string, Float32Array> = {};
  for (const [name, inp] of Object.entries(opts.inputs)) {
    if (!inp.grad) continue;
    const gName = bwdSpec.grads.get(name);
    expect(gName, `gradient of ${name}`).toBeDefined();
    const g = result[gName!]!.data as Float32Array;
    expect(g.length, `gradient of ${name} has the input's size`).toBe(inp.data.length);
    analytic[name] = g;
    const v = randn(g.length, rand);
    let dir = 0;
    for (let i = 0; i < g.length; i++) dir += g[i]! * v[i]!;
    const x = inp.data as Float32Array;
    const shifted = (sign: number) => x.map((xi, i) => xi + sign * eps * v[i]!);
    const numeric = ((await lossAt({ ...feeds, [name]: { dims: inp.dims, data: shifted(1) } })) - (await lossAt({ ...feeds, [name]: { dims: inp.dims, data: shifted(-1) } }))) / (2 * eps);
    const err = Math.abs(dir - numeric);
    expect(err, `d/d${name}: analytic ${dir} vs numeric ${numeric}`).toBeLessThanOrEqual(tol * Math.max(Math.abs(dir), Math.abs(numeric)) + 1e-4);
  }
  await fwd.release();
  await bwd.release();
  return analytic;
}
