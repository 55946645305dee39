import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { loadSupernet } from "../../src/supernet/load.js";
import { inferStructure } from "../../src/supernet/import.js";
import { encodeModel } from "../../src/model/model-io.js";
import { GraphBuilder, attr } from "../../src/onnx/builder.js";
import { ModelFormatError, NotASupernetError } from "../../src/errors.js";
import { exportSupernet } from "../../src/supernet/export.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { TORCH_TINY_DIR } from "../fixtures/paths.js";

const TINY_DIR = TORCH_TINY_DIR;

describe("bad files", () => {
  const dir = mkdtempSync(join(tmpdir(), "bnnas-import-"));

  it("not ONNX, truncated, empty: one-line ModelFormatError", () => {
    const junk = join(dir, "junk.onnx");
    writeFileSync(junk, "hello, this is not a model");
    expect(() => loadSupernet(junk)).toThrow(ModelFormatError);
    const bytes = readFileSync(join(TINY_DIR, "supernet.preserve.onnx"));
    const cut = join(dir, "cut.onnx");
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(() => loadSupernet(cut)).toThrow(ModelFormatError);
    try { loadSupernet(cut); } catch (e) { expect((e as Error).message).not.toContain("\n"); }
  });

  it("a model without mask inputs: NotASupernetError", () => {
    const g = new GraphBuilder();
    const x = g.input("x", ["batch", 3, 4, 4]);
    const w = g.floatInit("w", [2, 3, 1, 1], new Float32Array(6).fill(0.5));
    const y = g.op("Conv", [x, w], {});
    const bn = g.op("BatchNormalization", [y, g.floatInit("s", [2], [1, 1]), g.floatInit("b", [2], [0, 0]), g.floatInit("m", [2], [0, 0]), g.floatInit("v", [2], [1, 1])]);
    g.output(bn);
    const f = join(dir, "plain.onnx");
    writeFileSync(f, encodeModel(g.build({ name: "plain" })));
    expect(() => loadSupernet(f)).toThrow(NotASupernetError);
    expect(() => loadSupernet(f)).toThrow(/no mask inputs/);
  });

  it("a graph with a Sum node and Unsqueezed mask entries is read too", () => {
    const g = new GraphBuilder();
    const x = g.input("data", ["batch", 2, 4, 4]);
    const m = g.input("sel", [3]);
    const outs: string[] = [];
    for (let k = 0; k < 3; k++) {
      const idx = g.int64Init(`i${k}`, [], [k]);
      const e = g.op("Gather", [m, idx], { axis: attr.int(0) });
      const e4 = g.op("Unsqueeze", [e, g.int64Init(`ax${k}`, [1], [0])]);
      let c = x;
      if (k < 2) {
        const w = g.floatInit(`w${k}`, [2, 2, 1, 1], new Float32Array(4).fill(0.1 * (k + 1)));
        c = g.op("Conv", [x, w], {});
        c = g.op("BatchNormalization", [c, g.floatInit(`s${k}`, [2], [k + 1, -(k + 1)]), g.floatInit(`b${k}`, [2], [0, 0]), g.floatInit(`m${k}`, [2], [0, 0]), g.floatInit(`v${k}`, [2], [1, 1])], {}, `bn${k}`);
      }
      outs.push(g.op("Mul", [e4, c], {}, `mul${k}`));
    }
    const sum = g.op("Sum", outs);
    g.output(g.op("ReduceMean", [sum], { keepdims: attr.int(0), axes: attr.ints([1, 2, 3]) }));
    const s = inferStructure(g.build({ name: "sum" }));
    expect(s.layers.length).toBe(1);
    expect(s.layers[0]!.output).toBe(sum);
    expect(s.layers[0]!.input).toBe("data");
    expect(s.layers[0]!.candidates.map((c) => [c.position, c.indicator?.node ?? null])).toEqual([[0, "bn0"], [1, "bn1"], [2, null]]);
  });
});

describe("loadSupernet on a bnnas file", () => {
  it("uses the manifest", () => {
    const f = join(mkdtempSync(join(tmpdir(), "bnnas-load-")), "fm.onnx");
    const { manifest } = exportSupernet(builtinSpace("fmnist-small"), f, { seed: 1 });
    const loaded = loadSupernet(f);
    expect(loaded.structure.source).toBe("bnnas");
    expect(loaded.manifest).toEqual(manifest);
    expect(loaded.structure.layers.map((l) => l.candidates.map((c) => c.name))[2]).toEqual(["mb_k3_e3", "mb_k3_e6", "mb_k5_e3", "mb_k5_e6", "mb_k7_e3", "mb_k7_e6", "skip"]);
  });
});
