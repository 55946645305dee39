/**
 * Export: space spec -> ONNX supernet (IR 8, opset 17, dynamic batch) holding every allowed
 * candidate of every choice layer, selected by mask inputs as the PyTorch convention does
 * (README "PyTorch supernets"), so a bnnas supernet is also a valid PyTorch-convention supernet:
 *
 *   layer l:  out = Sum_k  candidate_k(h) * Gather(mask_l, k)      (mask_l: float [K], K = #candidates)
 *
 * The mask position k is the candidate's index in the space, so an architecture means the same
 * in every layer; a candidate that a layer does not allow is absent from its graph (its mask
 * entry is ignored). BatchNormalization nodes stay in inference form (epsilon 1e-5, ONNX
 * momentum 0.9). Names are derived (`layers.3.mb_k5_e6.bn3.scale`) and weights come from
 * PRNG streams keyed by (seed, name), so the same space and seed give byte-identical files.
 */
import { GraphBuilder, attr } from "../onnx/builder.js";
import type { ModelProto } from "../onnx/proto.js";
import { int64Tensor } from "../onnx/tensor.js";
import { writeModel } from "../model/model-io.js";
import { Emitter } from "../ops/emitter.js";
import { opKind } from "../ops/index.js";
import { OptionError, SpaceError } from "../errors.js";
import { resolveSpace, type PlacedOp, type ResolvedSpace } from "../space/resolve.js";
import type { SpaceSpec } from "../space/spec.js";
import { validateSpace } from "../space/validate.js";
import { MANIFEST_FORMAT, structureFromManifest, writeManifest, type Manifest, type ManifestLayer } from "./manifest.js";
import type { SupernetStructure } from "../structure/structure.js";

export interface BuildOptions {
  /** PRNG seed for the initialisation (0 .. 2^32-1). Default 0. */
  seed?: number;
  /** BNNAS++: a BatchNorm after every candidate op that has none (skip, pooling). */
  unbiased?: boolean;
  /** Generate weights (default true); false builds the graph and manifest with empty initializers. */
  weights?: boolean;
  /** Called after each choice layer is built (for progress display). */
  onLayer?: (done: number, total: number) => void;
}

/** A supernet past this many parameters is refused before allocating it (4 GiB of float32). */
export const MAX_SUPERNET_PARAMS = 2 ** 30;

export const LOGITS = "logits";
export const maskInput = (layer: number): string => `mask${layer}`;

/** Every candidate of every layer plus the fixed part: what the file will hold. */
export function supernetParams(r: ResolvedSpace): number {
  let total = r.fixed.params;
  for (const l of r.layers) for (const c of l.candidates) total += c.cost.params;
  return total;
}

function emitFixed(em: Emitter, ops: readonly PlacedOp[], prefix: string, input: string): string {
  let x = input;
  ops.forEach((f, i) => {
    x = opKind(f.op).emit(f.op, { em, prefix: `${prefix}.${i}`, input: x, place: f.place, unbiased: false }).output;
  });
  return x;
}

/**
 * Builds the supernet of a space in memory. The spec is validated (and normalised) first, so a
 * library user's hand-written object gets the same path-naming errors as a space file.
 */
