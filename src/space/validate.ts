/**
 * Validation of a space from untrusted JSON (a user's file, or a manifest): every problem is a
 * SpaceError naming the JSON path (`layers[3].allowed[1]: ...`) and, when known, the file.
 * Returns a normalised spec (defaults filled in: labels, input name, each layer's allowed list),
 * so what the manifest embeds says exactly what was built; validating it again gives it back.
 */
import { opKind, parseOp } from "../ops/index.js";
import type { OpPlace, Shape } from "../ops/geometry.js";
import { asArray, asInt, asNumber, asObject, asString, JsonPath, optional, required } from "../util/json.js";
import type { CandidateSpec, FixedOpSpec, LayerSpec, SpaceSpec } from "./spec.js";

export const LIMITS = {
  channels: 16384,
  inputChannels: 4096,
  spatial: 8192,
  classes: 1_000_000,
  stride: 4,
  layers: 1000,
  candidates: 64,
  fixedOps: 64,
} as const;

/** Names appear inside initializer names (`layers.3.<name>.bn3.scale`): no dots, no spaces. */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const RESERVED_NAMES = ["sum", "out"];
const NAME_HELP = "use letters, digits, '_' or '-' (no dots or spaces), starting with a letter, at most 64 characters";

const TOP_KEYS = ["name", "description", "input", "classes", "stem", "candidates", "layers", "head", "fixedDepth"] as const;

function fixedOps(raw: unknown, at: JsonPath, shape: Shape): { ops: FixedOpSpec[]; shape: Shape } {
  const list = asArray(raw, at, 0, LIMITS.fixedOps);
  const ops: FixedOpSpec[] = [];
  list.forEach((item, i) => {
    const p = at.index(i);
    const o = asObject(item, p, ["op", "out", "stride"]);
    const op = required(o, "op", p, parseOp);
    const out = required(o, "out", p, (v, a) => asInt(v, a, 1, LIMITS.channels));
    const stride = optional(o, "stride", p, (v, a) => asInt(v, a, 1, LIMITS.stride)) ?? 1;
    const place: OpPlace = { in: shape, out, stride };
    const kind = opKind(op);
    const problem = kind.problem(op, place);
    if (problem) throw p.key("op").error(problem);
    shape = kind.outShape(op, place);
    ops.push(o.stride === undefined ? { op, out } : { op, out, stride });
  });
  return { ops, shape };
}

