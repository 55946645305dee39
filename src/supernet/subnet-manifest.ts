/**
 * The subnet manifest: where an extracted subnet came from (space, architecture, source
 * supernet, its training record) and what it needs at inference (input shape and
 * normalisation), stored as JSON in the model's metadata_props under `bnnas.subnet`, so the
 * file explains itself to `eval` and `serve` and to people (onnx.load(f).metadata_props).
 */
import { setMetadataEntry } from "../onnx/metadata.js";
import { createHash } from "node:crypto";
import type { ModelProto } from "../onnx/proto.js";
import { GraphIndex } from "../onnx/graph.js";
import { elementCount, tensorDims } from "../onnx/tensor.js";
import { DataType } from "../onnx/proto.js";
import { ModelFormatError } from "../errors.js";
import type { Normalization } from "../structure/normalization.js";
import { getTrainingRecord } from "./manifest.js";

export const SUBNET_MANIFEST_KEY = "bnnas.subnet";
export const SUBNET_MANIFEST_FORMAT = "bnnas-subnet/1";

export interface SubnetManifest {
  format: typeof SUBNET_MANIFEST_FORMAT;
  /** Search space name (`fmnist-small`), or the source kind for foreign files. */
  space: string;
  /** Mask position of the chosen candidate, per layer. */
  arch: number[];
  /** The chosen candidates' names, per layer. */
  candidates: string[];
  /** Multiply-accumulates of Conv/Gemm/MatMul for one image, when known. */
  macs?: number;
  /** Trainable parameters (conv/linear weights and biases, BN gamma/beta). */
  params: number;
  input: { name: string; shape: (number | string)[]; normalize?: Normalization };
  classes?: number;
  /** A name per class, in logit order (from the data the subnet was trained on). */
  labels?: string[];
  /** "inference": BatchNormalization nodes with running statistics; "folded": merged into the Convs. */
  batchNorm: "inference" | "folded";
  source: { file: string; sha256: string; kind: "bnnas" | "pytorch" };
  /** The supernet's training record, copied as is (absent for untrained or foreign supernets). */
  training?: unknown;
  /** What training did to the subnet itself (`bnnas train` on it), one record per run, oldest first. */
  retraining?: Record<string, unknown>[];
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Trainable parameters of a graph: every float initializer except BatchNormalization running
 * statistics (inputs 3 and 4), which are buffers, not parameters (as PyTorch counts them).
 */
export function countParams(model: ModelProto): number {
  const index = new GraphIndex(model.graph!);
  const buffers = new Set<string>();
  for (const n of model.graph!.node) if (n.opType === "BatchNormalization") for (const i of n.input.slice(3, 5)) buffers.add(i);
  let total = 0;
  for (const [name, t] of index.initializers) {
    if (buffers.has(name) || (t.dataType !== DataType.FLOAT && t.dataType !== DataType.DOUBLE && t.dataType !== DataType.FLOAT16)) continue;
    total += elementCount(tensorDims(t));
  }
  return total;
}

export function writeSubnetManifest(model: ModelProto, manifest: SubnetManifest): void {
  setMetadataEntry(model, SUBNET_MANIFEST_KEY, JSON.stringify(manifest));
}

/** The subnet manifest, or undefined when the model has none (a foreign file). */
export function readSubnetManifest(model: ModelProto, file = "<model>"): SubnetManifest | undefined {
  const entry = model.metadataProps.find((e) => e.key === SUBNET_MANIFEST_KEY);
  if (!entry) return undefined;
  let m: SubnetManifest;
  try {
    m = JSON.parse(entry.value) as SubnetManifest;
  } catch {
    throw new ModelFormatError(file, `metadata '${SUBNET_MANIFEST_KEY}' is not valid JSON`);
  }
  if (!m || m.format !== SUBNET_MANIFEST_FORMAT || !Array.isArray(m.arch)) {
    throw new ModelFormatError(file, `metadata '${SUBNET_MANIFEST_KEY}' is not a ${SUBNET_MANIFEST_FORMAT} manifest`);
  }
  const norm = m.input?.normalize;
  if (norm && (!Array.isArray(norm.mean) || !Array.isArray(norm.std) || norm.std.some((s) => !(s > 0)))) {
    throw new ModelFormatError(file, `metadata '${SUBNET_MANIFEST_KEY}': input.normalize must hold mean and std arrays with std > 0`);
  }
  if (m.labels !== undefined && (!Array.isArray(m.labels) || m.labels.some((l) => typeof l !== "string"))) {
    throw new ModelFormatError(file, `metadata '${SUBNET_MANIFEST_KEY}': labels must be an array of strings`);
  }
  const mismatch = subnetManifestProblem(m, model);
  if (mismatch) throw new ModelFormatError(file, `metadata '${SUBNET_MANIFEST_KEY}' does not match the graph: ${mismatch}`);
  return m;
}

/** The manifest's input must be the graph's input, with as many normalisation values as channels. */
function subnetManifestProblem(m: SubnetManifest, model: ModelProto): string | undefined {
  if (!m.arch.every((v) => Number.isSafeInteger(v) && v >= 0)) return "arch must hold whole numbers >= 0";
  const input = model.graph!.input.find((i) => i.name === m.input?.name);
  if (!input) return `input '${m.input?.name}' is not a graph input`;
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  if (!Array.isArray(m.input.shape) || m.input.shape.length !== dims.length) return `input.shape does not have the graph input's rank ${dims.length}`;
  for (const [i, d] of dims.entries()) {
    const v = m.input.shape[i];
    if (d.dimValue !== undefined && d.dimValue !== null && !d.dimParam && typeof v === "number" && v !== Number(d.dimValue)) return `input.shape[${i}] is ${v}, the graph says ${Number(d.dimValue)}`;
  }
  const norm = m.input.normalize;
  const c = dims[1]?.dimValue;
  if (norm && c !== undefined && c !== null && [norm.mean.length, norm.std.length].some((n) => n !== 1 && n !== Number(c))) return `input.normalize needs 1 or ${Number(c)} values per list`;
  if (norm && [...norm.mean, ...norm.std].some((v) => typeof v !== "number" || !Number.isFinite(v))) return "input.normalize holds a value that is not a finite number";
  return undefined;
}

/** The class names in a training record (`data.classNames`, written by bnnas train), if it has them. */
export function recordClassNames(record: unknown): string[] | undefined {
  const names = (record as { data?: { classNames?: unknown } } | null | undefined)?.data?.classNames;
  return Array.isArray(names) && names.length > 0 && names.every((n) => typeof n === "string") ? (names as string[]) : undefined;
}

/**
 * The class names a model carries, in logit order: its subnet manifest's labels, else those of
 * the latest training run recorded (the subnet's own retraining, then its supernet's training),
 * else undefined (an untrained export, or a foreign file).
 */
export function modelClassNames(model: ModelProto, file = "<model>"): string[] | undefined {
  const m = readSubnetManifest(model, file);
  if (m?.labels) return m.labels;
  if (m) {
    for (const r of [...(m.retraining ?? [])].reverse()) {
      const names = recordClassNames(r);
      if (names) return names;
    }
    const names = recordClassNames(m.training);
    if (names) return names;
  }
  return recordClassNames(getTrainingRecord(model, file));
}
