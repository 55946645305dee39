/**
 * Infers a SupernetStructure from the graph of a supernet that follows the PyTorch convention
 * (README "PyTorch supernets"): every layer computes sum_k mask[k] * candidate_k(h).
 *
 * How the graph is read:
 *  1. Mask inputs are float feeds of rank 1 ([K]) or 2 ([L, K]) whose scalar
 *     entries (picked with Gather / Slice by constant indices, possibly through Squeeze,
 *     Unsqueeze, Reshape, Cast...) multiply a tensor (Mul). Each such Mul is one candidate term:
 *     (mask, row, position) -> candidate output.
 *  2. The terms of one layer (same mask, same row) are summed by Add chains or Sum nodes; the
 *     completed sum is the layer output.
 *  3. The layer input is the latest data tensor every candidate output depends on.
 *  4. A candidate's branch is what its output depends on downstream of the layer input; its
 *     BatchNormalization nodes are taken from there in graph order, the last is its indicator.
 * This is the only module that guesses roles; bnnas files carry a manifest instead.
 */
import type { ModelProto, NodeProto, ValueInfoProto } from "../onnx/proto.js";
import { GraphIndex, attrInt, attrInts, staticShape } from "../onnx/graph.js";
import { FLOAT_TYPES } from "../model/check.js";
import { FoldedBatchNormError, NotASupernetError, OptionError } from "../errors.js";
import type { BatchNormRef, CandidateInfo, LayerInfo, MaskRef, SupernetStructure } from "../structure/structure.js";

export interface ImportOptions {
  /** File name for error messages. */
  file?: string;
  /**
   * A regular expression over initializer names with named groups `layer` and `cand` (e.g.
   * `blocks\.(?<layer>\d+)\.(?<cand>\d+)\.`). When given, a candidate's BatchNorms are the
   * BatchNormalization nodes whose scale initializer matches with that layer and candidate,
   * instead of the ones found on its branch. See `assignByPattern`.
   */
  pattern?: string;
}

/** One `mask entry * tensor` product found in the graph. */
interface MaskTerm {
  mask: string;
  form: "vector" | "matrix";
  row: number;
  position: number;
  mul: NodeProto;
  output: string;
}

