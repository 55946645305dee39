/**
 * The initialisation of a space's weights, in one place: export draws every weight with it, and
 * `reinitializeWeights` redraws a model's weights with it (retraining a found architecture from
 * scratch, the paper's stage 3). A weight's values come from a PRNG stream keyed by (seed,
 * initializer name), so they depend on nothing else: re-initialising a subnet with its supernet's
 * seed gives back exactly the weights that path had at export.
 *
 * As the BN-NAS code: conv weights ~ Normal(0, sqrt(2 / (k*k*C_out))), no conv bias; BatchNorm
 * gamma 1, beta 0, running mean 0, running var 1; Linear (Gemm) weight and bias uniform in
 * +-1/sqrt(fan_in) (PyTorch's default).
 */
import type { GraphProto } from "../onnx/proto.js";
import { elementCount, floatTensor, tensorDims } from "../onnx/tensor.js";
import { streamFor } from "../util/random.js";

/** Conv weight [C_out, C_in/group, kh, kw]. */
export function convWeightInit(seed: number, name: string, dims: readonly number[], out: Float32Array): Float32Array {
  const [cOut, , kh, kw] = dims as [number, number, number, number];
  return streamFor(seed, name).fillNormal(out, Math.sqrt(2 / ((kh ?? 1) * (kw ?? 1) * cOut)));
}

/** Linear weight or bias with `fanIn` inputs. */
export function linearInit(seed: number, name: string, fanIn: number, out: Float32Array): Float32Array {
  return streamFor(seed, name).fillUniform(out, 1 / Math.sqrt(fanIn));
}

/** BatchNormalization's fresh values by input position (1 scale, 2 bias, 3 mean, 4 var). */
export const BN_INIT: Readonly<Record<1 | 2 | 3 | 4, number>> = { 1: 1, 2: 0, 3: 0, 4: 1 };

export interface ReinitResult {
  /** Initializers redrawn, by kind. */
  conv: number;
  linear: number;
  batchNorm: number;
}

/**
 * Redraws, in place, every Conv weight (a Conv bias becomes 0), every Gemm weight and bias and
 * every BatchNormalization's parameters and statistics of `graph` with the space's
 * initialisation. Initializers of other nodes are left alone. An initializer read by several
 * nodes is redrawn once, by the first.
 */
export function reinitializeWeights(graph: GraphProto, seed: number): ReinitResult {
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const done = new Set<string>();
  const result: ReinitResult = { conv: 0, linear: 0, batchNorm: 0 };
  const redraw = (name: string | undefined, kind: keyof ReinitResult, fill: (dims: number[], out: Float32Array) => void) => {
    const t = name ? inits.get(name) : undefined;
    if (!t || done.has(t.name)) return;
    done.add(t.name);
    const dims = tensorDims(t);
    const data = new Float32Array(elementCount(dims));
    fill(dims, data);
    const fresh = floatTensor(t.name, dims, data);
    Object.assign(t, { dataType: fresh.dataType, rawData: fresh.rawData, floatData: [], doubleData: [], externalData: [], dataLocation: 0 });
    result[kind]++;
  };
  for (const n of graph.node) {
    if (n.domain) continue;
    if (n.opType === "Conv") {
      redraw(n.input[1], "conv", (dims, out) => convWeightInit(seed, n.input[1]!, dims, out));
      redraw(n.input[2], "conv", () => {});
    } else if (n.opType === "Gemm") {
      const transB = n.attribute.find((a) => a.name === "transB")?.i;
      const w = n.input[1] ? inits.get(n.input[1]) : undefined;
      const wDims = w ? tensorDims(w) : [];
      const fanIn = Number(transB ?? 0) ? wDims[1]! : wDims[0]!;
      redraw(n.input[1], "linear", (_dims, out) => linearInit(seed, n.input[1]!, fanIn, out));
      redraw(n.input[2], "linear", (_dims, out) => linearInit(seed, n.input[2]!, fanIn, out));
    } else if (n.opType === "BatchNormalization") {
      for (const k of [1, 2, 3, 4] as const) redraw(n.input[k], "batchNorm", (_dims, out) => out.fill(BN_INIT[k]));
    }
  }
  return result;
}
