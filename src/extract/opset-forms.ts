/**
 * What bnnas knows about how each ONNX op's form differs between opsets, one entry per op type
 * (the ONNX reference evaluator's versioned files, as a table): the opset the op first exists
 * at, and each later opset at which its form changed, with the rewrite from the newer form to
 * the older one (`down`) and back (`up`). opset-convert.ts applies the changes between the
 * model's opset and the target; it knows nothing about any particular op.
 *
 * Only changes that alter a node's form or meaning are listed. Changes that only widen the
 * accepted element types (bfloat16 at 13, int types at 12/14, ...) are not: a float model
 * written at the newer opset is also valid at the older one.
 */
import { AttrType, DataType, make, num, type AttributeProto, type NodeProto, type TensorProto } from "../onnx/proto.js";
import { getAttr } from "../onnx/graph.js";
import type { Tensor } from "../onnx/tensor.js";

/** What a rewrite sees of the graph around its node. */
export interface FormContext {
  readonly node: NodeProto;
  /** The value of a constant tensor (an initializer or a Constant node's output), if it is one. */
  constant(tensor: string): Tensor | undefined;
  /** The rank of a tensor, when shape inference knew it. */
  rank(tensor: string): number | undefined;
  /** The static shape of a tensor, when shape inference knew every dim. */
  shape(tensor: string): number[] | undefined;
  /** Adds an initializer named after `hint` (made unique); returns its name. */
  addInitializer(hint: string, make: (name: string) => TensorProto): string;
}

/**
 * A rewrite of one node in place. Returns undefined when done, or why the node cannot take the
 * other form (the converter then names the node and the lowest opset that works).
 */
export type Rewrite = (ctx: FormContext) => string | undefined;

export interface FormChange {
  /** The opset whose form differs from the one before it. */
  at: number;
  /** What changed, for messages. */
  what: string;
  /** From the form of `at` to the form before it; absent: the older form cannot express it. */
  down?: Rewrite;
  /** From the form before `at` to the form of `at`; absent: no rewrite needed. */
  up?: Rewrite;
}

export interface OpForms {
  /** The first opset of the default domain that has the op. */
  since: number;
  /** Form changes after `since`, oldest first. */
  changes?: readonly FormChange[];
}

// ---- helpers shared by the entries below ------------------------------------------------------

const setAttr = (node: NodeProto, a: Partial<AttributeProto> & { name: string }) => {
  node.attribute = [...node.attribute.filter((x) => x.name !== a.name), make.attribute(a)];
};
const dropAttr = (node: NodeProto, name: string) => {
  node.attribute = node.attribute.filter((x) => x.name !== name);
};
const intAttr = (node: NodeProto, name: string): number | undefined => {
  const a = getAttr(node, name);
  return a && a.type === AttrType.INT ? num(a.i) : undefined;
};
const intsAttr = (node: NodeProto, name: string): number[] | undefined => {
  const a = getAttr(node, name);
  return a && a.type === AttrType.INTS ? a.ints.map((v) => num(v)) : undefined;
};
/** Removes trailing empty optional inputs (`["x", "", ""]` -> `["x"]`). */
const trimInputs = (node: NodeProto) => {
  while (node.input.length > 0 && node.input[node.input.length - 1] === "") node.input.pop();
};
const intValues = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
const int64Init = (values: readonly number[]) => (name: string) =>
  make.tensor({ name, dims: [values.length], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer) });
const scalarFloatInit = (value: number) => (name: string) =>
  make.tensor({ name, dims: [], dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.of(value).buffer) });
const label = (node: NodeProto) => node.name || node.output[0] || node.opType;

/** Input `k` (an int64 list: axes, split, pads) becomes attribute `name`; it must be a constant. */
function inputToInts(k: number, name: string, optional = true): Rewrite {
  return (ctx) => {
    const n = ctx.node;
    const t = n.input[k];
    if (!t) {
      if (!optional) return `input ${k} (${name}) is missing`;
      return undefined;
    }
    const v = ctx.constant(t);
    if (!v) return `${name} is computed in the graph, not a constant`;
    const values = intValues(v);
    n.input[k] = "";
    trimInputs(n);
    setAttr(n, { name, type: AttrType.INTS, ints: values });
    return undefined;
  };
}

