/** Range with constant start, limit and delta; its values are known. */
import type { OpDef } from "../types.js";

export const range: OpDef = {
  opTypes: ["Range"],
  infer(ctx) {
    const [s, l, d] = [0, 1, 2].map((k) => ctx.ints(k)?.[0]);
    if (s === undefined || l === undefined || d === undefined) return ctx.fail("its bounds are not constant");
    const n = Math.max(Math.ceil((l - s) / d), 0);
    return [{ shape: [n], value: Array.from({ length: n }, (_, i) => s + i * d) }];
  },
};
