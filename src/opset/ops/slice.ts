/** Slice with constant starts/ends/axes/steps (opset 10+ inputs); known 1-D values are sliced too. */
import { keepsType } from "../check-util.js";
import { normalizeAxis, staticDim } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const slice: OpDef = {
  opTypes: ["Slice"],
  infer(ctx) {
    const d = ctx.input(0);
    const starts = ctx.ints(1), ends = ctx.ints(2);
    const axes = ctx.node.input[3] ? ctx.ints(3) : starts?.map((_, i) => i);
    const steps = ctx.node.input[4] ? ctx.ints(4) : starts?.map(() => 1);
    if (!starts || !ends || !axes || !steps) return ctx.fail("its bounds are not constant");
    const shape = d.shape.slice();
    let value = d.value;
    axes.forEach((a0, i) => {
      const a = normalizeAxis(a0, shape.length);
      const size = staticDim(ctx, d.shape, a);
      const step = steps[i]!;
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + size : v, lo), hi);
      const s = step > 0 ? clamp(starts[i]!, 0, size) : clamp(starts[i]!, -1, size - 1);
      const e = step > 0 ? clamp(ends[i]!, 0, size) : clamp(ends[i]!, -1, size - 1);
      shape[a] = Math.max(0, Math.ceil((e - s) / step));
      if (value && d.shape.length === 1) {
        const v: number[] = [];
        for (let k = s; step > 0 ? k < e : k > e; k += step) v.push(value[k]!);
        value = v;
      }
    });
    return [{ shape, value }];
  },
  checks: { indexInputs: [1, 2, 3, 4], outputType: keepsType },
};
