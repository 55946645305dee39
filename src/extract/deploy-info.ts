/**
 * What a model file says about where it can be deployed: its opset, whether its BatchNorms are
 * folded away, and whether it is quantized (with the calibration record bnnas wrote, under
 * `bnnas.quantization` in metadata_props). Facts are read from the graph itself, so a foreign
 * file is described as well as one bnnas wrote.
 */
import { setMetadataEntry } from "../onnx/metadata.js";
import type { ModelProto } from "../onnx/proto.js";
import { ModelFormatError } from "../errors.js";
import { modelOpset } from "./opset-convert.js";

export const QUANTIZATION_KEY = "bnnas.quantization";

/** How a model was quantized (bnnas's record). */
export interface QuantizationRecord {
  format: "qdq";
  type: "int8";
  weights: string;
  activations: string;
  calibration: { images: number; seed: number; data: string; method: "minmax" };
}

export interface DeploymentFacts {
  opset: number;
  irVersion: number;
  /** "folded": no BatchNormalization left (merged into the convolutions, or never there); "inference": BatchNormalization nodes run at inference. */
  batchNorm: "folded" | "inference";
  quantized: boolean;
  quantization?: QuantizationRecord;
}

/** Whether a graph holds QuantizeLinear/DequantizeLinear (or integer-kernel) nodes. */
export function isQuantized(model: ModelProto): boolean {
  return model.graph!.node.some((n) => /^(QuantizeLinear|DequantizeLinear|QLinear\w+|\w+Integer\w*)$/.test(n.opType));
}

export function writeQuantizationRecord(model: ModelProto, record: QuantizationRecord): void {
  setMetadataEntry(model, QUANTIZATION_KEY, JSON.stringify(record));
}

export function readQuantizationRecord(model: ModelProto, file = "<model>"): QuantizationRecord | undefined {
  const entry = model.metadataProps.find((e) => e.key === QUANTIZATION_KEY);
  if (!entry) return undefined;
  try {
    const r = JSON.parse(entry.value) as QuantizationRecord;
    if (r && typeof r === "object" && r.format === "qdq") return r;
  } catch {
    // fall through: reported below
  }
  throw new ModelFormatError(file, `metadata '${QUANTIZATION_KEY}' is not a bnnas quantization record`);
}

export function deploymentFacts(model: ModelProto, file = "<model>"): DeploymentFacts {
  const quantization = readQuantizationRecord(model, file);
  return {
    opset: modelOpset(model),
    irVersion: Number(model.irVersion),
    batchNorm: model.graph!.node.some((n) => n.opType === "BatchNormalization") ? "inference" : "folded",
    quantized: isQuantized(model),
    ...(quantization ? { quantization } : {}),
  };
}
