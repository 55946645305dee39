/**
 * Issue 6 item 3: `bnnas train` killed with SIGKILL six times at seeded random points (at a
 * random time, mid-step, in the middle of a checkpoint write, between a finished checkpoint
 * temporary and its rename, in the middle of the output write, between the output and the
 * checkpoint's removal), resumed with --resume each time, must
 *   - never show a corrupt checkpoint or output at any observation point (a poller reads both
 *     every few ms while the children run, and again after every kill): the checkpoint is absent
 *     or a complete, decodable checkpoint whose step never goes back; the output is the user's
 *     previous file or the complete new one, byte for byte;
 *   - never accumulate temporary files (a killed writer's leftover is removed by the next one);
 *   - end with exactly the uninterrupted run's file: gamma, beta, running statistics, training record.
 *
 * Timer kills cannot hit a sub-millisecond checkpoint write reliably, so four kills are placed by
 * kill-inject.mjs (preloaded with node --import), which SIGKILLs the child at an exact fs call.
 *
 * Two runs go through it: BN-only training of a supernet, and full-weight training of a subnet
 * from scratch (--weights all --reinit, Nesterov, weight decay, augmentation), whose checkpoint
 * holds every weight and its momentum.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { readModel } from "../../src/model/model-io.js";
import { readFloats } from "../../src/onnx/tensor.js";
import { DataType } from "../../src/onnx/proto.js";
import { decodeCheckpoint, readCheckpoint } from "../../src/train/checkpoint.js";
import { Random } from "../../src/util/random.js";
import { SUBSET_DIR as SUBSET } from "../fixtures/paths.js";
import { runCli } from "../cli/run-cli.js";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/bnnas.js");
const INJECT = pathToFileURL(join(import.meta.dirname, "kill-inject.mjs")).href;
const TOTAL = 16;
const SEED = 20261123;

type Progress = { step: number };
const stepOf = (file: string) => readCheckpoint<Progress>(file)?.progress.step;

/**
 * One kill scenario: `prepare` writes the model to train into `dir` and returns its path; `extra`
 * are the training options beyond the common ones.
 */
