import { describe, expect, it } from "vitest";
import { builtinSpace } from "../../src/space/builtins.js";
import { buildSupernet } from "../../src/supernet/export.js";
import { structureFromManifest } from "../../src/supernet/manifest.js";
import { costsKnown, disallowed, evaluate, fixedDepthChoices, problemFromStructure, TopK } from "../../src/search/problem.js";
import { exactTopK } from "../../src/search/exact.js";

describe("the bnnas-mbv2 search problem", () => {
  const { manifest } = buildSupernet(builtinSpace("bnnas-mbv2"), { weights: false });
  const structure = structureFromManifest(manifest);
  const fixedDepth = manifest.space.fixedDepth!;

  it("fixed depth: layers 1, 5, 6, 9 are identity, no other layer is", () => {
    expect(fixedDepth).toEqual([1, 5, 6, 9]);
    const allowed = fixedDepthChoices(structure, fixedDepth);
    allowed.forEach((choices, l) => {
      if (fixedDepth.includes(l)) expect(choices).toEqual([6]);
      else expect(choices).toEqual([0, 1, 2, 3, 4, 5]);
    });
  });

  it("the paper's example architecture costs what the manifest says; the exact search respects 475M MACs", () => {
    const scores = structure.layers.map((l) => l.candidates.map((c) => (c.indicator ? c.position / 10 + 0.5 : null)));
    const p = problemFromStructure(structure, scores, { allowed: fixedDepthChoices(structure, fixedDepth) });
    expect(costsKnown(p)).toBe(true);
    const paper = [3, 6, 0, 4, 0, 6, 6, 0, 4, 6, 4, 4, 1, 4, 2, 0, 0, 4, 0, 2, 2];
    expect(disallowed(p, paper)).toBeUndefined();
    expect(disallowed(p, [...paper.slice(0, 20), 6])).toMatch(/layer20: 6 is not allowed here/);
    const e = evaluate(p, paper);
    expect(e.macs).toBe(manifest.fixed.macs + paper.reduce((s, pos, l) => s + manifest.layers[l]!.candidates.find((c) => c.position === pos)!.macs, 0));
    const best = exactTopK(p, { maxMacs: 475e6 }, 3);
    expect(best.length).toBe(3);
    for (const b of best) {
      expect(b.macs).toBeLessThanOrEqual(475e6);
      expect(disallowed(p, b.arch)).toBeUndefined();
    }
  });
});

describe("TopK", () => {
  it("keeps the best k by score, then fewer MACs, then the smaller arch", () => {
    const t = new TopK(3);
    const e = (arch: number[], score: number, macs: number) => ({ arch, score, macs, params: 0 });
    t.offer(e([1], 1, 10));
    t.offer(e([2], 2, 10));
    t.offer(e([3], 2, 5));
    t.offer(e([0], 2, 5));
    t.offer(e([4], 0.5, 1));
    expect(t.items.map((x) => x.arch[0])).toEqual([0, 3, 2]);
    expect(t.threshold()).toBe(2);
  });
});
