import { describe, expect, it } from "vitest";
import { ONNX_OPS } from "../../src/onnx/ops-list.js";
import { differentiableOps, findOp, knownOps, lookupOp, lookupRule, OP_DEFS, UnknownOpError } from "../../src/opset/registry.js";

/**
 * Every op type the two former shape inferrers (autodiff/shapes.ts, supernet/count.ts) and the
 * former per-op check tables of model/check.ts knew: all of them must now have one home, so that
 * nothing falls through to "unknown op".
 */
const FORMERLY_KNOWN = [
  // autodiff shape inference
  "Relu", "Clip", "Identity", "Sigmoid", "Sqrt", "Reciprocal", "Exp", "Log", "Neg", "Abs", "Softmax", "LogSoftmax", "BatchNormalization",
  "Add", "Sub", "Mul", "Div", "Pow", "Where", "Sum", "Max", "Min", "Greater", "Less", "Equal", "Constant", "Conv", "AveragePool", "MaxPool",
  "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSum", "Gemm", "MatMul", "Flatten",
  "Reshape", "Transpose", "Unsqueeze", "Squeeze", "Gather",
  // cost counting
  "LpPool", "Mean", "And", "Or", "PRelu", "HardSigmoid", "HardSwish", "Tanh", "LeakyRelu", "Elu", "Selu", "Softplus", "Erf", "Dropout",
  "Gelu", "Mish", "Cast", "CastLike", "Not", "Floor", "Ceil", "Round", "LRN", "InstanceNormalization", "LayerNormalization", "ReduceL2",
  "Shape", "Size", "Concat", "Slice", "Pad", "Split", "Expand", "ConstantOfShape", "Range",
  // per-op check tables
  "ConvTranspose", "Tile", "ArgMax", "ArgMin", "NonZero",
];

describe("the op registry", () => {
  it("has one definition per op type, each an ONNX operator with a shape rule", () => {
    const seen = new Set<string>();
    for (const def of OP_DEFS) {
      expect(def.opTypes.length).toBeGreaterThan(0);
      expect(typeof def.infer).toBe("function");
      for (const op of def.opTypes) {
        expect(seen.has(op), `${op} defined twice`).toBe(false);
        seen.add(op);
        expect(ONNX_OPS.has(op), `${op} is an ONNX operator`).toBe(true);
        expect(lookupOp(op)).toBe(def);
      }
    }
    expect(knownOps()).toEqual([...seen].sort());
  });
  it("covers every op the former shape inferrers and check tables knew", () => {
    expect(FORMERLY_KNOWN.filter((op) => !findOp(op))).toEqual([]);
  });
  it("every gradient rule belongs to the definition of the same op types (the backward's lookup and the shape walker agree)", () => {
    for (const def of OP_DEFS) if (def.grad) expect(def.grad.opTypes).toEqual(def.opTypes);
    for (const op of differentiableOps()) expect(findOp(op)!.grad).toBe(lookupRule(op));
  });
  it("every op with type checks says what its output type is, or has none to follow", () => {
    for (const def of OP_DEFS) {
      const c = def.checks;
      if (!c) continue;
      if (c.closedAttributes) expect(c.attributes, def.opTypes.join()).toBeDefined();
      if (c.typesAllOutputs) expect(c.outputType, def.opTypes.join()).toBeDefined();
    }
  });
  it("a lookup of an unknown op fails naming it and listing what exists", () => {
    expect(() => lookupOp("Resize")).toThrow(UnknownOpError);
    expect(() => lookupOp("Resize")).toThrow(/'Resize'; it knows Abs, Add, .*Unsqueeze, Where$/);
  });
});