function killScenario(title: string, prepare: (dir: string) => Promise<string>, extra: readonly string[]): void {
  const dir = mkdtempSync(join(tmpdir(), "bnnas-kill-"));
  let model = "";
  const ref = join(dir, "ref.onnx");
  const out = join(dir, "out.onnx");
  const ckFile = `${out}.ckpt`;
  let initialFiles: string[] = [];

  const trainArgs = (output: string) => [
    "train", model, "-o", output, "--data", SUBSET, "--batch", "16", "--threads", "2", "--steps", String(TOTAL),
    "--checkpoint-every", "1", "--seed", "7", "--lr-schedule", "cosine", "--quiet", ...extra,
  ];


  /** Reads the checkpoint, the output and the directory; records every violation it sees. */
  class Observer {
    readonly problems: string[] = [];
    observations = 0;
    private maxStep = -1;
    constructor(private readonly previous: Buffer, private readonly final: Buffer) {}

    observe(where: string): void {
      this.observations += 1;
      try {
        const step = stepOf(ckFile);
        if (step !== undefined) {
          if (!(step >= this.maxStep && step <= TOTAL)) this.problems.push(`${where}: checkpoint step ${step} after ${this.maxStep} (total ${TOTAL})`);
          this.maxStep = Math.max(this.maxStep, step);
        }
      } catch (e) {
        this.problems.push(`${where}: checkpoint unreadable: ${(e as Error).message}`);
      }
      let bytes: Buffer | undefined;
      try { bytes = readFileSync(out); } catch { /* absent: allowed */ }
      if (bytes === undefined) this.problems.push(`${where}: the user's previous output file disappeared`);
      else if (!bytes.equals(this.previous) && !bytes.equals(this.final)) this.problems.push(`${where}: output is neither the previous file nor the finished one (${bytes.length} bytes)`);
      const temps = readdirSync(dir).filter((n) => n.includes(".tmp-"));
      for (const kind of ["out.onnx.ckpt.tmp-", "out.onnx.tmp-"]) {
        const n = temps.filter((t) => t.startsWith(`.${kind}`)).length;
        if (n > 1) this.problems.push(`${where}: ${n} temporary files of ${kind.slice(0, -5)} (${temps.join(", ")})`);
      }
    }
  }

  interface ChildEnd { code: number | null; signal: NodeJS.Signals | null; stderr: string }

  /** Runs `bnnas train` in a child; `killWhen` may SIGKILL it; the observer polls meanwhile. */
  async function runChild(observer: Observer, label: string, opts: { resume: boolean; inject?: string; killWhen?: (elapsedMs: number) => boolean }): Promise<ChildEnd> {
    const child = spawn(process.execPath, [...(opts.inject ? ["--import", INJECT] : []), BIN, ...trainArgs(out), ...(opts.resume ? ["--resume"] : [])], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...(opts.inject ? { BNNAS_KILL_AT: opts.inject } : {}) },
    });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const ended = new Promise<ChildEnd>((res) => child.on("close", (code, signal) => res({ code, signal, stderr })));
    const t0 = performance.now();
    let done = false;
    void ended.then(() => (done = true));
    while (!done) {
      observer.observe(`${label} (running)`);
      if (opts.killWhen?.(performance.now() - t0)) {
        child.kill("SIGKILL");
        break;
      }
      await new Promise((r) => setTimeout(r, 8));
    }
    const end = await ended;
    observer.observe(`${label} (after exit)`);
    return end;
  }

  const floats = (file: string) => new Map(readModel(file).graph!.initializer.filter((t) => t.dataType === DataType.FLOAT).map((t) => [t.name, readFloats(t)]));
  const temps = (prefix: string) => readdirSync(dir).filter((n) => n.startsWith(`.${prefix}.tmp-`));

  beforeAll(async () => {
    expect(existsSync(join(ROOT, "dist/src/cli/index.js")), "run `npm run build` first (this test runs bin/bnnas.js, which needs dist/)").toBe(true);
    model = await prepare(dir);
    // The uninterrupted run, in-process (the same code as the children's, bit for bit).
    const trained = await runCli(trainArgs(ref));
    expect(trained.code, trained.err).toBe(0);
    initialFiles = readdirSync(dir);
  }, 60_000);

  describe(`bnnas train under SIGKILL: ${title}`, () => {
    it("never leaves a corrupt checkpoint or output, cleans its temporaries, and resumes to the identical result", async () => {
      const rng = new Random(SEED);
      // Every random choice of the schedule, drawn up front (so the schedule is one seeded plan).
      const plan = {
        timerAt: 300 + rng.uniform() * 1500,
        midStepAfter: 1 + rng.int(2),
        midStepExtra: rng.uniform() * 80,
        writeN: 1 + rng.int(3),
        renameN: 1 + rng.int(2),
      };
      // What the user had at the output path: must survive every kill until the run completes.
      copyFileSync(model, out);
      const previous = readFileSync(out);
      const final = readFileSync(ref);
      const observer = new Observer(previous, final);
      const log: string[] = [];

      type Kill = { name: string; run: (start: number, label: string, resume: boolean) => Promise<void> };
      const expectKilled = (end: ChildEnd, label: string) =>
        expect(end.signal, `${label} should have been killed; it exited with ${end.code}: ${end.stderr}`).toBe("SIGKILL");

      const early: Kill[] = [
        {
          name: "timer", // any moment: module loading, ORT session creation, a step, a write
          run: async (start, label, resume) => {
            // A random time over the child's start-up and first steps; capped at 4 new checkpoints so
            // the run cannot finish before the later kills on a fast machine.
            const at = plan.timerAt;
            let capped = false;
            const end = await runChild(observer, label, {
              resume,
              killWhen: (ms) => {
                let step = 0;
                try { step = stepOf(ckFile) ?? 0; } catch { /* the observer reports it */ }
                capped = ms < at && step >= start + 4;
                return ms >= at || capped;
              },
            });
            expectKilled(end, label);
            log.push(`${label}: SIGKILL ${capped ? "after 4 checkpoints (cap)" : `at ${at.toFixed(0)} ms`}, checkpoint then at step ${stepOf(ckFile) ?? 0}`);
          },
        },
        {
          name: "mid-step", // after k more checkpoints, plus a random fraction of a step
          run: async (start, label, resume) => {
            const k = plan.midStepAfter;
            const extra = plan.midStepExtra;
            let reachedAt: number | undefined;
            const end = await runChild(observer, label, {
              resume,
              killWhen: (ms) => {
                let step = 0;
                try { step = stepOf(ckFile) ?? 0; } catch { /* the observer reports it */ }
                if (reachedAt === undefined && step >= start + k) reachedAt = ms;
                return reachedAt !== undefined && ms >= reachedAt + extra;
              },
            });
            expectKilled(end, label);
            log.push(`${label}: SIGKILL ${extra.toFixed(0)} ms after checkpoint ${start + k}`);
          },
        },
        {
          name: "checkpoint write", // half of the n-th checkpoint written to its temporary file
          run: async (start, label, resume) => {
            const n = plan.writeN;
            expectKilled(await runChild(observer, label, { resume, inject: `ckpt:write:${n}` }), label);
            // The previous checkpoint is untouched; the torn temporary is beside it.
            expect(stepOf(ckFile) ?? 0, label).toBe(start + n - 1);
            expect(temps("out.onnx.ckpt"), label).toHaveLength(1);
            log.push(`${label}: SIGKILL halfway through writing checkpoint ${start + n}`);
          },
        },
        {
          name: "checkpoint rename", // the n-th checkpoint complete and fsynced, not yet renamed
          run: async (start, label, resume) => {
            const n = plan.renameN;
            expectKilled(await runChild(observer, label, { resume, inject: `ckpt:rename:${n}` }), label);
            expect(stepOf(ckFile) ?? 0, label).toBe(start + n - 1);
            const torn = temps("out.onnx.ckpt");
            expect(torn, label).toHaveLength(1);
            const tmp = torn[0];
            expect(decodeCheckpoint<Progress>(readFileSync(join(dir, tmp!)), tmp!).progress.step, label).toBe(start + n);
            log.push(`${label}: SIGKILL between writing checkpoint ${start + n} and renaming it`);
          },
        },
      ];
      // Seeded order of the four early kills (Fisher-Yates).
      for (let i = early.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [early[i], early[j]] = [early[j]!, early[i]!];
      }
      const late: Kill[] = [
        {
          name: "output write", // training done, the output model half written
          run: async (_start, label, resume) => {
            expectKilled(await runChild(observer, label, { resume, inject: "out:write:1" }), label);
            expect(readFileSync(out).equals(previous), `${label}: the previous output must survive`).toBe(true);
            expect(stepOf(ckFile), label).toBe(TOTAL);
            expect(temps("out.onnx"), label).toHaveLength(1);
            log.push(`${label}: SIGKILL halfway through writing the output`);
          },
        },
        {
          name: "checkpoint removal", // output complete, the finished run's checkpoint not yet deleted
          run: async (_start, label, resume) => {
            expectKilled(await runChild(observer, label, { resume, inject: "ckpt:unlink:1" }), label);
            expect(readFileSync(out).equals(final), label).toBe(true);
            expect(stepOf(ckFile), label).toBe(TOTAL);
            log.push(`${label}: SIGKILL after the output was written, before the checkpoint was removed`);
          },
        },
      ];

      let first = true;
      for (const [i, kill] of [...early, ...late].entries()) {
        const start = stepOf(ckFile) ?? 0;
        await kill.run(start, `kill ${i + 1} (${kill.name}, from step ${start})`, !first);
        first = false;
        expect(observer.problems, observer.problems.join("\n")).toEqual([]);
      }

      const end = await runChild(observer, "final resume", { resume: true });
      expect(end.code, end.stderr).toBe(0);
      expect(observer.problems, observer.problems.join("\n")).toEqual([]);
      expect(readdirSync(dir).sort()).toEqual([...initialFiles, "out.onnx"].sort()); // no checkpoint, no temporaries
      // The same file as the uninterrupted run, and, spelled out, the same trained tensors.
      const a = floats(ref);
      const b = floats(out);
      const trained = [...a.keys()].filter((k) => /\.bn\d*\.(scale|bias|mean|var)$/.test(k) || /stem.*(scale|bias|mean|var)/.test(k));
      expect(trained.length).toBeGreaterThan(20);
      const initial = floats(model);
      expect(trained.filter((k) => !Buffer.from(initial.get(k)!.buffer).equals(Buffer.from(a.get(k)!.buffer))).length, "training must have changed BatchNorm tensors").toBeGreaterThan(10);
      for (const name of a.keys()) expect(Buffer.from(b.get(name)!.buffer).equals(Buffer.from(a.get(name)!.buffer)), name).toBe(true);
      expect(readFileSync(out).equals(final)).toBe(true);
      expect(observer.observations).toBeGreaterThan(50);
      console.log(`[kill test] ${early.length + late.length} SIGKILLs, ${observer.observations} observations\n  ${log.join("\n  ")}`);
    }, 90_000);
  });
}

killScenario("BN-only training of a supernet", async (dir) => {
  const file = join(dir, "fm.onnx");
  const exported = await runCli(["export-supernet", "--space", "fmnist-small", "-o", file]);
  expect(exported.code, exported.err).toBe(0);
  return file;
}, ["--bn", "all", "--lr", "0.5"]);

killScenario("full-weight training of a subnet from scratch", async (dir) => {
  const supernet = join(dir, "fm.onnx");
  const file = join(dir, "sub.onnx");
  expect((await runCli(["export-supernet", "--space", "fmnist-small", "-o", supernet])).code).toBe(0);
  const extracted = await runCli(["extract-subnet", supernet, "--arch", "0,1,6,3,6,0", "-o", file]);
  expect(extracted.code, extracted.err).toBe(0);
  return file;
}, ["--weights", "all", "--reinit", "--lr", "0.1", "--nesterov", "--weight-decay", "5e-5", "--augment"]);
