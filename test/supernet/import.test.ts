import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSupernet } from "../../src/supernet/load.js";
import { inferStructure } from "../../src/supernet/import.js";
import { readModel } from "../../src/model/model-io.js";
import { FoldedBatchNormError, UsageError } from "../../src/errors.js";
import { TORCH_TINY_DIR } from "../fixtures/paths.js";

const TINY_DIR = TORCH_TINY_DIR;
const FIX = join(__dirname, "../fixtures/import");

interface ExpectedLayer { positions: number[]; scores: (number | null)[]; macs: number[]; params: number[] }
interface ExpectedFile { input: string; input_shape: number[]; masks: string[]; output: string; mask_form: string; layers: ExpectedLayer[]; fixed: { macs: number; params: number } }
const expected = JSON.parse(readFileSync(join(FIX, "expected.json"), "utf8")) as Record<string, ExpectedFile>;

describe("inferStructure on torch-tiny", () => {
  const { structure } = loadSupernet(join(TINY_DIR, "supernet.preserve.onnx"));

  it("finds the data input, the masks and the logits", () => {
    expect(structure.source).toBe("pytorch");
    expect(structure.input).toEqual({ name: "x", shape: ["batch", 3, 16, 16] });
    expect(structure.output).toBe("logits");
    expect(structure.layers.map((l) => l.mask)).toEqual([0, 1, 2].map((i) => ({ kind: "vector", input: `mask${i}` })));
  });

  it("finds layer inputs, completed sums and candidates by mask position", () => {
    expect(structure.layers.map((l) => [l.input, l.output])).toEqual([
      ["/stem/stem.2/Relu_output_0", "/Add_2_output_0"],
      ["/Add_2_output_0", "/Add_4_output_0"],
      ["/Add_4_output_0", "/Add_7_output_0"],
    ]);
    expect(structure.layers.map((l) => l.candidates.map((c) => c.position))).toEqual([[0, 1, 2, 3], [0, 1, 2], [0, 1, 2, 3]]);
    const skip = structure.layers[0]!.candidates[3]!;
    expect(skip.output).toBe("/stem/stem.2/Relu_output_0");
    expect(skip.batchNorms).toEqual([]);
    expect(skip.indicator).toBeNull();
    expect(skip.maskMul).toBe("/Mul_3");
  });

  it("lists each candidate's BatchNorms in graph order, the last being the indicator", () => {
    const dw = structure.layers[1]!.candidates[2]!;
    expect(dw.batchNorms.map((b) => b.scale)).toEqual(["blocks.1.2.1.weight", "blocks.1.2.4.weight"]);
    expect(dw.indicator).toEqual({
      node: "/blocks.1.2/blocks.1.2.4/BatchNormalization",
      scale: "blocks.1.2.4.weight", bias: "blocks.1.2.4.bias", mean: "blocks.1.2.4.running_mean", var: "blocks.1.2.4.running_var",
    });
    expect(dw.output).toBe("/blocks.1.2/blocks.1.2.5/Relu_output_0");
  });

  it("counts MACs and params per candidate and for the fixed part", () => {
    // conv3x3 8->8 on 16x16: 16*16*8*8*9 MACs; weights 576 + BN 16
    expect(structure.layers[0]!.candidates[0]).toMatchObject({ macs: 16 * 16 * 8 * 8 * 9, params: 8 * 8 * 9 + 16 });
    // dw3x3 8 (s2, 8x8) + pw 8->16: 8*8*8*9 + 8*8*16*8
    expect(structure.layers[1]!.candidates[2]).toMatchObject({ macs: 8 * 8 * 8 * 9 + 8 * 8 * 16 * 8, params: 72 + 16 + 128 + 32 });
    expect(structure.layers[2]!.candidates[3]).toMatchObject({ macs: 0, params: 0 });
    // stem conv 3->8 on 16x16 + BN + Linear 16->5
    expect(structure.fixed).toEqual({ macs: 16 * 16 * 8 * 3 * 9 + 16 * 5, params: 216 + 16 + 80 + 5 });
  });

  it("refuses the EVAL export, whose BatchNorms were folded away", () => {
    expect(() => loadSupernet(join(TINY_DIR, "supernet.eval.onnx"))).toThrow(FoldedBatchNormError);
    expect(() => loadSupernet(join(TINY_DIR, "supernet.eval.onnx"))).toThrow(/TrainingMode.PRESERVE/);
  });

  it("a --pattern gives the same assignment where the graph follows the convention", () => {
    const model = readModel(join(TINY_DIR, "supernet.preserve.onnx"));
    const byGraph = inferStructure(model);
    const byName = inferStructure(model, { pattern: "blocks\\.(?<layer>\\d+)\\.(?<cand>\\d+)\\." });
    expect(byName).toEqual(byGraph);
  });

  it("a --pattern overrides the assignment (here: only first BatchNorms of candidates)", () => {
    const model = readModel(join(TINY_DIR, "supernet.preserve.onnx"));
    const s = inferStructure(model, { pattern: "^blocks\\.(?<layer>\\d+)\\.(?<cand>\\d+)\\.1\\.weight$" });
    expect(s.layers[1]!.candidates[2]!.batchNorms.map((b) => b.scale)).toEqual(["blocks.1.2.1.weight"]);
    expect(s.layers[1]!.candidates[2]!.indicator!.scale).toBe("blocks.1.2.1.weight");
    expect(s.layers[0]!.candidates[3]!.indicator).toBeNull();
  });

  it("rejects bad patterns with usage errors", () => {
    const model = readModel(join(TINY_DIR, "supernet.preserve.onnx"));
    expect(() => inferStructure(model, { pattern: "blocks(" })).toThrow(UsageError);
    expect(() => inferStructure(model, { pattern: "blocks\\.(\\d+)" })).toThrow(/named groups/);
    expect(() => inferStructure(model, { pattern: "nothing(?<layer>\\d)(?<cand>\\d)" })).toThrow(/matches no BatchNorm/);
    expect(() => inferStructure(model, { pattern: "blocks\\.(?<layer>\\d+)\\.\\d+\\.(?<cand>\\d+)\\." })).toThrow(/names candidate 4 of layer 0, which has mask positions 0, 1, 2, 3/);
  });
});

