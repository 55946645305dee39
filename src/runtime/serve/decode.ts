/**
 * Request bodies -> model input. Every problem is a RequestError (HTTP 4xx) naming what is wrong.
 *
 * JSON (application/json), one of:
 *   - a nested numeric array shaped [C, H, W] (one image) or [N, C, H, W] (a batch); a
 *     one-channel model also takes [H, W]. Values are model-input values (already normalised);
 *   - {"input": <such an array>}: the same;
 *   - {"pixels": <such an array>}: values are pixels 0..255, normalised with the model's
 *     normalisation (manifest, or --mean/--std).
 * PNG (image/png): one image. Converted to the model's channels (one channel: luma
 * 0.299 R + 0.587 G + 0.114 B; three channels: RGB), transparent pixels composited over black
 * (Fashion-MNIST's background), resized to H x W with bilinear interpolation (half-pixel
 * centres, as PIL and torch's interpolate(align_corners=False)) when the sizes differ, then
 * normalised like "pixels".
 */
import { PNG } from "pngjs";
import type { Normalization } from "../../structure/normalization.js";

export class RequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

export interface DecodedBatch {
  x: Float32Array;
  n: number;
}

/** Largest PNG side accepted (checked in the header, before decompression). */
export const MAX_PNG_SIDE = 4096;

function shapeOf(value: unknown): number[] {
  const dims: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    dims.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return dims;
}

/** Flattens a nested array of exactly `dims`, checking every entry is a finite number. */
function flatten(value: unknown, dims: number[], out: Float32Array): void {
  let k = 0;
  // The indices of the entry being visited; its path ("[0][2]") is only spelled out for an error,
  // not built as a string for every entry of every request.
  const at: number[] = [];
  const path = (depth: number) => at.slice(0, depth).map((i) => `[${i}]`).join("");
  const walk = (v: unknown, depth: number) => {
    if (depth === dims.length) {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new RequestError(400, `entry ${path(depth)} is ${JSON.stringify(v) ?? String(v)}, not a finite number`);
      out[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== dims[depth]) {
      throw new RequestError(400, `the array is ragged: ${path(depth) || "the top level"} should have ${dims[depth]} entries`);
    }
    for (let i = 0; i < v.length; i++) {
      at[depth] = i;
      walk(v[i], depth + 1);
    }
  };
  walk(value, 0);
}

function normalizer(norm: Normalization | undefined, channels: number): (p: number, c: number) => number {
  if (!norm) throw new RequestError(422, "this model has no input normalisation (no bnnas manifest); send normalised values as {\"input\": ...}, or start serve with --mean/--std");
  // Per-channel values resolved once per request rather than for every pixel.
  const perChannel = (v: number[]) => Array.from({ length: channels }, (_, c) => (v.length === 1 ? v[0]! : v[c]!));
  const mean = perChannel(norm.mean);
  const std = perChannel(norm.std);
  return (p, c) => (p / 255 - mean[c]!) / std[c]!;
}

/** Parses a JSON body into a batch for an image of `shape`; at most `maxBatch` images. */
export function decodeJson(body: Buffer, shape: ImageShape, norm: Normalization | undefined, maxBatch: number): DecodedBatch {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw new RequestError(400, `the body is not valid JSON (${(e as Error).message})`);
  }
  let values: unknown = parsed;
  let pixels = false;
  if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
    const obj = parsed as Record<string, unknown>;
    if ("pixels" in obj) {
      values = obj["pixels"];
      pixels = true;
    } else if ("input" in obj) values = obj["input"];
    else throw new RequestError(400, "the JSON object needs an \"input\" (normalised values) or \"pixels\" (0..255) array");
  }
  if (!Array.isArray(values)) throw new RequestError(400, "expected a numeric array shaped [C, H, W] or [N, C, H, W]");
  const { channels: c, height: h, width: w } = shape;
  const dims = shapeOf(values);
  let n: number;
  if (dims.length === 4 && dims[1] === c && dims[2] === h && dims[3] === w) n = dims[0]!;
  else if (dims.length === 3 && dims[0] === c && dims[1] === h && dims[2] === w) n = 1;
  else if (dims.length === 2 && c === 1 && dims[0] === h && dims[1] === w) n = 1;
  else throw new RequestError(400, `the array has shape [${dims}] but the model takes [${c}, ${h}, ${w}] or [N, ${c}, ${h}, ${w}]${c === 1 ? ` or [${h}, ${w}]` : ""}`);
  if (n < 1) throw new RequestError(400, "the batch is empty");
  if (n > maxBatch) throw new RequestError(413, `the batch has ${n} images; the limit is ${maxBatch}`);
  const x = new Float32Array(n * c * h * w);
  flatten(values, dims, x);
  if (pixels) {
    const f = normalizer(norm, c);
    for (let i = 0; i < x.length; i++) {
      if (x[i]! < 0 || x[i]! > 255) throw new RequestError(400, `pixel values must be in 0..255, found ${x[i]}`);
      x[i] = f(x[i]!, Math.floor(i / (h * w)) % c);
    }
  }
  return { x, n };
}

