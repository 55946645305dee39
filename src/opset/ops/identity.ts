/** Identity: dx = dy. */
import type { GradRule, OpDef } from "../types.js";
import { keepsType } from "../check-util.js";
import { sameAsInput } from "../shape-util.js";

export const identityGrad: GradRule = {
  opTypes: ["Identity"],
  inputsToSave: [],
  outputsToSave: [],
  gradFunc: (_ctx, [dy]) => ({ 0: () => dy! }),
};

export const identity: OpDef = {
  opTypes: ["Identity"],
  infer: (ctx) => [sameAsInput(ctx, true)],
  grad: identityGrad,
  checks: { outputType: keepsType },
};
