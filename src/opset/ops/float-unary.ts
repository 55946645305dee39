/** Elementwise float functions without attributes bnnas reads or a gradient rule. */
import { keepsType } from "../check-util.js";
import { sameAsInput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const floatUnary: OpDef = {
  opTypes: ["Sigmoid", "HardSwish", "Sqrt", "Exp", "Tanh", "Erf"],
  infer: (ctx) => [sameAsInput(ctx)],
  checks: { floatInputs: [0], outputType: keepsType },
};