/** Attribute `name` becomes input `k` (an int64 initializer). */
function intsToInput(k: number, name: string): Rewrite {
  return (ctx) => {
    const n = ctx.node;
    const values = intsAttr(n, name);
    if (values === undefined) return undefined;
    dropAttr(n, name);
    while (n.input.length < k) n.input.push("");
    n.input[k] = ctx.addInitializer(`${label(n)}.${name}`, int64Init(values));
    return undefined;
  };
}

/**
 * Below opset 11 an axis must be non-negative: negative values of attribute `name` are made
 * positive with the rank of input 0 (plus `extra`: Unsqueeze counts the inserted axes).
 */
function nonNegativeAxes(name: string, rankOf: (ctx: FormContext) => number | undefined = (ctx) => ctx.rank(ctx.node.input[0]!)): Rewrite {
  return (ctx) => {
    const n = ctx.node;
    const a = getAttr(n, name);
    if (!a) return undefined;
    const values = a.type === AttrType.INT ? [num(a.i)] : a.ints.map((v) => num(v));
    if (values.every((v) => v >= 0)) return undefined;
    const r = rankOf(ctx);
    if (r === undefined) return `its ${name} ${values.join(",")} is negative and the input's rank is unknown`;
    const fixed = values.map((v) => (v < 0 ? v + r : v));
    setAttr(n, a.type === AttrType.INT ? { name, type: AttrType.INT, i: fixed[0]! } : { name, type: AttrType.INTS, ints: fixed });
    return undefined;
  };
}
const negativeAxesAt11 = (name = "axis", rankOf?: (ctx: FormContext) => number | undefined): FormChange => ({
  at: 11, what: `a negative ${name}`, down: nonNegativeAxes(name, rankOf),
});

/** Attribute `name` may only take its default below opset `at`; it is dropped when it has it. */
const newAttribute = (at: number, name: string, fallback: number): FormChange => ({
  at,
  what: `attribute ${name}`,
  down: (ctx) => {
    const v = intAttr(ctx.node, name);
    if (v !== undefined && v !== fallback) return `its ${name}=${v} has no equivalent before opset ${at}`;
    dropAttr(ctx.node, name);
    return undefined;
  },
});

/** Reduce* ops: axes moved from an attribute (with negative values from 11) to input 1. */
const reduceAxesToInput = (at: number): FormChange => ({
  at,
  what: "axes as input 1",
  down: (ctx) => {
    const n = ctx.node;
    if (!n.input[1] && intAttr(n, "noop_with_empty_axes") === 1) return "noop_with_empty_axes=1 with no axes has no equivalent in the attribute form";
    dropAttr(n, "noop_with_empty_axes");
    return inputToInts(1, "axes")(ctx);
  },
  up: intsToInput(1, "axes"),
});

/** Softmax/LogSoftmax: before 13 the input was coerced to 2-D at `axis` (default 1); from 13 one axis (default -1). */
const softmaxAxis: FormChange = {
  at: 13,
  what: "softmax over one axis (was: over every axis from `axis` on)",
  down: (ctx) => {
    const n = ctx.node;
    const r = ctx.rank(n.input[0]!);
    const axis = intAttr(n, "axis") ?? -1;
    if (r === undefined) return "the input's rank is unknown, so it cannot be checked that the softmax runs over the last axis";
    const a = axis < 0 ? axis + r : axis;
    if (a !== r - 1) return `it normalises axis ${axis} of a rank-${r} tensor, which the older form (every axis from 'axis' on) computes only for the last axis`;
    setAttr(n, { name: "axis", type: AttrType.INT, i: a });
    return undefined;
  },
  up: (ctx) => {
    const n = ctx.node;
    const r = ctx.rank(n.input[0]!);
    const axis = intAttr(n, "axis") ?? 1;
    if (r === undefined) return "the input's rank is unknown";
    const a = axis < 0 ? axis + r : axis;
    if (a !== r - 1) return `it normalises every axis from ${axis} on of a rank-${r} tensor, which opset 13's Softmax (one axis) does not`;
    setAttr(n, { name: "axis", type: AttrType.INT, i: a });
    return undefined;
  },
};

