/**
 * Extraction from files: telling supernets from subnets (so each command can refuse the wrong
 * kind clearly), opening a supernet with its manifest, and extracting a subnet together with its
 * provenance manifest.
 */
import { basename } from "node:path";
import type { ModelProto } from "../onnx/proto.js";
import { loadSupernet, type LoadedSupernet } from "../supernet/load.js";
import { getTrainingRecord } from "../supernet/manifest.js";
import { modelKind } from "../supernet/model-kind.js";
import { archCost } from "../structure/arch.js";
import { FoldedBatchNormError, InputFileError, NotASupernetError } from "../errors.js";
import { readModel } from "../model/model-io.js";
import { extractSubnet, type ExtractResult } from "./subnet.js";
import { countParams, readSubnetManifest, writeSubnetManifest, SUBNET_MANIFEST_FORMAT, type SubnetManifest } from "../supernet/subnet-manifest.js";
import type { Normalization } from "../structure/normalization.js";

/** What openSupernet returns: loadSupernet's result as is (its manifest already parsed and checked). */
export type OpenedSupernet = LoadedSupernet;

/** Opens a supernet; a subnet given instead gets an error that says what to pass. */
export function openSupernet(file: string, options: { pattern?: string } = {}): OpenedSupernet {
  try {
    return loadSupernet(file, { pattern: options.pattern });
  } catch (e) {
    // The loader's message is right for a broken supernet; a clean subnet deserves a plainer one.
    if (e instanceof NotASupernetError || e instanceof FoldedBatchNormError) {
      const model = readModel(file);
      if (modelKind(model) === "subnet") throw notASupernet(file, model);
    }
    throw e;
  }
}

function notASupernet(file: string, model: ModelProto): InputFileError {
  const m = readSubnetManifest(model, file);
  const what = m ? `a subnet bnnas extracted (arch ${m.arch.join(",")})` : "a subnet (a single input, no mask inputs)";
  return new InputFileError(file, `is ${what}, not a supernet; pass the supernet it came from`);
}

export interface SubnetFromFileOptions {
  foldBn?: boolean;
  /** Normalisation for foreign supernets (bnnas files carry theirs). */
  normalize?: Normalization;
}

/** Extracts `arch` from an opened supernet and attaches the subnet manifest. */
export function extractWithManifest(src: OpenedSupernet, arch: readonly number[], options: SubnetFromFileOptions = {}): ExtractResult & { manifest: SubnetManifest } {
  const result = extractSubnet(src.model, src.structure, arch, { foldBn: options.foldBn, file: src.file });
  let macs: number | undefined;
  let params: number;
  try {
    // As the space counts them (before any folding): the numbers search reported.
    ({ macs, params } = archCost(src.structure, arch));
  } catch {
    params = countParams(result.model);
  }
  const sourceHash = src.sha256;
  const normalize = src.manifest?.input.normalize ?? options.normalize;
  const manifest: SubnetManifest = {
    format: SUBNET_MANIFEST_FORMAT,
    space: src.manifest?.space.name ?? `${src.structure.source}:${basename(src.file)}`,
    arch: [...arch],
    candidates: result.names,
    ...(macs !== undefined ? { macs } : {}),
    params,
    input: { name: src.structure.input.name, shape: ["batch", ...src.structure.input.shape.slice(1)], ...(normalize ? { normalize } : {}) },
    ...(src.manifest ? { classes: src.manifest.classes } : {}),
    batchNorm: options.foldBn ? "folded" : "inference",
    source: { file: basename(src.file), sha256: sourceHash, kind: src.structure.source },
    ...(() => {
      const training = getTrainingRecord(src.model, src.file);
      return training ? { training } : {};
    })(),
  };
  writeSubnetManifest(result.model, manifest);
  result.model.docString = `bnnas subnet ${arch.join(",")} (${result.names.join(", ")}) of ${manifest.space}, extracted from ${manifest.source.file}`;
  return { ...result, manifest };
}
