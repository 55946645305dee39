/**
 * TensorProto <-> typed arrays. bnnas writes tensor data as raw_data (little-endian bytes):
 * encoding tens of millions of floats that way is a memcpy, where float_data is a varint loop.
 * Reading accepts every storage form (raw_data, float_data, int64_data, int32_data, double_data).
 * External data must already be resolved into raw_data (see model-io.ts).
 */
import { onnx, make, DataType, num, type TensorProto } from "./proto.js";

export type TensorData = Float32Array | BigInt64Array | Int32Array | Float64Array | Uint8Array;

/** A tensor in JavaScript memory: shape and data, in row-major order. */
export interface Tensor<D extends TensorData = TensorData> {
  dims: number[];
  data: D;
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function floatTensor(name: string, dims: readonly number[], data: Float32Array | readonly number[]): TensorProto {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  if (arr.length !== elementCount(dims)) throw new Error(`tensor ${name}: ${arr.length} values for dims [${dims}]`);
  return make.tensor({ name, dims: [...dims], dataType: DataType.FLOAT, rawData: bytesOf(arr).slice() });
}

export function int64Tensor(name: string, dims: readonly number[], data: readonly (number | bigint)[] | BigInt64Array): TensorProto {
  const arr = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(v));
  if (arr.length !== elementCount(dims)) throw new Error(`tensor ${name}: ${arr.length} values for dims [${dims}]`);
  return make.tensor({ name, dims: [...dims], dataType: DataType.INT64, rawData: bytesOf(arr).slice() });
}

/**
 * Bytes per element in raw_data, for every numeric ONNX type (STRING has no raw form). The one
 * table for sizes: the model checks, external-data reads and weight-size estimates all use it.
 */
const ELEMENT_SIZE: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4, [DataType.UINT8]: 1, [DataType.INT8]: 1, [DataType.UINT16]: 2, [DataType.INT16]: 2,
  [DataType.INT32]: 4, [DataType.INT64]: 8, [DataType.BOOL]: 1, [DataType.FLOAT16]: 2, [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4, [DataType.UINT64]: 8, [DataType.COMPLEX64]: 8, [DataType.COMPLEX128]: 16, [DataType.BFLOAT16]: 2,
};

/** The types readTensor decodes into a typed array. */
const READABLE = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.INT64, DataType.INT32, DataType.UINT8, DataType.INT8, DataType.BOOL]);

export function tensorDims(t: TensorProto): number[] {
  return t.dims.map((d) => num(d));
}

/** Bytes per element of a numeric data type in raw_data, or undefined for STRING and unknown types. */
export function elementSize(dataType: number): number | undefined {
  return ELEMENT_SIZE[dataType];
}

/**
 * Reads a tensor's values. Throws a plain Error naming the tensor when the data is missing,
 * of an unsupported type, or does not match the dims; callers wrap it with the file name.
 */
export function readTensor(t: TensorProto): Tensor {
  const dims = tensorDims(t);
  for (const d of dims) if (!Number.isSafeInteger(d) || d < 0) throw new Error(`tensor '${t.name}' has an invalid dim ${d}`);
  const n = elementCount(dims);
  const dt = t.dataType;
  const size = READABLE.has(dt) ? ELEMENT_SIZE[dt] : undefined;
  if (size === undefined) throw new Error(`tensor '${t.name}' has data type ${onnx.TensorProto.DataType[dt] ?? dt}, which bnnas does not read`);
  if (t.externalData && t.externalData.length > 0 && (!t.rawData || t.rawData.length === 0) && n > 0) {
    throw new Error(`tensor '${t.name}' stores its data externally and it was not loaded`);
  }
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== n * size) throw new Error(`tensor '${t.name}' has ${t.rawData.length} bytes of data for dims [${dims}]`);
    const copy = new Uint8Array(t.rawData); // aligned copy
    switch (dt) {
      case DataType.FLOAT: return { dims, data: new Float32Array(copy.buffer) };
      case DataType.DOUBLE: return { dims, data: new Float64Array(copy.buffer) };
      case DataType.INT64: return { dims, data: new BigInt64Array(copy.buffer) };
      case DataType.INT32: return { dims, data: new Int32Array(copy.buffer) };
      default: return { dims, data: copy };
    }
  }
  const fromList = <T extends TensorData>(list: ArrayLike<unknown>, make: (n: number) => T, set: (a: T, i: number, v: unknown) => void): Tensor => {
    if (list.length !== n) throw new Error(`tensor '${t.name}' has ${list.length} values for dims [${dims}]`);
    const a = make(n);
    for (let i = 0; i < n; i++) set(a, i, list[i]);
    return { dims, data: a };
  };
  switch (dt) {
    case DataType.FLOAT: return fromList(t.floatData, (k) => new Float32Array(k), (a, i, v) => (a[i] = v as number));
    case DataType.DOUBLE: return fromList(t.doubleData, (k) => new Float64Array(k), (a, i, v) => (a[i] = v as number));
    case DataType.INT64: return fromList(t.int64Data, (k) => new BigInt64Array(k), (a, i, v) => (a[i] = BigInt(num(v as number))));
    default: return fromList(t.int32Data, (k) => (size === 4 ? new Int32Array(k) : new Uint8Array(k)), (a, i, v) => (a[i] = v as number));
  }
}

/** Reads a float tensor (FLOAT or DOUBLE) as Float32Array. */
export function readFloats(t: TensorProto): Float32Array {
  const { data } = readTensor(t);
  if (data instanceof Float32Array) return data;
  if (data instanceof Float64Array) return Float32Array.from(data);
  throw new Error(`tensor '${t.name}' is not a float tensor`);
}

/** Replaces a float tensor's data in place (keeps name, dims and type). */
export function setFloats(t: TensorProto, data: Float32Array): void {
  if (data.length !== elementCount(tensorDims(t))) throw new Error(`tensor '${t.name}': ${data.length} values for dims [${tensorDims(t)}]`);
  t.dataType = DataType.FLOAT;
  t.floatData = [];
  t.rawData = bytesOf(data).slice();
}
