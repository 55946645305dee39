/**
 * `bnnas demo`: the whole BN-NAS pipeline on a built-in space, with the data shipped in the repo:
 * export -> BN-only supernet training -> score and search (exact and evolution) -> BN-only retraining
 * of the chosen path -> extract -> eval.
 *
 * Each stage runs the real command in-process with --json, exactly as a user would type it, so the
 * demo exercises (and documents, through the printed command lines) the same code paths. The files
 * stay in the output directory; a summary (chosen arch, score, MACs, accuracy, time per stage) is
 * printed and written to summary.json.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { BnnasError, OutputError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import { SHIPPED_SUBSET } from "../data/dataset.js";
import type { ConsoleIO } from "../util/io.js";
import { choiceOption, countOption, floatOption, intOption } from "./options.js";
import { formatDemoSummary, type ArchResult, type DemoSummary, type StageRecord } from "./demo-summary.js";

interface Options {
  out: string;
  space: string;
  data?: string;
  epochs: number;
  steps?: number;
  batch: number;
  lr: number;
  bn: "last" | "all";
  labelSmoothing: number;
  maxMacs: number;
  retrainSteps: number;
  retrainLr: number;
  seed: number;
  threads?: number;
  force?: boolean;
  quiet?: boolean;
  json?: boolean;
}

/** Files the demo writes; with --force these (and only these) are replaced. */
const FILES = {
  supernet: "supernet.onnx",
  trained: "supernet.trained.onnx",
  search: "search.json",
  retrained: "supernet.retrained.onnx",
  subnet: "subnet.onnx",
  summary: "summary.json",
} as const;

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("demo")
    .description("run the whole pipeline (export, BN-only training, exact + evolution search, extract, eval) on a built-in space and the shipped data")
    .option("--out <dir>", "output directory for the supernet, trained supernet, subnet and summary", "bnnas-demo")
    .option("--space <name|file>", "search space", "fmnist-small")
    .option("--data <dir>", "folder with IDX files (default: the Fashion-MNIST subset shipped with bnnas)")
    .option("--epochs <n>", "supernet training epochs", intOption("--epochs", 1), 5)
    .option("--steps <n>", "cap on training steps (quick trials)", intOption("--steps", 1))
    .option("--batch <n>", "training batch size", intOption("--batch", 1), 128)
    .option("--lr <x>", "learning rate (linear decay)", floatOption("--lr", 0), 1)
    .option("--bn <mode>", "whose gamma/beta train: all (learns faster at small budgets) or last (the BN-NAS code)", choiceOption("--bn", ["last", "all"] as const), "all")
    .option("--label-smoothing <x>", "label smoothing", floatOption("--label-smoothing", 0, 1), 0.1)
    .option("--max-macs <n>", "MACs budget of the search (e.g. 4M)", countOption("--max-macs"), 4_000_000)
    .option("--retrain-steps <n>", "BN-only retraining steps of the chosen path, classifier included (0 = skip)", intOption("--retrain-steps", 0), 150)
    .option("--retrain-lr <x>", "learning rate of the retraining", floatOption("--retrain-lr", 0), 0.1)
    .option("--seed <n>", "seed of weights, data order, sampling and evolution", intOption("--seed", 0), 0)
    .option("--threads <n>", "onnxruntime intra-op threads (default: all cores)", intOption("--threads", 1))
    .option("--force", "replace the demo's files in an existing output directory")
    .option("--quiet", "no progress output")
    .option("--json", "print the summary as JSON on stdout")
    .action(async (opts: Options) => {
      const summary = await runDemo(opts, io);
      io.stdout(opts.json ? `${JSON.stringify(summary)}\n` : formatDemoSummary(summary));
    });
}

