import { describe, expect, it } from "vitest";
import { loadSpace } from "../../src/space/builtins.js";
import { spaceStructure } from "../../src/supernet/export.js";
import { sampleArchs } from "../../src/pipeline/truth.js";
import { layerEffects } from "../../src/score/layer-effects.js";

const structure = spaceStructure(loadSpace("fmnist-small"));
const archs = sampleArchs(structure, 300, 3);
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

describe("layerEffects", () => {
  it("finds a layer where the indicator prefers what the truth ranks last, with the effects' sizes", () => {
    // Truth: a smaller mask position in layer 0 is better; indicator: a larger one, plus layer 3 agreeing.
    const truth = archs.map((a) => 0.85 - 0.002 * a[0]! + 0.001 * a[3]!);
    const predicted = archs.map((a) => a[0]! + a[3]!);
    const effects = layerEffects(structure, archs, truth, predicted);
    expect(effects.map((e) => e.layer)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const e of effects) expect(e.candidates.reduce((s, c) => s + c.n, 0)).toBe(300);
    expect(effects[0]!.tau).toBeCloseTo(-1, 12);
    expect(effects[3]!.tau).toBeCloseTo(1, 12);
    // Marginal means by hand for one candidate.
    const rows = archs.flatMap((a, i) => (a[0] === 0 ? [i] : []));
    const c0 = effects[0]!.candidates.find((c) => c.position === 0)!;
    expect(c0.name).toBe("mb_k3_e3");
    expect(c0.n).toBe(rows.length);
    expect(c0.truth).toBeCloseTo(mean(rows.map((i) => truth[i]!)) - mean(truth), 12);
    expect(c0.indicator).toBeCloseTo(mean(rows.map((i) => predicted[i]!)) - mean(predicted), 12);
    const sd = Math.sqrt(truth.reduce((s, v) => s + (v - mean(truth)) ** 2, 0) / 299);
    expect(c0.truth_se).toBeCloseTo(sd / Math.sqrt(rows.length), 12);
    // skip exists only where the space allows it
    expect(effects[0]!.candidates.some((c) => c.name === "skip")).toBe(false);
    expect(effects[2]!.candidates.some((c) => c.name === "skip")).toBe(true);
  });

  it("leaves out candidates no architecture uses and gives no standard error for a single one", () => {
    const few = [[0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]];
    const effects = layerEffects(structure, few, [0.8, 0.81, 0.82], [1, 2, 3]);
    expect(effects[0]!.candidates.map((c) => [c.position, c.n, c.truth_se === null])).toEqual([[0, 1, true], [1, 2, false]]);
    expect(Number.isNaN(effects[2]!.tau)).toBe(true); // one candidate: both lists constant
  });
});
