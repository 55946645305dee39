/**
 * The BN-NAS indicator: a candidate's score is the mean over channels of |gamma| of its indicator
 * BatchNorm (the last on its branch); candidates without BatchNorm get null (0 in sums). Gamma
 * is read straight from the initializer: no runtime session is needed.
 */
import { GraphIndex } from "../onnx/graph.js";
import { readFloats } from "../onnx/tensor.js";
import { ModelFormatError, NumericError } from "../errors.js";
import { perCandidate, type Indicator } from "./indicator.js";

/** Mean |x| of a float32 vector, accumulated in float64 and rounded to float32 like PyTorch's result. */
export function meanAbs(values: Float32Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.abs(values[i]!);
  return Math.fround(s / values.length);
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
