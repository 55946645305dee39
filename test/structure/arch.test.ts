import { describe, expect, test } from "vitest";
import { builtinSpace } from "../../src/space/builtins.js";
import { buildSupernet } from "../../src/supernet/export.js";
import { structureFromManifest } from "../../src/supernet/manifest.js";
import { archCost, archCostByLayer, checkArch, formatArch, identityCandidate, parseArch } from "../../src/structure/arch.js";
import { ArchError } from "../../src/errors.js";

const fm = structureFromManifest(buildSupernet(builtinSpace("fmnist-small"), { weights: false }).manifest);
const mbv2 = structureFromManifest(buildSupernet(builtinSpace("bnnas-mbv2"), { weights: false }).manifest);
const fmUnbiased = structureFromManifest(buildSupernet(builtinSpace("fmnist-small"), { weights: false, unbiased: true }).manifest);

describe("parseArch", () => {
  test("mask positions, with spaces", () => {
    expect(parseArch("3,1,6,3,6,0", fm)).toEqual([3, 1, 6, 3, 6, 0]);
    expect(parseArch(" 3, 1,6 ,3,6,0 ", fm)).toEqual([3, 1, 6, 3, 6, 0]);
    expect(formatArch([3, 1, 6])).toBe("3,1,6");
  });

  test("the paper's form: -1 is the identity (also when identity carries a BN in an unbiased supernet)", () => {
    const paper = "3,-1,0,4,0,-1,-1,0,4,-1,4,4,1,4,2,0,0,4,0,2,2";
    const arch = parseArch(paper, mbv2);
    expect(arch).toEqual([3, 6, 0, 4, 0, 6, 6, 0, 4, 6, 4, 4, 1, 4, 2, 0, 0, 4, 0, 2, 2]);
    expect(parseArch(arch.join(","), mbv2)).toEqual(arch);
    expect(parseArch("0,0,-1,0,-1,-1", fm)).toEqual([0, 0, 6, 0, 6, 6]);
    expect(parseArch("0,0,-1,0,-1,-1", fmUnbiased)).toEqual([0, 0, 6, 0, 6, 6]);
    expect(identityCandidate(fmUnbiased.layers[2]!)!.name).toBe("skip");
    expect(checkArch([0, 0, 6, 0, 6, 6], fm)).toEqual([0, 0, 6, 0, 6, 6]);
  });

  test.each([
    ["1,2,3", /architecture '1,2,3' has 3 values, but the supernet has 6 layers/],
    ["", /has 0 values, but the supernet has 6 layers/],
    ["0,0,0,0,0,0,0", /has 7 values/],
    ["0,x,0,0,0,0", /layer 1: 'x' is not a whole number; allowed: 0=mb_k3_e3, 1=mb_k3_e6, 2=mb_k5_e3, 3=mb_k5_e6, 4=mb_k7_e3, 5=mb_k7_e6$/],
    ["0,1.5,0,0,0,0", /layer 1: '1.5' is not a whole number/],
    ["0,0,9,0,0,0", /layer 2: 9 is not a candidate of this layer; allowed: 0=mb_k3_e3, .*, 6=skip \(or -1\)$/],
    ["6,0,0,0,0,0", /layer 0: 6 is not a candidate of this layer; allowed: 0=mb_k3_e3, 1=mb_k3_e6, 2=mb_k5_e3, 3=mb_k5_e6, 4=mb_k7_e3, 5=mb_k7_e6$/],
    ["0,-1,0,0,0,0", /layer 1: -1 \(identity\) is not allowed in this layer; allowed: 0=mb_k3_e3/],
    ["0,0,-2,0,0,0", /layer 2: -2 is not a candidate/],
  ])("%s is refused naming the layer and the allowed values", (text, expected) => {
    expect(() => parseArch(text, fm)).toThrow(ArchError);
    expect(() => parseArch(text, fm)).toThrow(expected);
  });
});

describe("archCost", () => {
  test("sums the fixed part and the chosen candidates; per-layer breakdown adds up", () => {
    const arch = parseArch("1,4,2,5,3,2", fm);
    const cost = archCost(fm, arch);
    const layers = archCostByLayer(fm, arch);
    expect(layers.map((l) => l.candidate)).toEqual(["mb_k3_e6", "mb_k7_e3", "mb_k5_e3", "mb_k7_e6", "mb_k5_e6", "mb_k5_e3"]);
    expect(cost.macs).toBe(fm.fixed!.macs + layers.reduce((a, l) => a + l.macs, 0));
    expect(cost.params).toBe(fm.fixed!.params + layers.reduce((a, l) => a + l.params, 0));
    // unbiased: skip gains BN gamma+beta (2 x 32 and 2 x 64 x 2).
    expect(archCost(fmUnbiased, [5, 5, 6, 5, 6, 6]).params - archCost(fm, [5, 5, 6, 5, 6, 6]).params).toBe(64 + 128 + 128);
    expect(() => archCost(fm, [0, 0, 0])).toThrow(ArchError);
  });
});
