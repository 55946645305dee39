/**
 * Opens a supernet file of either kind: a bnnas export (structure from its manifest) or a
 * PyTorch-convention export (structure inferred from the graph, costs counted from the graph).
 * Every later stage (train, score, search, extract) starts here.
 */
import { readModelFile } from "../model/model-io.js";
import { GraphIndex, staticShape } from "../onnx/graph.js";
import { DataType, make, type ModelProto } from "../onnx/proto.js";
import { ModelFormatError } from "../errors.js";
import { assignByPattern, inferStructure } from "./import.js";
import { countStructure } from "./count.js";
import { getTrainingRecord, readManifest, structureFromManifest, type Manifest } from "./manifest.js";
import type { SupernetStructure } from "../structure/structure.js";

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
  /** SHA-256 of the file's bytes (provenance, checkpoint fingerprints). */
  sha256: string;
}

export function loadSupernet(file: string, options: LoadOptions = {}): LoadedSupernet {
  return supernetOf(readModelFile(file), file, options);
}

/** As loadSupernet, for a model already read from `file` (readModelFile). */
export function supernetOf(read: { model: ModelProto; sha256: string }, file: string, options: LoadOptions = {}): LoadedSupernet {
  // readModel has already refused structurally broken graphs (check.ts runs graphProblem), and
  // unsharing only turns Identity(initializer) outputs into initializers, which keeps them valid.
  const { model, sha256 } = read;
  unshareIdentityInitializers(model);
  const manifest = readManifest(model, file);
  if (manifest) {
    const mismatch = manifestGraphProblem(manifest, model);
    if (mismatch) throw new ModelFormatError(file, `its bnnas manifest does not match the graph: ${mismatch}`);
    // A bnnas file says what is what (and what it costs); --pattern is for foreign files only, but
    // honour it if given, as the user asked for it explicitly.
    const structure = structureFromManifest(manifest);
    if (options.pattern !== undefined) assignByPattern(structure, model, options.pattern, file);
    return { file, model, structure, manifest, sha256 };
  }
  // A foreign file's training record (metadata bnnas.training) must be readable too.
  getTrainingRecord(model, file);
  const structure = inferStructure(model, { file, pattern: options.pattern });
  const loaded: LoadedSupernet = { file, model, structure, sha256 };
  try {
    countStructure(model, structure);
  } catch (e) {
    loaded.countProblem = (e as Error).message;
  }
  return loaded;
}

/**
 * A bnnas manifest that parses but does not describe the graph it sits in (hand-edited, or
 * copied from another file) would make training and extraction touch the wrong tensors. The
 * manifest reader checks that the names exist; this checks that they play the roles claimed.
 */
