/** Add: both inputs receive dy (the builder sums broadcast axes away). */
import type { GradRule } from "../rule.js";

export const addGrad: GradRule = {
  opTypes: ["Add"],
  inputsToSave: [],
  outputsToSave: [],
  broadcasts: true,
  gradFunc: (_ctx, [dy]) => ({ 0: () => dy!, 1: () => dy! }),
};
