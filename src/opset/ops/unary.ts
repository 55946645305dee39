/** Elementwise ops bnnas only needs the shape of. */
import { sameAsInput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const unary: OpDef = {
  opTypes: ["Elu", "Selu", "Softplus", "Gelu", "Mish", "Reciprocal", "Not", "Floor", "Ceil", "Round", "LRN"],
  infer: (ctx) => [sameAsInput(ctx)],
};
