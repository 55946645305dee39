/**
 * Extracting a subnet to a file, as `bnnas extract-subnet` and the demo do it: the chosen path
 * of a supernet as a standalone model with its provenance manifest, optionally BatchNorm-folded,
 * written at an older opset for older runtimes, or int8-quantized after calibrating on training
 * images, and written atomically (a failure at any step leaves no output).
 */
import { statSync } from "node:fs";
import { checkArch, parseArch } from "../structure/arch.js";
import type { Normalization } from "../structure/normalization.js";
import { readModelFile, writeModel } from "../model/model-io.js";
import { extractWithManifest, type OpenedSupernet } from "../extract/from-file.js";
import { copySubnet } from "../extract/from-subnet.js";
import { supernetOf } from "../supernet/load.js";
import { modelKind } from "../supernet/model-kind.js";
import type { FoldResult } from "../extract/batchnorm.js";
import { readSubnetManifest, writeSubnetManifest, type SubnetManifest } from "../supernet/subnet-manifest.js";
import { convertOpset, MAX_OPSET, MIN_OPSET, modelOpset, type OpsetConversion } from "../extract/opset-convert.js";
import { calibrationTensors, quantizeQdq, QUANTIZE_MIN_OPSET, type ActivationType, type QuantizeResult, type Range } from "../extract/quantize.js";
import { writeQuantizationRecord, type QuantizationRecord } from "../extract/deploy-info.js";
import { BnnasError, InputFileError, OptionError, UsageError } from "../errors.js";
import { cloneForEditing } from "../onnx/clone.js";
import { valueInfo } from "../onnx/builder.js";
import type { ModelProto } from "../onnx/proto.js";
import { loadDataset, type Dataset } from "../data/dataset.js";
import { epochOrder, makeBatch } from "../data/batches.js";
import { Session } from "../runtime/ort.js";
import { modelInput } from "../runtime/eval.js";

export interface ExtractRequest {
  /**
   * Mask positions, or their text form `3,1,6,...` (-1 = identity). Required for a supernet; absent
   * for a subnet (a trained model to fold, convert or quantize).
   */
  arch?: string | readonly number[];
  output: string;
  /** Fold each BatchNormalization into the Conv before it. */
  foldBn?: boolean;
  /** Write the subnet at this opset (MIN_OPSET..MAX_OPSET); default: the supernet's. */
  opset?: number;
  /** Weights in `<output>.data` (default: only past protobuf's 2 GB limit). */
  externalData?: boolean;
  /** Input normalisation for foreign supernets (bnnas files carry theirs). */
  normalize?: Normalization;
  pattern?: string;
}

/** The quantization types bnnas writes. */
export const QUANTIZE_TYPES = ["int8"] as const;
export type QuantizeType = (typeof QUANTIZE_TYPES)[number];
export const DEFAULT_CALIBRATION_IMAGES = 512;

export interface QuantizedExtractRequest extends ExtractRequest {
  /** Static quantization in the QDQ format (BatchNorms are folded first). */
  quantize: QuantizeType | string;
  /** Training images the activation ranges are calibrated on (default 512), drawn by `seed`. */
  calibrate?: number;
  seed?: number;
  /** IDX data folder of the calibration images (default: the system Fashion-MNIST, else the shipped subset). */
  data?: string;
  /** Activation type (default uint8: onnxruntime's fastest integer kernels on x86). */
  activations?: ActivationType;
  threads?: number;
  onCalibrate?: (done: number, total: number) => void;
}

export interface ExtractOutcome {
  output: string;
  externalDataFile?: string;
  /** Bytes written (model plus external data). */
  bytes: number;
  nodes: number;
  initializers: number;
  removedNodes: number;
  fold?: FoldResult;
  opset: OpsetConversion;
  quantization?: QuantizeResult & { record: QuantizationRecord };
  /** The subnet manifest (absent when a foreign subnet without one was converted). */
  manifest?: SubnetManifest;
}

/** The option checks every extraction shares, before any work (so a bad option leaves no output). */
function checkOpset(opset: number | undefined): void {
  if (opset === undefined) return;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new OptionError("opset", (o) => `${o} ${opset}: bnnas writes opsets ${MIN_OPSET} to ${MAX_OPSET}`);
  }
}

