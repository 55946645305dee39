/**
 * Evaluating a model file, as `bnnas eval` and the demo do it: a subnet as it is, or one path
 * of a supernet (only that path runs, SPOS-style), optionally after recomputing its BatchNorm
 * statistics from training batches; top-1 accuracy and throughput on the test split.
 */
import { BnnasError, InputFileError, ModelFormatError, UsageError } from "../errors.js";
import { readModel } from "../model/model-io.js";
import type { ModelProto } from "../onnx/proto.js";
import { checkArch, parseArch } from "../structure/arch.js";
import type { Normalization } from "../structure/normalization.js";
import { loadData, type DataOptions } from "../data/load.js";
import type { ImageShape } from "../data/image-decode.js";
import { openSupernet, type OpenedSupernet } from "../extract/from-file.js";
import { extractSubnet } from "../extract/subnet.js";
import { modelKind } from "../supernet/model-kind.js";
import { modelClassNames, readSubnetManifest } from "../supernet/subnet-manifest.js";
import { evaluate, recalibrateBatchNorm, type EvalResult } from "../runtime/eval.js";
import type { Device } from "../runtime/ort.js";

export const RECALIBRATION_RULE = "cumulative average over the batches (torch BatchNorm momentum=None after reset_running_stats), unbiased variance";

export interface EvaluateRequest {
  /** For a supernet: the path to evaluate (mask positions, or `3,1,6,...`). Absent: the file is a subnet. */
  arch?: string | readonly number[];
  /** Data folder (IDX, CIFAR binary or image folders; default: the system Fashion-MNIST, else the shipped subset); its test split is evaluated. */
  data?: string;
  /** Format, cache, strictness and notes of reading `data`. */
  dataOptions?: DataOptions;
  /** Input normalisation for files without a bnnas manifest. */
  normalize?: Normalization;
  /** Recompute BatchNorm statistics from this many training batches first. */
  recalibrate?: { batches: number; batch: number; seed: number; onBatch?: (done: number, total: number) => void };
  batch?: number;
  limit?: number;
  device?: Device;
  threads?: number;
  pattern?: string;
  onBatch?: (done: number, total: number, accuracy: number) => void;
}

export interface EvaluateOutcome extends EvalResult {
  arch?: number[];
  /** The test data evaluated. */
  data: string;
  /** What the BatchNorm recalibration did, when it was asked for. */
  recalibration?: { batches: number; batch: number; images: number; batchnorms: number; rule: string; seed: number };
}

/** Opens `file` as the request says (a supernet path with `arch`, else a subnet), with its normalisation. */
function openForEval(file: string, req: EvaluateRequest): { model: ModelProto; arch?: number[]; norm?: Normalization } {
  // The file is read (and decoded) once: with an arch as a supernet, without one as a subnet;
  // only when that guess is wrong is it read again, to say what it is instead.
  if (req.arch === undefined) {
    const model = readModel(file);
    if (modelKind(model) === "supernet") throw new UsageError((o) => `${file} is a supernet: pass ${o("arch")} A to evaluate one of its paths, or evaluate a subnet from \`bnnas extract-subnet\``);
    return { model, norm: req.normalize ?? readSubnetManifest(model, file)?.input.normalize };
  }
  let src: OpenedSupernet;
  try {
    src = openSupernet(file, { pattern: req.pattern });
  } catch (e) {
    if (e instanceof InputFileError && !(e instanceof ModelFormatError)) {
      const other = readModel(file);
      const m = readSubnetManifest(other, file);
      if (modelKind(other) === "subnet") {
        throw new UsageError((o) => `${file} is already a subnet${m ? ` (arch ${m.arch.join(",")})` : ""}: drop ${o("arch")}, or pass the supernet to evaluate another path`);
      }
    }
    throw e;
  }
  const arch = typeof req.arch === "string" ? parseArch(req.arch, src.structure) : checkArch(req.arch, src.structure);
  // Only this path runs.
  return { model: extractSubnet(src.model, src.structure, arch, { file }).model, arch, norm: req.normalize ?? src.manifest?.input.normalize };
}

/** The [C, H, W] a model's one input fixes (dimensions left open are the data's own). */
function inputShape(model: ModelProto): Partial<ImageShape> | undefined {
  const dims = model.graph!.input.find((i) => !model.graph!.initializer.some((t) => t.name === i.name))?.type?.tensorType?.shape?.dim;
  if (!dims || dims.length !== 4) return undefined;
  const [, c, h, w] = dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : undefined));
  return { channels: c, height: h, width: w };
}

function preview(names: readonly string[]): string {
  return names.length > 4 ? `${names.slice(0, 4).join(", ")}, ...` : names.join(", ");
}

export async function evaluateFile(file: string, req: EvaluateRequest = {}): Promise<EvaluateOutcome> {
  const opened = openForEval(file, req);
  let model = opened.model;
  const norm = opened.norm;
  if (!norm) throw new UsageError((o) => `${file} has no bnnas manifest with the input normalisation: pass ${o("mean")} and ${o("std")} (x = (p / 255 - mean) / std; Fashion-MNIST: ${o("mean")} 0.2860 ${o("std")} 0.3530)`);
  const want = inputShape(model);
  const test = await loadData(req.data, "test", { ...req.dataOptions, want });
  const carried = modelClassNames(model, file);
  const names = test.classNames ?? [];
  if (carried && carried.slice(0, test.classes).join("\u0000") !== names.slice(0, test.classes).join("\u0000")) {
    req.dataOptions?.onNote?.(`${file} was trained on classes ${preview(carried)} but ${test.source} names ${preview(names)}; the data's names are reported`);
  }
  let recalibration: EvaluateOutcome["recalibration"];
  if (req.recalibrate) {
    if (!model.graph!.node.some((n) => n.opType === "BatchNormalization")) {
      throw new BnnasError((o) => `${file}: has no BatchNormalization nodes to recalibrate (folded with ${o("foldBn")}?); evaluate it without ${o("recalibrateBn")} or extract it without ${o("foldBn")}`);
    }
    const train = await loadData(req.data, "train", { ...req.dataOptions, want });
    const { batches, batch, seed } = req.recalibrate;
    const r = await recalibrateBatchNorm(model, train, norm, { batches, batch, seed, device: req.device, threads: req.threads, onBatch: req.recalibrate.onBatch }, file);
    model = r.model;
    recalibration = { batches, batch, images: r.images, batchnorms: r.batchNorms, rule: RECALIBRATION_RULE, seed };
  }
  const result = await evaluate(model, test, norm, { batch: req.batch, limit: req.limit, device: req.device, threads: req.threads, onBatch: req.onBatch }, file);
  return { ...result, ...(opened.arch ? { arch: opened.arch } : {}), data: test.source, ...(recalibration ? { recalibration } : {}) };
}
