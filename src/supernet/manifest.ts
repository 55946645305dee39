/**
 * The bnnas manifest: what an exported supernet says about itself, stored as JSON in the model's
 * metadata_props under `bnnas.manifest`. Roles are explicit here (which tensor is which layer's
 * mask, which initializers make up each candidate's BatchNorms, which BN is its indicator), so a
 * bnnas file is never guessed at; guessing is only for foreign (PyTorch) files.
 *
 * The training record (what `bnnas train` did) lives in `manifest.training`; files without a
 * manifest keep theirs under metadata key `bnnas.training`.
 */
import { metadataEntry, setMetadataEntry } from "../onnx/metadata.js";
import { ModelFormatError, SpaceError } from "../errors.js";
import type { ModelProto } from "../onnx/proto.js";
import type { SpaceSpec } from "../space/spec.js";
import type { Normalization } from "../structure/normalization.js";
import { validateSpace } from "../space/validate.js";
import type { BatchNormRef, CandidateInfo, LayerInfo, SupernetStructure } from "../structure/structure.js";

export const MANIFEST_KEY = "bnnas.manifest";
export const TRAINING_KEY = "bnnas.training";
export const MANIFEST_FORMAT = 1;

/** A candidate as the manifest stores it: its structure entry, with the cost always present. */
export interface ManifestCandidate extends CandidateInfo {
  macs: number;
  params: number;
}

/** A layer as the manifest stores it: the mask is always one vector input per layer. */
export interface ManifestLayer extends Omit<LayerInfo, "mask" | "candidates"> {
  /** Graph input holding this layer's mask vector, of length = number of space candidates. */
  mask: string;
  candidates: ManifestCandidate[];
}

export interface Manifest {
  format: number;
  /** The full (normalised) space spec: the file describes itself. */
  space: SpaceSpec;
  seed: number;
  unbiased: boolean;
  /** Data input: name, [C, H, W] (the graph adds a dynamic batch dim), and per-channel
   *  normalisation applied to pixels scaled to [0, 1]: x = (p / 255 - mean[c]) / std[c]. */
  input: { name: string; shape: [number, number, number]; normalize: Normalization };
  classes: number;
  /** Logits tensor. */
  output: string;
  /** Cost of everything outside the choice layers. */
  fixed: { macs: number; params: number };
  layers: ManifestLayer[];
  /** What training did to this file; null at export. */
  training: Record<string, unknown> | null;
}


/** Checks a parsed manifest's shape; returns a problem `path: detail` or undefined. */
class Check {
  constructor(private readonly fail: (path: string, detail: string) => never) {}
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail(path, "must be an object");
    return v as Record<string, unknown>;
  }
  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, "must be an array");
    return v as unknown[];
  }
  str(v: unknown, path: string): string {
    if (typeof v !== "string" || v === "") this.fail(path, "must be a non-empty string");
    return v as string;
  }
  count(v: unknown, path: string): number {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) this.fail(path, "must be a whole number >= 0");
    return v as number;
  }
  bn(v: unknown, path: string): BatchNormRef {
    const o = this.obj(v, path);
    return { node: this.str(o.node, `${path}.node`), scale: this.str(o.scale, `${path}.scale`), bias: this.str(o.bias, `${path}.bias`), mean: this.str(o.mean, `${path}.mean`), var: this.str(o.var, `${path}.var`) };
  }
}

/**
 * The manifest of a bnnas supernet, or undefined when the file has none (a foreign file).
 * Throws ModelFormatError naming `file` when the manifest is malformed or names tensors the
 * graph does not have.
 */
