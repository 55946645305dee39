/**
 * Reshape to a target shape known at export time (a constant, or computed from static shapes:
 * PyTorch's `view(h.size(0), -1)` is Shape -> Gather -> Concat -> Reshape). 0 copies x's dim
 * (unless allowzero); one -1 takes what is left, which with a symbolic batch may itself be
 * symbolic.
 */
import { attrInt } from "../../onnx/graph.js";
import { elementCount } from "../../onnx/tensor.js";
import { keepsType } from "../check-util.js";
import type { Dim, OpDef } from "../types.js";
import { reshapeGradFor } from "./reshape-grad.js";

export const reshape: OpDef = {
  opTypes: ["Reshape"],
  infer(ctx) {
    const x = ctx.input(0);
    const target = ctx.ints(1) ?? ctx.fail("the target shape must be a constant");
    const allowZero = attrInt(ctx.node, "allowzero", 0) === 1;
    const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? x.shape[i]! : d));
    const neg = out.indexOf(-1);
    if (neg >= 0) {
      const sym = x.shape.filter((d) => typeof d === "string");
      const staticIn = elementCount(x.shape.filter((d): d is number => typeof d === "number"));
      const staticOut = elementCount(out.filter((d, i): d is number => typeof d === "number" && i !== neg));
      if (sym.length === 0) out[neg] = staticIn / staticOut;
      else if (sym.length === 1 && staticIn === staticOut) out[neg] = sym[0]!;
      else if (sym.length === 1 && !out.some((d) => typeof d === "string")) out[neg] = staticIn % staticOut === 0 && staticIn / staticOut !== 1 ? `${sym[0]}*${staticIn / staticOut}` : sym[0]!;
      else ctx.fail(`cannot infer the -1 dim of [${target}] from [${x.shape}]`);
    }
    return [{ shape: out, value: x.value }];
  },
  grad: reshapeGradFor("Reshape"),
  checks: { indexInputs: [1], outputType: keepsType },
};