/** Clip: min/max attributes (opset 6) became optional inputs 1 and 2 (opset 11). */
const clipBoundsToInputs: FormChange = {
  at: 11,
  what: "min and max as inputs",
  down: (ctx) => {
    const n = ctx.node;
    const bounds: Partial<AttributeProto>[] = [];
    for (const [k, name] of [[1, "min"], [2, "max"]] as const) {
      const t = n.input[k];
      if (!t) continue;
      const v = ctx.constant(t);
      if (!v) return `its ${name} is computed in the graph, and opset 10's Clip takes it only as a constant attribute`;
      if (v.data.length !== 1) return `its ${name} holds ${v.data.length} values, not one`;
      bounds.push({ name, type: AttrType.FLOAT, f: Number(v.data[0]) });
    }
    n.input = [n.input[0]!];
    for (const b of bounds) setAttr(n, b as AttributeProto);
    return undefined;
  },
  up: (ctx) => {
    const n = ctx.node;
    const inputs = [n.input[0]!, "", ""];
    for (const [k, name] of [[1, "min"], [2, "max"]] as const) {
      const a = getAttr(n, name);
      if (a) inputs[k] = ctx.addInitializer(`${label(n)}.${name}`, scalarFloatInit(a.f));
      dropAttr(n, name);
    }
    n.input = inputs;
    trimInputs(n);
    return undefined;
  },
};

/** Pad: pads and the constant value moved from attributes (opset 2) to inputs (opset 11). */
const padToInputs: FormChange = {
  at: 11,
  what: "pads and constant_value as inputs",
  down: (ctx) => {
    const n = ctx.node;
    const pads = n.input[1] ? ctx.constant(n.input[1]) : undefined;
    if (!pads) return "its pads are computed in the graph, not a constant";
    let value = 0;
    if (n.input[2]) {
      const v = ctx.constant(n.input[2]);
      if (!v) return "its constant_value is computed in the graph, not a constant";
      value = Number(v.data[0] ?? 0);
    }
    n.input = [n.input[0]!];
    setAttr(n, { name: "pads", type: AttrType.INTS, ints: intValues(pads) });
    if (value !== 0) setAttr(n, { name: "value", type: AttrType.FLOAT, f: value });
    return undefined;
  },
  up: (ctx) => {
    const n = ctx.node;
    const pads = intsAttr(n, "pads") ?? [];
    const value = getAttr(n, "value")?.f ?? 0;
    dropAttr(n, "pads");
    dropAttr(n, "value");
    n.input = [n.input[0]!, ctx.addInitializer(`${label(n)}.pads`, int64Init(pads))];
    if (value !== 0) n.input.push(ctx.addInitializer(`${label(n)}.value`, scalarFloatInit(value)));
    return undefined;
  },
};

/** Dropout: ratio and training_mode became inputs at 12 (an inference model never trains). */
const dropoutRatioToInput: FormChange = {
  at: 12,
  what: "ratio and training_mode as inputs",
  down: (ctx) => {
    const n = ctx.node;
    if (n.input[2]) {
      const t = ctx.constant(n.input[2]);
      if (!t || Number(t.data[0]) !== 0) return "its training_mode is not a constant false";
    }
    let ratio: number | undefined;
    if (n.input[1]) {
      const r = ctx.constant(n.input[1]);
      if (!r) return "its ratio is computed in the graph, not a constant";
      ratio = Number(r.data[0]);
    }
    n.input = [n.input[0]!];
    if (ratio !== undefined) setAttr(n, { name: "ratio", type: AttrType.FLOAT, f: ratio });
    return undefined;
  },
  up: (ctx) => {
    const n = ctx.node;
    const a = getAttr(n, "ratio");
    dropAttr(n, "ratio");
    if (a) n.input = [n.input[0]!, ctx.addInitializer(`${label(n)}.ratio`, scalarFloatInit(a.f))];
    return undefined;
  },
};

