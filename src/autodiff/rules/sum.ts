/** Sum (variadic): every input receives dy. */
import type { GradRule } from "../rule.js";

export const sumGrad: GradRule = {
  opTypes: ["Sum"],
  inputsToSave: [],
  outputsToSave: [],
  broadcasts: true,
  gradFunc(ctx, [dy]) {
    return Object.fromEntries(ctx.node.input.map((_, i) => [i, () => dy!]));
  },
};
