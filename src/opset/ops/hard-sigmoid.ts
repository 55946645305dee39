/** HardSigmoid: max(0, min(1, alpha * x + beta)). */
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";
import { sameAsInput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const hardSigmoid: OpDef = {
  opTypes: ["HardSigmoid"],
  infer: (ctx) => [sameAsInput(ctx)],
  checks: { attributes: { alpha: AttrType.FLOAT, beta: AttrType.FLOAT }, floatInputs: [0], outputType: keepsType },
};