/** Gemm's C became optional at 11; below it a zero bias of the output's width stands in. */
const gemmOptionalC: FormChange = {
  at: 11,
  what: "an optional C",
  down: (ctx) => {
    const n = ctx.node;
    if (n.input[2]) return undefined;
    const b = ctx.shape(n.input[1]!);
    if (!b || b.length !== 2) return "it has no C and the width of B is unknown, so no zero C can stand in";
    const width = intAttr(n, "transB") === 1 ? b[0]! : b[1]!;
    n.input = [n.input[0]!, n.input[1]!, ctx.addInitializer(`${label(n)}.zero_c`, (name) => make.tensor({ name, dims: [width], dataType: DataType.FLOAT, rawData: new Uint8Array(width * 4) }))];
    return undefined;
  },
};

/** Constant's value_float(s)/value_int(s) attributes arrived at 12; before, a tensor `value`. */
const constantValueForms: FormChange = {
  at: 12,
  what: "value_float, value_floats, value_int, value_ints",
  down: (ctx) => {
    const n = ctx.node;
    if (getAttr(n, "value")) return undefined;
    const v = ctx.constant(n.output[0]!);
    if (!v) return "its value is a sparse tensor or a string, which the older form does not hold";
    const dims = v.dims;
    const tensor = v.data instanceof Float32Array
      ? make.tensor({ name: "", dims, dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(v.data).buffer) })
      : make.tensor({ name: "", dims, dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.from(v.data as BigInt64Array).buffer) });
    n.attribute = [make.attribute({ name: "value", type: AttrType.TENSOR, t: tensor })];
    return undefined;
  },
};

/** QuantizeLinear/DequantizeLinear: per-axis (per-channel) scales arrived at 13. */
const perAxisQuantization: FormChange = {
  at: 13,
  what: "per-axis scales (attribute axis)",
  down: (ctx) => {
    const n = ctx.node;
    const s = ctx.shape(n.input[1]!);
    if (s && s.every((d) => d === 1)) {
      dropAttr(n, "axis");
      return undefined;
    }
    return "its scale is per channel, and per-channel scales need attribute axis";
  },
};

/** AveragePool gained dilations at 19; undilated pools drop the attribute. */
const poolDilations: FormChange = {
  at: 19,
  what: "attribute dilations",
  down: (ctx) => {
    if ((intsAttr(ctx.node, "dilations") ?? []).some((d) => d !== 1)) return "it is dilated";
    dropAttr(ctx.node, "dilations");
    return undefined;
  },
};

/** Shape gained start/end at 15; the whole shape needs neither. */
const shapeSlice: FormChange = {
  at: 15,
  what: "attributes start and end",
  down: (ctx) => {
    if ((intAttr(ctx.node, "start") ?? 0) !== 0 || intAttr(ctx.node, "end") !== undefined) return "it returns a slice of the shape (start/end)";
    dropAttr(ctx.node, "start");
    return undefined;
  },
};

// ---- the table ---------------------------------------------------------------------------------

const same = (since: number): OpForms => ({ since });

