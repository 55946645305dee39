/**
 * Runs one fuzz case: writes the mutant (and its extra files) into a fresh case directory, runs a
 * command on it in-process with a timeout, and judges the outcome:
 *  - failure: non-zero exit (not 70, the internal-error code), exactly one stderr line starting
 *    with `bnnas: error:`, no stack frame, and nothing left in the output directory;
 *  - success: only for mutants that may be harmless; stderr holds no error, the -o output (if
 *    any) reads back as a valid graph, and the mutant is queued for the ONNX checker.
 */
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../src/cli/index.js";
import { memoryIO } from "../../src/util/io.js";
import { readModel } from "../../src/model/model-io.js";
import { graphProblem } from "../../src/onnx/graph.js";
import type { Mutant } from "./mutations.js";
import type { Seed } from "./seeds.js";
import { SUBSET_DIR } from "../fixtures/paths.js";

export const SUBSET = SUBSET_DIR;
export const COMMANDS = ["info", "flops", "score-onnx", "extract-subnet", "eval", "train", "serve"] as const;
export type CommandName = (typeof COMMANDS)[number];

/** The argv that feeds `model` to `command` (`out` is the -o path where there is one). */
export function argvFor(command: CommandName, seed: Seed, model: string, out: string): string[] {
  const arch = ["--arch", seed.arch];
  switch (command) {
    case "info": return ["info", model];
    case "flops": return ["flops", model, ...arch];
    case "score-onnx": return ["score-onnx", model, ...arch];
    case "extract-subnet": return ["extract-subnet", model, ...arch, "-o", out];
    case "eval": return ["eval", model, ...(seed.kind === "supernet" ? arch : []), ...seed.norm, "--data", SUBSET, "--limit", "8", "--batch", "8", "--threads", "1", "--quiet"];
    case "train": return ["train", model, "-o", out, "--steps", "1", "--batch", "4", "--data", SUBSET, "--threads", "1", "--quiet", ...seed.norm];
    case "serve": return ["serve", model, "--port", "0", "--threads", "1", "--quiet", ...seed.norm];
  }
}

export interface RunResult {
  code: number;
  out: string;
  err: string;
  ms: number;
  timedOut: boolean;
}

export async function runInProcess(argv: string[], timeoutMs: number): Promise<RunResult> {
  const io = memoryIO();
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    const r = await Promise.race([main(argv, io), timeout]);
    return { code: r === "timeout" ? -1 : r, out: io.out.join(""), err: io.err.join(""), ms: performance.now() - t0, timedOut: r === "timeout" };
  } catch (e) {
    // main() must never reject; report it as a failure of the case.
    return { code: -2, out: io.out.join(""), err: `main() threw: ${(e as Error).stack}`, ms: performance.now() - t0, timedOut: false };
  } finally {
    clearTimeout(timer);
  }
}

/** Writes the mutant as `<dir>/model.onnx` plus its extra files; returns the model path. */
export function materialize(dir: string, m: Mutant): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "out"), { recursive: true });
  const file = join(dir, "model.onnx");
  writeFileSync(file, m.bytes);
  for (const f of m.files ?? []) {
    const p = join(dir, f.name);
    if ("data" in f) writeFileSync(p, f.data);
    else if ("symlinkTo" in f) symlinkSync(f.symlinkTo, p);
    else mkdirSync(p, { recursive: true });
  }
  return file;
}

const STACK_FRAME = /^\s+at\s|\.ts:\d+|\.js:\d+:\d+/m;

/**
 * What is wrong with a run, or undefined when it is acceptable. `baseline` is the exit code of the
 * same command on the unmutated seed (for "valid" controls).
 */
export function judge(m: Mutant, r: RunResult, outDir: string, outFile: string, baseline: number): string | undefined {
  if (r.timedOut) return `hung (> ${Math.round(r.ms)} ms)`;
  if (r.code === -2) return r.err;
  if (STACK_FRAME.test(r.err)) return `stack trace on stderr: ${r.err.slice(0, 300)}`;
  const left = readdirSync(outDir);
  if (r.code !== 0) {
    const lines = r.err.split("\n").filter((l) => l.trim() !== "");
    if (r.code === 70 || lines.some((l) => l.startsWith("bnnas: internal error"))) return `internal error: ${r.err.trim()}`;
    if (lines.length !== 1) return `expected one stderr line, got ${lines.length}: ${JSON.stringify(r.err.slice(0, 400))}`;
    if (!lines[0]!.startsWith("bnnas: error: ")) return `stderr is not a bnnas error: ${lines[0]}`;
    if (left.length) return `failed but left files in the output dir: ${left.join(", ")}`;
    if (m.expect === "valid" && baseline === 0) return `a valid control failed: ${lines[0]}`;
    return undefined;
  }
  if (m.expect === "invalid") return `accepted an invalid file (exit 0): ${r.out.slice(0, 200)}`;
  if (m.expect === "valid" && baseline !== 0) return `a control succeeded where the seed fails (exit ${baseline})`;
  if (/error/i.test(r.err)) return `exit 0 but stderr says: ${r.err.slice(0, 200)}`;
  const extra = left.filter((f) => join(outDir, f) !== outFile);
  if (extra.length) return `left extra files in the output dir: ${extra.join(", ")}`;
  if (left.length) {
    try {
      const problem = graphProblem(readModel(outFile).graph!);
      if (problem) return `wrote an invalid output: ${problem}`;
    } catch (e) {
      return `wrote an unreadable output: ${(e as Error).message}`;
    }
  }
  return undefined;
}
