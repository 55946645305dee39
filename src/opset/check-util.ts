/** Node checks several op modules share. */
import { AttrType, DataType, num, type AttributeProto, type NodeProto } from "../onnx/proto.js";

const POSITIVE_INTS = new Set(["kernel_shape", "strides", "dilations"]);
/** Largest group count accepted (as model/check.ts's MAX_DIM). */
const MAX_GROUP = 2 ** 31 - 1;

/** Range checks of sliding-window attributes (Conv, ConvTranspose, pools): kernel, strides, pads, dilations, group. */
export function windowAttributeProblem(a: AttributeProto): string | undefined {
  if (a.type === AttrType.INTS) {
    const vals = a.ints.map((v) => num(v));
    const min = POSITIVE_INTS.has(a.name) ? 1 : 0;
    if (vals.some((v) => !Number.isSafeInteger(v) || v < min || v > 65536)) return `${a.name} [${vals.join(", ")}] must hold whole numbers from ${min} to 65536`;
  }
  if (a.name === "group") {
    const g = num(a.i);
    if (!Number.isSafeInteger(g) || g < 1 || g > MAX_GROUP) return `group ${g} must be a whole number >= 1`;
  }
  return undefined;
}

/** Attribute types of Conv and ConvTranspose. */
export const CONV_ATTRIBUTES = { kernel_shape: AttrType.INTS, strides: AttrType.INTS, pads: AttrType.INTS, dilations: AttrType.INTS, group: AttrType.INT, auto_pad: AttrType.STRING };
/** Attribute types of MaxPool and AveragePool. */
export const POOL_ATTRIBUTES = { kernel_shape: AttrType.INTS, strides: AttrType.INTS, pads: AttrType.INTS, dilations: AttrType.INTS, ceil_mode: AttrType.INT, count_include_pad: AttrType.INT, storage_order: AttrType.INT, auto_pad: AttrType.STRING };

/** Output type rule: the type of the first input. */
export const keepsType = (_node: NodeProto, inputType: (k: number) => number | undefined) => inputType(0);
/** Output type rule: int64 (shapes, sizes, indices). */
export const int64Output = () => DataType.INT64;
