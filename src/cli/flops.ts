/**
 * `bnnas flops (FILE | --space NAME|FILE) --arch A [--unbiased] [--latency-table T] [--json]`: MACs
 * and params of one architecture, and its predicted latency when a table is given.
 */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { UsageError } from "../errors.js";
import { loadSpace } from "../space/builtins.js";
import { spaceStructure } from "../supernet/export.js";
import { loadSupernet } from "../supernet/load.js";
import { archCost, archCostByLayer, formatArch, parseArch } from "../structure/arch.js";
import type { SupernetStructure } from "../structure/structure.js";
import { checkTable, predictLatency, readLatencyTable } from "../latency/table.js";

interface Options {
  space?: string;
  arch: string;
  unbiased?: boolean;
  latencyTable?: string;
  force?: boolean;
  json?: boolean;
}

const millions = (n: number) => `${(n / 1e6).toFixed(2)}M`;

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("flops")
    .description("count the MACs (Conv and Linear multiply-accumulates) and parameters of an architecture")
    .argument("[file]", "a supernet ONNX file (bnnas or PyTorch convention)")
    .option("--space <name|file>", "a built-in space or space JSON file, instead of a supernet file")
    .option("--unbiased", "with --space: count the BNNAS++ supernet (a BatchNorm after skip and pooling)")
    .requiredOption("--arch <a>", "one candidate per layer, e.g. 3,1,6,3,6,0 (-1 = identity)")
    .option("--latency-table <file>", "also the predicted latency (ms) from a table of bnnas latency for this supernet or space")
    .option("--force", "use a latency table measured for another supernet")
    .option("--json", "print JSON on stdout")
    .action((file: string | undefined, opts: Options) => {
      if ((file === undefined) === (opts.space === undefined)) throw new UsageError("give either a supernet FILE or --space NAME|FILE (one of them)");
      if (opts.unbiased && file !== undefined) throw new UsageError("--unbiased only applies with --space (a file already is biased or unbiased)");
      let structure: SupernetStructure;
      let source: string;
      if (file !== undefined) {
        const loaded = loadSupernet(file);
        if (loaded.countProblem) throw new UsageError(`${file}: cannot count MACs/params: ${loaded.countProblem}`);
        structure = loaded.structure;
        source = file;
      } else {
        const spec = loadSpace(opts.space!);
        structure = spaceStructure(spec, { unbiased: Boolean(opts.unbiased) });
        source = spec.name;
      }
      const arch = parseArch(opts.arch, structure);
      const cost = archCost(structure, arch);
      let latency: number | undefined;
      if (opts.latencyTable !== undefined) {
        const table = readLatencyTable(opts.latencyTable);
        checkTable(table, opts.latencyTable, { structure, file: source }, opts.force);
        latency = predictLatency(table, structure, arch, opts.latencyTable);
      }
      if (opts.json) {
        io.stdout(JSON.stringify({ macs: cost.macs, params: cost.params, ...(latency !== undefined ? { latency } : {}), arch, source, fixed: structure.fixed ?? null, layers: archCostByLayer(structure, arch) }) + "\n");
      } else {
        const ms = latency !== undefined ? `, predicted latency ${latency.toFixed(4)} ms` : "";
        io.stdout(`${source} arch ${formatArch(arch)}: ${cost.macs.toLocaleString("en-US")} MACs (${millions(cost.macs)}), ${cost.params.toLocaleString("en-US")} params (${millions(cost.params)})${ms}\n`);
      }
    });
}