export function manifestGraphProblem(m: Manifest, model: ModelProto): string | undefined {
  const g = model.graph!;
  const index = new GraphIndex(g);
  const input = g.input.find((i) => i.name === m.input.name);
  const tt = input?.type?.tensorType;
  if (tt?.elemType !== undefined && tt.elemType !== null && tt.elemType !== DataType.FLOAT) return `input '${m.input.name}' is not a float tensor`;
  const dims = (input ? staticShape(input) ?? [] : []).map((d) => (typeof d === "number" ? d : undefined));
  if (tt?.shape && (dims.length !== 4 || m.input.shape.some((v, i) => dims[i + 1] !== undefined && dims[i + 1] !== v))) {
    return `input '${m.input.name}' has shape [${dims.map((d) => d ?? "?").join(", ")}] but the manifest says [batch, ${m.input.shape.join(", ")}]`;
  }
  const C = m.input.shape[0];
  if (m.input.normalize.mean.length !== C || m.input.normalize.std.length !== C || m.input.normalize.std.some((s) => !(s > 0))) {
    return `input.normalize must give ${C} mean and ${C} std values (std > 0)`;
  }
  const outDims = g.output.find((o) => o.name === m.output)?.type?.tensorType?.shape?.dim;
  const last = outDims?.at(-1);
  if (last && last.dimValue !== undefined && last.dimValue !== null && !last.dimParam && Number(last.dimValue) !== m.classes) {
    return `output '${m.output}' has ${Number(last.dimValue)} classes but the manifest says ${m.classes}`;
  }
  for (const [l, layer] of m.layers.entries()) {
    const at = `layers[${l}] (${layer.label})`;
    if (l > 0 && layer.input !== m.layers[l - 1]!.output) return `${at} reads '${layer.input}', not the output of the layer before`;
    const sum = index.producer.get(layer.output);
    const muls = new Set<string>();
    const positions = new Set<number>();
    for (const c of layer.candidates) {
      if (positions.has(c.position)) return `${at}: mask position ${c.position} is used twice`;
      positions.add(c.position);
      const mul = index.nodeByName.get(c.maskMul)!;
      const other = mul.input[0] === c.output ? mul.input[1] : mul.input[0];
      const gather = other ? index.producer.get(other) : undefined;
      const idx = gather?.opType === "Gather" && gather.input[0] === layer.mask && gather.input[1] ? index.constant(gather.input[1]) : undefined;
      if (!idx || idx.data.length !== 1 || Number(idx.data[0]) !== c.position) {
        return `${at}: candidate '${c.name}' is not scaled by entry ${c.position} of mask '${layer.mask}'`;
      }
      if (c.output !== layer.input && !index.upstreamTensors(c.output).has(layer.input)) return `${at}: candidate '${c.name}' does not read the layer input '${layer.input}'`;
      muls.add(mul.output[0]!);
      const ind = c.indicator;
      const same = ind && c.batchNorms.find((b) => b.node === ind.node);
      if (ind && (!same || same.scale !== ind.scale || same.bias !== ind.bias || same.mean !== ind.mean || same.var !== ind.var)) {
        return `${at}: candidate '${c.name}' has an indicator that differs from its BatchNorm '${ind.node}'`;
      }
      for (const [j, b] of c.batchNorms.entries()) {
        const n = index.nodeByName.get(b.node)!;
        if (n.input[1] !== b.scale || n.input[2] !== b.bias || n.input[3] !== b.mean || n.input[4] !== b.var) {
          return `${at}: candidate '${c.name}' batchNorms[${j}] names initializers that BatchNormalization '${b.node}' does not read`;
        }
      }
    }
    if (!sum || (sum.opType !== "Sum" && sum.opType !== "Add") || sum.input.length !== muls.size || !sum.input.every((i) => muls.has(i))) {
      return `${at}: '${layer.output}' is not the sum of the layer's masked candidates`;
    }
  }
  return undefined;
}

/**
 * PyTorch's exporter deduplicates initializers with identical values: in a fresh export, every
 * BatchNorm's gamma (all ones), beta, running mean and running variance are Identity nodes of one
 * shared initializer. Training must be able to move each BatchNorm on its own, so each
 * Identity(initializer) becomes an initializer of its own under the Identity's output name (a
 * copy), and the shared source is dropped once nothing reads it. Returns how many were unshared.
 */
export function unshareIdentityInitializers(model: ModelProto): number {
  const g = model.graph!;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const overridable = new Set(g.input.map((i) => i.name));
  const outputs = new Set(g.output.map((o) => o.name));
  let count = 0;
  g.node = g.node.filter((n) => {
    const src = n.opType === "Identity" && (n.domain ?? "") === "" && n.input.length === 1 ? inits.get(n.input[0]!) : undefined;
    const out = n.output[0];
    if (!src || !out || n.output.length !== 1 || overridable.has(src.name) || outputs.has(out) || inits.has(out)) return true;
    const copy = make.tensor({ ...src, name: out, dims: [...src.dims], rawData: src.rawData ? src.rawData.slice() : src.rawData, floatData: [...src.floatData], int32Data: [...src.int32Data], int64Data: [...src.int64Data], doubleData: [...src.doubleData], externalData: [] });
    g.initializer.push(copy);
    inits.set(out, copy);
    count++;
    return false;
  });
  if (count) {
    const used = new Set<string>();
    for (const n of g.node) for (const i of n.input) used.add(i);
    for (const o of outputs) used.add(o);
    g.initializer = g.initializer.filter((t) => used.has(t.name) || overridable.has(t.name));
  }
  return count;
}