describe("inferStructure on other PyTorch supernets (test/fixtures/import)", () => {
  for (const [file, exp] of Object.entries(expected)) {
    it(`${file}: structure, indicator BNs and costs match the PyTorch model`, () => {
      const { structure, countProblem } = loadSupernet(join(FIX, file));
      expect(countProblem).toBeUndefined();
      expect(structure.input.name).toBe(exp.input);
      expect(structure.input.shape.slice(1)).toEqual(exp.input_shape);
      expect(structure.output).toBe(exp.output);
      expect(structure.layers.length).toBe(exp.layers.length);
      structure.layers.forEach((layer, l) => {
        const e = exp.layers[l]!;
        expect(layer.mask.kind).toBe(exp.mask_form);
        if (layer.mask.kind === "matrix") expect(layer.mask).toEqual({ kind: "matrix", input: exp.masks[0], row: l });
        else expect(layer.mask.input).toBe(exp.masks[l]);
        expect(layer.candidates.map((c) => c.position)).toEqual(e.positions);
        expect(layer.candidates.map((c) => c.indicator !== null)).toEqual(e.scores.map((s) => s !== null));
        expect(layer.candidates.map((c) => c.macs)).toEqual(e.macs);
        expect(layer.candidates.map((c) => c.params)).toEqual(e.params);
      });
      expect(structure.fixed).toEqual(exp.fixed);
    });
  }

  it("vector-pool.onnx: a candidate with two BatchNorms in a row has both, the second as indicator", () => {
    const { structure } = loadSupernet(join(FIX, "vector-pool.onnx"));
    const two = structure.layers[0]!.candidates[1]!;
    expect(two.batchNorms.map((b) => b.scale)).toEqual(["choices.0.1.bn_a.weight", "choices.0.1.bn_b.weight"]);
    expect(two.indicator!.scale).toBe("choices.0.1.bn_b.weight");
  });

  it("vector-pool.onnx: the layer output is the masked sum, not the residual around it", () => {
    const { structure, model } = loadSupernet(join(FIX, "vector-pool.onnx"));
    const l1 = structure.layers[1]!;
    const producer = model.graph!.node.find((n) => n.output[0] === l1.output)!;
    expect(producer.input).toContain(model.graph!.node.find((n) => n.name === l1.candidates[3]!.maskMul)!.output[0]);
    expect(structure.layers[2]!.input).not.toBe(l1.output); // layer 2 reads h + sum
    expect(structure.layers[1]!.input).toBe(structure.layers[0]!.output);
  });

  it("matrix.onnx: MBConv candidates with residual keep all three BatchNorms; the skip reads the layer input", () => {
    const { structure } = loadSupernet(join(FIX, "matrix.onnx"));
    const mb = structure.layers[0]!.candidates[0]!;
    expect(mb.batchNorms.map((b) => b.scale)).toEqual(["layers.0.0.body.1.weight", "layers.0.0.body.4.weight", "layers.0.0.body.7.weight"]);
    expect(structure.layers[0]!.candidates[4]!.output).toBe(structure.layers[0]!.input);
    expect(structure.layers[1]!.candidates.map((c) => c.position)).toEqual([0, 1, 2, 3]);
  });

  it("matrix.eval.onnx (BN folded) is refused", () => {
    expect(() => loadSupernet(join(FIX, "matrix.eval.onnx"))).toThrow(FoldedBatchNormError);
  });
});

