/**
 * The backward builder: given forward nodes, seeds (d target / d some forward tensors) and the
 * tensors to differentiate with respect to, it emits gradient nodes into a GraphBuilder.
 *
 * - Only nodes on a path from a `wrt` tensor to a seeded tensor are visited (tinygrad's walk).
 * - Each node's rule is looked up by op type; only the thunks of inputs that lead back to a
 *   `wrt` tensor are called.
 * - Broadcasting is undone here, once: a gradient arriving in the output's shape is summed over
 *   the broadcast axes and reshaped to the input's shape.
 * - Several contributions to one tensor are summed with one Sum node.
 */
import { attr, type Attr, type GraphBuilder } from "../onnx/builder.js";
import type { NodeProto } from "../onnx/proto.js";
import type { Tensor } from "../onnx/tensor.js";
import { lookupRule } from "../opset/registry.js";
import type { GradContext, Shape } from "../opset/types.js";

export interface BackwardSpec {
  /** Forward nodes in topological order (as in the original graph: BatchNormalization not lowered). */
  nodes: readonly NodeProto[];
  shapes: ReadonlyMap<string, Shape>;
  constant(tensor: string): Tensor | undefined;
  /** forward tensor -> name of the tensor holding d target / d it. */
  seeds: ReadonlyMap<string, string>;
  /** tensors to differentiate with respect to. */
  wrt: readonly string[];
}

/**
 * The nodes the backward visits, in forward order: those with an input that depends on a `wrt`
 * tensor and an output a seed depends on (tinygrad's walk); `live` holds the tensors that depend
 * on a `wrt` tensor.
 */
export function nodesToDifferentiate(nodes: readonly NodeProto[], wrt: Iterable<string>, seeds: Iterable<string>): { nodes: NodeProto[]; live: Set<string> } {
  const live = new Set(wrt);
  for (const n of nodes) if (n.input.some((i) => i && live.has(i))) for (const o of n.output) if (o) live.add(o);
  const needed = new Set(seeds);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]!;
    if (n.output.some((o) => o && needed.has(o))) for (const i of n.input) if (i) needed.add(i);
  }
  return { nodes: nodes.filter((n) => n.input.some((i) => i && live.has(i)) && n.output.some((o) => o && needed.has(o))), live };
}

/** Emits the backward graph; returns, per `wrt` tensor reached, the name of its gradient. */
export function buildBackward(b: GraphBuilder, spec: BackwardSpec): Map<string, string> {
  const { shapes } = spec;
  const { nodes, live } = nodesToDifferentiate(spec.nodes, spec.wrt, spec.seeds.keys());

  const contributions = new Map<string, string[]>();
  const add = (t: string, g: string) => {
    const list = contributions.get(t);
    if (list) list.push(g);
    else contributions.set(t, [g]);
  };
  for (const [t, g] of spec.seeds) add(t, g);
  const total = (t: string): string | undefined => {
    const list = contributions.get(t);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0]!;
    const s = b.op("Sum", list, {}, `${t}_grad_sum`);
    contributions.set(t, [s]);
    return s;
  };

  const scalars = new Map<number, string>();
  const intLists = new Map<string, string>();
  const shape = (t: string): Shape => {
    const s = shapes.get(t);
    if (!s) throw new Error(`autodiff: the shape of '${t}' is unknown`);
    return s;
  };
  const scalar = (v: number) => {
    let s = scalars.get(v);
    if (!s) scalars.set(v, (s = b.floatInit(`grad_const_${v}`, [], [v])));
    return s;
  };
  const ints = (vals: readonly number[]) => {
    const key = vals.join(",");
    let s = intLists.get(key);
    if (!s) intLists.set(key, (s = b.int64Init(`grad_ints_${key.replace(/-/g, "m").replace(/,/g, "_")}`, [vals.length], vals)));
    return s;
  };

  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    const dys = node.output.map((o) => (o ? total(o) : undefined));
    if (dys.every((d) => d === undefined)) continue;
    const rule = lookupRule(node.opType);
    const base = node.name || node.output[0]!;
    const ctx: GradContext = {
      b,
      node,
      shape,
      constant: spec.constant,
      scalar,
      ints,
      op: (opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, hint = opType) => b.op(opType, inputs, attrs, `${base}_grad/${hint}`),
    };
    const thunks = rule.gradFunc(ctx, dys);
    node.input.forEach((input, i) => {
      if (!input || !live.has(input) || rule.nonDifferentiable?.includes(i)) return;
      const thunk = thunks[i];
      if (!thunk) throw new Error(`autodiff: the ${node.opType} rule gives no gradient for input ${i} ('${input}') of node '${base}'`);
      const g = thunk();
      add(input, rule.broadcasts ? unbroadcast(b, ctx, g, rule.gradShape ? rule.gradShape(ctx, i) : shape(node.output[0]!), shape(input), input) : g);
    });
  }

  const result = new Map<string, string>();
  for (const w of spec.wrt) {
    const g = total(w);
    if (g) result.set(w, g);
  }
  return result;
}

/**
 * Sums a gradient given in `from` (the broadcast output shape) down to `to` (the input shape).
 */
function unbroadcast(b: GraphBuilder, ctx: GradContext, g: string, from: Shape, to: Shape, input: string): string {
  if (!isBroadcastOf(to, from)) return g;
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    if (i < lead) axes.push(i);
    else if (to[i - lead] === 1 && from[i] !== 1) axes.push(i);
  }
  if (axes.length === 0) return g;
  let r = b.op("ReduceSum", [g, ctx.ints(axes)], { keepdims: attr.int(1) }, `${input}_grad/unbroadcast`);
  if (lead > 0) {
    const target = to.every((d) => typeof d === "number") ? ctx.ints(to as number[]) : b.op("Shape", [input], {}, `${input}_grad/shape`);
    r = b.op("Reshape", [r, target], {}, `${input}_grad/reshape`);
  }
  return r;
}

/** True when `from` is a (strict) numpy broadcast of `to`. */
function isBroadcastOf(to: Shape, from: Shape): boolean {
  if (to.length > from.length) return false;
  const lead = from.length - to.length;
  let differs = lead > 0;
  for (let i = 0; i < to.length; i++) {
    const t = to[i]!, f = from[i + lead]!;
    if (t === f) continue;
    if (t !== 1) return false;
    differs = true;
  }
  return differs;
}
