/**
 * Validation of untrusted models beyond graph structure (graph.ts graphProblem): IR and opset
 * versions onnxruntime can load, tensors whose dims and data agree (checked before anything is
 * allocated from them), sane value-info shapes and element types, attributes of the right type
 * and range, operators that exist, and operand types that fit the operators bnnas meets. Each
 * check answers with a short problem description naming the tensor or node, so a hostile file
 * ends in one clear line instead of an allocation failure or a TypeError deep inside a stage.
 */
import { AttrType, DataType, num, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from "../onnx/proto.js";
import { GraphIndex, graphProblem } from "../onnx/graph.js";
import { ONNX_OPS } from "../onnx/ops-list.js";
import { elementSize } from "../onnx/tensor.js";
import { findOp } from "../opset/registry.js";

/** onnxruntime-node 1.30 loads IR versions up to 13 and default-domain opsets up to 26. */
export const MAX_IR_VERSION = 13;
export const MAX_OPSET = 26;
/** Largest dim (and element count) bnnas accepts in a tensor or a declared shape. */
export const MAX_DIM = 2 ** 31 - 1;

/** The float element types (what a BatchNorm, a Conv or a mask input may hold). */
export const FLOAT_TYPES: ReadonlySet<number> = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);
const INDEX_TYPES = new Set<number>([DataType.INT32, DataType.INT64]);

const typeName = (t: number) => (DataType as unknown as Record<number, string>)[t] ?? String(t);

/** Values per element in the typed repeated fields (complex numbers take two). */
function typedField(t: TensorProto): { name: string; length: number; perElement: number } | undefined {
  switch (t.dataType) {
    case DataType.FLOAT: return { name: "float_data", length: t.floatData.length, perElement: 1 };
    case DataType.COMPLEX64: return { name: "float_data", length: t.floatData.length, perElement: 2 };
    case DataType.DOUBLE: return { name: "double_data", length: t.doubleData.length, perElement: 1 };
    case DataType.COMPLEX128: return { name: "double_data", length: t.doubleData.length, perElement: 2 };
    case DataType.INT64: return { name: "int64_data", length: t.int64Data.length, perElement: 1 };
    case DataType.UINT32: case DataType.UINT64: return { name: "uint64_data", length: t.uint64Data.length, perElement: 1 };
    case DataType.STRING: return { name: "string_data", length: t.stringData.length, perElement: 1 };
    default: return { name: "int32_data", length: t.int32Data.length, perElement: 1 };
  }
}

/** A tensor whose type, dims and stored data agree; external data must already be loaded. */
export function tensorProblem(t: TensorProto, where = `tensor '${t.name}'`): string | undefined {
  if (elementSize(t.dataType) === undefined && t.dataType !== DataType.STRING) return `${where} has data type ${typeName(t.dataType)}, which is not an ONNX tensor type bnnas reads`;
  let count = 1;
  for (const d of t.dims) {
    const v = num(d);
    if (!Number.isSafeInteger(v) || v < 0 || v > MAX_DIM) return `${where} has an invalid dim ${v} (dims [${t.dims.map(num).join(", ")}])`;
    count *= v;
    if (count > MAX_DIM) return `${where} has dims [${t.dims.map(num).join(", ")}]: more than ${MAX_DIM} elements`;
  }
  if (t.dataLocation === 1 && (t.rawData?.length ?? 0) === 0 && count > 0) return `${where} stores its data externally and it was not loaded`;
  const raw = t.rawData?.length ?? 0;
  const field = typedField(t)!;
  if (raw > 0) {
    const size = elementSize(t.dataType);
    if (size === undefined) return `${where} of type STRING has raw_data`;
    if (raw !== count * size) return `${where} has ${raw} bytes of data, but dims [${t.dims.map(num).join(", ")}] of ${typeName(t.dataType)} need ${count * size}`;
    if (field.length > 0) return `${where} has both raw_data and ${field.name}`;
    return undefined;
  }
  if (field.length !== count * field.perElement) return `${where} has ${field.length} values in ${field.name}, but dims [${t.dims.map(num).join(", ")}] need ${count * field.perElement}`;
  return undefined;
}

function valueInfoProblem(vi: ValueInfoProto, role: string): string | undefined {
  const tt = vi.type?.tensorType;
  if (!tt) return undefined;
  const et = tt.elemType ?? 0;
  if (elementSize(et) === undefined && et !== DataType.STRING) return `${role} '${vi.name}' has element type ${typeName(et)}, which is not an ONNX tensor type`;
  for (const d of tt.shape?.dim ?? []) {
    if (d.dimValue === undefined || d.dimValue === null || d.dimParam) continue;
    const v = num(d.dimValue);
    if (!Number.isSafeInteger(v) || v < 0 || v > MAX_DIM) return `${role} '${vi.name}' declares an invalid dim ${v}`;
  }
  return undefined;
}

const AXIS_LIMIT = 64;

/** Generic attribute checks, then the op module's (attribute types, closed lists, ranges; src/opset). */
function attributeProblem(n: NodeProto, a: AttributeProto, where: string): string | undefined {
  if (!(a.type >= 1 && a.type <= 14)) return `${where}: attribute '${a.name}' has an unknown type ${a.type}`;
  if (a.type === AttrType.TENSOR && !a.t) return `${where}: attribute '${a.name}' is a tensor attribute without a tensor`;
  if (a.type === AttrType.GRAPH && !a.g) return `${where}: attribute '${a.name}' is a graph attribute without a graph`;
  const checks = findOp(n.opType)?.checks;
  const want = checks?.attributes?.[a.name];
  if (checks?.closedAttributes && want === undefined) return `${where}: ${n.opType} has no attribute ${JSON.stringify(a.name)}`;
  if (want !== undefined && a.type !== want) return `${where}: attribute '${a.name}' has type ${AttrType[a.type] ?? a.type}, expected ${AttrType[want]}`;
  if (a.type === AttrType.TENSOR && a.t) return tensorProblem(a.t, `${where}: attribute '${a.name}'`);
  const opProblem = checks?.attributeProblem?.(a);
  if (opProblem) return `${where}: ${opProblem}`;
  if (a.name === "axis" && a.type === AttrType.INT) {
    const v = num(a.i);
    if (!Number.isSafeInteger(v) || Math.abs(v) > AXIS_LIMIT) return `${where}: axis ${v} is out of range`;
  }
  return undefined;
}

