import { describe, it } from "vitest";
import { attr } from "../../../src/onnx/builder.js";
import { checkGradients, randn, rng } from "../../autodiff/harness.js";

const r = rng(15);
describe("Gemm gradient", () => {
  for (const [ta, tb] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
    it(`transA=${ta} transB=${tb}, alpha/beta, broadcast bias`, async () => {
      await checkGradients({
        inputs: {
          a: { dims: ta ? [4, 3] : [3, 4], data: randn(12, r), grad: true },
          b: { dims: tb ? [5, 4] : [4, 5], data: randn(20, r), grad: true },
          c: { dims: [5], data: randn(5, r), grad: true },
        },
        build: (b) => b.op("Gemm", ["a", "b", "c"], { transA: attr.int(ta), transB: attr.int(tb), alpha: attr.float(0.7), beta: attr.float(1.3) }),
      });
    });
  }
});
