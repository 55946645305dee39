import { describe, expect, it } from "vitest";
import { GraphBuilder, valueInfo } from "../../../src/onnx/builder.js";
import { DataType } from "../../../src/onnx/proto.js";
import { floatTensor, int64Tensor } from "../../../src/onnx/tensor.js";
import { Session } from "../../../src/runtime/ort.js";
import { branchGraph, emptyParts, ifChain, inlineModel } from "../../../src/train/engine/compose.js";

/** A block model y = x * c (c an initializer) with a second output that repeats y. */
function scaleBlock(c: number) {
  const b = new GraphBuilder();
  b.input("x", [2]);
  b.initializer(floatTensor("c", [], [c]));
  const y = b.op("Mul", ["x", "c"], {}, "y");
  b.output(y, [2]);
  return { model: b.build({ name: `times${c}` }), y };
}

describe("compose: inlined blocks chosen by an If chain", () => {
  it("runs the chosen branch for every selector value, each with its own renamed initializers", async () => {
    const factors = [2, 3, 5, 7];
    const branches = factors.map((c, k) => {
      const parts = emptyParts();
      const { model, y } = scaleBlock(c);
      const r = inlineModel(parts, model, `b${k}/`, new Map([["x", "input"]]));
      expect(parts.initializers.map((t) => t.name)).toEqual([`b${k}/c`]);
      // the same tensor twice, and an outer tensor: both must come out (as copies)
      return branchGraph(`b${k}`, parts, [r(y), r(y), "input"]);
    });
    const main = new GraphBuilder();
    main.input("input", [2]);
    main.inputs.push(valueInfo("sel", [], DataType.INT64));
    const conds = factors.slice(0, -1).map((_, k) => {
      main.initializer(int64Tensor(`k${k}`, [], [k]));
      return main.op("Equal", ["sel", `k${k}`], {}, `is${k}`);
    });
    main.nodes.push(ifChain("choose", conds, branches, ["out0", "out1", "out2"]));
    for (const o of ["out0", "out1", "out2"]) main.output(o);
    const session = await Session.create(main.build({ name: "chain" }), { threads: 1 });
    try {
      for (let k = 0; k < factors.length; k++) {
        const out = await session.run({ input: { dims: [2], data: Float32Array.of(1, -2) }, sel: { dims: [], data: BigInt64Array.of(BigInt(k)) } });
        expect(Array.from(out.out0!.data as Float32Array)).toEqual([factors[k]!, -2 * factors[k]!]);
        expect(Array.from(out.out1!.data as Float32Array)).toEqual([factors[k]!, -2 * factors[k]!]);
        expect(Array.from(out.out2!.data as Float32Array)).toEqual([1, -2]);
      }
    } finally {
      await session.release();
    }
  });

  it("refuses a block input left unwired and a chain whose conditions do not fit its branches", () => {
    expect(() => inlineModel(emptyParts(), scaleBlock(2).model, "p/", new Map())).toThrow(/input 'x' .* is not wired/);
    const g = branchGraph("g", emptyParts(), ["input"]);
    expect(() => ifChain("c", [], [g, g], ["o"])).toThrow(/one condition fewer/);
  });
});
