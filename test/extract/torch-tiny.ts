/**
 * Test helper: the torch-tiny fixture (test/fixtures/torch-tiny) and its SupernetStructure
 * built from the graph by the mask convention (Gather(mask_l, k) -> Mul with candidate k's
 * output), with the layer outputs named by hand, so extraction is tested independently of the
 * importer (src/supernet/load.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readModel } from "../../src/model/model-io.js";
import { GraphIndex } from "../../src/onnx/graph.js";
import type { ModelProto } from "../../src/onnx/proto.js";
import type { BatchNormRef, CandidateInfo, SupernetStructure } from "../../src/structure/structure.js";
import { TORCH_TINY_DIR } from "../fixtures/paths.js";

export { TORCH_TINY_DIR };

export const TORCH_TINY = join(TORCH_TINY_DIR, "supernet.preserve.onnx");

export interface TorchTinyExpected {
  input_shape: number[];
  input: number[];
  cases: { arch: number[]; logits: number[] }[];
}

export function torchTinyExpected(): TorchTinyExpected {
  return JSON.parse(readFileSync(join(TORCH_TINY_DIR, "expected.json"), "utf8")) as TorchTinyExpected;
}

/** The layer inputs and masked-sum outputs of torch-tiny (from its export, see make_fixture.py). */
const LAYERS = [
  { input: "/stem/stem.2/Relu_output_0", output: "/Add_2_output_0" },
  { input: "/Add_2_output_0", output: "/Add_4_output_0" },
  { input: "/Add_4_output_0", output: "/Add_7_output_0" },
];

export function structureByConvention(model: ModelProto, layers: { input: string; output: string }[], maskNames: string[]): SupernetStructure {
  const index = new GraphIndex(model.graph!);
  const dataInput = index.feeds.find((f) => !maskNames.includes(f.name))!;
  return {
    source: "pytorch",
    input: { name: dataInput.name, shape: dataInput.type!.tensorType!.shape!.dim.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue))) },
    output: model.graph!.output[0]!.name,
    layers: layers.map((io, l) => {
      const mask = maskNames[l]!;
      const candidates: CandidateInfo[] = [];
      for (const gather of index.consumers.get(mask) ?? []) {
        if (gather.opType !== "Gather") continue;
        const position = Number(index.constant(gather.input[1]!)!.data[0]);
        const mul = index.consumers.get(gather.output[0]!)!.find((n) => n.opType === "Mul")!;
        const output = mul.input.find((i) => i !== gather.output[0])!;
        const bns: BatchNormRef[] = [...index.ancestors(output, new Set([io.input]))]
          .filter((n) => n.opType === "BatchNormalization")
          .sort((a, b) => model.graph!.node.indexOf(a) - model.graph!.node.indexOf(b))
          .map((n) => ({ node: n.name, scale: n.input[1]!, bias: n.input[2]!, mean: n.input[3]!, var: n.input[4]! }));
        candidates.push({ name: `op${position}`, position, output, maskMul: mul.name, batchNorms: bns, indicator: bns[bns.length - 1] ?? null });
      }
      candidates.sort((a, b) => a.position - b.position);
      return { label: `layer${l}`, input: io.input, output: io.output, mask: { kind: "vector", input: mask }, candidates };
    }),
  };
}

export function loadTorchTiny(): { model: ModelProto; structure: SupernetStructure } {
  const model = readModel(TORCH_TINY);
  return { model, structure: structureByConvention(model, LAYERS, ["mask0", "mask1", "mask2"]) };
}
