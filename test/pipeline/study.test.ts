import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { studyVerdict } from "../../src/pipeline/study.js";

const rows = readFileSync("bench/fmnist-small/results.jsonl", "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { row: string; report: { n: number; kendall_tau: { value: number; ci95: [number, number] }; seed_tau: { value: number } } });
const row = (name: string) => rows.find((r) => r.row === name)!;
const demo = { space: "fmnist-small", indicator: "bn", bn: "all", lr: 1, labelSmoothing: 0.1, epochs: 5 } as const;

describe("studyVerdict (the committed recipe study the demo quotes)", () => {
  it("quotes the row of the same BN recipe with the nearest epoch count, and says where it differs", () => {
    const v = studyVerdict(demo)!;
    expect(v).toEqual({
      row: "all-lr1-3ep", note: "the study trained 3 epochs, not 5", tau: row("all-lr1-3ep").report.kendall_tau.value, ci95: row("all-lr1-3ep").report.kendall_tau.ci95,
      n: row("all-lr1-3ep").report.n, seed_tau: row("all-lr1-3ep").report.seed_tau.value, file: "bench/fmnist-small/results.jsonl",
    });
    expect(studyVerdict({ ...demo, epochs: 9 })!.row).toBe("all-lr1-10ep");
    expect(studyVerdict({ ...demo, bn: "last", lr: 0.1, labelSmoothing: 0, epochs: 3 })).toMatchObject({ row: "paper-last-lr0.1-3ep", note: "" });
  });
  it("quotes a proxy's own row, and nothing for a recipe or space the study did not measure", () => {
    expect(studyVerdict({ ...demo, indicator: "naswot" })).toMatchObject({ row: "naswot", tau: row("naswot").report.kendall_tau.value });
    expect(studyVerdict({ ...demo, lr: 0.5 })).toBeNull();
    expect(studyVerdict({ ...demo, space: "bnnas-mbv2" })).toBeNull();
  });
});