function operandTypeProblem(graph: GraphProto, order: NodeProto[]): string | undefined {
  const type = new Map<string, number>();
  for (const vi of graph.input) if (vi.type?.tensorType?.elemType) type.set(vi.name, vi.type.tensorType.elemType);
  for (const t of graph.initializer) type.set(t.name, t.dataType);
  for (const n of order) {
    const where = `node '${n.name || n.opType}' (${n.opType})`;
    const typeAt = (i: number) => (n.input[i] ? type.get(n.input[i]!) : undefined);
    const checks = findOp(n.opType)?.checks;
    if (!checks) continue;
    for (const i of checks.floatInputs ?? []) {
      const t = typeAt(i);
      if (t !== undefined && !FLOAT_TYPES.has(t)) return `${where} takes '${n.input[i]}' of type ${typeName(t)} as input ${i}, which must be a float tensor`;
    }
    for (const i of checks.indexInputs ?? []) {
      const t = typeAt(i);
      if (t !== undefined && !INDEX_TYPES.has(t)) return `${where} takes '${n.input[i]}' of type ${typeName(t)} as input ${i}, which must be int32 or int64`;
    }
    if (checks.sameTypeInputs) {
      const known = n.input.map((x) => (x ? type.get(x) : undefined)).filter((t): t is number => t !== undefined);
      if (known.some((t) => t !== known[0])) return `${where} mixes input types ${[...new Set(known)].map(typeName).join(" and ")}`;
    }
    const out = checks.outputType?.(n, typeAt);
    if (out !== undefined) for (const o of checks.typesAllOutputs ? n.output : n.output.slice(0, 1)) if (o) type.set(o, out);
  }
  return undefined;
}

/** Everything this module checks, for a whole model; external data must already be loaded. */
export function modelProblem(model: ModelProto): string | undefined {
  const ir = num(model.irVersion);
  if (!(ir >= 3 && ir <= MAX_IR_VERSION)) return `ir_version ${ir} is not one onnxruntime loads (3 to ${MAX_IR_VERSION})`;
  const opsets = model.opsetImport.filter((o) => o.domain === "" || o.domain === "ai.onnx");
  if (opsets.length !== 1) return opsets.length === 0 ? "it imports no opset of the default ONNX domain (opset_import is missing)" : "it imports the default ONNX domain twice";
  const opset = num(opsets[0]!.version);
  if (!(opset >= 1 && opset <= MAX_OPSET)) return `default-domain opset ${opset} is not one onnxruntime supports (1 to ${MAX_OPSET})`;
  const graph = model.graph!;
  const seen = new Set<string>();
  for (const t of graph.initializer) {
    if (!t.name) return "an initializer has no name";
    if (seen.has(t.name)) return `initializer '${t.name}' is defined twice`;
    seen.add(t.name);
    const p = tensorProblem(t, `initializer '${t.name}'`);
    if (p) return p;
  }
  const inputs = new Set<string>();
  for (const vi of graph.input) {
    if (!vi.name) return "a graph input has no name";
    if (inputs.has(vi.name)) return `graph input '${vi.name}' is declared twice`;
    inputs.add(vi.name);
    const p = valueInfoProblem(vi, "graph input");
    if (p) return p;
  }
  for (const vi of graph.output) {
    if (!vi.name) return "a graph output has no name";
    const p = valueInfoProblem(vi, "graph output");
    if (p) return p;
  }
  if (graph.output.length === 0) return "the graph has no outputs";
  // protobuf decodes invalid UTF-8 in a string field to U+FFFD: the names are corrupt.
  const names = [...graph.initializer.map((t) => t.name), ...graph.input.map((i) => i.name), ...graph.output.map((o) => o.name)];
  for (const n of graph.node) names.push(n.name, n.opType, n.domain ?? "", ...n.input, ...n.output, ...n.attribute.map((a) => a.name));
  const corrupt = names.find((x) => x.includes("\uFFFD"));
  if (corrupt !== undefined) return `the name ${JSON.stringify(corrupt)} is not valid UTF-8 (a corrupt file)`;
  const domains = new Set(model.opsetImport.map((o) => o.domain));
  for (const n of graph.node) {
    const where = `node '${n.name || n.opType}'`;
    const domain = n.domain ?? "";
    if (domain === "" || domain === "ai.onnx") {
      if (!ONNX_OPS.has(n.opType)) return `${where} has op_type ${JSON.stringify(n.opType)}, which is not an ONNX operator`;
    } else if (!domains.has(domain)) {
      return `${where} uses domain '${domain}', which the model does not import`;
    }
    const names = new Set<string>();
    for (const a of n.attribute) {
      if (names.has(a.name)) return `${where}: attribute '${a.name}' appears twice`;
      names.add(a.name);
      const p = attributeProblem(n, a, where);
      if (p) return p;
    }
  }
  const structural = graphProblem(graph);
  if (structural) return structural;
  return operandTypeProblem(graph, new GraphIndex(graph).topoOrder());
}
