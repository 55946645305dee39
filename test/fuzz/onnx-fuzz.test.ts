/**
 * The ONNX fuzz suite: CASES mutated, truncated or garbage models (see mutations.ts), each fed to
 * every command that reads ONNX (info, flops, score-onnx, extract-subnet, eval, train, serve),
 * in-process. Every run must end in a one-line error and a non-zero exit, or (for mutants that may
 * be harmless) in a correct result on a file the ONNX checker accepts. Deterministic: the mutants
 * come from a seeded PRNG, so a failure names a case that can be replayed by its index.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setStopSignal } from "../../src/cli/serve.js";
import { caseAt } from "./mutations.js";
import { buildSeeds, type Seed } from "./seeds.js";
import { COMMANDS, argvFor, judge, materialize, runInProcess, type CommandName } from "./harness.js";

/** Number of mutant files; each goes to all seven commands. */
const CASES = 532;
const TIMEOUT_MS = 10_000;

const root = mkdtempSync(join(tmpdir(), "bnnas-fuzz-"));
let seeds: Seed[];
const baseline = new Map<string, number>();

beforeAll(async () => {
  // serve stops as soon as it is listening: the fuzz is about loading the model.
  setStopSignal(async () => "fuzz");
  seeds = buildSeeds(root);
  for (const seed of seeds) {
    const dir = join(root, `baseline-${seed.name}`);
    const file = materialize(dir, { kind: "seed", detail: "", expect: "valid", bytes: seed.bytes });
    for (const c of COMMANDS) {
      const r = await runInProcess(argvFor(c, seed, file, join(dir, "out", `${c}.onnx`)), 30_000);
      baseline.set(`${seed.name}/${c}`, r.code);
    }
  }
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("ONNX fuzz", () => {
  it("the seeds work where they should (so mutants exercise the real paths)", () => {
    const ok = (s: string, c: CommandName) => baseline.get(`${s}/${c}`) === 0;
    for (const c of COMMANDS) expect(ok("bnnas", c) || c === "serve", `bnnas/${c}`).toBe(true);
    for (const c of ["info", "flops", "score-onnx", "extract-subnet"] as const) expect(ok("torch-tiny", c), `torch-tiny/${c}`).toBe(true);
    for (const c of ["eval", "serve"] as const) expect(ok("subnet", c), `subnet/${c}`).toBe(true);
  });

  it(`${CASES} mutants x ${COMMANDS.length} commands: a one-line error or a genuinely valid result`, async () => {
    const failures: string[] = [];
    const stats = new Map<string, { runs: number; failed: number; passed: number }>();
    const passedMaybe: string[] = [];
    const checkerDir = join(root, "passed");
    mkdirSync(checkerDir);
    let files = 0;
    const t0 = performance.now();
    for (let i = 0; i < CASES; i++) {
      const { seed, mutant } = caseAt(i, seeds);
      if (!mutant) continue;
      files++;
      const dir = join(root, "case");
      const model = materialize(dir, mutant);
      let anyPass = false;
      for (const c of COMMANDS) {
        const out = join(dir, "out", "result.onnx");
        const r = await runInProcess(argvFor(c, seed, model, out), TIMEOUT_MS);
        const problem = judge(mutant, r, join(dir, "out"), out, baseline.get(`${seed.name}/${c}`)!);
        const key = `${c} ${mutant.kind}`;
        const s = stats.get(key) ?? { runs: 0, failed: 0, passed: 0 };
        s.runs++;
        if (r.code === 0) s.passed++;
        else s.failed++;
        stats.set(key, s);
        if (problem) failures.push(`case ${i} (${seed.name}, ${mutant.kind}: ${mutant.detail}) ${c}: ${problem}`);
        if (r.code === 0 && mutant.expect === "maybe") anyPass = true;
        rmSync(join(dir, "out"), { recursive: true, force: true });
        mkdirSync(join(dir, "out"));
      }
      if (anyPass) {
        const keep = join(checkerDir, `case-${i}.onnx`);
        copyFileSync(model, keep);
        passedMaybe.push(keep);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const byKind = new Map<string, number>();
    for (const [k, s] of stats) byKind.set(k.split(" ")[1]!, (byKind.get(k.split(" ")[1]!) ?? 0) + s.runs);
    const passes = [...stats].filter(([, s]) => s.passed).map(([k, s]) => `${k}: ${s.passed}/${s.runs}`);
    console.log(`fuzz: ${files} mutant files, ${[...stats.values()].reduce((a, s) => a + s.runs, 0)} runs in ${seconds.toFixed(1)} s; exit-0 runs: ${passes.join("; ") || "none"}`);
    expect(files).toBeGreaterThanOrEqual(500);
    if (failures.length) {
      // The full list goes to a file; the assertion shows one example per (kind, command, problem).
      writeFileSync(join(tmpdir(), "bnnas-fuzz-failures.txt"), failures.join("\n"));
      const groups = new Map<string, string>();
      for (const f of failures) {
        const m = /^case \d+ \([^,]+, ([^:]+):.*\) (\S+): (.{0,60})/.exec(f);
        const key = m ? `${m[1]} ${m[2]} ${m[3]}` : f;
        if (!groups.has(key)) groups.set(key, f.slice(0, 500));
      }
      expect([...groups.values()].slice(0, 40), `${failures.length} failures, all in ${join(tmpdir(), "bnnas-fuzz-failures.txt")}`).toEqual([]);
    }

    // Every mutant some command accepted must be a valid model for the ONNX checker itself.
    if (passedMaybe.length) {
      const list = join(root, "passed.txt");
      writeFileSync(list, passedMaybe.join("\n"));
      const script = "import onnx,sys\nbad=[]\nfor f in open(sys.argv[1]).read().split('\\n'):\n  try: onnx.checker.check_model(onnx.load(f), full_check=True)\n  except Exception as e: bad.append(f+': '+str(e).split('\\n')[0][:200])\nprint('\\n'.join(bad))";
      const bad = execFileSync("/usr/bin/python3", ["-c", script, list], { encoding: "utf8" }).trim();
      expect(bad === "" ? [] : bad.split("\n")).toEqual([]);
    }
  }, 600_000);
});
