/** Softmax and LogSoftmax along `axis`. */
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";
import { sameAsInput } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const softmax: OpDef = {
  opTypes: ["Softmax", "LogSoftmax"],
  infer: (ctx) => [sameAsInput(ctx)],
  checks: { attributes: { axis: AttrType.INT }, floatInputs: [0], outputType: keepsType },
};
