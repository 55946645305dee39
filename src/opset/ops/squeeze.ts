/** Squeeze: axes as an attribute below opset 13, as input 1 from 13; without axes every static 1 goes. */
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";
import { axesOf, normalizeAxes } from "../shape-util.js";
import type { OpDef } from "../types.js";
import { reshapeGradFor } from "./reshape-grad.js";

export const squeeze: OpDef = {
  opTypes: ["Squeeze"],
  infer(ctx) {
    const x = ctx.input(0);
    const axes = axesOf(ctx) ?? [];
    const drop = axes.length ? normalizeAxes(axes, x.shape.length) : x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
    return [{ shape: x.shape.filter((_, i) => !drop.includes(i)), value: x.value }];
  },
  grad: reshapeGradFor("Squeeze"),
  checks: { attributes: { axes: AttrType.INTS }, indexInputs: [1], outputType: keepsType },
};
