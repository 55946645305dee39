/** Size: an int64 scalar, known when the dims are static. */
import { int64Output } from "../check-util.js";
import { dimProduct } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const size: OpDef = {
  opTypes: ["Size"],
  infer(ctx) {
    const n = dimProduct(ctx.shape(0));
    return [{ shape: [], value: typeof n === "number" ? [n] : undefined }];
  },
  checks: { outputType: int64Output },
};
