/**
 * Opens a supernet file of either kind: a bnnas export (structure from its manifest) or a
 * PyTorch-convention export (structure inferred from the graph, costs counted from the graph).
 * Every later stage (train, score, search, extract) starts here.
 */
import { readModel } from "../onnx/model-io.js";
import { graphProblem } from "../onnx/graph.js";
import type { ModelProto } from "../onnx/proto.js";
import { ModelFormatError } from "../errors.js";
import { assignByPattern, inferStructure } from "./import.js";
import { countStructure } from "./count.js";
import { readManifest, structureFromManifest, type Manifest } from "./manifest.js";
import type { SupernetStructure } from "./structure.js";

export interface LoadOptions {
  /** Overrides the candidate/BatchNorm assignment of a foreign file (see import.ts). */
  pattern?: string;
}

export interface LoadedSupernet {
  file: string;
  model: ModelProto;
  structure: SupernetStructure;
  /** The bnnas manifest; absent for foreign (PyTorch) files. */
  manifest?: Manifest;
  /** Why MACs/params could not be counted from the graph (foreign files only), if they could not. */
  countProblem?: string;
}

export function loadSupernet(file: string, options: LoadOptions = {}): LoadedSupernet {
  const model = readModel(file);
  const problem = graphProblem(model.graph!);
  if (problem) throw new ModelFormatError(file, `is not a valid ONNX graph: ${problem}`);
  const manifest = readManifest(model, file);
  if (manifest) {
    // A bnnas file says what is what (and what it costs); --pattern is for foreign files only, but
    // honour it if given, as the user asked for it explicitly.
    const structure = structureFromManifest(manifest);
    if (options.pattern !== undefined) assignByPattern(structure, model, options.pattern, file);
    return { file, model, structure, manifest };
  }
  const structure = inferStructure(model, { file, pattern: options.pattern });
  const loaded: LoadedSupernet = { file, model, structure };
  try {
    countStructure(model, structure);
  } catch (e) {
    loaded.countProblem = (e as Error).message;
  }
  return loaded;
}
