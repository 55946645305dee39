/**
 * GraphBuilder: emits ONNX nodes, initializers, inputs and outputs with deterministic names, and
 * packs them into an IR 8 / opset 17 ModelProto. Names are derived from the caller's hints, never
 * random, so the same spec gives the same bytes.
 */
import { make, DataType, AttrType, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from "./proto.js";
import { floatTensor, int64Tensor } from "./tensor.js";

export const IR_VERSION = 8;
export const OPSET = 17;

export type Attr = Partial<AttributeProto>;
/** Typed attribute constructors: ONNX distinguishes INT from FLOAT, JavaScript numbers do not. */
export const attr = {
  int: (i: number): Attr => ({ type: AttrType.INT, i }),
  ints: (ints: readonly number[]): Attr => ({ type: AttrType.INTS, ints: [...ints] }),
  float: (f: number): Attr => ({ type: AttrType.FLOAT, f }),
  floats: (floats: readonly number[]): Attr => ({ type: AttrType.FLOATS, floats: [...floats] }),
  str: (s: string): Attr => ({ type: AttrType.STRING, s: new TextEncoder().encode(s) }),
  tensor: (t: TensorProto): Attr => ({ type: AttrType.TENSOR, t }),
};

export type Dim = number | string;

export function valueInfo(name: string, shape: readonly Dim[] | undefined, elemType: number = DataType.FLOAT): ValueInfoProto {
  const dim = shape?.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d }));
  return make.valueInfo({ name, type: { tensorType: dim ? { elemType, shape: { dim } } : { elemType } } });
}

export interface NodeOptions {
  /** Node name; also the base of its output names. Defaults to `<opType>_<n>`. */
  name?: string;
  /** Output names, or how many outputs to create. Defaults to one. */
  outputs?: number | string[];
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly counters = new Map<string, number>();

  /** Returns `base` if unused, else `base_1`, `base_2`, ... (deterministic). */
  unique(base: string): string {
    if (!this.used.has(base)) {
      this.used.add(base);
      return base;
    }
    let i = this.counters.get(base) ?? 1;
    while (this.used.has(`${base}_${i}`)) i++;
    this.counters.set(base, i + 1);
    const name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Marks names (e.g. of an imported graph) as taken. */
  reserve(names: Iterable<string>): void {
    for (const n of names) this.used.add(n);
  }

  input(name: string, shape: readonly Dim[], elemType: number = DataType.FLOAT): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, shape, elemType));
    return name;
  }

  output(name: string, shape?: readonly Dim[], elemType: number = DataType.FLOAT): string {
    this.outputs.push(valueInfo(name, shape, elemType));
    return name;
  }

  initializer(tensor: TensorProto): string {
    this.used.add(tensor.name);
    this.initializers.push(tensor);
    return tensor.name;
  }

  floatInit(name: string, dims: readonly number[], data: Float32Array | readonly number[]): string {
    return this.initializer(floatTensor(this.unique(name), dims, data));
  }

  int64Init(name: string, dims: readonly number[], data: readonly number[]): string {
    return this.initializer(int64Tensor(this.unique(name), dims, data));
  }

  /** Adds a node; returns its output names. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, options: NodeOptions = {}): string[] {
    const name = this.unique(options.name ?? `${opType}_${this.nodes.length}`);
    const outs = options.outputs ?? 1;
    const outputNames = typeof outs === "number" ? Array.from({ length: outs }, (_, i) => this.unique(outs === 1 ? `${name}.out` : `${name}.out${i}`)) : outs.map((o) => (this.used.add(o), o));
    const attribute = Object.keys(attrs)
      .sort()
      .map((k) => make.attribute({ ...attrs[k], name: k }));
    this.nodes.push(make.node({ name, opType, input: [...inputs], output: outputNames, attribute }));
    return outputNames;
  }

  /** Adds a single-output node; returns its output name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, name?: string): string {
    return this.node(opType, inputs, attrs, { name })[0]!;
  }

  graph(name: string): GraphProto {
    return make.graph({ name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs });
  }

  build(options: { name: string; docString?: string; opset?: number; metadata?: Record<string, string> }): ModelProto {
    return makeModel(this.graph(options.name), options);
  }
}

export function makeModel(graph: GraphProto, options: { docString?: string; opset?: number; metadata?: Record<string, string> } = {}): ModelProto {
  return make.model({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: options.opset ?? OPSET }],
    producerName: "bnnas",
    producerVersion: "0.1.0",
    docString: options.docString ?? "",
    graph,
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => make.entry(key, value)),
  });
}
