/**
 * A standalone subnet as the start of a deployment: the model `bnnas train` wrote (or any
 * single-input classifier) gets the same treatment as a freshly extracted path (BatchNorm in
 * inference form, optional folding), so a trained model can be folded, written at an older opset
 * or quantized without going back to its supernet.
 */
import { cloneForEditing } from "../onnx/clone.js";
import type { ModelProto } from "../onnx/proto.js";
import { InputFileError } from "../errors.js";
import { readSubnetManifest, writeSubnetManifest, type SubnetManifest } from "../supernet/subnet-manifest.js";
import { foldBatchNorms, inferenceModeBatchNorms, type FoldResult } from "./batchnorm.js";
import { pruneGraph } from "./prune.js";
import { isQuantized } from "./deploy-info.js";

export interface SubnetCopy {
  model: ModelProto;
  /** The bnnas manifest (absent for a foreign model), updated for folding. */
  manifest?: SubnetManifest;
  fold?: FoldResult;
}

/** A deployable copy of `model` (a subnet). */
export function copySubnet(model: ModelProto, file: string, options: { foldBn?: boolean } = {}): SubnetCopy {
  if (isQuantized(model)) throw new InputFileError(file, "is already quantized; start from the float model");
  const manifest = readSubnetManifest(model, file);
  const copy = cloneForEditing(model);
  const graph = copy.graph!;
  inferenceModeBatchNorms(graph);
  let fold: FoldResult | undefined;
  if (options.foldBn) {
    fold = foldBatchNorms(graph, file);
    pruneGraph(graph);
  }
  if (manifest && fold && fold.kept.length === 0) {
    manifest.batchNorm = "folded";
    writeSubnetManifest(copy, manifest);
  }
  return { model: copy, ...(manifest ? { manifest } : {}), ...(fold ? { fold } : {}) };
}
