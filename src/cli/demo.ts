/**
 * `bnnas demo`: the whole BN-NAS pipeline on a built-in space with the data shipped in the repo
 * (src/pipeline/demo.ts runs it; this file maps flags to its options and prints the summary).
 */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { addDataOptions, choiceOption, countOption, floatOption, intOption, type DataFlags } from "./options.js";
import { formatDemoSummary } from "./demo-summary.js";
import { DEMO_RECIPE, runDemo, type DemoOptions } from "../pipeline/demo.js";

interface Options extends DemoOptions, DataFlags {
  quiet?: boolean;
  json?: boolean;
}

export function register(program: Command, io: ConsoleIO): void {
  addDataOptions(program
    .command("demo")
    .description("run the whole pipeline (export, BN-only training, exact + evolution search, extract, eval) on a built-in space and the shipped data"), "the data", "the Fashion-MNIST subset shipped with bnnas")
    .option("--out <dir>", "output directory for the supernet, trained supernet, subnet and summary", "bnnas-demo")
    .option("--space <name|file>", "search space", "fmnist-small")
    .option("--epochs <n>", "supernet training epochs", intOption("--epochs", 1), DEMO_RECIPE.epochs)
    .option("--steps <n>", "cap on training steps (quick trials)", intOption("--steps", 1))
    .option("--batch <n>", "training batch size", intOption("--batch", 1), DEMO_RECIPE.batch)
    .option("--lr <x>", "learning rate (linear decay)", floatOption("--lr", 0), DEMO_RECIPE.lr)
    .option("--bn <mode>", "whose gamma/beta train: all (learns faster at small budgets) or last (the BN-NAS code)", choiceOption("--bn", ["last", "all"] as const), DEMO_RECIPE.bn)
    .option("--label-smoothing <x>", "label smoothing", floatOption("--label-smoothing", 0, 1), DEMO_RECIPE.labelSmoothing)
    .option("--max-macs <n>", "MACs budget of the search (e.g. 4M)", countOption("--max-macs"), DEMO_RECIPE.maxMacs)
    .option("--max-latency <ms>", "predicted-latency budget (ms) of the exact search; measures a latency table of the supernet on this machine first (batch 1)", floatOption("--max-latency", 0))
    .option("--retrain-epochs <n>", "epochs of the final training of the chosen architecture from scratch, every weight (0 = skip: subnet.onnx keeps the supernet's random convolutions)", intOption("--retrain-epochs", 0), 15)
    .option("--retrain-steps <n>", "cap on the final training's steps (quick trials)", intOption("--retrain-steps", 1))
    .option("--retrain-lr <x>", "learning rate of the final training (cosine, Nesterov)", floatOption("--retrain-lr", 0), 0.1)
    .option("--seed <n>", "seed of weights, data order, sampling and evolution", intOption("--seed", 0), 0)
    .option("--threads <n>", "onnxruntime intra-op threads (default: all cores)", intOption("--threads", 1))
    .option("--force", "replace the demo's files in an existing output directory")
    .option("--quiet", "no progress output")
    .option("--json", "print the summary as JSON on stdout")
    .action(async (opts: Options) => {
      const { quiet, json, dataFormat, cacheDir, strict, ...options } = opts;
      const summary = await runDemo({ ...options, dataOptions: { format: dataFormat, cacheDir, strict } }, { io, quiet });
      io.stdout(json ? `${JSON.stringify(summary)}\n` : formatDemoSummary(summary));
      if (!json) io.stdout(`report: ${summary.files.report} (open it in a browser)\n`);
    });
}
