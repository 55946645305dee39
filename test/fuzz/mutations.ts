/**
 * Mutations of a seed ONNX model, at the protobuf level (decode, change fields, encode) and at the
 * byte level. Every mutation is driven by a seeded PRNG, so a case is reproducible from its index.
 *
 * Each mutant says what it expects:
 *  - "invalid":  the file is broken; every command must refuse it with a one-line error.
 *  - "maybe":    byte-level damage that can land somewhere harmless (a weight value, a string);
 *                a command may succeed, but then the file must pass the ONNX checker (full_check).
 *  - "valid":    a control that must behave exactly like the unmutated seed (e.g. weights moved
 *                to a properly confined external data file).
 */
import { gzipSync } from "node:zlib";
import { onnx, make, DataType, AttrType, decodeModelProto, encodeModelProto, type ModelProto, type TensorProto, type NodeProto } from "../../src/onnx/proto.js";
import { Random } from "../../src/util/random.js";
import type { Seed } from "./seeds.js";

export type Expect = "invalid" | "maybe" | "valid";

/** A file to create beside the mutant model (external data, symlinks). */
export type ExtraFile = { name: string; data: Uint8Array } | { name: string; symlinkTo: string } | { name: string; dir: true };

export interface Mutant {
  kind: string;
  detail: string;
  expect: Expect;
  bytes: Uint8Array;
  files?: ExtraFile[];
}

