/**
 * `bnnas extract-subnet SUPERNET --arch A -o SUBNET.onnx [--fold-bn] [--opset N]
 *  [--quantize int8 [--calibrate N]] [--external-data]`; given a subnet (a trained model) instead
 * of a supernet, the same flags fold, convert or quantize it.
 */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { DEFAULT_CALIBRATION_IMAGES, extractQuantizedToFile, extractToFile, QUANTIZE_TYPES, type ExtractOutcome } from "../pipeline/extract.js";
import { MAX_OPSET, MIN_OPSET } from "../extract/opset-convert.js";
import { normalizationOptions, type NormalizationFlags } from "./normalization.js";
import { checkOutputIsNotInput, choiceOption, intOption, threadsOption } from "./options.js";
import { LazyProgress } from "../util/progress.js";
import type { ActivationType } from "../extract/quantize.js";
import { UsageError } from "../errors.js";

interface Options extends NormalizationFlags {
  arch?: string;
  output: string;
  foldBn?: boolean;
  opset?: number;
  quantize?: string;
  calibrate?: number;
  activations?: ActivationType;
  data?: string;
  seed: number;
  threads?: number;
  externalData?: boolean;
  pattern?: string;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("extract-subnet")
    .description("write the chosen architecture as a standalone ONNX model (no masks, dynamic batch, BatchNorm in inference mode), optionally folded, at an older opset, or int8")
    .argument("<model>", "supernet ONNX file (bnnas export or PyTorch convention), or a subnet (e.g. a trained one) to fold, convert or quantize")
    .option("--arch <A>", "mask position of the chosen candidate per layer, e.g. 3,1,6,3,6,0 (required for a supernet)")
    .requiredOption("-o, --output <file>", "subnet ONNX file to write")
    .option("--fold-bn", "fold each BatchNormalization into the Conv before it (adds a Conv bias)")
    // Range-checked in the pipeline, so the library and the CLI say the same thing.
    .option("--opset <N>", `write the subnet at ONNX opset N (${MIN_OPSET}..${MAX_OPSET}; default: the supernet's, 17 for bnnas files)`, intOption("--opset"))
    .option("--quantize <type>", `static quantization in the QDQ format (${QUANTIZE_TYPES.join(", ")}): per-channel weights, per-tensor calibrated activations; folds BatchNorms`)
    .option("--calibrate <N>", `training images to calibrate activation ranges on (default ${DEFAULT_CALIBRATION_IMAGES})`, intOption("--calibrate"))
    .option("--activations <type>", "quantized activation type", choiceOption("--activations", ["uint8", "int8"] as const))
    .option("--data <dir>", "with --quantize: folder with IDX files to calibrate on (default: system Fashion-MNIST, else the shipped subset)")
    .option("--seed <S>", "with --quantize: which training images calibrate", intOption("--seed", 0, 0xffffffff), 0)
    .addOption(threadsOption("--threads <N>"))
    .option("--external-data", "store weights in <output>.data beside the model")
    .option("--pattern <regex>", "for foreign supernets: name layer and candidate from initializer names (see score-onnx)")
    .option("--mean <m,...>", "input normalisation mean per channel, for foreign supernets without a manifest")
    .option("--std <s,...>", "input normalisation std per channel, for foreign supernets without a manifest")
    .option("--json", "print the subnet manifest and statistics as JSON")
    .option("--quiet", "no progress output")
    .action(async (file: string, opts: Options) => {
      checkOutputIsNotInput(file, opts.output);
      const common = { arch: opts.arch, output: opts.output, foldBn: opts.foldBn, opset: opts.opset, externalData: opts.externalData, normalize: normalizationOptions(opts), pattern: opts.pattern };
      const calibrating = new LazyProgress(io, "calibrate", opts.quiet);
      const quantizeOnly = (["calibrate", "activations", "data"] as const).find((k) => opts[k] !== undefined);
      if (opts.quantize === undefined && quantizeOnly) throw new UsageError(`--${quantizeOnly} only applies with --quantize`);
      const r: ExtractOutcome = opts.quantize === undefined
        ? extractToFile(file, common)
        : await extractQuantizedToFile(file, {
          ...common, quantize: opts.quantize, calibrate: opts.calibrate, activations: opts.activations, data: opts.data, seed: opts.seed, threads: opts.threads,
          onCalibrate: (done, total) => calibrating.update(done, total),
        });
      calibrating.finish();
      const m = r.manifest;
      const q = r.quantization;
      const stats = {
        output: r.output,
        ...(r.externalDataFile ? { external_data: r.externalDataFile } : {}),
        bytes: r.bytes,
        nodes: r.nodes,
        initializers: r.initializers,
        removed_nodes: r.removedNodes,
        folded_batchnorms: r.fold?.folded ?? 0,
        opset: r.opset.to,
        ...(r.opset.from !== r.opset.to ? { opset_from: r.opset.from, opset_rewritten_nodes: r.opset.rewritten } : {}),
        ...(q ? { quantization: { ...q.record, quantized_activations: q.activations, quantized_weights: q.weights, quantized_biases: q.biases } } : {}),
      };
      if (opts.json) {
        io.stdout(`${JSON.stringify({ ...stats, manifest: m ?? null })}\n`);
        return;
      }
      const cost = m ? `${m.macs !== undefined ? `${m.macs.toLocaleString("en-US")} MACs, ` : ""}${m.params.toLocaleString("en-US")} params; ` : "";
      io.stdout(`wrote ${opts.output} (${(r.bytes / 1024).toFixed(1)} KiB${r.externalDataFile ? `, weights in ${r.externalDataFile}` : ""})\n`);
      if (m) io.stdout(`  arch ${m.arch.join(",")}: ${m.candidates.join(", ")}\n`);
      io.stdout(`  ${cost}${stats.nodes} nodes (${stats.removed_nodes} removed)${r.fold ? `, ${stats.folded_batchnorms} BatchNorms folded` : ""}\n`);
      io.stdout(`  opset ${r.opset.to}${r.opset.from !== r.opset.to ? ` (from ${r.opset.from}; ${r.opset.rewritten} nodes rewritten)` : ""}\n`);
      if (q) io.stdout(`  int8 QDQ: ${q.weights} weights per channel, ${q.biases} biases int32, ${q.activations} activations ${q.activationType} per tensor, calibrated on ${q.record.calibration.images} images of ${q.record.calibration.data}\n`);
      if (r.fold && r.fold.kept.length) {
        io.stderr(`note: ${r.fold.kept.length} BatchNorm(s) not folded: ${r.fold.kept.map((k) => `${k.node} (${k.reason})`).join("; ")}\n`);
      }
    });
}
