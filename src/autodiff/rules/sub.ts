/** Sub: da = dy, db = -dy. */
import type { GradRule } from "../rule.js";

export const subGrad: GradRule = {
  opTypes: ["Sub"],
  inputsToSave: [],
  outputsToSave: [],
  broadcasts: true,
  gradFunc: (ctx, [dy]) => ({ 0: () => dy!, 1: () => ctx.op("Neg", [dy!], {}, "db") }),
};
