/**
 * Emitter: the ONNX building blocks the op files share (Conv, BatchNormalization, activations,
 * Add), with the space's initialisation (init.ts: a weight's values come from a PRNG stream keyed
 * by (seed, initializer name), so they depend on nothing else in the space) and derived names.
 *
 * With `weights: false` initializers carry dims but no data: enough to derive names, the
 * manifest and costs without spending time on random numbers (e.g. `bnnas flops --space`).
 */
import { GraphBuilder, attr } from "../onnx/builder.js";
import { make, DataType, type TensorProto } from "../onnx/proto.js";
import { floatTensor } from "../onnx/tensor.js";
import { BN_INIT, convWeightInit, linearInit } from "./init.js";
import type { BatchNormRef } from "../structure/structure.js";
import type { Activation } from "./spec.js";
import { windowShape, type Shape } from "./geometry.js";

export const BN_EPSILON = 1e-5;
/** ONNX momentum: running = running * momentum + batch * (1 - momentum), i.e. PyTorch's 0.1. */
export const BN_MOMENTUM = 0.9;

export interface EmitterOptions {
  seed: number;
  /** Generate initializer data (default true). */
  weights?: boolean;
}

export class Emitter {
  readonly weights: boolean;
  private clipBounds: [string, string] | undefined;

  constructor(readonly b: GraphBuilder, readonly options: EmitterOptions) {
    this.weights = options.weights ?? true;
  }

  private floatInit(name: string, dims: number[], fill: (out: Float32Array) => void): string {
    if (this.b.unique(name) !== name) throw new Error(`internal: initializer name '${name}' is used twice`);
    let t: TensorProto;
    if (this.weights) {
      const data = new Float32Array(dims.reduce((a, d) => a * d, 1));
      fill(data);
      t = floatTensor(name, dims, data);
    } else {
      t = make.tensor({ name, dims, dataType: DataType.FLOAT });
    }
    return this.b.initializer(t);
  }

  /** Conv without bias, pad k//2; returns the output tensor and its shape. */
  conv(name: string, input: string, inShape: Shape, out: number, k: number, stride: number, group = 1): { output: string; shape: Shape } {
    const dims = [out, inShape.c / group, k, k];
    const w = this.floatInit(`${name}.weight`, dims, (d) => convWeightInit(this.options.seed, `${name}.weight`, dims, d));
    const p = Math.floor(k / 2);
    const output = this.b.op(
      "Conv",
      [input, w],
      { kernel_shape: attr.ints([k, k]), strides: attr.ints([stride, stride]), pads: attr.ints([p, p, p, p]), group: attr.int(group), dilations: attr.ints([1, 1]) },
      name,
    );
    return { output, shape: windowShape({ in: inShape, out, stride }, k) };
  }

  /** BatchNormalization in inference form with fresh statistics. */
  batchNorm(name: string, input: string, channels: number): { output: string; ref: BatchNormRef } {
    const scale = this.floatInit(`${name}.scale`, [channels], (d) => d.fill(BN_INIT[1]));
    const bias = this.floatInit(`${name}.bias`, [channels], (d) => d.fill(BN_INIT[2]));
    const mean = this.floatInit(`${name}.mean`, [channels], (d) => d.fill(BN_INIT[3]));
    const variance = this.floatInit(`${name}.var`, [channels], (d) => d.fill(BN_INIT[4]));
    const output = this.b.op("BatchNormalization", [input, scale, bias, mean, variance], { epsilon: attr.float(BN_EPSILON), momentum: attr.float(BN_MOMENTUM) }, name);
    return { output, ref: { node: this.b.nodes.at(-1)!.name, scale, bias, mean, var: variance } };
  }

  /** ReLU (Relu) or ReLU6 (Clip to [0, 6], as PyTorch exports clamp/ReLU6). */
  activation(kind: Activation, name: string, input: string): string {
    if (kind === "none") return input;
    if (kind === "relu") return this.b.op("Relu", [input], {}, name);
    if (!this.clipBounds) {
      // Scalars shared by every ReLU6: Clip takes its bounds as inputs since opset 11.
      this.clipBounds = [this.b.initializer(floatTensor("relu6.min", [], [0])), this.b.initializer(floatTensor("relu6.max", [], [6]))];
    }
    return this.b.op("Clip", [input, ...this.clipBounds], {}, name);
  }

  add(name: string, a: string, b: string): string {
    return this.b.op("Add", [a, b], {}, name);
  }

  /** Linear classifier: Gemm(x, W^T) + b with PyTorch's default init. */
  linear(name: string, input: string, inFeatures: number, outFeatures: number, output?: string): string {
    const w = this.floatInit(`${name}.weight`, [outFeatures, inFeatures], (d) => linearInit(this.options.seed, `${name}.weight`, inFeatures, d));
    const bias = this.floatInit(`${name}.bias`, [outFeatures], (d) => linearInit(this.options.seed, `${name}.bias`, inFeatures, d));
    return this.b.node("Gemm", [input, w, bias], { alpha: attr.float(1), beta: attr.float(1), transB: attr.int(1) }, { name, outputs: output ? [output] : 1 })[0]!;
  }
}
