/** `bnnas export-supernet --space NAME|FILE [--seed N] [--unbiased] [--external-data] -o supernet.onnx` */
import type { Command } from "commander";
import { statSync } from "node:fs";
import type { ConsoleIO } from "../util/io.js";
import { intOption } from "./options.js";
import { Progress } from "../util/progress.js";
import { loadSpace, BUILTIN_SPACES } from "../space/builtins.js";
import { exportSupernet, supernetParams } from "../supernet/export.js";
import { resolveSpace } from "../space/resolve.js";

interface Options {
  space: string;
  seed: number;
  unbiased?: boolean;
  externalData?: boolean;
  output: string;
  json?: boolean;
}

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("export-supernet")
    .description("write a search space as an ONNX supernet holding every candidate op (selected by mask inputs)")
    .requiredOption("--space <name|file>", `built-in space (${BUILTIN_SPACES.join(", ")}) or a space JSON file`)
    .option("--seed <n>", "seed of the weight initialisation", intOption("--seed", 0, 0xffffffff), 0)
    .option("--unbiased", "BNNAS++: put a BatchNorm after every candidate op without one (skip, pooling)")
    .option("--external-data", "store initializers in <output>.data beside the model (automatic past 2 GB)")
    .requiredOption("-o, --output <file>", "the supernet file to write")
    .option("--json", "print a JSON summary on stdout")
    .action((opts: Options) => {
      const spec = loadSpace(opts.space);
      const started = Date.now();
      if (!opts.json) io.stderr(`exporting space '${spec.name}' (${supernetParams(resolveSpace(spec, Boolean(opts.unbiased))).toLocaleString("en-US")} parameters)...\n`);
      const progress = new Progress(io, { label: "export layers", total: spec.layers.length, quiet: opts.json });
      const res = exportSupernet(spec, opts.output, {
        seed: opts.seed,
        unbiased: Boolean(opts.unbiased),
        externalData: opts.externalData ? true : "auto",
        onLayer: (done) => progress.update(done),
      });
      progress.finish();
      const bytes = statSync(opts.output).size + (res.externalDataFile ? statSync(res.externalDataFile).size : 0);
      const m = res.manifest;
      const summary = {
        file: opts.output,
        externalDataFile: res.externalDataFile ?? null,
        space: spec.name,
        seed: m.seed,
        unbiased: m.unbiased,
        layers: m.layers.length,
        candidates: m.layers.reduce((n, l) => n + l.candidates.length, 0),
        parameters: supernetParams(resolveSpace(spec, m.unbiased)),
        bytes,
        seconds: (Date.now() - started) / 1000,
      };
      if (opts.json) io.stdout(JSON.stringify(summary) + "\n");
      else {
        io.stdout(
          `wrote ${opts.output}${res.externalDataFile ? ` (+ ${res.externalDataFile})` : ""}: space '${spec.name}', ${summary.layers} choice layers, ` +
            `${summary.candidates} candidate ops, ${summary.parameters.toLocaleString("en-US")} parameters, ${(bytes / 1e6).toFixed(1)} MB, seed ${m.seed}${m.unbiased ? ", unbiased" : ""}\n`,
        );
      }
    });
}