describe("mask indexing patterns", () => {
  it("a [L, K] matrix read by Slice + Squeeze + Gather, and by Slice on both axes, with negative indices", async () => {
    const { GraphBuilder, attr } = await import("../../src/onnx/builder.js");
    const g = new GraphBuilder();
    let h = g.input("x", ["batch", 2, 4, 4]);
    const m = g.input("weights", [2, 3]);
    const i64 = (name: string, v: number[]) => g.int64Init(name, [v.length], v);
    for (let l = 0; l < 2; l++) {
      const terms: string[] = [];
      for (let k = 0; k < 3; k++) {
        let entry: string;
        if (l === 0) {
          const row = g.op("Slice", [m, i64(`s${l}${k}`, [l]), i64(`e${l}${k}`, [l + 1]), i64(`a${l}${k}`, [0])]);
          const sq = g.op("Squeeze", [row, i64(`q${l}${k}`, [0])]);
          entry = g.op("Gather", [sq, g.int64Init(`k${l}${k}`, [], [k - 3])], { axis: attr.int(0) }); // -3..-1 = 0..2
        } else {
          const cell = g.op("Slice", [m, i64(`s${l}${k}`, [l, k]), i64(`e${l}${k}`, [l + 1, k + 1]), i64(`a${l}${k}`, [0, 1])]);
          entry = g.op("Reshape", [cell, i64(`r${l}${k}`, [1])]);
        }
        const w = g.floatInit(`w${l}${k}`, [2, 2, 1, 1], new Float32Array(4).fill(0.3));
        const conv = g.op("Conv", [h, w]);
        const bn = g.op("BatchNormalization", [conv, g.floatInit(`g${l}${k}`, [2], [1, 2]), g.floatInit(`b${l}${k}`, [2], [0, 0]), g.floatInit(`m${l}${k}`, [2], [0, 0]), g.floatInit(`v${l}${k}`, [2], [1, 1])], {}, `bn${l}${k}`);
        terms.push(g.op("Mul", [bn, entry], {}, `mul${l}${k}`));
      }
      h = g.op("Add", [g.op("Add", [terms[0]!, terms[1]!]), terms[2]!], {}, `sum${l}`);
    }
    g.output(g.op("ReduceMean", [h], { keepdims: attr.int(0), axes: attr.ints([1, 2, 3]) }));
    const s = inferStructure(g.build({ name: "slices" }));
    expect(s.layers.map((l) => l.mask)).toEqual([{ kind: "matrix", input: "weights", row: 0 }, { kind: "matrix", input: "weights", row: 1 }]);
    expect(s.layers.map((l) => l.candidates.map((c) => [c.position, c.maskMul, c.indicator!.node]))).toEqual([0, 1].map((l) => [0, 1, 2].map((k) => [k, `mul${l}${k}`, `bn${l}${k}`])));
    expect(s.layers[1]!.input).toBe(s.layers[0]!.output);
    expect(s.input).toEqual({ name: "x", shape: ["batch", 2, 4, 4] });
  });
});
