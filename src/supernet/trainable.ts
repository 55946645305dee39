/**
 * Opening a file to train: a supernet (train its BatchNorms, or every weight SPOS-style) or a
 * standalone subnet (an extract-subnet output, or any single-path ONNX classifier). Both come
 * back as a SupernetStructure, a subnet's with no choice layers, so the training engine treats
 * them alike: with no layers the whole network is its head.
 */
import { GraphIndex, staticShape } from "../onnx/graph.js";
import type { ModelProto } from "../onnx/proto.js";
import { readModelFile } from "../model/model-io.js";
import { InputFileError } from "../errors.js";
import type { SupernetStructure } from "../structure/structure.js";
import { supernetOf, type LoadedSupernet, type LoadOptions } from "./load.js";
import { modelKind } from "./model-kind.js";
import { readSubnetManifest, type SubnetManifest } from "./subnet-manifest.js";
import { getTrainingRecord } from "./manifest.js";

export interface LoadedSubnet {
  file: string;
  model: ModelProto;
  /** No layers: the data input, the logits, nothing to choose. */
  structure: SupernetStructure;
  /** The bnnas subnet manifest (absent for a foreign single-path model). */
  subnetManifest?: SubnetManifest;
  sha256: string;
}

export type LoadedTrainable = ({ kind: "supernet" } & LoadedSupernet) | ({ kind: "subnet" } & LoadedSubnet);

/** The structure of a single-path model: its one data input and its first output. */
export function subnetStructure(model: ModelProto, file: string, manifest?: SubnetManifest): SupernetStructure {
  const graph = model.graph!;
  const feeds = new GraphIndex(graph).feeds;
  if (feeds.length !== 1) throw new InputFileError(file, `has ${feeds.length} inputs (${feeds.map((f) => f.name).join(", ")}); a subnet to train takes one image input`);
  const output = graph.output[0];
  if (!output) throw new InputFileError(file, "has no output");
  const shape = staticShape(feeds[0]!) ?? [];
  return {
    source: manifest?.source.kind ?? "pytorch",
    input: { name: feeds[0]!.name, shape: shape.map((d, i) => (i === 0 ? "batch" : d)) },
    output: output.name,
    layers: [],
  };
}

export function loadTrainable(file: string, options: LoadOptions = {}): LoadedTrainable {
  const read = readModelFile(file);
  if (modelKind(read.model) === "supernet") return { kind: "supernet", ...supernetOf(read, file, options) };
  const subnetManifest = readSubnetManifest(read.model, file);
  getTrainingRecord(read.model, file); // a foreign file's bnnas.training record must be readable
  return { kind: "subnet", file, model: read.model, structure: subnetStructure(read.model, file, subnetManifest), ...(subnetManifest ? { subnetManifest } : {}), sha256: read.sha256 };
}
