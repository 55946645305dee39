/** Unsqueeze: axes (of the output) as an attribute below opset 13, as input 1 from 13. */
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";
import { axesOf, normalizeAxes } from "../shape-util.js";
import type { OpDef, Shape } from "../types.js";
import { reshapeGradFor } from "./reshape-grad.js";

export const unsqueeze: OpDef = {
  opTypes: ["Unsqueeze"],
  infer(ctx) {
    const x = ctx.input(0);
    const axes = axesOf(ctx) ?? [];
    const rank = x.shape.length + axes.length;
    const at = normalizeAxes(axes, rank);
    const shape: Shape = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(at.includes(i) ? 1 : x.shape[j++]!);
    return [{ shape, value: x.value }];
  },
  grad: reshapeGradFor("Unsqueeze"),
  checks: { attributes: { axes: AttrType.INTS }, indexInputs: [1], outputType: keepsType },
};
