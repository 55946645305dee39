/**
 * Extracting a subnet to a file, as `bnnas extract-subnet` and the demo do it: the chosen path
 * of a supernet as a standalone model with its provenance manifest, written atomically.
 */
import { statSync } from "node:fs";
import { checkArch, parseArch } from "../structure/arch.js";
import type { Normalization } from "../structure/normalization.js";
import { writeModel } from "../model/model-io.js";
import { extractWithManifest, openSupernet } from "../extract/from-file.js";
import type { FoldResult } from "../extract/batchnorm.js";
import type { SubnetManifest } from "../supernet/subnet-manifest.js";

export interface ExtractRequest {
  /** Mask positions, or their text form `3,1,6,...` (-1 = identity). */
  arch: string | readonly number[];
  output: string;
  /** Fold each BatchNormalization into the Conv before it. */
  foldBn?: boolean;
  /** Weights in `<output>.data` (default: only past protobuf's 2 GB limit). */
  externalData?: boolean;
  /** Input normalisation for foreign supernets (bnnas files carry theirs). */
  normalize?: Normalization;
  pattern?: string;
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
  manifest: SubnetManifest;
}

export function extractToFile(supernet: string, req: ExtractRequest): ExtractOutcome {
  const src = openSupernet(supernet, { pattern: req.pattern });
  const arch = typeof req.arch === "string" ? parseArch(req.arch, src.structure) : checkArch(req.arch, src.structure);
  const result = extractWithManifest(src, arch, { foldBn: req.foldBn, normalize: req.normalize });
  const written = writeModel(req.output, result.model, { externalData: req.externalData ? true : "auto" });
  const bytes = statSync(req.output).size + (written.externalDataFile ? statSync(written.externalDataFile).size : 0);
  return {
    output: req.output,
    ...(written.externalDataFile ? { externalDataFile: written.externalDataFile } : {}),
    bytes,
    nodes: result.model.graph!.node.length,
    initializers: result.model.graph!.initializer.length,
    removedNodes: result.removedNodes,
    ...(result.fold ? { fold: result.fold } : {}),
    manifest: result.manifest,
  };
}
