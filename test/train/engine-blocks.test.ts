import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSupernet } from "../../src/supernet/load.js";
import { partitionSupernet } from "../../src/train/engine/partition.js";
import { buildBlock, buildHead } from "../../src/train/engine/blocks.js";
import { encodeModel } from "../../src/model/model-io.js";
import type { ModelProto } from "../../src/onnx/proto.js";
import { TORCH_TINY_DIR } from "../fixtures/paths.js";

describe("engine block models", () => {
  it("partition torch-tiny into stem, candidates (skip = identity) and head, and every block model passes the ONNX checker (standard opset-17 ops only)", () => {
    const { model, structure } = loadSupernet(join(TORCH_TINY_DIR, "supernet.preserve.onnx"));
    const p = partitionSupernet(model, structure);
    expect(p.stem.batchNorms.map((b) => b.scale)).toEqual(["stem.1.weight"]);
    expect(p.candidates.map((m) => [...m.values()].map((s) => (s ? s.batchNorms.length : 0)))).toEqual([[1, 1, 2, 0], [1, 1, 2], [1, 1, 2, 0]]);
    expect(p.head.nodes.map((n) => n.opType)).toEqual(["ReduceMean", "Gemm"]);
    // no segment runs a mask multiplication
    for (const seg of [p.stem, p.head, ...p.candidates.flatMap((m) => [...m.values()])]) if (seg) expect(seg.nodes.some((n) => n.input.some((i) => i.startsWith("mask")))).toBe(false);

    const models: ModelProto[] = [];
    for (const seg of [p.stem, ...p.candidates.flatMap((m) => [...m.values()])]) {
      if (!seg) continue;
      const params = seg.batchNorms.flatMap((b) => [b.scale, b.bias]);
      for (const policy of ["save", "recompute"] as const) {
        const b = buildBlock({ seg, shapes: p.shapes, index: p.index, params, trainable: params, inputGrad: seg !== p.stem, policy });
        models.push(b.forward, b.backward!);
      }
    }
    models.push(buildHead({ seg: p.head, shapes: p.shapes, index: p.index, params: ["head.weight", "head.bias"], trainable: ["head.weight", "head.bias"], inputGrad: true }, 5, 0.1).model);
    const dir = mkdtempSync(join(tmpdir(), "bnnas-blocks-"));
    const files = models.map((m, i) => {
      const f = join(dir, `block${i}.onnx`);
      writeFileSync(f, encodeModel(m));
      return f;
    });
    const script = "import sys, onnx\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint(len(sys.argv) - 1)";
    const out = execFileSync("/usr/bin/python3", ["-c", script, ...files], { encoding: "utf8" });
    expect(Number(out.trim())).toBe(files.length);
  });
});
