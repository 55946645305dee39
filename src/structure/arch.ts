/**
 * Architectures: per layer, the mask position of the chosen candidate. Parsed from `3,1,6,...`;
 * `-1` stands for the layer's identity candidate (the BN-NAS paper's form on bnnas-mbv2), so
 * `3,-1,0,...` and `3,6,0,...` mean the same thing there.
 */
import { ArchError, BnnasError } from "../errors.js";
import { candidateAt, type LayerInfo, type SupernetStructure } from "./structure.js";

export type Arch = number[];

/** The layer's identity candidate: one whose output is the layer input, or one named skip/identity. */
export function identityCandidate(layer: LayerInfo) {
  return layer.candidates.find((c) => c.output === layer.input) ?? layer.candidates.find((c) => /^(skip|identity)$/i.test(c.name));
}

function layerName(layer: LayerInfo, l: number): string {
  return layer.label === `layer${l}` ? `layer ${l}` : `layer ${l} (${layer.label})`;
}

/** `0=mb_k3_e3, 1=mb_k3_e6, ..., 6=skip (or -1)`. */
export function allowedValues(layer: LayerInfo): string {
  const id = identityCandidate(layer);
  return layer.candidates.map((c) => `${c.position}=${c.name}${c === id ? " (or -1)" : ""}`).join(", ");
}

/** The architecture as quoted in messages: a pasted megabyte must not become a megabyte-long error line. */
function quote(text: string): string {
  const one = text.replace(/[\r\n\t]/g, " ");
  return one.length > 80 ? `${one.slice(0, 80)}... (${text.length} characters)` : one;
}

/** Parses `3,1,6,...` (or with -1 for identity) against a supernet's layers. */
export function parseArch(input: string, structure: SupernetStructure): Arch {
  const text = input;
  const shown = quote(input);
  const L = structure.layers.length;
  const parts = text.trim() === "" ? [] : text.split(",").map((s) => s.trim());
  if (parts.length !== L) {
    throw new ArchError(`architecture '${shown}' has ${parts.length} value${parts.length === 1 ? "" : "s"}, but the supernet has ${L} layers: give one candidate per layer, comma-separated (e.g. ${structure.layers.map((l) => l.candidates[0]?.position ?? 0).join(",")})`);
  }
  return parts.map((p, l) => {
    const layer = structure.layers[l]!;
    if (!/^[+-]?\d+$/.test(p)) throw new ArchError(`architecture '${shown}': ${layerName(layer, l)}: '${quote(p)}' is not a whole number; allowed: ${allowedValues(layer)}`);
    const v = Number(p);
    if (!Number.isSafeInteger(v)) throw new ArchError(`architecture '${shown}': ${layerName(layer, l)}: ${quote(p)} is out of range; allowed: ${allowedValues(layer)}`);
    if (v === -1) {
      const id = identityCandidate(layer);
      if (!id) throw new ArchError(`architecture '${shown}': ${layerName(layer, l)}: -1 (identity) is not allowed in this layer; allowed: ${allowedValues(layer)}`);
      return id.position;
    }
    if (!candidateAt(layer, v)) throw new ArchError(`architecture '${shown}': ${layerName(layer, l)}: ${v} is not a candidate of this layer; allowed: ${allowedValues(layer)}`);
    return v;
  });
}

/** Checks an architecture given as numbers (e.g. from a search strategy or a JSON file). */
export function checkArch(arch: readonly number[], structure: SupernetStructure): Arch {
  return parseArch(arch.join(","), structure);
}

export function formatArch(arch: readonly number[]): string {
  return arch.join(",");
}

export interface ArchCost {
  macs: number;
  params: number;
}

/** Cost of a subnet: the fixed part plus the chosen candidate of each layer. Needs costs in the structure. */
export function archCost(structure: SupernetStructure, arch: readonly number[]): ArchCost {
  if (!structure.fixed) throw new BnnasError("the supernet has no cost information for its fixed part (stem, head); count it first");
  if (arch.length !== structure.layers.length) throw new ArchError(`architecture has ${arch.length} values, but the supernet has ${structure.layers.length} layers`);
  let macs = structure.fixed.macs;
  let params = structure.fixed.params;
  arch.forEach((pos, l) => {
    const layer = structure.layers[l]!;
    const c = candidateAt(layer, pos);
    if (!c) throw new ArchError(`${layerName(layer, l)}: ${pos} is not a candidate of this layer; allowed: ${allowedValues(layer)}`);
    if (c.macs === undefined || c.params === undefined) throw new BnnasError(`${layerName(layer, l)}: candidate '${c.name}' has no cost information`);
    macs += c.macs;
    params += c.params;
  });
  return { macs, params };
}

/** Per-layer costs of an architecture, for reports (`bnnas flops --json`). */
export function archCostByLayer(structure: SupernetStructure, arch: readonly number[]): { label: string; candidate: string; position: number; macs: number; params: number }[] {
  return arch.map((pos, l) => {
    const layer = structure.layers[l]!;
    const c = candidateAt(layer, pos);
    if (!c) throw new ArchError(`${layerName(layer, l)}: ${pos} is not a candidate of this layer; allowed: ${allowedValues(layer)}`);
    return { label: layer.label, candidate: c.name, position: pos, macs: c.macs ?? NaN, params: c.params ?? NaN };
  });
}
