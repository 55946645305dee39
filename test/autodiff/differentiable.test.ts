import { describe, expect, it } from "vitest";
import { attr, GraphBuilder } from "../../src/onnx/builder.js";
import { NotDifferentiableError } from "../../src/errors.js";
import { checkDifferentiable } from "../../src/autodiff/differentiable.js";

/** x -> BN -> act -> GlobalAveragePool -> Flatten -> Gemm, with `act` between the trained BN and the loss. */
function net(act: string, spatial: (number | string)[]) {
  const b = new GraphBuilder();
  b.input("x", ["N", 2, ...spatial]);
  const c = 2;
  const bn = b.op("BatchNormalization", ["x", ...["gamma", "beta", "mean", "var"].map((n, i) => b.floatInit(n, [c], new Float32Array(c).fill(i === 3 ? 1 : 0)))], { epsilon: attr.float(1e-5) }, "bn");
  const h = b.op(act, [bn], {}, "act");
  const y = b.op("Gemm", [b.op("Flatten", [b.op("GlobalAveragePool", [h])]), b.floatInit("w", [3, c], new Float32Array(3 * c))], { transB: attr.int(1) }, "fc");
  b.output(y);
  return b.graph("g");
}

describe("checkDifferentiable", () => {
  it("accepts a graph whose trained path has rules and static spatial dims", () => {
    expect(() => checkDifferentiable(net("Relu", [4, 4]), { name: "x", shape: [1, 2, 4, 4] })).not.toThrow();
  });
  it("names a node without a gradient rule between a trained BN and the loss", () => {
    const check = () => checkDifferentiable(net("Softplus", [4, 4]), { name: "x", shape: [1, 2, 4, 4] }, "net.onnx");
    expect(check).toThrow(NotDifferentiableError);
    expect(check).toThrow(/^net\.onnx: node 'act' \(Softplus\): bnnas has no gradient rule for Softplus.*replace the op/);
  });
  it("names a BatchNormalization whose spatial dims are symbolic", () => {
    const check = () => checkDifferentiable(net("Relu", ["H", "W"]), { name: "x", shape: [1, 2, "H", "W"] });
    expect(check).toThrow(NotDifferentiableError);
    expect(check).toThrow(/node 'bn' \(BatchNormalization\): its input has shape \[N, 2, H, W\]; bnnas trains with static channel and spatial dims/);
  });
});