/** Ops that do not change which mask entry a (fully indexed) scalar holds. */
const PASS_THROUGH = new Set(["Identity", "Cast", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Expand", "CastLike"]);

function elemType(vi: ValueInfoProto): number | undefined {
  const t = vi.type?.tensorType?.elemType;
  return t === null || t === undefined ? undefined : t;
}

/** A constant integer scalar or one-element vector, as (value, keepsAxis). */
function constIndex(index: GraphIndex, name: string | undefined): { value: number; keepsAxis: boolean } | undefined {
  if (!name) return undefined;
  const c = index.constant(name);
  if (!c) return undefined;
  if (c.data.length !== 1 || c.dims.length > 1) return undefined;
  const value = Number(c.data[0]);
  if (!Number.isInteger(value)) return undefined;
  return { value, keepsAxis: c.dims.length === 1 };
}

function constInts(index: GraphIndex, name: string | undefined): number[] | undefined {
  if (!name) return undefined;
  const c = index.constant(name);
  if (!c) return undefined;
  return Array.from(c.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/**
 * Follows one mask input through indexing ops. `axes[i]` is the original mask axis that axis i of
 * the current tensor still ranges over, or -1 for a size-1 axis whose entry is already fixed.
 */
function findMaskTerms(index: GraphIndex, mask: string, shape: (number | undefined)[]): MaskTerm[] {
  const terms: MaskTerm[] = [];
  const form = shape.length === 2 ? "matrix" : "vector";
  const seen = new Set<string>();
  const visit = (tensor: string, sel: (number | null)[], axes: number[]) => {
    const key = `${tensor}|${sel.join(",")}`;
    if (seen.has(key)) return;
    seen.add(key);
    const complete = sel.every((s) => s !== null);
    for (const node of index.consumers.get(tensor) ?? []) {
      const op = node.opType;
      if (complete && op === "Mul" && node.input.length === 2) {
        const other = node.input[0] === tensor ? node.input[1]! : node.input[0]!;
        if (other === tensor) continue;
        const row = form === "matrix" ? sel[0]! : 0;
        const position = form === "matrix" ? sel[1]! : sel[0]!;
        terms.push({ mask, form, row, position, mul: node, output: other });
        continue;
      }
      if (complete && PASS_THROUGH.has(op) && node.input[0] === tensor) {
        visit(node.output[0]!, sel, []);
        continue;
      }
      if (op === "Gather" && node.input[0] === tensor) {
        const rank = axes.length;
        let axis = attrInt(node, "axis", 0);
        if (axis < 0) axis += rank;
        const idx = constIndex(index, node.input[1]);
        const orig = axes[axis];
        if (!idx || orig === undefined || orig < 0) continue;
        const size = shape[orig] ?? Infinity; // a symbolic mask dim: any non-negative index
        const v = idx.value < 0 ? idx.value + size : idx.value;
        if (!(v >= 0 && v < size)) continue;
        const nextSel = sel.slice();
        nextSel[orig] = v;
        const nextAxes = axes.slice();
        if (idx.keepsAxis) nextAxes[axis] = -1;
        else nextAxes.splice(axis, 1);
        visit(node.output[0]!, nextSel, nextAxes);
      } else if (op === "Slice" && node.input[0] === tensor) {
        const starts = constInts(index, node.input[1]);
        const ends = constInts(index, node.input[2]);
        const sliceAxes = node.input[3] ? constInts(index, node.input[3]) : starts?.map((_, i) => i);
        const steps = node.input[4] ? constInts(index, node.input[4]) : starts?.map(() => 1);
        if (!starts || !ends || !sliceAxes || !steps) continue;
        const nextSel = sel.slice();
        let ok = true;
        for (let i = 0; i < starts.length; i++) {
          let axis = sliceAxes[i]!;
          if (axis < 0) axis += axes.length;
          const orig = axes[axis];
          if (orig === undefined) { ok = false; break; }
          if (orig < 0) continue;
          const size = shape[orig] ?? Infinity;
          const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
          const s = clamp(starts[i]!);
          const e = clamp(ends[i]!);
          if (steps[i] !== 1 || e - s !== 1) { ok = false; break; }
          nextSel[orig] = s;
        }
        if (!ok) continue;
        const nextAxes = axes.map((o) => (o >= 0 && nextSel[o] !== null ? -1 : o));
        visit(node.output[0]!, nextSel, nextAxes);
      } else if ((op === "Squeeze" || op === "Unsqueeze") && node.input[0] === tensor) {
        const list = node.input[1] ? constInts(index, node.input[1]) : attrInts(node, "axes", []);
        if (!list) continue;
        let nextAxes = axes.slice();
        if (op === "Squeeze") {
          const norm = list.map((a) => (a < 0 ? a + axes.length : a));
          if (norm.length === 0) nextAxes = axes.filter((o) => o >= 0);
          else if (norm.every((a) => axes[a] === -1)) nextAxes = axes.filter((_, i) => !norm.includes(i));
          else continue;
        } else {
          const outRank = axes.length + list.length;
          const norm = list.map((a) => (a < 0 ? a + outRank : a)).sort((a, b) => a - b);
          for (const a of norm) nextAxes.splice(a, 0, -1);
        }
        visit(node.output[0]!, sel, nextAxes);
      }
    }
  };
  visit(mask, shape.map(() => null), shape.map((_, i) => i));
  return terms;
}

function isConstantZero(index: GraphIndex, name: string): boolean {
  const c = index.constant(name);
  return !!c && c.data.length <= 1 && Array.from(c.data as ArrayLike<number | bigint>).every((v) => Number(v) === 0);
}

/** The completed sum of a layer's terms (Add chains or Sum nodes), or undefined. */
function findLayerSum(index: GraphIndex, terms: MaskTerm[]): string | undefined {
  const outputs = terms.map((t) => t.mul.output[0]!);
  // covered[t] = the terms whose sum tensor t holds
  const covered = new Map<string, Set<string>>(outputs.map((o) => [o, new Set([o])]));
  let grew = true;
  while (grew) {
    grew = false;
    for (const t of [...covered.keys()]) {
      for (const c of index.consumers.get(t) ?? []) {
        if (c.opType !== "Add" && c.opType !== "Sum") continue;
        const out = c.output[0]!;
        if (covered.has(out)) continue;
        if (!c.input.every((i) => covered.has(i) || isConstantZero(index, i))) continue;
        const set = new Set<string>();
        for (const i of c.input) for (const x of covered.get(i) ?? []) set.add(x);
        covered.set(out, set);
        grew = true;
      }
    }
  }
  const full = [...covered.entries()].filter(([, s]) => s.size === outputs.length).map(([t]) => t);
  // The completed sum is the full one that no other full sum builds on (a trailing `+ 0` is fine).
  const roots = full.filter((t) => !(index.consumers.get(t) ?? []).some((c) => full.includes(c.output[0] ?? "")));
  return roots.length === 1 ? roots[0] : undefined;
}

/** Tensors that depend on the data input (forward closure), to tell data from masks and constants. */
function dataDependent(index: GraphIndex, order: NodeProto[], dataInput: string): Set<string> {
  const data = new Set<string>([dataInput]);
  for (const n of order) if (n.input.some((i) => i && data.has(i))) for (const o of n.output) if (o) data.add(o);
  return data;
}

function batchNormRef(node: NodeProto, index: GraphIndex, file: string): BatchNormRef {
  const [, scale, bias, mean, variance] = node.input;
  for (const [role, name] of [["scale", scale], ["B", bias], ["mean", mean], ["var", variance]] as const) {
    if (!name || !index.initializers.has(name)) {
      throw new NotASupernetError(file, `BatchNormalization node '${node.name}' takes its ${role} from '${name ?? ""}', which is not an initializer; re-export with the BatchNorm parameters as initializers (torch.onnx.export(..., training=torch.onnx.TrainingMode.PRESERVE))`);
    }
  }
  if (!node.name) throw new NotASupernetError(file, `a BatchNormalization node (scale '${scale}') has no name; bnnas refers to BatchNorms by node name`);
  return { node: node.name, scale: scale!, bias: bias!, mean: mean!, var: variance! };
}

/**
 * The branches of a layer whose candidates read `input`: for a candidate output, the nodes it
 * depends on downstream of the layer input (what the candidate computes). The nodes before the
 * layer are found once for all of its candidates.
 */
export function layerBranches(index: GraphIndex, input: string): (output: string) => Set<NodeProto> {
  const before = index.ancestors(input);
  const stop = new Set([input]);
  return (output) => {
    const branch = new Set<NodeProto>();
    for (const n of index.ancestors(output, stop)) if (!before.has(n)) branch.add(n);
    return branch;
  };
}

/** Infers the structure of a PyTorch-convention supernet from its graph. */
export function inferStructure(model: ModelProto, options: ImportOptions = {}): SupernetStructure {
  const file = options.file ?? "<model>";
  const graph = model.graph!;
  const index = new GraphIndex(graph);
  const order = index.topoOrder();
  const topo = new Map<string, number>();
  order.forEach((n, i) => n.output.forEach((o) => o && topo.set(o, i)));

  const hasBatchNorm = graph.node.some((n) => n.opType === "BatchNormalization");
  if (!hasBatchNorm && graph.node.some((n) => n.opType === "Conv" || n.opType === "Gemm" || n.opType === "MatMul")) {
    throw new FoldedBatchNormError(file);
  }

  // 1. mask inputs and their terms
  const byMask = new Map<string, MaskTerm[]>();
  for (const feed of index.feeds) {
    const shape = staticShape(feed);
    const et = elemType(feed);
    if (!shape || (shape.length !== 1 && shape.length !== 2)) continue;
    if (et !== undefined && !FLOAT_TYPES.has(et)) continue;
    const terms = findMaskTerms(index, feed.name, shape.map((d) => (typeof d === "number" && d > 0 ? d : undefined)));
    if (terms.length) byMask.set(feed.name, terms);
  }
  if (byMask.size === 0) {
    throw new NotASupernetError(file, `has no mask inputs: no float input of shape [K] or [L, K] whose entries multiply candidate outputs (inputs: ${index.feeds.map((f) => f.name).join(", ") || "none"}); a supernet must take its architecture as mask inputs, see the PyTorch convention in the bnnas docs`);
  }
  const dataFeeds = index.feeds.filter((f) => !byMask.has(f.name));
  if (dataFeeds.length !== 1) {
    throw new NotASupernetError(file, dataFeeds.length === 0
      ? `has no data input besides its mask inputs (${[...byMask.keys()].join(", ")})`
      : `has several data inputs (${dataFeeds.map((f) => f.name).join(", ")}); bnnas supports supernets with one data input besides the masks`);
  }
  const dataInput = dataFeeds[0]!;
  const data = dataDependent(index, order, dataInput.name);

  // 2. group terms into layers and find each layer's sum
  interface Draft { mask: MaskRef; terms: MaskTerm[]; output: string }
  const drafts: Draft[] = [];
  for (const [mask, terms] of byMask) {
    const rows = new Map<number, MaskTerm[]>();
    for (const t of terms) {
      if (!data.has(t.output)) continue; // a mask entry scaling a constant is not a candidate
      let list = rows.get(t.row);
      if (!list) rows.set(t.row, (list = []));
      list.push(t);
    }
    for (const [row, list] of rows) {
      const where = list[0]!.form === "matrix" ? `row ${row} of mask input '${mask}'` : `mask input '${mask}'`;
      const positions = new Set<number>();
      for (const t of list) {
        if (positions.has(t.position)) throw new NotASupernetError(file, `${where}: entry ${t.position} scales more than one tensor (nodes '${list.filter((x) => x.position === t.position).map((x) => x.mul.name).join("', '")}'); cannot tell which is the candidate`);
        positions.add(t.position);
      }
      const output = list.length === 1 ? list[0]!.mul.output[0]! : findLayerSum(index, list);
      if (!output) throw new NotASupernetError(file, `${where}: the masked candidate outputs (${list.map((t) => `'${t.mul.name}'`).join(", ")}) are not summed into one tensor by Add/Sum nodes alone`);
      drafts.push({ mask: list[0]!.form === "matrix" ? { kind: "matrix", input: mask, row } : { kind: "vector", input: mask }, terms: list, output });
    }
  }
  if (drafts.length === 0) throw new NotASupernetError(file, `its mask inputs (${[...byMask.keys()].join(", ")}) scale no tensor computed from the data input '${dataInput.name}'`);
  drafts.sort((a, b) => (topo.get(a.output) ?? -1) - (topo.get(b.output) ?? -1));

  // 3./4. layer inputs, candidate branches and their BatchNorms
  const layers: LayerInfo[] = drafts.map((d, l) => {
    const terms = d.terms.slice().sort((a, b) => a.position - b.position);
    const sets = terms.map((t) => {
      const s = index.upstreamTensors(t.output);
      if (terms.length === 1) s.delete(t.output);
      return s;
    });
    let best: string | undefined;
    let bestPos = -2;
    for (const t of sets[0]!) {
      if (!data.has(t) || !sets.every((s) => s.has(t))) continue;
      const p = topo.get(t) ?? -1; // graph inputs come first
      if (p > bestPos) { best = t; bestPos = p; }
    }
    if (best === undefined) throw new NotASupernetError(file, `layer ${l} (${d.mask.input}): its candidates share no input tensor`);
    const input = best;
    const branchOf = layerBranches(index, input);
    const candidates: CandidateInfo[] = terms.map((t) => {
      const bns = [...branchOf(t.output)]
        .filter((n) => n.opType === "BatchNormalization")
        .sort((a, b) => (topo.get(a.output[0]!) ?? 0) - (topo.get(b.output[0]!) ?? 0))
        .map((n) => batchNormRef(n, index, file));
      return { name: `op${t.position}`, position: t.position, output: t.output, maskMul: t.mul.name, batchNorms: bns, indicator: bns[bns.length - 1] ?? null };
    });
    for (const c of candidates) {
      if (!c.maskMul) throw new NotASupernetError(file, `layer ${l}: the mask Mul of candidate ${c.position} has no node name`);
    }
    return { label: `layer${l}`, input, output: d.output, mask: d.mask, candidates };
  });

  const outputs = graph.output.filter((o) => data.has(o.name));
  if (outputs.length === 0) throw new NotASupernetError(file, `no graph output depends on the data input '${dataInput.name}'`);
  const structure: SupernetStructure = {
    source: "pytorch",
    input: { name: dataInput.name, shape: staticShape(dataInput) ?? [] },
    output: outputs[0]!.name,
    layers,
  };
  if (options.pattern !== undefined) assignByPattern(structure, model, options.pattern, file);
  return structure;
}

/**
 * Re-assigns BatchNorms to candidates from initializer names: each BatchNormalization whose scale
 * initializer matches `pattern` belongs to the candidate at mask position `cand` of layer
 * `layer` (both integers). Layer values are the 0-based index of the choice layer in graph order;
 * if they do not fit that (e.g. modules numbered from 3), their distinct values are ranked, the
 * smallest being layer 0, which needs one value per layer.
 */
export function assignByPattern(structure: SupernetStructure, model: ModelProto, pattern: string, file = "<model>"): void {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new OptionError("pattern", (o) => `${o} '${pattern}' is not a valid regular expression (${(e as Error).message})`);
  }
  if (!/\(\?<layer>/.test(pattern) || !/\(\?<cand>/.test(pattern)) {
    throw new OptionError("pattern", (o) => `${o} '${pattern}' needs the named groups (?<layer>...) and (?<cand>...), e.g. 'blocks\\.(?<layer>\\d+)\\.(?<cand>\\d+)\\.'`);
  }
  const index = new GraphIndex(model.graph!);
  const order = index.topoOrder();
  const matches: { layer: number; cand: number; bn: BatchNormRef }[] = [];
  for (const n of order) {
    if (n.opType !== "BatchNormalization") continue;
    const m = re.exec(n.input[1] ?? "");
    if (!m?.groups) continue;
    const { layer: layerText, cand: candText } = m.groups;
    const layer = Number(layerText);
    const cand = Number(candText);
    if (!Number.isInteger(layer) || !Number.isInteger(cand)) {
      throw new OptionError("pattern", (o) => `${o}: initializer '${n.input[1]}' gives layer '${layerText}' and cand '${candText}'; both must be whole numbers`);
    }
    matches.push({ layer, cand, bn: batchNormRef(n, index, file) });
  }
  if (matches.length === 0) throw new OptionError("pattern", (o) => `${o} '${pattern}' matches no BatchNorm scale initializer in ${file}`);
  const L = structure.layers.length;
  const values = [...new Set(matches.map((m) => m.layer))].sort((a, b) => a - b);
  let layerOf: (v: number) => number;
  if (values.every((v) => v >= 0 && v < L)) layerOf = (v) => v;
  else if (values.length === L) layerOf = (v) => values.indexOf(v);
  else throw new OptionError("pattern", (o) => `${o}: the layer group takes ${values.length} values (${values.join(", ")}) but ${file} has ${L} choice layers (0..${L - 1})`);
  for (const layer of structure.layers) for (const c of layer.candidates) c.batchNorms = [];
  for (const m of matches) {
    const l = layerOf(m.layer);
    const cand = structure.layers[l]!.candidates.find((c) => c.position === m.cand);
    if (!cand) {
      const have = structure.layers[l]!.candidates.map((c) => c.position).join(", ");
      throw new OptionError("pattern", (o) => `${o}: initializer '${m.bn.scale}' names candidate ${m.cand} of layer ${l}, which has mask positions ${have}`);
    }
    cand.batchNorms.push(m.bn);
  }
  for (const layer of structure.layers) for (const c of layer.candidates) c.indicator = c.batchNorms[c.batchNorms.length - 1] ?? null;
}