export class Rng {
  private readonly r: Random;
  constructor(seed: number) {
    this.r = new Random(seed);
  }
  int(n: number): number {
    return this.r.nextU32() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

interface Ctx {
  seed: Seed;
  model: ModelProto;
  rng: Rng;
}

type ProtoMutation = (c: Ctx) => { detail: string; files?: ExtraFile[]; expect?: Expect } | undefined;
type ByteMutation = (seed: Seed, rng: Rng) => Mutant;

const withData = (m: ModelProto) => m.graph!.initializer.filter((t) => (t.rawData?.length ?? 0) > 0);
const bigInits = (m: ModelProto) => m.graph!.initializer.filter((t) => t.dims.length > 0 && (t.rawData?.length ?? 0) >= 16);
const nodesWithInputs = (m: ModelProto) => m.graph!.node.filter((n) => n.input.some((i) => i));

function externalize(t: TensorProto, entries: [string, string][]): void {
  t.rawData = new Uint8Array(0);
  t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  t.externalData = entries.map(([k, v]) => make.entry(k, v));
}

const PROTO: Record<string, ProtoMutation> = {
  "dim-huge": ({ model, rng }) => {
    const t = rng.pick(bigInits(model));
    const i = rng.int(t.dims.length);
    const v = rng.pick([2 ** 40, 2 ** 53 - 1, 2 ** 31, 1e15, 2 ** 62]);
    t.dims[i] = v;
    return { detail: `${t.name}.dims[${i}] = ${v}` };
  },
  "dim-negative": ({ model, rng }) => {
    const t = rng.pick(bigInits(model));
    const i = rng.int(t.dims.length);
    const v = rng.pick([-1, -(2 ** 31), -(2 ** 40)]);
    t.dims[i] = v;
    return { detail: `${t.name}.dims[${i}] = ${v}` };
  },
  "input-dim": ({ model, rng }) => {
    const inputs = model.graph!.input.filter((i) => i.type?.tensorType?.shape?.dim.length);
    const vi = rng.pick(inputs);
    const dims = vi.type!.tensorType!.shape!.dim;
    const i = rng.int(dims.length);
    const v = rng.pick([2 ** 40, -3, 2 ** 53 - 1, -(2 ** 31)]);
    dims[i] = { dimValue: v };
    return { detail: `input ${vi.name} dim ${i} = ${v}` };
  },
  "dtype-init": ({ model, rng }) => {
    const t = rng.pick(withData(model));
    const to = rng.pick([0, 8, 9, 10, 6, 7, 11, 16, 999].filter((d) => d !== t.dataType));
    t.dataType = to;
    return { detail: `${t.name}: data type ${to}` };
  },
  "dtype-input": ({ model, rng }) => {
    const vi = rng.pick(model.graph!.input.filter((i) => i.type?.tensorType));
    const to = rng.pick([0, 7, 8, 9, 6, 999]);
    vi.type!.tensorType!.elemType = to;
    return { detail: `input ${vi.name}: elem type ${to}` };
  },
  "raw-length": ({ model, rng }) => {
    const t = rng.pick(withData(model));
    const raw = t.rawData!;
    const mode = rng.int(3);
    if (mode === 0) t.rawData = raw.slice(0, raw.length - 1 - rng.int(Math.min(raw.length, 64)));
    else if (mode === 1) t.rawData = new Uint8Array([...raw, ...new Uint8Array(1 + rng.int(64))]);
    else {
      // data moved to float_data with the wrong count
      t.rawData = new Uint8Array(0);
      t.floatData = [1, 2, 3];
      t.dataType = DataType.FLOAT;
    }
    return { detail: `${t.name}: raw data ${raw.length} -> ${t.rawData.length} bytes (mode ${mode})` };
  },
  dangling: ({ model, rng }) => {
    const n = rng.pick(nodesWithInputs(model));
    const i = rng.int(n.input.length);
    n.input[i] = `ghost_${rng.int(1000)}`;
    return { detail: `node ${n.name || n.opType} input ${i} -> ${n.input[i]}` };
  },
  cycle: ({ model, rng }) => {
    // feed a node's output back into the input of an ancestor (the producer of one of its inputs)
    const g = model.graph!;
    const producer = new Map<string, NodeProto>();
    for (const n of g.node) for (const o of n.output) producer.set(o, n);
    const candidates = g.node.filter((n) => n.input.some((i) => producer.has(i)));
    const n = rng.pick(candidates);
    const p = producer.get(rng.pick(n.input.filter((i) => producer.has(i))))!;
    const j = p.input.findIndex((i) => i);
    if (j < 0) return undefined;
    p.input[j] = n.output[0]!;
    return { detail: `${p.name || p.opType}.input[${j}] = output of ${n.name || n.opType}` };
  },
  "self-loop": ({ model, rng }) => {
    const n = rng.pick(nodesWithInputs(model));
    n.input[0] = n.output[0]!;
    return { detail: `${n.name || n.opType} reads its own output` };
  },
  "ext-escape": ({ model, rng }) => {
    const t = rng.pick(bigInits(model));
    const len = String(t.rawData!.length);
    const v = rng.int(7);
    const files: ExtraFile[] = [];
    let location: string;
    if (v === 0) location = "../../etc/passwd";
    else if (v === 1) location = "/etc/passwd";
    else if (v === 2) location = "weights/../../outside.bin";
    else if (v === 3) {
      location = "link.bin"; // a symlink to a file outside the model's directory
      files.push({ name: "link.bin", symlinkTo: "/etc/passwd" });
    } else if (v === 4) {
      location = "linkdir/passwd"; // a symlinked directory leading out
      files.push({ name: "linkdir", symlinkTo: "/etc" });
    } else if (v === 5) location = "./../outside.bin";
    else location = "file:///etc/passwd";
    externalize(t, [["location", location], ["offset", "0"], ["length", len]]);
    return { detail: `${t.name} external at '${location}'`, files };
  },
  "ext-bad": ({ model, rng }) => {
    const t = rng.pick(bigInits(model));
    const n = t.rawData!.length;
    const data = t.rawData!.slice();
    const v = rng.int(7);
    const files: ExtraFile[] = [{ name: "w.bin", data }];
    let entries: [string, string][];
    if (v === 0) entries = [["location", "missing.bin"]];
    else if (v === 1) entries = [["location", "w.bin"], ["offset", String(n)], ["length", String(n)]];
    else if (v === 2) entries = [["location", "w.bin"], ["offset", "0"], ["length", String(n - 4)]];
    else if (v === 3) entries = [["location", "w.bin"], ["offset", "-8"]];
    else if (v === 4) entries = [["location", ""]];
    else if (v === 5) entries = [["offset", "0"]];
    else entries = [["location", "w.bin"], ["offset", "1e400"], ["length", "NaN"]];
    if (v === 6) files.push({ name: "sub", dir: true });
    externalize(t, entries);
    return { detail: `${t.name} external ${JSON.stringify(entries)}`, files };
  },
  "ext-dir": ({ model, rng }) => {
    const t = rng.pick(bigInits(model));
    externalize(t, [["location", "sub"]]);
    return { detail: `${t.name} external data location is a directory`, files: [{ name: "sub", dir: true }] };
  },
  "ext-ok": ({ model, rng }) => {
    // A control: weights stored externally the right way must load like the seed.
    const t = rng.pick(bigInits(model));
    const data = t.rawData!.slice();
    const pad = rng.int(3) * 16;
    const file = new Uint8Array(pad + data.length + 8);
    file.set(data, pad);
    externalize(t, [["location", "weights.bin"], ["offset", String(pad)], ["length", String(data.length)]]);
    return { detail: `${t.name} in weights.bin at ${pad}`, files: [{ name: "weights.bin", data: file }], expect: "valid" };
  },
  "manifest-junk": ({ seed, model, rng }) => {
    // The seed's own metadata key: junk under a key a file of that kind never reads is harmless.
    const key = seed.name === "bnnas" ? "bnnas.manifest" : seed.name === "subnet" ? "bnnas.subnet" : "bnnas.training";
    const value = rng.pick(["{", "null", "[]", "{}", "1e999", "[".repeat(200000), '{"format":1}', '{"format":"bnnas-subnet/1","arch":"x"}', "\u0000\uffff", '{"format":1,"space":{"name":1}}']);
    const e = model.metadataProps.find((x) => x.key === key);
    if (e) e.value = value;
    else model.metadataProps.push(make.entry(key, value));
    // A training record is any JSON object (or null): those values are a legitimate record.
    let harmless = false;
    try {
      const v = JSON.parse(value);
      harmless = key === "bnnas.training" && (v === null || (typeof v === "object" && !Array.isArray(v)));
    } catch {
      /* not JSON: broken */
    }
    return { detail: `${key} = ${JSON.stringify(value.slice(0, 40))}`, expect: harmless ? "maybe" : "invalid" };
  },
  "manifest-names": ({ model, rng }) => {
    // A well-formed manifest whose names do not match the graph.
    const e = model.metadataProps.find((x) => x.key === "bnnas.manifest" || x.key === "bnnas.subnet");
    if (!e) return undefined;
    const m = JSON.parse(e.value);
    const v = rng.int(10);
    if (e.key === "bnnas.subnet") {
      if (v < 3) m.input.name = "no_such_input";
      else if (v < 5) m.input.normalize = { mean: [0.5], std: [0] };
      else if (v < 7) m.input.normalize = { mean: [0.5, 1], std: [1] };
      else if (v < 8) m.arch = [1e300];
      else m.input.shape = ["batch", 1, 2 ** 40, 28];
      e.value = JSON.stringify(m);
      return { detail: `subnet manifest variant ${v}` };
    }
    const l = m.layers[rng.int(m.layers.length)];
    const c = l.candidates[rng.int(l.candidates.length)];
    const other = m.layers[(m.layers.indexOf(l) + 1) % m.layers.length];
    if (v === 0) l.mask = m.input.name;
    else if (v === 1 && c.indicator) c.indicator.scale = other.candidates[0].batchNorms.at(-1)?.scale ?? "x";
    else if (v === 2 && c.batchNorms.length > 1) c.batchNorms[0].node = c.batchNorms[1].node;
    else if (v === 3) c.position = l.candidates[(l.candidates.indexOf(c) + 1) % l.candidates.length].position;
    else if (v === 4) m.input.shape = [1, 2 ** 40, 28];
    else if (v === 5) m.classes = 3;
    else if (v === 6) c.output = other.candidates[0].output;
    else if (v === 7) l.input = m.output;
    else if (v === 8) m.layers.reverse();
    else l.output = c.output;
    e.value = JSON.stringify(m);
    return { detail: `manifest variant ${v} (layer ${l.label}, candidate ${c.name})` };
  },
  "attr-junk": ({ model, rng }) => {
    const nodes = model.graph!.node.filter((n) => ["Conv", "MaxPool", "AveragePool", "Gather", "Flatten", "BatchNormalization"].includes(n.opType));
    const n = rng.pick(nodes);
    const v = rng.int(6);
    const set = (name: string, a: ReturnType<typeof make.attribute>) => {
      n.attribute = n.attribute.filter((x) => x.name !== name);
      n.attribute.push(a);
    };
    if (n.opType === "Conv" || n.opType.endsWith("Pool")) {
      const which = ["strides", "kernel_shape", "pads", "dilations", "group", "group"][v]!;
      if (which === "group") set("group", make.attribute({ name: "group", type: AttrType.INT, i: rng.pick([0, -1, 2 ** 40]) }));
      else if (which === "pads") set("pads", make.attribute({ name: "pads", type: AttrType.INTS, ints: [-1, -1, -1, -1] }));
      else if (which === "kernel_shape") set("kernel_shape", make.attribute({ name: "kernel_shape", type: AttrType.INTS, ints: rng.pick([[2 ** 40, 3], [0, 0], [-3, 3]]) }));
      else set(which, make.attribute({ name: which, type: AttrType.INTS, ints: rng.pick([[0, 0], [-1, 1], [2 ** 40, 1]]) }));
      return { detail: `${n.name}.${which} junk` };
    }
    if (n.opType === "BatchNormalization") {
      set("epsilon", make.attribute({ name: "epsilon", type: AttrType.FLOAT, f: rng.pick([-1, NaN, Infinity]) }));
      return { detail: `${n.name}.epsilon junk` };
    }
    set("axis", make.attribute({ name: "axis", type: AttrType.INT, i: rng.pick([99, -99, 2 ** 40]) }));
    return { detail: `${n.name}.axis junk` };
  },
  "attr-type": ({ model, rng }) => {
    // an attribute whose declared type does not match its name (strides as a string)
    const n = rng.pick(model.graph!.node.filter((x) => x.attribute.length > 0));
    const a = rng.pick(n.attribute);
    a.type = rng.pick([AttrType.STRING, AttrType.GRAPH, AttrType.TENSOR, 99].filter((t) => t !== a.type));
    return { detail: `${n.name}.${a.name} type ${a.type}` };
  },
  "op-unknown": ({ model, rng }) => {
    const n = rng.pick(model.graph!.node);
    n.opType = rng.pick(["NoSuchOp", "", "conv", "Conv ", "Relu\u0000"]);
    return { detail: `${n.name} op_type ${JSON.stringify(n.opType)}` };
  },
  "node-remove": ({ model, rng }) => {
    const g = model.graph!;
    const i = rng.int(g.node.length);
    const [n] = g.node.splice(i, 1);
    return { detail: `removed ${n!.name || n!.opType}` };
  },
  "dup-output": ({ model, rng }) => {
    const g = model.graph!;
    const a = rng.pick(g.node);
    const b = rng.pick(g.node.filter((x) => x !== a));
    a.output[0] = b.output[0]!;
    return { detail: `${a.name} also produces ${b.output[0]}` };
  },
  "dup-initializer": ({ model, rng }) => {
    const g = model.graph!;
    const t = rng.pick(withData(g.initializer.length ? model : model));
    const copy = make.tensor({ ...t, rawData: new Uint8Array(4) });
    g.initializer.push(copy);
    return { detail: `second initializer named ${t.name}` };
  },
  "graph-output": ({ model, rng }) => {
    const g = model.graph!;
    if (rng.int(2) === 0) g.output = [];
    else g.output[0]!.name = "ghost_output";
    return { detail: `graph outputs: ${g.output.map((o) => o.name).join(",") || "none"}` };
  },
  "ir-opset": ({ model, rng }) => {
    const v = rng.int(5);
    if (v === 0) model.irVersion = 0;
    else if (v === 1) model.opsetImport = [];
    else if (v === 2) model.opsetImport = [{ domain: "", version: 10000 }];
    else if (v === 3) model.opsetImport = [{ domain: "", version: 0 }];
    else model.irVersion = 99;
    return { detail: `ir/opset variant ${v}` };
  },
  "no-graph-input": ({ model }) => {
    model.graph!.input = [];
    return { detail: "graph inputs removed" };
  },
};

const BYTE: Record<string, ByteMutation> = {
  truncate: (seed, rng) => {
    const k = rng.int(seed.bytes.length);
    return { kind: "truncate", detail: `first ${k} of ${seed.bytes.length} bytes`, expect: "maybe", bytes: seed.bytes.slice(0, k) };
  },
  garbage: (_seed, rng) => {
    const n = rng.pick([0, 1, 3, 17, 256, 4096]);
    return { kind: "garbage", detail: `${n} random bytes`, expect: "invalid", bytes: rng.bytes(n) };
  },
  "not-a-model": (seed, rng) => {
    const model = decodeModelProto(seed.bytes);
    const v = rng.int(7);
    let bytes: Uint8Array;
    if (v === 0) bytes = onnx.GraphProto.encode(model.graph as never).finish();
    else if (v === 1) bytes = onnx.TensorProto.encode(model.graph!.initializer[0] as never).finish();
    else if (v === 2) bytes = onnx.NodeProto.encode(model.graph!.node[0] as never).finish();
    else if (v === 3) bytes = encodeModelProto(make.model({ irVersion: 8, opsetImport: [{ domain: "", version: 17 }] }));
    else if (v === 4) bytes = new TextEncoder().encode('{"ir_version": 8, "graph": {}}');
    else if (v === 5) bytes = gzipSync(seed.bytes);
    else bytes = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...rng.bytes(64)]);
    return { kind: "not-a-model", detail: `variant ${v}`, expect: "invalid", bytes };
  },
  "byte-flip": (seed, rng) => {
    const bytes = seed.bytes.slice();
    const n = 1 + rng.int(8);
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = rng.int(bytes.length);
      bytes[p] = rng.int(256);
      at.push(p);
    }
    return { kind: "byte-flip", detail: `bytes at ${at.join(",")}`, expect: "maybe", bytes };
  },
  "length-bomb": (seed, rng) => {
    // a length-delimited field claiming ~2^31 bytes right after a valid prefix
    const k = rng.int(seed.bytes.length);
    const bytes = new Uint8Array([...seed.bytes.slice(0, k), 0x3a, 0xff, 0xff, 0xff, 0xff, 0x07, 1, 2, 3]);
    return { kind: "length-bomb", detail: `at ${k}`, expect: "invalid", bytes };
  },
};

export const PROTO_KINDS = Object.keys(PROTO);
export const BYTE_KINDS = Object.keys(BYTE);
export const ALL_KINDS = [...PROTO_KINDS, ...BYTE_KINDS];

/** The mutant number `index` of `kind` on `seed` (deterministic). */
export function mutate(seed: Seed, kind: string, index: number): Mutant | undefined {
  const rng = new Rng(0x5eed ^ Math.imul(index + 1, 0x9e3779b1));
  if (BYTE[kind]) return BYTE[kind]!(seed, rng);
  const model = decodeModelProto(seed.bytes);
  const r = PROTO[kind]!({ seed, model, rng });
  if (!r) return undefined;
  return { kind, detail: r.detail, expect: r.expect ?? "invalid", bytes: encodeModelProto(model), files: r.files };
}

/** Case `i` of the suite: kinds cycle fastest, then seeds, so every kind meets every seed. */
export function caseAt(i: number, seeds: readonly Seed[]): { seed: Seed; mutant: Mutant | undefined } {
  const kind = ALL_KINDS[i % ALL_KINDS.length]!;
  const seed = seeds[Math.floor(i / ALL_KINDS.length) % seeds.length]!;
  return { seed, mutant: mutate(seed, kind, i) };
}
