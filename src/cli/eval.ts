/**
 * `bnnas eval MODEL [--data DIR] [--arch A] [--recalibrate-bn N] ...`: top-1 accuracy and
 * throughput of a subnet, or of one path of a supernet (SPOS-style evaluation: only that path is
 * run, optionally with its BatchNorm statistics recomputed from N training batches).
 */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { intOption, deviceOption, threadsOption } from "./options.js";
import { normalizationOptions, type NormalizationFlags } from "./normalization.js";
import { BnnasError, InputFileError, ModelFormatError, UsageError } from "../errors.js";
import { readModel } from "../model/model-io.js";
import type { ModelProto } from "../onnx/proto.js";
import { parseArch } from "../structure/arch.js";
import { loadDataset } from "../data/dataset.js";
import { openSupernet, type OpenedSupernet } from "../extract/from-file.js";
import { modelKind } from "../supernet/model-kind.js";
import { extractSubnet } from "../extract/subnet.js";
import type { Normalization } from "../structure/normalization.js";
import { readSubnetManifest } from "../supernet/subnet-manifest.js";
import { evaluate, recalibrateBatchNorm } from "../runtime/eval.js";
import { Progress } from "../util/progress.js";
import type { Device } from "../runtime/ort.js";

interface Options extends NormalizationFlags {
  data?: string;
  arch?: string;
  recalibrateBn?: number;
  recalibrateBatch: number;
  batch: number;
  limit?: number;
  device: Device;
  threads?: number;
  seed: number;
  pattern?: string;
  json?: boolean;
  quiet?: boolean;
}

export const RECALIBRATION_RULE = "cumulative average over the batches (torch BatchNorm momentum=None after reset_running_stats), unbiased variance";

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("eval")
    .description("top-1 accuracy and throughput of a subnet, or of one supernet path (--arch)")
    .argument("<model>", "subnet ONNX file, or a supernet with --arch")
    .option("--data <dir>", "folder with IDX files (default: system Fashion-MNIST, else the shipped subset); the test split is evaluated")
    .option("--arch <A>", "for a supernet: the path to evaluate (mask position per layer)")
    .option("--recalibrate-bn <N>", "recompute BatchNorm statistics from N training batches first (SPOS)", intOption("--recalibrate-bn", 1))
    .option("--recalibrate-batch <B>", "images per recalibration batch", intOption("--recalibrate-batch", 2, 65536), 128)
    .option("--batch <B>", "images per run", intOption("--batch", 1, 65536), 256)
    .option("--limit <N>", "evaluate only the first N test images", intOption("--limit", 1))
    .addOption(deviceOption())
    .addOption(threadsOption("--threads <N>"))
    .option("--seed <S>", "which training images recalibration uses", intOption("--seed", 0, 0xffffffff), 0)
    .option("--pattern <regex>", "for foreign supernets: name layer and candidate from initializer names")
    .option("--mean <m,...>", "input normalisation mean (for models without a bnnas manifest)")
    .option("--std <s,...>", "input normalisation std (for models without a bnnas manifest)")
    .option("--json", "print the result as JSON on stdout")
    .option("--quiet", "no progress output")
    .action(async (file: string, opts: Options) => {
      const flags = normalizationOptions(opts);
      // The file is read (and decoded) once: with --arch as a supernet, without it as a subnet;
      // only when that guess is wrong is it read again, to say what it is instead.
      let model: ModelProto;
      let arch: number[] | undefined;
      let norm: Normalization | undefined;
      if (opts.arch !== undefined) {
        let src: OpenedSupernet;
        try {
          src = openSupernet(file, { pattern: opts.pattern });
        } catch (e) {
          if (e instanceof InputFileError && !(e instanceof ModelFormatError)) {
            const other = readModel(file);
            const m = readSubnetManifest(other, file);
            if (modelKind(other) === "subnet") {
              throw new UsageError(`${file} is already a subnet${m ? ` (arch ${m.arch.join(",")})` : ""}: drop --arch, or pass the supernet to evaluate another path`);
            }
          }
          throw e;
        }
        arch = parseArch(opts.arch, src.structure);
        model = extractSubnet(src.model, src.structure, arch, { file }).model; // only this path runs
        norm = flags ?? src.manifest?.input.normalize;
      } else {
        model = readModel(file);
        if (modelKind(model) === "supernet") throw new UsageError(`${file} is a supernet: pass --arch A to evaluate one of its paths, or evaluate a subnet from \`bnnas extract-subnet\``);
        norm = flags ?? readSubnetManifest(model, file)?.input.normalize;
      }
      if (!norm) throw new UsageError(`${file} has no bnnas manifest with the input normalisation: pass --mean and --std (x = (p / 255 - mean) / std; Fashion-MNIST: --mean 0.2860 --std 0.3530)`);
      const test = loadDataset(opts.data, "test");
      const device = opts.device;
      let recalibration: Record<string, unknown> | undefined;
      if (opts.recalibrateBn !== undefined) {
        if (!model.graph!.node.some((n) => n.opType === "BatchNormalization")) {
          throw new BnnasError(`${file}: has no BatchNormalization nodes to recalibrate (folded with --fold-bn?); evaluate it without --recalibrate-bn or extract it without --fold-bn`);
        }
        const train = loadDataset(opts.data, "train");
        const batch = opts.recalibrateBatch;
        const progress = new Progress(io, { label: "recalibrate-bn", total: opts.recalibrateBn, quiet: opts.quiet });
        const r = await recalibrateBatchNorm(model, train, norm, { batches: opts.recalibrateBn, batch, seed: opts.seed, device, threads: opts.threads, onBatch: (d) => progress.update(d) }, file);
        progress.finish();
        model = r.model;
        recalibration = { batches: opts.recalibrateBn, batch, images: r.images, batchnorms: r.batchNorms, rule: RECALIBRATION_RULE, seed: opts.seed };
      }
      const total = Math.min(test.count, opts.limit ?? test.count);
      const progress = new Progress(io, { label: "eval", total, quiet: opts.quiet });
      const result = await evaluate(model, test, norm, { batch: opts.batch, limit: opts.limit, device, threads: opts.threads, onBatch: (d, _t, acc) => progress.update(d, { acc }) }, file);
      progress.finish();
      if (opts.json) {
        io.stdout(`${JSON.stringify({ ...result, model: file, ...(arch ? { arch } : {}), data: test.source, device, threads: opts.threads ?? null, ...(recalibration ? { recalibrate_bn: recalibration } : {}) })}\n`);
        return;
      }
      io.stdout(`${file}${arch ? ` arch ${arch.join(",")}` : ""}: top-1 accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${result.images})\n`);
      io.stdout(`  ${result.images_per_s.toFixed(0)} images/s (batch ${result.batch}, ${device}${opts.threads ? `, ${opts.threads} threads` : ""}; inference ${result.inference_s.toFixed(2)} s, wall ${result.wall_s.toFixed(2)} s)\n`);
      if (recalibration) io.stdout(`  BatchNorm statistics recomputed from ${recalibration.batches} training batches of ${recalibration.batch} (${RECALIBRATION_RULE})\n`);
    });
}
