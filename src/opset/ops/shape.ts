/** Shape (with start/end from opset 15): a 1-D int64 whose values are known when the dims are static. */
import { attrInt } from "../../onnx/graph.js";
import { int64Output } from "../check-util.js";
import { normalizeAxis } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const shape: OpDef = {
  opTypes: ["Shape"],
  infer(ctx) {
    const xs = ctx.shape(0);
    const start = normalizeAxis(attrInt(ctx.node, "start", 0), xs.length), end = normalizeAxis(attrInt(ctx.node, "end", xs.length), xs.length);
    const dims = xs.slice(start, end);
    return [{ shape: [dims.length], value: dims.every((d): d is number => typeof d === "number") ? dims : undefined }];
  },
  checks: { outputType: int64Output },
};
