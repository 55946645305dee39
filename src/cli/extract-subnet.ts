/** `bnnas extract-subnet SUPERNET --arch A -o SUBNET.onnx [--fold-bn] [--external-data]` */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { extractToFile } from "../pipeline/extract.js";
import { normalizationOptions, type NormalizationFlags } from "./normalization.js";
import { checkOutputIsNotInput } from "./options.js";

interface Options extends NormalizationFlags {
  arch: string;
  output: string;
  foldBn?: boolean;
  externalData?: boolean;
  pattern?: string;
  json?: boolean;
}

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("extract-subnet")
    .description("write the chosen architecture as a standalone ONNX model (no masks, dynamic batch, BatchNorm in inference mode)")
    .argument("<supernet>", "supernet ONNX file (bnnas export or PyTorch convention)")
    .requiredOption("--arch <A>", "mask position of the chosen candidate per layer, e.g. 3,1,6,3,6,0")
    .requiredOption("-o, --output <file>", "subnet ONNX file to write")
    .option("--fold-bn", "fold each BatchNormalization into the Conv before it (adds a Conv bias)")
    .option("--external-data", "store weights in <output>.data beside the model")
    .option("--pattern <regex>", "for foreign supernets: name layer and candidate from initializer names (see score-onnx)")
    .option("--mean <m,...>", "input normalisation mean per channel, for foreign supernets without a manifest")
    .option("--std <s,...>", "input normalisation std per channel, for foreign supernets without a manifest")
    .option("--json", "print the subnet manifest and statistics as JSON")
    .action((file: string, opts: Options) => {
      checkOutputIsNotInput(file, opts.output);
      const r = extractToFile(file, { arch: opts.arch, output: opts.output, foldBn: opts.foldBn, externalData: opts.externalData, normalize: normalizationOptions(opts), pattern: opts.pattern });
      const m = r.manifest;
      const stats = {
        output: r.output,
        ...(r.externalDataFile ? { external_data: r.externalDataFile } : {}),
        bytes: r.bytes,
        nodes: r.nodes,
        initializers: r.initializers,
        removed_nodes: r.removedNodes,
        folded_batchnorms: r.fold?.folded ?? 0,
      };
      if (opts.json) {
        io.stdout(`${JSON.stringify({ ...stats, manifest: m })}\n`);
        return;
      }
      const cost = `${m.macs !== undefined ? `${m.macs.toLocaleString("en-US")} MACs, ` : ""}${m.params.toLocaleString("en-US")} params`;
      io.stdout(`wrote ${opts.output} (${(r.bytes / 1024).toFixed(1)} KiB${r.externalDataFile ? `, weights in ${r.externalDataFile}` : ""})\n`);
      io.stdout(`  arch ${m.arch.join(",")}: ${m.candidates.join(", ")}\n`);
      io.stdout(`  ${cost}; ${stats.nodes} nodes (${stats.removed_nodes} removed)${opts.foldBn ? `, ${stats.folded_batchnorms} BatchNorms folded` : ""}\n`);
      if (opts.foldBn && r.fold && r.fold.kept.length) {
        io.stderr(`note: ${r.fold.kept.length} BatchNorm(s) not folded: ${r.fold.kept.map((k) => `${k.node} (${k.reason})`).join("; ")}\n`);
      }
    });
}