export function buildSupernet(input: SpaceSpec, options: BuildOptions = {}): { model: ModelProto; manifest: Manifest; resolved: ResolvedSpace } {
  const spec = validateSpace(input);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new OptionError("seed", (o) => `${o} takes a whole number from 0 to 4294967295, not ${seed}`);
  const unbiased = options.unbiased ?? false;
  const r = resolveSpace(spec, unbiased);
  const total = supernetParams(r);
  if (total > MAX_SUPERNET_PARAMS) {
    throw new SpaceError("", `the supernet of space '${spec.name}' would have ${total.toLocaleString("en-US")} parameters; bnnas refuses more than ${MAX_SUPERNET_PARAMS.toLocaleString("en-US")} (make channels or expansions smaller)`);
  }
  const b = new GraphBuilder();
  const em = new Emitter(b, { seed, weights: options.weights ?? true });
  const inputName = spec.input.name ?? "input";
  const K = spec.candidates.length;
  b.input(inputName, ["batch", ...spec.input.shape]);
  const masks = spec.layers.map((_, l) => b.input(maskInput(l), [K]));

  let x = emitFixed(em, r.stem, "stem", inputName);
  const layers: ManifestLayer[] = r.layers.map((layer, l) => {
    const layerInput = x;
    const candidates = layer.candidates.map((c) => {
      const prefix = `layers.${l}.${c.name}`;
      const out = opKind(c.op).emit(c.op, { em, prefix, input: layerInput, place: c.place, unbiased });
      const index = b.initializer(int64Tensor(b.unique(`${prefix}.mask_index`), [], [c.position]));
      const weight = b.op("Gather", [masks[l]!, index], { axis: attr.int(0) }, `${prefix}.mask_gather`);
      const masked = b.op("Mul", [out.output, weight], {}, `${prefix}.mask_mul`);
      const maskMul = b.nodes.at(-1)!.name;
      return {
        name: c.name,
        position: c.position,
        output: out.output,
        maskMul,
        masked,
        batchNorms: out.batchNorms,
        indicator: out.batchNorms.at(-1) ?? null,
        macs: c.cost.macs,
        params: c.cost.params,
      };
    });
    x = b.node("Sum", candidates.map((c) => c.masked), {}, { name: `layers.${l}.sum`, outputs: [`layers.${l}.out`] })[0]!;
    options.onLayer?.(l + 1, r.layers.length);
    return { label: layer.label, input: layerInput, output: x, mask: masks[l]!, candidates: candidates.map(({ masked: _masked, ...c }) => c) };
  });

  x = emitFixed(em, r.head, "head", x);
  const pooled = b.op("GlobalAveragePool", [x], {}, "head.pool");
  const flat = b.op("Flatten", [pooled], { axis: attr.int(1) }, "head.flatten");
  em.linear("head.fc", flat, r.headOut.c, spec.classes, LOGITS);
  b.output(LOGITS, ["batch", spec.classes]);

  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    space: spec,
    seed,
    unbiased,
    input: { name: inputName, shape: [...spec.input.shape], normalize: { mean: [...spec.input.normalize.mean], std: [...spec.input.normalize.std] } },
    classes: spec.classes,
    output: LOGITS,
    fixed: { macs: r.fixed.macs, params: r.fixed.params },
    layers,
    training: null,
  };
  const model = b.build({ name: `bnnas_${spec.name.replace(/-/g, "_")}`, docString: `bnnas supernet of space '${spec.name}' (seed ${seed}${unbiased ? ", unbiased" : ""})` });
  writeManifest(model, manifest);
  return { model, manifest, resolved: r };
}

/**
 * The SupernetStructure (with costs) a space's supernet has, without generating weights: for
 * counting and parsing architectures against a space (`bnnas flops --space`).
 */
export function spaceStructure(spec: SpaceSpec, options: { unbiased?: boolean } = {}): SupernetStructure {
  return structureFromManifest(buildSupernet(spec, { unbiased: options.unbiased ?? false, weights: false }).manifest);
}

export interface ExportOptions extends BuildOptions {
  /** true: initializers go to `<file>.data`; 'auto' (default): only past protobuf's 2 GiB limit. */
  externalData?: boolean | "auto";
}

/** Builds and writes a supernet atomically (no partial file on failure). */
export function exportSupernet(spec: SpaceSpec, file: string, options: ExportOptions = {}): { manifest: Manifest; externalDataFile?: string } {
  const { model, manifest } = buildSupernet(spec, { ...options, weights: true });
  const res = writeModel(file, model, { externalData: options.externalData ?? "auto" });
  return { manifest, ...res };
}

