/** The library entry (src/index.ts): a space declared in TypeScript goes through the whole API. */
import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as bnnas from "../src/index.js";
import { Session } from "../src/runtime/ort.js";

describe("library entry", () => {
  it("defines a space in TypeScript, exports, loads, scores, searches and extracts it", async () => {
    const { defineSpace, ops, candidate, fixed, layer } = bnnas;
    const space = defineSpace({
      name: "lib-tiny",
      input: { shape: [3, 16, 16], normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } },
      classes: 4,
      stem: [fixed(ops.conv(3), 8, 1)],
      candidates: [candidate("c3", ops.conv(3)), candidate("mb", ops.mbconv(3, 3)), candidate("dw", ops.dwsep(5)), candidate("skip", ops.skip())],
      layers: [layer(8, 16, 2, ["c3", "mb", "dw"]), layer(16, 16, 1), layer(16, 16, 1)],
      head: {},
    });
    const file = join(mkdtempSync(join(tmpdir(), "bnnas-lib-")), "tiny.onnx");
    bnnas.exportSupernet(space, file, { seed: 3 });
    const loaded = bnnas.loadSupernet(file);
    expect(loaded.structure.layers).toHaveLength(3);
    const scores = bnnas.getIndicator("bn").score({ model: loaded.model, structure: loaded.structure, file });
    const problem = bnnas.problemFromStructure(loaded.structure, scores);
    const [best] = bnnas.exactTopK(problem, {}, 1);
    expect(best!.arch).toHaveLength(3);
    // A fresh export has every gamma at 1: every BN candidate scores 1, skip scores 0 (null).
    expect(best!.score).toBeCloseTo(3, 5);
    const sub = bnnas.extractSubnet(loaded.model, loaded.structure, best!.arch, { file });
    const session = await Session.create(sub.model, { threads: 1 });
    const out = await session.run({ [session.inputNames[0]!]: { dims: [2, 3, 16, 16], data: new Float32Array(2 * 3 * 16 * 16).fill(0.1) } });
    expect(out[session.outputNames[0]!]!.dims).toEqual([2, 4]);
    await session.release();
    expect(() => bnnas.parseArch("0,9,0", loaded.structure)).toThrow(bnnas.ArchError);
  });
});
