import { describe, expect, it } from "vitest";
import { buildSupernet } from "../../src/supernet/export.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { structureFromManifest } from "../../src/supernet/manifest.js";
import { getIndicator } from "../../src/score/registry.js";
import { ArchScorer } from "../../src/score/arch-scorer.js";
import { archCost } from "../../src/structure/arch.js";
import { sampleArchs } from "../../src/pipeline/truth.js";

describe("baseline indicators macs and params", () => {
  it("score an architecture by its MACs / params beyond the fixed part, so they rank as cost does", () => {
    const { model, manifest } = buildSupernet(builtinSpace("fmnist-small"), { weights: false });
    const structure = structureFromManifest(manifest);
    for (const name of ["macs", "params"] as const) {
      const scorer = new ArchScorer(structure, getIndicator(name).score({ model, structure, file: "s.onnx" }));
      for (const arch of sampleArchs(structure, 20, 2)) expect(scorer.score(arch)).toBe(archCost(structure, arch)[name] - structure.fixed![name]);
    }
  });
  it("a candidate without a count cannot be scored, and says so", () => {
    const { model, manifest } = buildSupernet(builtinSpace("fmnist-small"), { weights: false });
    const structure = structureFromManifest(manifest);
    delete structure.layers[2]!.candidates[1]!.macs;
    expect(() => getIndicator("macs").score({ model, structure, file: "s.onnx" })).toThrow(/s\.onnx: layer 'layer2' candidate 'mb_k3_e6' has no macs count/);
  });
});
