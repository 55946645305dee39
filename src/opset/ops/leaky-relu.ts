/** LeakyRelu: elementwise with slope `alpha`. */
import { AttrType } from "../../onnx/proto.js";
import { sameAsInput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const leakyRelu: OpDef = {
  opTypes: ["LeakyRelu"],
  infer: (ctx) => [sameAsInput(ctx)],
  checks: { attributes: { alpha: AttrType.FLOAT } },
};
