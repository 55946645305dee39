/**
 * Telling supernets from subnets, so each command can refuse the wrong kind of file clearly.
 */
import type { ModelProto } from "../onnx/proto.js";
import { GraphIndex } from "../onnx/graph.js";
import { MANIFEST_KEY } from "./manifest.js";
import { readSubnetManifest } from "./subnet-manifest.js";

export type ModelKind = "supernet" | "subnet";

/**
 * A model is a subnet when bnnas extracted it (subnet manifest) or when it takes a single input;
 * a supernet takes its data plus mask inputs (or carries a supernet manifest).
 */
export function modelKind(model: ModelProto): ModelKind {
  if (readSubnetManifest(model)) return "subnet";
  if (model.metadataProps.some((e) => e.key === MANIFEST_KEY)) return "supernet";
  return new GraphIndex(model.graph!).feeds.length > 1 ? "supernet" : "subnet";
}