/** Bilinear resampling of one channel plane (half-pixel centres, edges clamped). */
function resizePlane(src: Float32Array, sh: number, sw: number, dh: number, dw: number): Float32Array {
  if (sh === dh && sw === dw) return src;
  const out = new Float32Array(dh * dw);
  const sy = sh / dh;
  const sx = sw / dw;
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      const top = src[y0 * sw + x0]! * (1 - wx) + src[y0 * sw + x1]! * wx;
      const bottom = src[y1 * sw + x0]! * (1 - wx) + src[y1 * sw + x1]! * wx;
      out[y * dw + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** Decodes a PNG body into one normalised image. */
export function decodePng(body: Buffer, shape: ImageShape, norm: Normalization | undefined): DecodedBatch {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (body.length < 24 || signature.some((b, i) => body[i] !== b)) throw new RequestError(400, "the body is not a PNG file (bad signature)");
  // The size is read from the IHDR chunk, which must come first; without it the bytes are no PNG.
  if (body.toString("latin1", 12, 16) !== "IHDR") throw new RequestError(400, "the body is not a valid PNG file (no IHDR chunk after the signature)");
  const width = body.readUInt32BE(16);
  const height = body.readUInt32BE(20);
  if (width < 1 || height < 1 || width > MAX_PNG_SIDE || height > MAX_PNG_SIDE) {
    throw new RequestError(413, `the PNG is ${width} x ${height}; sides from 1 to ${MAX_PNG_SIDE} pixels are accepted`);
  }
  const f = normalizer(norm, shape.channels);
  let png: PNG;
  try {
    png = PNG.sync.read(body);
  } catch (e) {
    throw new RequestError(400, `the PNG cannot be decoded (${(e as Error).message})`);
  }
  const rgba = png.data;
  const planes: Float32Array[] = [];
  const count = png.width * png.height;
  if (shape.channels === 1) {
    const g = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const a = rgba[4 * i + 3]! / 255;
      g[i] = (0.299 * rgba[4 * i]! + 0.587 * rgba[4 * i + 1]! + 0.114 * rgba[4 * i + 2]!) * a;
    }
    planes.push(g);
  } else if (shape.channels === 3) {
    for (let c = 0; c < 3; c++) {
      const p = new Float32Array(count);
      for (let i = 0; i < count; i++) p[i] = rgba[4 * i + c]! * (rgba[4 * i + 3]! / 255);
      planes.push(p);
    }
  } else {
    throw new RequestError(415, `PNG input needs a model with 1 or 3 input channels; this one has ${shape.channels}: send JSON`);
  }
  const plane = shape.height * shape.width;
  const x = new Float32Array(shape.channels * plane);
  planes.forEach((p, c) => {
    const r = resizePlane(p, png.height, png.width, shape.height, shape.width);
    for (let i = 0; i < plane; i++) x[c * plane + i] = f(r[i]!, c);
  });
  return { x, n: 1 };
}
