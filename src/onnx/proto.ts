/**
 * The ONNX protobuf schema (proto/onnx.proto, copied from ONNX 1.12: IR 8, the version Debian's
 * onnx checker knows) and its pbjs-generated static code (proto/onnx.js).
 *
 * Why protobufjs static code and not the onnx-proto package: onnx-proto is generated from
 * ONNX 1.10 (IR 7), while we write IR 8 files; with our own generated code the schema is one
 * file in the repo that can be regenerated (`npm run proto`) when we move to a newer IR.
 * protobufjs 8 keeps fields unknown to this schema ($unknowns) and writes them back on encode, so a
 * file from a newer ONNX (IR 9/10 fields) survives a read/modify/write round trip; onnx-proto
 * would drop them.
 *
 * The generated classes type nested messages as all-optional property bags; the interfaces
 * below state what a decoded (or `create`d) message really holds, so the rest of the code can be
 * strict without null checks on every field. Decoded messages always have these fields (scalars
 * default on the prototype, repeated fields are arrays).
 */
import $protobuf from "protobufjs/minimal.js";
import { onnx } from "../../proto/onnx.js";

// int64 fields (dims, attribute ints) decode as plain JS numbers instead of Long objects:
// ONNX dims and attribute values fit in 2^53, and numbers keep every consumer simple.
($protobuf.util as { Long: unknown }).Long = undefined;
$protobuf.configure();

export { onnx };

type Int64 = number;

export interface StringStringEntryProto { key: string; value: string }
export interface OperatorSetIdProto { domain: string; version: Int64 }

export interface TensorProto {
  dims: Int64[];
  dataType: number;
  floatData: number[];
  int32Data: number[];
  stringData: Uint8Array[];
  int64Data: Int64[];
  name: string;
  docString: string;
  rawData: Uint8Array;
  externalData: StringStringEntryProto[];
  dataLocation: number;
  doubleData: number[];
  uint64Data: Int64[];
}

export interface AttributeProto {
  name: string;
  refAttrName: string;
  docString: string;
  type: number;
  f: number;
  i: Int64;
  s: Uint8Array;
  t?: TensorProto | null;
  g?: GraphProto | null;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain: string;
  attribute: AttributeProto[];
  docString: string;
}

export interface DimensionProto { dimValue?: Int64 | null; dimParam?: string | null; denotation?: string }
export interface TypeProto {
  tensorType?: { elemType?: number | null; shape?: { dim: DimensionProto[] } | null } | null;
  [other: string]: unknown;
}
export interface ValueInfoProto { name: string; type?: TypeProto | null; docString: string }

export interface GraphProto {
  node: NodeProto[];
  name: string;
  initializer: TensorProto[];
  sparseInitializer: unknown[];
  docString: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
  quantizationAnnotation: unknown[];
}

export interface ModelProto {
  irVersion: Int64;
  opsetImport: OperatorSetIdProto[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: Int64;
  docString: string;
  graph?: GraphProto | null;
  metadataProps: StringStringEntryProto[];
  trainingInfo: unknown[];
  functions: unknown[];
}
export const DataType = onnx.TensorProto.DataType;
export const AttrType = onnx.AttributeProto.AttributeType;

/** A protobuf int64 as a number (Long objects may still appear as prototype defaults). */
export function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === "number" ? v : v.toNumber();
}

/** Message constructors returning the strict interfaces above (defaults filled by protobufjs). */
export const make = {
  model: (p: Partial<ModelProto>): ModelProto => onnx.ModelProto.create(p as never) as unknown as ModelProto,
  graph: (p: Partial<GraphProto>): GraphProto => onnx.GraphProto.create(p as never) as unknown as GraphProto,
  node: (p: Partial<NodeProto>): NodeProto => onnx.NodeProto.create(p as never) as unknown as NodeProto,
  tensor: (p: Partial<TensorProto>): TensorProto => onnx.TensorProto.create(p as never) as unknown as TensorProto,
  attribute: (p: Partial<AttributeProto>): AttributeProto => onnx.AttributeProto.create(p as never) as unknown as AttributeProto,
  valueInfo: (p: Partial<ValueInfoProto>): ValueInfoProto => onnx.ValueInfoProto.create(p as never) as unknown as ValueInfoProto,
  entry: (key: string, value: string): StringStringEntryProto => onnx.StringStringEntryProto.create({ key, value }) as unknown as StringStringEntryProto,
};

export function decodeModelProto(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes) as unknown as ModelProto;
}

export function encodeModelProto(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model as never).finish();
}
