import { describe, expect, it } from "vitest";
import { inferStructure } from "../../src/supernet/import.js";
import { buildSupernet } from "../../src/supernet/export.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { structureFromManifest } from "../../src/supernet/manifest.js";
import { countStructure } from "../../src/supernet/count.js";

// Counting from the graph (count.ts) against bnnas's own per-op counting (the manifest), two
// independent implementations; the PyTorch fixtures' counts are checked in import.test.ts.
describe("a bnnas export read as a foreign file", () => {
  it("inference and counting agree with the manifest (fmnist-small)", () => {
    const { model, manifest } = buildSupernet(builtinSpace("fmnist-small"), { seed: 3 });
    const truth = structureFromManifest(manifest);
    model.metadataProps = [];
    const inferred = inferStructure(model);
    countStructure(model, inferred);
    expect(inferred.input).toEqual(truth.input);
    expect(inferred.output).toBe(truth.output);
    expect(inferred.fixed).toEqual(truth.fixed);
    expect(inferred.layers.length).toBe(truth.layers.length);
    inferred.layers.forEach((layer, l) => {
      const t = truth.layers[l]!;
      expect([layer.input, layer.output, layer.mask]).toEqual([t.input, t.output, t.mask]);
      expect(layer.candidates.map(({ name: _n, ...c }) => c)).toEqual(t.candidates.map(({ name: _n, ...c }) => c));
    });
  });
});

describe("bnnas-mbv2 read as a foreign file", () => {
  it("inference and counting agree with A's manifest on the paper's space", () => {
    const { model, manifest } = buildSupernet(builtinSpace("bnnas-mbv2"), { weights: false });
    const truth = structureFromManifest(manifest);
    model.metadataProps = [];
    const inferred = inferStructure(model);
    countStructure(model, inferred);
    expect(inferred.fixed).toEqual(truth.fixed);
    inferred.layers.forEach((layer, l) => {
      const t = truth.layers[l]!;
      expect([layer.input, layer.output, layer.mask]).toEqual([t.input, t.output, t.mask]);
      expect(layer.candidates.map(({ name: _n, ...c }) => c)).toEqual(t.candidates.map(({ name: _n, ...c }) => c));
    });
  });
});