function checkQuantize(req: QuantizedExtractRequest): number {
  if (!(QUANTIZE_TYPES as readonly string[]).includes(req.quantize)) {
    throw new OptionError("quantize", (o) => `${o} '${req.quantize}': unknown type; bnnas quantizes to ${QUANTIZE_TYPES.join(", ")}`);
  }
  if (req.opset !== undefined && req.opset < QUANTIZE_MIN_OPSET) {
    throw new UsageError((o) => `${o("opset")} ${req.opset} cannot hold per-channel int8 weights (DequantizeLinear gained its axis at opset ${QUANTIZE_MIN_OPSET}); pass ${o("opset")} ${QUANTIZE_MIN_OPSET} or higher with ${o("quantize")}`);
  }
  const n = req.calibrate ?? DEFAULT_CALIBRATION_IMAGES;
  if (!Number.isInteger(n) || n < 1) throw new OptionError("calibrate", (o) => `${o} ${n}: calibrate on at least 1 image`);
  return n;
}

/** What extraction (or a subnet's copy) hands to the deployment steps. */
interface Extracted {
  model: ModelProto;
  manifest?: SubnetManifest;
  fold?: FoldResult;
  removedNodes: number;
  opset: OpsetConversion;
  normalize?: Normalization;
}

/**
 * Extraction, folding and the opset: what float and quantized outputs share. `file` is a
 * supernet (`arch` picks the path) or a subnet (a trained model to deploy; `arch` optional).
 */
function extractModel(file: string, req: ExtractRequest, foldBn: boolean): Extracted {
  // The file is read once; what kind of model it is decides whether it is a supernet to cut a
  // path from or a subnet to deploy as it is.
  const read = readModelFile(file);
  if (modelKind(read.model) === "subnet") {
    // --arch picks a path of a supernet; a subnet is deployed as it is.
    if (req.arch !== undefined) {
      const m = readSubnetManifest(read.model, file);
      const what = m ? `a subnet bnnas extracted (arch ${m.arch.join(",")})` : "a subnet (a single input, no mask inputs)";
      throw new InputFileError(file, (o) => `is ${what}, not a supernet; pass the supernet it came from, or drop ${o("arch")} to fold, convert or quantize this subnet`);
    }
    return fromSubnet(read.model, file, req, foldBn);
  }
  const src: OpenedSupernet = supernetOf(read, file, { pattern: req.pattern });
  if (req.arch === undefined) throw new UsageError((o) => `${file} is a supernet: pass ${o("arch")} A to choose the path to extract`);
  const arch = typeof req.arch === "string" ? parseArch(req.arch, src.structure) : checkArch(req.arch, src.structure);
  const result = extractWithManifest(src, arch, { foldBn, normalize: req.normalize });
  const opset = convertOpset(result.model, req.opset ?? modelOpset(result.model), file);
  return { model: result.model, manifest: result.manifest, ...(result.fold ? { fold: result.fold } : {}), removedNodes: result.removedNodes, opset, normalize: result.manifest.input.normalize };
}

function fromSubnet(model: ModelProto, file: string, req: ExtractRequest, foldBn: boolean): Extracted {
  const copy = copySubnet(model, file, { foldBn });
  const opset = convertOpset(copy.model, req.opset ?? modelOpset(copy.model), file);
  const normalize = req.normalize ?? copy.manifest?.input.normalize;
  return { model: copy.model, ...(copy.manifest ? { manifest: copy.manifest } : {}), ...(copy.fold ? { fold: copy.fold } : {}), removedNodes: 0, opset, ...(normalize ? { normalize } : {}) };
}

function write(req: ExtractRequest, model: ModelProto, result: Omit<ExtractOutcome, "output" | "bytes" | "nodes" | "initializers" | "externalDataFile">): ExtractOutcome {
  const written = writeModel(req.output, model, { externalData: req.externalData ? true : "auto" });
  const bytes = statSync(req.output).size + (written.externalDataFile ? statSync(written.externalDataFile).size : 0);
  return {
    output: req.output,
    ...(written.externalDataFile ? { externalDataFile: written.externalDataFile } : {}),
    bytes,
    nodes: model.graph!.node.length,
    initializers: model.graph!.initializer.length,
    ...result,
  };
}

