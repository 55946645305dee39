/** `bnnas report FILE... -o report.html [--json]`: one self-contained HTML report of a NAS run (src/report/). */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { BnnasError } from "../errors.js";
import { writeReport } from "../report/report.js";

interface Options {
  output: string;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("report")
    .description("write one self-contained HTML report (curves, indicator heatmap, rank stability, Pareto, final model) from a run's files")
    .argument("<files...>", "the trained supernet, and any of: score-onnx --json or the demo's search.json, the subnet, bench truth JSONL, bench rank --json, eval --json, the demo's summary.json")
    .requiredOption("-o, --output <file>", "the HTML file to write")
    .option("--json", "print {output, bytes, sections, problems} on stdout")
    .option("--quiet", "no notes on stderr")
    .addHelpText(
      "after",
      `
Files are recognised by their content. Each file that cannot be used (unreadable, of an unknown
kind, or belonging to another supernet) is named with the reason; the report is still written
from the others and says what is missing, and the exit status is 1.`,
    )
    .action((files: string[], opts: Options) => {
      const result = writeReport({ files, output: opts.output });
      if (opts.json) io.stdout(`${JSON.stringify(result)}\n`);
      else io.stdout(`wrote ${result.output} (${(result.bytes / 1024).toFixed(0)} KB; sections: ${result.sections.filter((s) => s.shown).map((s) => s.id).join(", ") || "none"})\n`);
      if (!opts.quiet) for (const p of result.problems) io.stderr(`bnnas: ${p.level === "error" ? "warning" : "note"}: ${p.message}\n`);
      const unusable = result.problems.filter((p) => p.level === "error");
      if (unusable.length > 0) throw new BnnasError(`${result.output} was written without ${unusable.length} input(s) that could not be used: ${unusable.map((p) => p.file).join(", ")}`);
    });
}
