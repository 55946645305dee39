/**
 * The BN-NAS indicator: a candidate's score is the mean over channels of |gamma| of its indicator
 * BatchNorm (the last on its branch); candidates without BatchNorm get null (0 in sums). Gamma
 * is read straight from the initializer: no runtime session is needed.
 */
import { GraphIndex } from "../onnx/graph.js";
import { readFloats } from "../onnx/tensor.js";
import { ModelFormatError, NumericError } from "../errors.js";
import { perCandidate, type Indicator } from "./indicator.js";

/** Float32 lanes of PyTorch's CPU reduction kernel (AVX2 `Vectorized<float>`, its default build). */
const LANES = 8;
/** Vectors summed side by side (`ilp_factor` in ATen's SumKernel.cpp). */
const ILP = 4;
/** Levels of the cascade (`num_levels` in multi_row_sum). */
const LEVELS = 4;

function ceilLog2(x: number): number {
  return x <= 2 ? 1 : Math.ceil(Math.log2(x));
}

/**
 * Sum of a float32 vector in float32, in the order of PyTorch's CPU kernel (ATen SumKernel.cpp:
 * vectorized_inner_sum -> row_sum -> multi_row_sum with its cascade), so the BN indicator equals
 * PyTorch's `gamma.abs().mean()` bit for bit rather than within an ulp or two: ties and
 * rankings then come out the same on both sides. Checked against PyTorch in test/score.
 */
export function torchSum(x: Float32Array): number {
  const f = Math.fround;
  const n = x.length;
  const vecs = Math.floor(n / LANES);
  const rows = Math.floor(vecs / ILP);
  // acc[level][k][lane], for the ILP vectors of a row
  const acc = Array.from({ length: LEVELS }, () => Array.from({ length: ILP }, () => new Float64Array(LANES)));
  const addRow = (row: number) => {
    const a0 = acc[0]!;
    for (let k = 0; k < ILP; k++) {
      const base = (row * ILP + k) * LANES;
      const a = a0[k]!;
      for (let j = 0; j < LANES; j++) a[j] = f(a[j]! + x[base + j]!);
    }
  };
  const levelPower = Math.max(4, Math.floor(ceilLog2(rows) / LEVELS));
  const levelStep = 2 ** levelPower;
  const levelMask = levelStep - 1;
  let i = 0;
  while (i + levelStep <= rows) {
    for (let j = 0; j < levelStep; j++, i++) addRow(i);
    for (let j = 1; j < LEVELS; j++) {
      for (let k = 0; k < ILP; k++) {
        const up = acc[j]![k]!, down = acc[j - 1]![k]!;
        for (let l = 0; l < LANES; l++) { up[l] = f(up[l]! + down[l]!); down[l] = 0; }
      }
      if ((i & (levelMask * 2 ** (j * levelPower))) !== 0) break;
    }
  }
  for (; i < rows; i++) addRow(i);
  for (let j = 1; j < LEVELS; j++) {
    for (let k = 0; k < ILP; k++) {
      const a = acc[0]![k]!, b = acc[j]![k]!;
      for (let l = 0; l < LANES; l++) a[l] = f(a[l]! + b[l]!);
    }
  }
  // row_sum: leftover vectors go to the first partial, then the partials are added up.
  const p0 = acc[0]![0]!;
  for (let v = rows * ILP; v < vecs; v++) for (let l = 0; l < LANES; l++) p0[l] = f(p0[l]! + x[v * LANES + l]!);
  for (let k = 1; k < ILP; k++) for (let l = 0; l < LANES; l++) p0[l] = f(p0[l]! + acc[0]![k]![l]!);
  // vectorized_inner_sum: the scalar tail first, then the lanes in order.
  let total = 0;
  for (let k = vecs * LANES; k < n; k++) total = f(total + x[k]!);
  for (let l = 0; l < LANES; l++) total = f(total + p0[l]!);
  return total;
}

/** mean |x| in float32 as PyTorch computes `x.abs().mean()` (sum, then divide by n). */
export function meanAbs(values: Float32Array): number {
  const abs = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) abs[i] = Math.abs(values[i]!);
  return Math.fround(torchSum(abs) / values.length);
}

export const bnIndicator: Indicator = {
  name: "bn",
  description: "BN-NAS: mean |gamma| of each candidate's last BatchNorm (0 without BatchNorm)",
  score(ctx) {
    const index = new GraphIndex(ctx.model.graph!);
    return perCandidate(ctx, (c, layer) => {
      if (!c.indicator) return null;
      const name = c.indicator.scale;
      const t = index.initializers.get(name);
      if (!t) throw new ModelFormatError(ctx.file, `the BatchNorm scale '${name}' of ${layer.label}/${c.name} is not an initializer`);
      let gamma: Float32Array;
      try {
        gamma = readFloats(t);
      } catch (e) {
        throw new ModelFormatError(ctx.file, (e as Error).message);
      }
      if (gamma.length === 0) throw new ModelFormatError(ctx.file, `the BatchNorm scale '${name}' of ${layer.label}/${c.name} is empty`);
      for (let i = 0; i < gamma.length; i++) {
        if (!Number.isFinite(gamma[i]!)) {
          throw new NumericError(`${ctx.file}: the BatchNorm scale '${name}' of ${layer.label}/${c.name} holds ${gamma[i]} at channel ${i}; the supernet's training diverged (retrain with a lower learning rate)`);
        }
      }
      return meanAbs(gamma);
    });
  },
};
