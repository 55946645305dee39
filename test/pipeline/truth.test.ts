import { describe, expect, it } from "vitest";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../cli/run-cli.js";
import { SUBSET_DIR } from "../fixtures/paths.js";
import { sampleArchs } from "../../src/pipeline/truth.js";
import { spaceStructure } from "../../src/supernet/export.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { archCost } from "../../src/structure/arch.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-truth-"));
// A tiny budget: the table's mechanics are under test here, not how well architectures learn.
const tiny = ["--epochs", "1", "--subset", "128", "--batch", "64", "--test-limit", "100", "--data", SUBSET_DIR, "--threads", "1", "--quiet"];
const lines = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));

describe("bnnas bench truth", () => {
  it("trains each (arch, seed) from scratch, appends one line each, and skips them when run again", async () => {
    const archs = join(dir, "archs.txt");
    writeFileSync(archs, "# two architectures\n0,1,6,3,6,0\n5,5,5,5,5,5\n");
    const out = join(dir, "truth.jsonl");
    const r = await runCli(["bench", "truth", "--archs", archs, "--seeds", "0,1", "-o", out, ...tiny, "--json"]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ output: out, written: 4, skipped: 0, runs: 4 });
    const table = lines(out);
    expect(table.map((l) => [l.arch.join(","), l.seed])).toEqual([["0,1,6,3,6,0", 0], ["0,1,6,3,6,0", 1], ["5,5,5,5,5,5", 0], ["5,5,5,5,5,5", 1]]);
    const structure = spaceStructure(builtinSpace("fmnist-small"));
    for (const l of table) {
      expect(l).toMatchObject(archCost(structure, l.arch));
      expect(l.epochs).toBe(1);
      expect(l.images).toBe(128);
      expect(l.acc).toBe(Math.round(l.acc * 100) / 100); // a count out of 100 test images
      expect(l.secs).toBeGreaterThan(0);
    }
    // Two seeds train from different inits: their losses differ.
    expect(table[0].final_loss).not.toBe(table[1].final_loss);
    const again = await runCli(["bench", "truth", "--archs", archs, "--seeds", "0,1", "-o", out, ...tiny, "--json"]);
    expect(JSON.parse(again.out)).toEqual({ output: out, written: 0, skipped: 4, runs: 4 });
    expect(lines(out)).toEqual(table);
  });

  it("drops a torn last line (a run killed while writing it) and redoes that run", async () => {
    const out = join(dir, "torn.jsonl");
    const first = await runCli(["bench", "truth", "--sample", "1", "--seed", "3", "-o", out, ...tiny, "--json"]);
    expect(first.code, first.err).toBe(0);
    const [line] = lines(out);
    appendFileSync(out, '{"arch":[1,2,3');
    const r = await runCli(["bench", "truth", "--sample", "2", "--seed", "3", "-o", out, ...tiny, "--json"]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ written: 1, skipped: 1 });
    const table = lines(out);
    expect(table).toHaveLength(2);
    expect(table[0]).toEqual(line);
  });

  it("samples distinct architectures, the same for the same seed, and refuses bad input", async () => {
    const structure = spaceStructure(builtinSpace("fmnist-small"));
    const a = sampleArchs(structure, 50, 1);
    expect(new Set(a.map((x) => x.join(","))).size).toBe(50);
    expect(sampleArchs(structure, 50, 1)).toEqual(a);
    expect(sampleArchs(structure, 50, 2)).not.toEqual(a);
    const both = await runCli(["bench", "truth", "--sample", "2", "--archs", "x", "-o", join(dir, "x.jsonl")]);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/give --archs FILE or --sample N/);
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, "not json\n");
    const r = await runCli(["bench", "truth", "--sample", "1", "-o", bad, ...tiny]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.jsonl: line 1 is not JSON/);
    expect(readFileSync(bad, "utf8")).toBe("not json\n");
  });
});
