import { describe, expect, it } from "vitest";
import { differentiableOps, lookupRule, MissingGradientError } from "../../src/opset/registry.js";

describe("gradient rule registry", () => {
  it("covers the op types bnnas and PyTorch-convention supernets use", () => {
    for (const op of ["Conv", "BatchNormalization", "Relu", "Clip", "Add", "Mul", "Sum", "ReduceMean", "GlobalAveragePool", "AveragePool", "MaxPool", "Gemm", "MatMul", "Flatten", "Reshape", "Identity", "Gather"])
      expect(lookupRule(op).opTypes).toContain(op);
  });
  it("fails naming the op and listing the rules that exist", () => {
    expect(() => lookupRule("Softplus")).toThrow(MissingGradientError);
    expect(() => lookupRule("Softplus")).toThrow(/'Softplus'.*Add, AveragePool, BatchNormalization/);
    expect(differentiableOps()).toContain("Conv");
  });
});
