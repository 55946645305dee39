/** Tile: each dim times its constant repeat count. */
import { keepsType } from "../check-util.js";
import type { OpDef } from "../types.js";

export const tile: OpDef = {
  opTypes: ["Tile"],
  infer(ctx) {
    const xs = ctx.shape(0);
    const repeats = ctx.ints(1) ?? ctx.fail("its repeats are not constant");
    return [{ shape: xs.map((d, i) => (repeats[i] === 1 ? d : typeof d === "number" ? d * repeats[i]! : `${d}*${repeats[i]}`)) }];
  },
  checks: { indexInputs: [1], outputType: keepsType },
};
