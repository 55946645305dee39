/**
 * IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.
 *
 * Layout: 2 zero bytes, a type byte (0x08 = unsigned byte, the only type these datasets use), a
 * dimension count, then each dimension as a big-endian uint32, then the data in row-major order.
 * Every way a file can be wrong (bad magic, truncated, extra bytes, absurd dimensions, broken
 * gzip) becomes an InputFileError naming the file.
 */
import { readFileSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { InputFileError } from "../errors.js";

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Decompressed IDX files larger than this are refused (Fashion-MNIST's largest is 47 MB). */
export const MAX_IDX_BYTES = 1 << 30;

const TYPE_UBYTE = 0x08;

/** Reads raw bytes, gunzipping when the file starts with the gzip magic. */
function readMaybeGzip(file: string): Uint8Array {
  let bytes: Buffer;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new InputFileError(file, "is a directory, not an IDX file");
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputFileError(file, code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes, { maxOutputLength: MAX_IDX_BYTES });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === "ERR_BUFFER_TOO_LARGE" || /larger than|buffer/i.test((e as Error).message)
        ? `decompresses to more than ${MAX_IDX_BYTES} bytes`
        : "is a truncated or corrupt gzip file";
      throw new InputFileError(file, `${why}; re-download the dataset file`);
    }
  }
  return bytes;
}

/** Parses an IDX file of unsigned bytes with `expectDims` dimensions (1 for labels, 3 for images). */
export function readIdx(file: string, expectDims?: number): IdxArray {
  const bytes = readMaybeGzip(file);
  if (bytes.length < 4) throw new InputFileError(file, `is truncated: ${bytes.length} bytes, not even an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    throw new InputFileError(file, `is not an IDX file (magic 0x${magic}, expected 0x0000080N)`);
  }
  if (bytes[2] !== TYPE_UBYTE) throw new InputFileError(file, `has IDX data type 0x${bytes[2]!.toString(16)}; only unsigned bytes (0x08) are supported`);
  const ndims = bytes[3]!;
  if (expectDims !== undefined && ndims !== expectDims) {
    throw new InputFileError(file, `has ${ndims} dimensions, expected ${expectDims} (${expectDims === 1 ? "a label" : "an image"} file)`);
  }
  if (ndims === 0) throw new InputFileError(file, "has 0 dimensions");
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) throw new InputFileError(file, `is truncated inside its header (${bytes.length} of ${headerBytes} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  if (count > MAX_IDX_BYTES) throw new InputFileError(file, `claims dims [${dims.join(", ")}] = ${count} bytes, more than bnnas reads`);
  const have = bytes.length - headerBytes;
  if (have < count) throw new InputFileError(file, `is truncated: header says [${dims.join(" x ")}] = ${count} bytes of data, the file has ${have}`);
  if (have > count) throw new InputFileError(file, `has ${have - count} bytes after the [${dims.join(" x ")}] data the header announces (wrong counts in the header?)`);
  return { dims, data: bytes.subarray(headerBytes, headerBytes + count) };
}

/** Encodes an IDX file of unsigned bytes (used to make the shipped subset and test fixtures). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = TYPE_UBYTE;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