export function readManifest(model: ModelProto, file: string): Manifest | undefined {
  const text = metadataEntry(model, MANIFEST_KEY);
  if (text === undefined) return undefined;
  const fail = (path: string, detail: string): never => {
    throw new ModelFormatError(file, `its bnnas manifest (metadata '${MANIFEST_KEY}') is malformed: ${path ? path + ": " : ""}${detail}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return fail("", `not JSON (${(e as Error).message})`);
  }
  const c = new Check(fail);
  const o = c.obj(raw, "");
  if (o.format !== MANIFEST_FORMAT) fail("format", `is ${JSON.stringify(o.format)}; this bnnas reads format ${MANIFEST_FORMAT} (re-export the supernet, or use the bnnas that wrote it)`);
  let space: SpaceSpec;
  try {
    space = validateSpace(o.space);
  } catch (e) {
    if (e instanceof SpaceError) return fail(`space${e.path ? "." + e.path : ""}`, e.path ? e.message.slice(e.path.length + 2) : e.message);
    throw e;
  }
  if (typeof o.seed !== "number" || !Number.isSafeInteger(o.seed)) fail("seed", "must be a whole number");
  if (typeof o.unbiased !== "boolean") fail("unbiased", "must be true or false");
  const inp = c.obj(o.input, "input");
  const shape = c.arr(inp.shape, "input.shape").map((d, i) => c.count(d, `input.shape[${i}]`));
  if (shape.length !== 3) fail("input.shape", "must be [C, H, W]");
  const norm = c.obj(inp.normalize, "input.normalize");
  const nums = (v: unknown, path: string) => c.arr(v, path).map((x, i) => (typeof x === "number" && Number.isFinite(x) ? x : fail(`${path}[${i}]`, "must be a number")));
  const mean = nums(norm.mean, "input.normalize.mean");
  const std = nums(norm.std, "input.normalize.std");
  const fixed = c.obj(o.fixed, "fixed");
  const layers = c.arr(o.layers, "layers").map((lv, l) => {
    const p = `layers[${l}]`;
    const lo = c.obj(lv, p);
    const candidates = c.arr(lo.candidates, `${p}.candidates`).map((cv, k) => {
      const q = `${p}.candidates[${k}]`;
      const co = c.obj(cv, q);
      const batchNorms = c.arr(co.batchNorms, `${q}.batchNorms`).map((b, j) => c.bn(b, `${q}.batchNorms[${j}]`));
      const indicator = co.indicator === null ? null : c.bn(co.indicator, `${q}.indicator`);
      if (indicator && !batchNorms.some((b) => b.node === indicator.node)) fail(`${q}.indicator`, "is not one of the candidate's batchNorms");
      return {
        name: c.str(co.name, `${q}.name`),
        position: c.count(co.position, `${q}.position`),
        output: c.str(co.output, `${q}.output`),
        maskMul: c.str(co.maskMul, `${q}.maskMul`),
        batchNorms,
        indicator,
        macs: c.count(co.macs, `${q}.macs`),
        params: c.count(co.params, `${q}.params`),
      };
    });
    return { label: c.str(lo.label, `${p}.label`), input: c.str(lo.input, `${p}.input`), output: c.str(lo.output, `${p}.output`), mask: c.str(lo.mask, `${p}.mask`), candidates };
  });
  if (o.training !== null && (typeof o.training !== "object" || Array.isArray(o.training))) fail("training", "must be an object or null");
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    space,
    seed: o.seed as number,
    unbiased: o.unbiased as boolean,
    input: { name: c.str(inp.name, "input.name"), shape: shape as [number, number, number], normalize: { mean, std } },
    classes: c.count(o.classes, "classes"),
    output: c.str(o.output, "output"),
    fixed: { macs: c.count(fixed.macs, "fixed.macs"), params: c.count(fixed.params, "fixed.params") },
    layers,
    training: (o.training as Record<string, unknown> | null) ?? null,
  };
  checkAgainstGraph(manifest, model, fail);
  return manifest;
}

/** Every name the manifest uses must exist in the graph with the role it claims. */
function checkAgainstGraph(m: Manifest, model: ModelProto, fail: (path: string, detail: string) => never): void {
  const g = model.graph!;
  const inputs = new Set(g.input.map((i) => i.name));
  const inits = new Set(g.initializer.map((t) => t.name));
  const nodes = new Map(g.node.map((n) => [n.name, n]));
  const tensors = new Set<string>([...inputs, ...inits]);
  for (const n of g.node) for (const o of n.output) tensors.add(o);
  if (!inputs.has(m.input.name)) fail("input.name", `'${m.input.name}' is not a graph input`);
  if (!g.output.some((o) => o.name === m.output)) fail("output", `'${m.output}' is not a graph output`);
  m.layers.forEach((l, i) => {
    const p = `layers[${i}]`;
    if (!inputs.has(l.mask)) fail(`${p}.mask`, `'${l.mask}' is not a graph input`);
    if (!tensors.has(l.input)) fail(`${p}.input`, `no tensor '${l.input}'`);
    if (!tensors.has(l.output)) fail(`${p}.output`, `no tensor '${l.output}'`);
    l.candidates.forEach((c, k) => {
      const q = `${p}.candidates[${k}]`;
      if (!tensors.has(c.output)) fail(`${q}.output`, `no tensor '${c.output}'`);
      const mul = nodes.get(c.maskMul);
      if (!mul || mul.opType !== "Mul" || !mul.input.includes(c.output)) fail(`${q}.maskMul`, `'${c.maskMul}' is not a Mul node reading '${c.output}'`);
      c.batchNorms.forEach((b, j) => {
        const n = nodes.get(b.node);
        if (!n || n.opType !== "BatchNormalization") fail(`${q}.batchNorms[${j}].node`, `'${b.node}' is not a BatchNormalization node`);
        for (const key of ["scale", "bias", "mean", "var"] as const) {
          if (!inits.has(b[key])) fail(`${q}.batchNorms[${j}].${key}`, `'${b[key]}' is not an initializer`);
        }
      });
    });
  });
}

/** Stores (or replaces) the manifest in the model's metadata. */
export function writeManifest(model: ModelProto, manifest: Manifest): void {
  setMetadataEntry(model, MANIFEST_KEY, JSON.stringify(manifest));
}

/** The SupernetStructure of a bnnas supernet (masks are one vector per layer). */
export function structureFromManifest(m: Manifest): SupernetStructure {
  return {
    source: "bnnas",
    input: { name: m.input.name, shape: ["batch", ...m.input.shape] },
    output: m.output,
    layers: m.layers.map((l) => ({
      label: l.label,
      input: l.input,
      output: l.output,
      mask: { kind: "vector", input: l.mask },
      candidates: l.candidates.map((c) => ({ ...c, batchNorms: c.batchNorms.map((b) => ({ ...b })), indicator: c.indicator ? { ...c.indicator } : null })),
    })),
    fixed: { ...m.fixed },
  };
}

/**
 * Records what training did: in manifest.training for bnnas files, under metadata
 * `bnnas.training` for files without a manifest. `record` must be JSON-serialisable.
 */
export function setTrainingRecord(model: ModelProto, record: object): void {
  const text = metadataEntry(model, MANIFEST_KEY);
  if (text !== undefined) {
    const m = JSON.parse(text) as Manifest;
    m.training = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
    setMetadataEntry(model, MANIFEST_KEY, JSON.stringify(m));
  } else {
    setMetadataEntry(model, TRAINING_KEY, JSON.stringify(record));
  }
}

/** The training record of a bnnas or foreign file, or null when it was never trained by bnnas. */
export function getTrainingRecord(model: ModelProto, file = "the model"): object | null {
  const manifestText = metadataEntry(model, MANIFEST_KEY);
  const text = manifestText ?? metadataEntry(model, TRAINING_KEY);
  if (text === undefined) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(file, `its bnnas metadata is not JSON (${(e as Error).message})`);
  }
  if (manifestText !== undefined) v = (v as { training?: unknown }).training ?? null;
  if (v !== null && (typeof v !== "object" || Array.isArray(v))) throw new ModelFormatError(file, "its bnnas training record is not an object");
  return v as object | null;
}