export function validateSpace(raw: unknown, file?: string): SpaceSpec {
  const root = new JsonPath("", file);
  const o = asObject(raw, root, TOP_KEYS);
  const name = required(o, "name", root, (v, a) => asString(v, a, NAME_PATTERN, NAME_HELP));
  const description = optional(o, "description", root, (v, a) => asString(v, a));

  const inAt = root.key("input");
  const inp = required(o, "input", root, (v, a) => asObject(v, a, ["name", "shape", "normalize"]));
  const inputName = optional(inp, "name", inAt, (v, a) => asString(v, a, NAME_PATTERN, NAME_HELP)) ?? "input";
  const shapeArr = required(inp, "shape", inAt, (v, a) => asArray(v, a, 3, 3));
  const shape: [number, number, number] = [
    asInt(shapeArr[0], inAt.key("shape").index(0), 1, LIMITS.inputChannels),
    asInt(shapeArr[1], inAt.key("shape").index(1), 1, LIMITS.spatial),
    asInt(shapeArr[2], inAt.key("shape").index(2), 1, LIMITS.spatial),
  ];
  const normAt = inAt.key("normalize");
  const norm = required(inp, "normalize", inAt, (v, a) => asObject(v, a, ["mean", "std"]));
  const mean = required(norm, "mean", normAt, (v, a) => asArray(v, a, shape[0], shape[0]).map((x, i) => asNumber(x, a.index(i))));
  const std = required(norm, "std", normAt, (v, a) => asArray(v, a, shape[0], shape[0]).map((x, i) => asNumber(x, a.index(i), 0, Infinity, true)));
  const classes = required(o, "classes", root, (v, a) => asInt(v, a, 1, LIMITS.classes));

  const stem = fixedOps(o.stem ?? [], root.key("stem"), { c: shape[0], h: shape[1], w: shape[2] });

  const candAt = root.key("candidates");
  const candidates: CandidateSpec[] = required(o, "candidates", root, (v, a) => asArray(v, a, 1, LIMITS.candidates)).map((c, i) => {
    const p = candAt.index(i);
    const co = asObject(c, p, ["name", "op"]);
    return { name: required(co, "name", p, (v, a) => asString(v, a, NAME_PATTERN, NAME_HELP)), op: required(co, "op", p, parseOp) };
  });
  const seen = new Map<string, number>();
  candidates.forEach((c, i) => {
    // The exporter names each layer's masked sum `layers.<l>.sum` -> `layers.<l>.out`.
    if (RESERVED_NAMES.includes(c.name)) throw candAt.index(i).key("name").error(`'${c.name}' is reserved (${RESERVED_NAMES.join(", ")}); choose another name`);
    if (seen.has(c.name)) throw candAt.index(i).key("name").error(`'${c.name}' is already the name of candidates[${seen.get(c.name)}]`);
    seen.set(c.name, i);
  });

  const layersAt = root.key("layers");
  let cur = stem.shape;
  const labels = new Map<string, number>();
  const layers: LayerSpec[] = required(o, "layers", root, (v, a) => asArray(v, a, 1, LIMITS.layers)).map((l, i) => {
    const p = layersAt.index(i);
    const lo = asObject(l, p, ["label", "in", "out", "stride", "allowed"]);
    const label = optional(lo, "label", p, (v, a) => asString(v, a, NAME_PATTERN, NAME_HELP)) ?? `layer${i}`;
    if (labels.has(label)) throw p.key("label").error(`'${label}' is already the label of layers[${labels.get(label)}]`);
    labels.set(label, i);
    const cin = required(lo, "in", p, (v, a) => asInt(v, a, 1, LIMITS.channels));
    if (cin !== cur.c) throw p.key("in").error(`is ${cin}, but ${i === 0 ? "the stem outputs" : `layers[${i - 1}] outputs`} ${cur.c} channels`);
    const out = required(lo, "out", p, (v, a) => asInt(v, a, 1, LIMITS.channels));
    const stride = required(lo, "stride", p, (v, a) => asInt(v, a, 1, LIMITS.stride));
    const place: OpPlace = { in: cur, out, stride };
    let allowed: string[];
    if (lo.allowed === undefined) {
      allowed = candidates.filter((c) => opKind(c.op).problem(c.op, place) === undefined).map((c) => c.name);
      if (allowed.length === 0) throw p.error(`no candidate can be built here (${cin} -> ${out}, stride ${stride}): ${candidates.map((c) => opKind(c.op).problem(c.op, place)).join("; ")}`);
    } else {
      const list = asArray(lo.allowed, p.key("allowed"), 1, candidates.length);
      const positions = list.map((n, j) => {
        const a = p.key("allowed").index(j);
        const s = asString(n, a);
        const pos = seen.get(s);
        if (pos === undefined) throw a.error(`unknown candidate '${s}' (candidates: ${candidates.map((c) => c.name).join(", ")})`);
        const problem = opKind(candidates[pos]!.op).problem(candidates[pos]!.op, place);
        if (problem) throw a.error(`'${s}' cannot be used in this layer: ${problem}`);
        return pos;
      });
      if (new Set(positions).size !== positions.length) throw p.key("allowed").error("names a candidate twice");
      // Keep mask-position order so the layer's graph and the manifest list candidates alike.
      allowed = [...positions].sort((a, b) => a - b).map((pos) => candidates[pos]!.name);
    }
    const shapes = allowed.map((n) => {
      const c = candidates[seen.get(n)!]!;
      return opKind(c.op).outShape(c.op, place);
    });
    if (shapes.some((s) => s.h !== shapes[0]!.h || s.w !== shapes[0]!.w)) throw p.error("its candidates produce different spatial sizes");
    cur = shapes[0]!;
    return { label, in: cin, out, stride, allowed };
  });

  const headAt = root.key("head");
  const head = asObject(o.head ?? {}, headAt, ["ops"]);
  const headOps = fixedOps(head.ops ?? [], headAt.key("ops"), cur);

  let fixedDepth: number[] | undefined;
  if (o.fixedDepth !== undefined) {
    const fdAt = root.key("fixedDepth");
    fixedDepth = asArray(o.fixedDepth, fdAt, 0, layers.length).map((v, j) => {
      const l = asInt(v, fdAt.index(j), 0, layers.length - 1);
      const identity = layers[l]!.allowed!.some((n) => candidates[seen.get(n)!]!.op.type === "skip");
      if (!identity) throw fdAt.index(j).error(`layers[${l}] has no identity (skip) candidate, so its depth cannot be fixed`);
      return l;
    });
    if (new Set(fixedDepth).size !== fixedDepth.length) throw fdAt.error("names a layer twice");
  }

  const spec: SpaceSpec = {
    name,
    ...(description !== undefined ? { description } : {}),
    input: { name: inputName, shape, normalize: { mean, std } },
    classes,
    stem: stem.ops,
    candidates,
    layers,
    head: { ops: headOps.ops },
    ...(fixedDepth !== undefined ? { fixedDepth } : {}),
  };
  return spec;
}
