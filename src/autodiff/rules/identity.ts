/** Identity: dx = dy. */
import type { GradRule } from "../rule.js";

export const identityGrad: GradRule = {
  opTypes: ["Identity"],
  inputsToSave: [],
  outputsToSave: [],
  gradFunc: (_ctx, [dy]) => ({ 0: () => dy! }),
};
