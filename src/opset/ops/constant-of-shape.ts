/** ConstantOfShape: a tensor of the constant shape given as input 0. */
import type { OpDef } from "../types.js";

export const constantOfShape: OpDef = {
  opTypes: ["ConstantOfShape"],
  infer: (ctx) => [{ shape: ctx.ints(0) ?? ctx.fail("its shape is not constant") }],
  checks: { indexInputs: [0] },
};
