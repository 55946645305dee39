/**
 * End to end through the real binary (`node bin/bnnas.js`, needs `npm run build`): a sample of
 * 21 broken mutants, three per command, must exit non-zero with exactly one `bnnas: error:` line
 * on stderr: no stack trace, no onnxruntime log lines, nothing written.
 */
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ALL_KINDS, caseAt } from "./mutations.js";
import { buildSeeds } from "./seeds.js";
import { COMMANDS, argvFor, materialize } from "./harness.js";

const BIN = join(import.meta.dirname, "../../bin/bnnas.js");
const root = mkdtempSync(join(tmpdir(), "bnnas-fuzz-bin-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("fuzz sample through bin/bnnas.js", () => {
  it("21 broken models: exit code != 0, one error line, no stack, no output", () => {
    const seeds = buildSeeds(root);
    const problems: string[] = [];
    let ran = 0;
    // Walk the case list with a stride that visits many kinds; keep only surely-broken mutants.
    for (let i = 7; ran < 21 && i < 5000; i += 37) {
      const { seed, mutant } = caseAt(i, seeds);
      if (!mutant || mutant.expect !== "invalid") continue;
      const command = COMMANDS[ran % COMMANDS.length]!;
      const dir = join(root, `case-${i}`);
      const model = materialize(dir, mutant);
      const r = spawnSync(process.execPath, [BIN, ...argvFor(command, seed, model, join(dir, "out", "o.onnx"))], { encoding: "utf8", timeout: 20_000 });
      ran++;
      const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
      const what = `case ${i} (${seed.name}, ${mutant.kind}: ${mutant.detail}) ${command}`;
      if (r.status === null) problems.push(`${what}: killed (${r.signal}), hang?`);
      else if (r.status === 0 || r.status === 70) problems.push(`${what}: exit ${r.status}: ${r.stderr}`);
      else if (lines.length !== 1 || !lines[0]!.startsWith("bnnas: error: ")) problems.push(`${what}: stderr ${JSON.stringify(r.stderr.slice(0, 300))}`);
      else if (readdirSync(join(dir, "out")).length) problems.push(`${what}: left ${readdirSync(join(dir, "out")).join(", ")}`);
    }
    expect(ran).toBe(21);
    expect(problems).toEqual([]);
    expect(new Set(ALL_KINDS).size).toBeGreaterThan(20);
  }, 300_000);
});