/** A float subnet (optionally folded, optionally at an older opset) to a file. */
export function extractToFile(supernet: string, req: ExtractRequest): ExtractOutcome {
  checkOpset(req.opset);
  const r = extractModel(supernet, req, req.foldBn === true);
  return write(req, r.model, { removedNodes: r.removedNodes, ...(r.fold ? { fold: r.fold } : {}), opset: r.opset, ...(r.manifest ? { manifest: r.manifest } : {}) });
}

/**
 * An int8 subnet to a file: extracted and folded, activation ranges observed on `calibrate`
 * training images with onnxruntime, then quantized (extract/quantize.ts).
 */
export async function extractQuantizedToFile(supernet: string, req: QuantizedExtractRequest): Promise<ExtractOutcome> {
  checkOpset(req.opset);
  const images = checkQuantize(req);
  // The data is checked before the supernet is touched: a bad --calibrate or --data costs nothing.
  const train = loadDataset(req.data, "train");
  if (images > train.count) {
    throw new OptionError("calibrate", (o) => `${o} ${images}: the training data (${train.source}) holds only ${train.count} images`);
  }
  const r = extractModel(supernet, req, true);
  const norm = r.normalize;
  if (!norm) throw new UsageError((o) => `${supernet} has no bnnas manifest with the input normalisation, which calibration needs: pass ${o("mean")} and ${o("std")}`);
  const seed = req.seed ?? 0;
  const ranges = await calibrate(r.model, train, norm, { images, seed, threads: req.threads, onBatch: req.onCalibrate, file: supernet });
  const quantized = quantizeQdq(r.model, ranges, { activations: req.activations, file: supernet });
  const record: QuantizationRecord = {
    format: "qdq",
    type: "int8",
    weights: "int8, symmetric, per output channel (Conv, Gemm)",
    activations: `${quantized.activationType}, asymmetric, per tensor`,
    calibration: { images, seed, data: train.source, method: "minmax" },
  };
  writeQuantizationRecord(r.model, record);
  if (r.manifest) writeSubnetManifest(r.model, r.manifest);
  return write(req, r.model, { removedNodes: r.removedNodes, ...(r.fold ? { fold: r.fold } : {}), opset: r.opset, quantization: { ...quantized, record }, ...(r.manifest ? { manifest: r.manifest } : {}) });
}

const CALIBRATION_BATCH = 128;

/**
 * Min and max of every tensor the quantizer needs, over `images` training images (the first
 * of the seeded epoch-0 order), from one onnxruntime session of the float model with those
 * tensors as extra outputs.
 */
async function calibrate(
  model: ModelProto,
  data: Dataset,
  norm: Normalization,
  options: { images: number; seed: number; threads?: number; onBatch?: (done: number, total: number) => void; file: string },
): Promise<Map<string, Range>> {
  const io = modelInput(model, data, options.file);
  const tensors = calibrationTensors(model.graph!);
  const probe = cloneForEditing(model);
  const outputs = new Set(probe.graph!.output.map((o) => o.name));
  for (const t of tensors) if (!outputs.has(t)) probe.graph!.output.push(valueInfo(t, undefined));
  const ranges = new Map<string, Range>(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
  const order = epochOrder(data.count, options.seed, 0).subarray(0, options.images);
  const session = await Session.create(probe, { threads: options.threads });
  try {
    for (let start = 0; start < order.length; start += CALIBRATION_BATCH) {
      const idx = order.subarray(start, Math.min(order.length, start + CALIBRATION_BATCH));
      const { x } = makeBatch(data, idx, norm);
      const out = await session.run({ [io.name]: x }, tensors);
      for (const t of tensors) {
        const v = out[t]!.data as Float32Array;
        const r = ranges.get(t)!;
        for (let i = 0; i < v.length; i++) {
          const e = v[i]!;
          if (e !== e) r.min = NaN;
          if (e < r.min) r.min = e;
          if (e > r.max) r.max = e;
        }
        if (!Number.isFinite(r.min) || !Number.isFinite(r.max)) throw new BnnasError(`${options.file}: tensor '${t}' is not finite on the calibration images; the float model is broken`);
      }
      options.onBatch?.(start + idx.length, order.length);
    }
  } finally {
    await session.release();
  }
  return ranges;
}