export const OPSET_FORMS: Readonly<Record<string, OpForms>> = {
  Abs: same(6),
  Add: same(7),
  And: same(7),
  ArgMax: { since: 1, changes: [negativeAxesAt11(), newAttribute(12, "select_last_index", 0)] },
  ArgMin: { since: 1, changes: [negativeAxesAt11(), newAttribute(12, "select_last_index", 0)] },
  AveragePool: { since: 10, changes: [poolDilations] },
  BatchNormalization: { since: 9, changes: [newAttribute(14, "training_mode", 0)] },
  Cast: same(6),
  CastLike: same(15),
  Ceil: same(6),
  Clip: { since: 6, changes: [clipBoundsToInputs] },
  Concat: { since: 4, changes: [negativeAxesAt11()] },
  Constant: { since: 9, changes: [constantValueForms] },
  ConstantOfShape: same(9),
  Conv: same(1),
  ConvTranspose: same(1),
  DequantizeLinear: { since: 10, changes: [perAxisQuantization] },
  Div: same(7),
  Dropout: { since: 7, changes: [dropoutRatioToInput] },
  Elu: same(6),
  // Float inputs arrived at 11 (before: integers and bool only); the type is not checked here.
  Equal: { since: 11 },
  Erf: same(9),
  Exp: same(6),
  Expand: same(8),
  Flatten: { since: 9, changes: [negativeAxesAt11()] },
  Floor: same(6),
  Gather: { since: 1, changes: [negativeAxesAt11()] },
  Gelu: same(20),
  Gemm: { since: 7, changes: [gemmOptionalC] },
  GlobalAveragePool: same(1),
  GlobalMaxPool: same(1),
  Greater: same(9),
  HardSigmoid: same(6),
  HardSwish: same(14),
  Identity: same(1),
  InstanceNormalization: same(6),
  LayerNormalization: same(17),
  LeakyRelu: same(6),
  Less: same(9),
  Log: same(6),
  LogSoftmax: { since: 1, changes: [softmaxAxis] },
  LpPool: same(2),
  LRN: same(1),
  MatMul: same(9),
  Max: same(8),
  MaxPool: same(10),
  Mean: same(8),
  Min: same(8),
  Mish: same(18),
  Mul: same(7),
  Neg: same(6),
  NonZero: same(9),
  Not: same(1),
  Or: same(7),
  Pad: { since: 2, changes: [padToInputs] },
  Pow: same(7),
  PRelu: same(9),
  QuantizeLinear: { since: 10, changes: [perAxisQuantization] },
  Range: same(11),
  Reciprocal: same(6),
  ReduceL2: { since: 1, changes: [negativeAxesAt11("axes"), reduceAxesToInput(18)] },
  ReduceMax: { since: 1, changes: [negativeAxesAt11("axes"), reduceAxesToInput(18)] },
  ReduceMean: { since: 1, changes: [negativeAxesAt11("axes"), reduceAxesToInput(18)] },
  ReduceMin: { since: 1, changes: [negativeAxesAt11("axes"), reduceAxesToInput(18)] },
  ReduceProd: { since: 1, changes: [negativeAxesAt11("axes"), reduceAxesToInput(18)] },
  ReduceSum: { since: 1, changes: [negativeAxesAt11("axes"), reduceAxesToInput(13)] },
  Relu: same(6),
  Reshape: { since: 5, changes: [newAttribute(14, "allowzero", 0)] },
  Round: same(11),
  Selu: same(6),
  Shape: { since: 1, changes: [shapeSlice] },
  Sigmoid: same(6),
  Size: same(1),
  // Slice-10 already takes starts/ends/axes/steps as inputs; negative axes arrived at 11.
  Slice: same(10),
  Softmax: { since: 1, changes: [softmaxAxis] },
  Softplus: same(1),
  Split: { since: 2, changes: [negativeAxesAt11(), { at: 13, what: "split as input 1", down: inputToInts(1, "split"), up: intsToInput(1, "split") }] },
  Sqrt: same(6),
  Squeeze: { since: 1, changes: [negativeAxesAt11("axes"), { at: 13, what: "axes as input 1", down: inputToInts(1, "axes"), up: intsToInput(1, "axes") }] },
  Sub: same(7),
  Sum: same(8),
  Tanh: same(6),
  Tile: same(6),
  Transpose: same(1),
  // Unsqueeze's negative axes count in the output's rank: the input's plus one per axis.
  Unsqueeze: {
    since: 1,
    changes: [
      negativeAxesAt11("axes", (ctx) => {
        const r = ctx.rank(ctx.node.input[0]!);
        return r === undefined ? undefined : r + (intsAttr(ctx.node, "axes")?.length ?? 0);
      }),
      { at: 13, what: "axes as input 1", down: inputToInts(1, "axes", false), up: intsToInput(1, "axes") },
    ],
  },
  Where: same(9),
};

/** The forms of an op type of the default domain, or undefined when bnnas has no entry. */
export function opForms(opType: string): OpForms | undefined {
  return Object.prototype.hasOwnProperty.call(OPSET_FORMS, opType) ? OPSET_FORMS[opType] : undefined;
}

/**
 * The IR version of the ONNX release that introduced each opset (onnx/helper.py's
 * VERSION_TABLE): the newest IR a runtime of that generation reads.
 */
export const IR_FOR_OPSET: Readonly<Record<number, number>> = {
  7: 3, 8: 3, 9: 4, 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8,
};
