/**
 * SupernetStructure: what every stage after export needs to know about a supernet file, whether
 * bnnas made it (read from the manifest) or PyTorch did (inferred from the graph by the mask
 * convention, README "PyTorch supernets"). Training, scoring and extraction work on this alone plus
 * the graph, so they treat both kinds of file the same way.
 *
 * An architecture is, per layer, the mask position of the chosen candidate.
 */

/** The four initializers of one BatchNormalization node. */
export interface BatchNormRef {
  /** Name of the BatchNormalization node. */
  node: string;
  scale: string;
  bias: string;
  mean: string;
  var: string;
}

/** How a layer's mask reaches the graph. */
export type MaskRef =
  /** one float vector input per layer, [K_l] */
  | { kind: "vector"; input: string }
  /** one float matrix input [L, K]; this layer is row `row` */
  | { kind: "matrix"; input: string; row: number };

export interface CandidateInfo {
  /** Human-readable name (`mb_k3_e6`, or `op2` for foreign files). */
  name: string;
  /** Mask position: the value an architecture uses to pick this candidate. */
  position: number;
  /** Tensor holding the candidate's output before the mask multiplication (the layer input for identity). */
  output: string;
  /** Name of the node that multiplies `output` by the mask entry. */
  maskMul: string;
  /** BatchNormalization nodes on the candidate's branch, in graph order. */
  batchNorms: BatchNormRef[];
  /** The BN whose mean |gamma| is the BN-NAS indicator (the last on the branch); null for BN-free ops. */
  indicator: BatchNormRef | null;
  /** Cost of the candidate alone (from the manifest, or counted from the graph). */
  macs?: number;
  params?: number;
}

export interface LayerInfo {
  label: string;
  /** Tensor the candidates read. */
  input: string;
  /** Tensor holding the masked sum (what the next layer reads). */
  output: string;
  mask: MaskRef;
  /** Candidates ordered by mask position; disallowed positions are simply absent. */
  candidates: CandidateInfo[];
}

export interface SupernetStructure {
  source: "bnnas" | "pytorch";
  /** The data input (not a mask) and its shape; the first dim is the (dynamic) batch. */
  input: { name: string; shape: (number | string)[] };
  /** The logits output. */
  output: string;
  layers: LayerInfo[];
  /** Cost of everything outside the choice layers (stem, fixed blocks, head), when known. */
  fixed?: { macs: number; params: number };
}

/** Finds a layer's candidate by mask position. */
export function candidateAt(layer: LayerInfo, position: number): CandidateInfo | undefined {
  return layer.candidates.find((c) => c.position === position);
}