async function runDemo(opts: Options, io: ConsoleIO): Promise<DemoSummary> {
  const out = resolve(opts.out);
  prepareOutputDir(out, opts.force === true);
  const path = (name: keyof typeof FILES) => join(out, FILES[name]);
  const data = opts.data ?? SHIPPED_SUBSET;
  const threads = opts.threads === undefined ? [] : ["--threads", String(opts.threads)];
  const quiet = opts.quiet ? ["--quiet"] : [];
  const stages: StageRecord[] = [];
  const stage = async (name: string, argv: string[]) => {
    const record = await runStage(name, argv, io, opts.quiet === true);
    stages.push(record);
    return record.result;
  };

  const exported = await stage("export", ["export-supernet", "--space", opts.space, "--seed", String(opts.seed), "-o", path("supernet")]);
  const trained = await stage("train", [
    "train", path("supernet"), "-o", path("trained"), "--data", data,
    "--epochs", String(opts.epochs), ...(opts.steps ? ["--steps", String(opts.steps)] : []),
    "--batch", String(opts.batch), "--lr", String(opts.lr), "--bn", opts.bn,
    "--label-smoothing", String(opts.labelSmoothing), "--sampler", "uniform", "--seed", String(opts.seed), ...threads, ...quiet,
  ]);
  const limit = ["--max-macs", String(opts.maxMacs)];
  const exact = await stage("search exact", ["score-onnx", path("trained"), "--search", "exact", "--top", "5", ...limit]);
  const evolution = await stage("search evolution", ["score-onnx", path("trained"), "--search", "evolution", "--top", "5", "--seed", String(opts.seed), ...limit]);
  const best = bestOf(exact, "exact");
  const evoBest = bestOf(evolution, "evolution");
  writeFileAtomic(path("search"), `${JSON.stringify({ exact, evolution }, null, 2)}\n`);
  const archText = best.arch.join(",");
  // The supernet's path as it is after supernet training: the baseline the retraining improves on.
  const before = await stage("eval chosen path", ["eval", path("trained"), "--arch", archText, "--data", data, ...threads, ...quiet]);
  let source = path("trained");
  let retrained: Json | undefined;
  if (opts.retrainSteps > 0) {
    // BN-NAS keeps the convolutions at their random init; retraining the chosen path's BatchNorms
    // and classifier (a fixed path learns quickly, unlike uniform sampling) gives a usable subnet.
    retrained = await stage("retrain chosen path", [
      "train", path("trained"), "-o", path("retrained"), "--arch", archText, "--data", data,
      "--steps", String(opts.retrainSteps), "--epochs", "1000", "--batch", String(opts.batch), "--lr", String(opts.retrainLr),
      "--bn", "all", "--train-head", "--seed", String(opts.seed), ...threads, ...quiet,
    ]);
    source = path("retrained");
  }
  await stage("extract", ["extract-subnet", source, "--arch", archText, "-o", path("subnet")]);
  const evaluated = await stage("eval", ["eval", path("subnet"), "--data", data, ...threads, ...quiet]);

  const summary: DemoSummary = {
    out,
    space: opts.space,
    data,
    files: Object.fromEntries(Object.keys(FILES).filter((k) => k !== "retrained" || retrained).map((k) => [k, path(k as keyof typeof FILES)])),
    supernet: { parameters: num(exported, "parameters"), candidates: num(exported, "candidates") },
    training: { steps: num(trained, "steps"), ms_per_step: num(trained, "ms_per_step"), final_loss: num(trained, "final_loss"), final_accuracy: num(trained, "final_accuracy"), bn: opts.bn, lr: opts.lr },
    retraining: retrained ? { steps: num(retrained, "steps"), ms_per_step: num(retrained, "ms_per_step"), final_loss: num(retrained, "final_loss"), final_accuracy: num(retrained, "final_accuracy"), lr: opts.retrainLr } : null,
    max_macs: opts.maxMacs,
    chosen: best,
    evolution_best: evoBest,
    evolution_matches_exact: evoBest.score <= best.score + 1e-6 * Math.max(1, Math.abs(best.score)) && evoBest.score >= best.score - 1e-6 * Math.max(1, Math.abs(best.score)),
    accuracy_before_retraining: num(before, "accuracy"),
    accuracy: num(evaluated, "accuracy"),
    images_per_s: num(evaluated, "images_per_s"),
    stages: stages.map(({ name, seconds, command }) => ({ name, seconds, command })),
    total_seconds: stages.reduce((s, r) => s + r.seconds, 0),
  };
  writeFileAtomic(path("summary"), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/** Refuses to mix the demo's files into a directory that already has them, unless --force. */
function prepareOutputDir(out: string, force: boolean): void {
  if (existsSync(out)) {
    let present: string[];
    try {
      present = readdirSync(out).filter((f) => (Object.values(FILES) as string[]).includes(f));
    } catch {
      throw new OutputError(out, "exists and is not a directory; pass --out with a new directory");
    }
    if (present.length > 0 && !force) {
      throw new OutputError(out, `already holds demo files (${present.join(", ")}); pass --force to replace them or --out with a new directory`);
    }
    return;
  }
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new OutputError(out, `cannot create the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

type Json = Record<string, unknown>;

/**
 * Runs one bnnas command in-process with --json: its JSON goes into the record, its progress is
 * passed through to our stderr, and its error (if any) ends the demo with the stage named.
 */
async function runStage(name: string, argv: string[], io: ConsoleIO, quiet: boolean): Promise<StageRecord & { result: Json }> {
  const { main } = await import("./index.js"); // dynamic: index.ts registers this command
  const stdout: string[] = [];
  const errors: string[] = [];
  if (!quiet) io.stderr(`[demo] ${name}: bnnas ${argv.map(quoteArg).join(" ")}\n`);
  const started = performance.now();
  const code = await main([...argv, "--json"], {
    isTTY: io.isTTY,
    stdout: (t) => void stdout.push(t),
    stderr: (t) => {
      if (t.startsWith("bnnas: ")) errors.push(t.trim());
      else if (!quiet) io.stderr(t);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) {
    const detail = errors.map((e) => e.replace(/^bnnas: (internal )?error: /, "")).join("; ") || `exit code ${code}`;
    throw new BnnasError(`demo stopped at stage '${name}': ${detail}`, code);
  }
  const text = stdout.join("").trim();
  let result: Json;
  try {
    result = JSON.parse(text.split("\n").pop() ?? "") as Json;
  } catch {
    throw new BnnasError(`demo stage '${name}' printed no JSON summary (bnnas ${argv.join(" ")} --json)`, 70);
  }
  return { name, seconds, command: `bnnas ${argv.map(quoteArg).join(" ")}`, result };
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

function num(obj: Json, key: string): number {
  const v = obj[key];
  if (typeof v !== "number") throw new BnnasError(`demo: expected a number '${key}' in a stage's JSON, got ${JSON.stringify(v)}`, 70);
  return v;
}

function bestOf(result: Json, how: string): ArchResult {
  const best = (result.best as ArchResult[] | undefined)?.[0];
  if (!best) throw new BnnasError(`demo: the ${how} search found no architecture under the limits; raise --max-macs`, 1);
  return best;
}
