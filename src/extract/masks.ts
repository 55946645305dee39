/**
 * Architectures against a SupernetStructure: validation (errors name the layer and the allowed
 * mask positions) and the one-hot mask feeds that make a supernet compute exactly one path.
 */
import type { GraphProto } from "../onnx/proto.js";
import { num } from "../onnx/proto.js";
import type { Tensor } from "../onnx/tensor.js";
import { candidateAt, type CandidateInfo, type SupernetStructure } from "../structure/structure.js";
import { ArchError } from "../errors.js";

/** Checks an architecture (one mask position per layer) and returns the chosen candidates. */
export function chosenCandidates(structure: SupernetStructure, arch: readonly number[]): CandidateInfo[] {
  if (arch.length !== structure.layers.length) {
    throw new ArchError(`the architecture has ${arch.length} entries but the supernet has ${structure.layers.length} choice layers`);
  }
  return structure.layers.map((layer, l) => {
    const c = candidateAt(layer, arch[l]!);
    if (!c) {
      const allowed = layer.candidates.map((x) => `${x.position} (${x.name})`).join(", ");
      throw new ArchError(`layer ${l} (${layer.label}): ${arch[l]} is not an allowed candidate; allowed: ${allowed}`);
    }
    return c;
  });
}

/** Width of a mask input: its declared last dim, else one past the largest position it carries. */
function maskWidth(graph: GraphProto | undefined, input: string, structure: SupernetStructure): number {
  const decl = graph?.input.find((i) => i.name === input)?.type?.tensorType?.shape?.dim;
  const last = decl?.[decl.length - 1];
  if (last && last.dimValue !== undefined && last.dimValue !== null && num(last.dimValue) > 0) return num(last.dimValue);
  let width = 0;
  for (const layer of structure.layers) {
    if (layer.mask.input !== input) continue;
    for (const c of layer.candidates) width = Math.max(width, c.position + 1);
  }
  return width;
}

/**
 * Feeds for every mask input so that the supernet computes `arch`: per layer, 1 at the chosen
 * position and 0 elsewhere (vector masks [K_l], or rows of an [L, K] matrix).
 */
export function oneHotMaskFeeds(structure: SupernetStructure, arch: readonly number[], graph?: GraphProto): Record<string, Tensor> {
  chosenCandidates(structure, arch);
  const feeds: Record<string, Tensor> = {};
  const matrices = new Map<string, Float32Array>();
  structure.layers.forEach((layer, l) => {
    const width = maskWidth(graph, layer.mask.input, structure);
    if (layer.mask.kind === "vector") {
      const data = new Float32Array(width);
      data[arch[l]!] = 1;
      feeds[layer.mask.input] = { dims: [width], data };
    } else {
      const rows = structure.layers.filter((x) => x.mask.input === layer.mask.input).length;
      let data = matrices.get(layer.mask.input);
      if (!data) {
        data = new Float32Array(rows * width);
        matrices.set(layer.mask.input, data);
        feeds[layer.mask.input] = { dims: [rows, width], data };
      }
      data[layer.mask.row * width + arch[l]!] = 1;
    }
  });
  return feeds;
}
