/** Constant: the shape of its value; small integer values are tracked (shape arithmetic). */
import { AttrType } from "../../onnx/proto.js";
import { knownInts } from "../shape-util.js";
import type { OpDef } from "../types.js";

export const constant: OpDef = {
  opTypes: ["Constant"],
  infer(ctx) {
    const t = ctx.constant(ctx.node.output[0]!);
    return [t ? { shape: t.dims, value: knownInts(t) } : undefined];
  },
  checks: {
    attributes: { value: AttrType.TENSOR, value_float: AttrType.FLOAT, value_floats: AttrType.FLOATS, value_int: AttrType.INT, value_ints: AttrType.INTS, value_string: AttrType.STRING, value_strings: AttrType.STRINGS, sparse_value: AttrType.SPARSE_TENSOR },
    outputType: (node) => node.attribute.find((a) => a.name === "value")?.t?.dataType,
  },
};
