/** CastLike: same shape and values (the element type is input 1's, which the checks do not follow). */
import { sameAsInput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const castLike: OpDef = {
  opTypes: ["CastLike"],
  infer: (ctx) => [sameAsInput(ctx, true)],
};
