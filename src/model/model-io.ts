/**
 * Reading and writing ONNX model files: protobuf decode/encode, external data (resolved into
 * raw_data on read, confined to the model's directory), and atomic writes.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync, openSync, readSync, closeSync, realpathSync, fstatSync, fsyncSync, existsSync, readdirSync, unlinkSync } from "node:fs";
import { dirname, basename, resolve, relative, isAbsolute, sep, join } from "node:path";
import { onnx, make, DataType, num, decodeModelProto, encodeModelProto, type GraphProto, type ModelProto, type StringStringEntryProto, type TensorProto } from "../onnx/proto.js";
import { elementCount, elementSize, tensorDims } from "../onnx/tensor.js";
import { InputFileError, ModelFormatError, OutputError } from "../errors.js";
import { modelProblem } from "./check.js";
import { commitTemp, discardTemp, removeStaleTemps, writeTemp } from "../util/atomic.js";

/** protobuf cannot serialise a message over 2 GiB; stay clear of it. */
export const PROTOBUF_LIMIT = 2 ** 31 - 2 ** 24;
/** Initializers at least this large go to the external data file when external data is on. */
const EXTERNAL_THRESHOLD = 1024;

export function decodeModel(bytes: Uint8Array, file = "<bytes>"): ModelProto {
  let model: ModelProto;
  try {
    model = decodeModelProto(bytes);
  } catch (e) {
    throw new ModelFormatError(file, `is not an ONNX model or is truncated (protobuf: ${(e as Error).message})`);
  }
  if (!model.graph || (model.graph.node.length === 0 && model.graph.output.length === 0)) {
    throw new ModelFormatError(file, "is not an ONNX model (it has no graph)");
  }
  if (num(model.irVersion) <= 0) throw new ModelFormatError(file, "is not an ONNX model (no ir_version)");
  return model;
}

/** Reads a model file; external tensor data is loaded into raw_data. */
export function readModel(file: string): ModelProto {
  return readModelFile(file).model;
}

/**
 * readModel, plus the SHA-256 of the model file's bytes, for provenance and checkpoint
 * fingerprints without reading the file a second time.
 */
export function readModelFile(file: string): { model: ModelProto; sha256: string } {
  let bytes: Buffer;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new InputFileError(file, "is a directory, not an ONNX file");
    if (st.size === 0) throw new ModelFormatError(file, "is empty, not an ONNX model");
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputFileError(file, code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message);
  }
  const model = decodeModel(bytes, file);
  loadExternalData(model, file);
  // Every later stage trusts dims, types and structure: refuse a broken file here, in one line.
  const problem = modelProblem(model);
  if (problem) throw new ModelFormatError(file, `is not a valid ONNX model: ${problem}`);
  return { model, sha256: createHash("sha256").update(bytes).digest("hex") };
}

function allTensors(model: ModelProto): TensorProto[] {
  const out: TensorProto[] = [];
  const visitGraph = (g: GraphProto | null | undefined) => {
    if (!g) return;
    out.push(...g.initializer);
    for (const n of g.node) {
      for (const a of n.attribute) {
        if (a.t) out.push(a.t);
        out.push(...a.tensors);
        visitGraph(a.g);
        for (const sg of a.graphs) visitGraph(sg);
      }
    }
  };
  visitGraph(model.graph);
  return out;
}

/**
 * Resolves an external-data location inside the model's directory, or throws: absolute paths,
 * `..` that leaves the directory, and symlinks pointing outside are all refused, so a hostile
 * model cannot make bnnas read /etc/passwd.
 */
export function confineLocation(modelFile: string, location: string): string {
  const dir = resolve(dirname(modelFile));
  if (location === "" || location.includes("\0") || isAbsolute(location) || /^[a-zA-Z]:[\\/]/.test(location)) {
    throw new ModelFormatError(modelFile, `external data location '${location}' must be a relative path inside the model's directory`);
  }
  const target = resolve(dir, location);
  const rel = relative(dir, target);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new ModelFormatError(modelFile, `external data location '${location}' escapes the model's directory`);
  }
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    throw new ModelFormatError(modelFile, `external data file '${location}' does not exist beside the model`);
  }
  const realDir = realpathSync(dir);
  if (!(real + sep).startsWith(realDir + sep) || real === realDir) {
    throw new ModelFormatError(modelFile, `external data location '${location}' links outside the model's directory`);
  }
  if (!statSync(real).isFile()) throw new ModelFormatError(modelFile, `external data location '${location}' is not a regular file`);
  return real;
}

/** A decimal whole number as external-data offsets and lengths are written, else NaN. */
function wholeNumber(text: string): number {
  return /^\d{1,16}$/.test(text) ? Number(text) : NaN;
}

function loadExternalData(model: ModelProto, file: string): void {
  const fds = new Map<string, { fd: number; size: number }>();
  try {
    for (const t of allTensors(model)) {
      if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
      const kv = new Map(t.externalData.map((e) => [e.key, e.value]));
      const location = kv.get("location");
      if (location === undefined || location === null) throw new ModelFormatError(file, `tensor '${t.name}' has external data without a location`);
      const path = confineLocation(file, location);
      let entry = fds.get(path);
      if (!entry) {
        const fd = openSync(path, "r");
        entry = { fd, size: fstatSync(fd).size };
        fds.set(path, entry);
      }
      const size = elementSize(t.dataType);
      if (size === undefined) throw new ModelFormatError(file, `tensor '${t.name}' has an unsupported data type for external data`);
      const dims = tensorDims(t);
      if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new ModelFormatError(file, `tensor '${t.name}' has invalid dims [${dims}]`);
      const expected = elementCount(dims) * size;
      const offset = kv.has("offset") ? wholeNumber(kv.get("offset")!) : 0;
      const length = kv.has("length") ? wholeNumber(kv.get("length")!) : expected;
      if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length !== expected || offset + length > entry.size) {
        throw new ModelFormatError(file, `tensor '${t.name}': external data (offset ${kv.get("offset") ?? 0}, length ${kv.get("length") ?? expected}) does not fit '${location}' (${entry.size} bytes) or its dims [${dims}]`);
      }
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const r = readSync(entry.fd, buf, got, length - got, offset + got);
        if (r === 0) break;
        got += r;
      }
      t.rawData = buf;
      t.externalData = [];
      t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
    }
  } finally {
    for (const { fd } of fds.values()) closeSync(fd);
  }
}

export function encodeModel(model: ModelProto): Uint8Array {
  return encodeModelProto(model);
}

function tensorBytes(model: ModelProto): number {
  let total = 0;
  for (const t of allTensors(model)) total += t.rawData?.length ?? 0;
  return total;
}

export interface WriteOptions {
  /** true: large initializers go to `<file>.data`; 'auto' (default): only when protobuf's 2 GiB limit would be passed. */
  externalData?: boolean | "auto";
}

/**
 * Writes a model atomically. With external data, initializers of at least 1 KiB are stored in a
 * data file beside the model (location relative to the model's directory), and the model itself
 * is not modified. The data file is `<basename>.data`, or `<basename>.<hash>.data` when a file of
 * that name already exists (see externalDataName: the model and its data are committed as a pair).
 */
export function writeModel(file: string, model: ModelProto, options: WriteOptions = {}): { externalDataFile?: string } {
  const mode = options.externalData ?? "auto";
  const external = mode === true || (mode === "auto" && tensorBytes(model) > PROTOBUF_LIMIT);
  if (!external) {
    let bytes: Uint8Array;
    try {
      bytes = encodeModel(model);
    } catch (e) {
      throw new OutputError(file, (o) => `cannot encode the model (${(e as Error).message}); try ${o("externalData")}`);
    }
    commitTemp(writeTemp(file, [bytes]), file);
    return {};
  }
  // Lay the data out first: its name may depend on its content.
  const chunks: Uint8Array[] = [];
  const placed: { t: TensorProto; offset: number }[] = [];
  let offset = 0;
  for (const t of model.graph!.initializer) {
    if (!t.rawData || t.rawData.length < EXTERNAL_THRESHOLD) continue;
    // Align each tensor to 64 bytes so a memory-mapping reader can use it in place.
    const pad = (64 - (offset % 64)) % 64;
    if (pad) { chunks.push(new Uint8Array(pad)); offset += pad; }
    placed.push({ t, offset });
    chunks.push(t.rawData);
    offset += t.rawData.length;
  }
  const dataName = externalDataName(file, chunks);
  const dataFile = resolve(dirname(file), dataName);
  const originals = new Map<TensorProto, { raw: Uint8Array; loc: number; ext: StringStringEntryProto[] }>();
  for (const { t, offset: at } of placed) {
    originals.set(t, { raw: t.rawData, loc: t.dataLocation, ext: t.externalData });
    t.externalData = [
      make.entry("location", dataName),
      make.entry("offset", String(at)),
      make.entry("length", String(t.rawData.length)),
    ];
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.rawData = new Uint8Array(0);
  }
  let modelBytes: Uint8Array;
  try {
    modelBytes = encodeModel(model);
  } finally {
    for (const [t, o] of originals) { t.rawData = o.raw; t.dataLocation = o.loc; t.externalData = o.ext; }
  }
  // The pair is committed so that at every instant (a crash can stop us anywhere) the file at
  // `file` is a complete model whose data file holds exactly the bytes it was written with:
  //  1. both temporaries are written and fsynced: nothing the user has is touched yet;
  //  2. the data is renamed to `dataName`, a name no existing model's data has with other bytes
  //     (externalDataName), so the old model still reads its own, unchanged data;
  //  3. the directory is synced, so the data's rename is durable before the model's;
  //  4. the model is renamed over `file`: the new pair is live;
  //  5. only then are the old version's data files removed; a crash before that leaves files no
  //     model references, which the next write of this model removes.
  const dataTmp = writeTemp(dataFile, chunks);
  let modelTmp: string;
  try {
    modelTmp = writeTemp(file, [modelBytes]);
  } catch (e) {
    discardTemp(dataTmp);
    throw e;
  }
  const dataExisted = existsSync(dataFile);
  try {
    commitTemp(dataTmp, dataFile);
  } catch (e) {
    discardTemp(modelTmp);
    throw e;
  }
  syncDirectory(dirname(dataFile));
  try {
    commitTemp(modelTmp, file);
  } catch (e) {
    // The old model (if any) is still in place with its data. A data file that existed before
    // (same name, so same bytes) may be the old model's own: only a new one is taken back.
    if (!dataExisted) discardTemp(dataFile);
    throw e;
  }
  syncDirectory(dirname(dataFile));
  removeOldExternalData(file, dataName);
  return { externalDataFile: dataFile };
}

/** Data file names writeModel gives the model `file`: `<basename>.data` and `<basename>.<16 hex>.data`. */
function externalDataPattern(file: string): RegExp {
  const base = basename(file).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${base}\\.(?:[0-9a-f]{16}\\.)?data$`);
}

/**
 * The name of a model's new data file: `<basename>.data` when no file has that name (a fresh
 * output, the usual case), else `<basename>.<first 16 hex digits of the data's SHA-256>.data`.
 * Either way no file that a model could be referencing changes content when the new data is
 * renamed into place: the plain name is new, and a file that already has the hashed name holds
 * these very bytes (its name is derived from them). The model at `file` keeps its data until the
 * new model replaces it.
 */
function externalDataName(file: string, chunks: readonly Uint8Array[]): string {
  const plain = `${basename(file)}.data`;
  if (!existsSync(resolve(dirname(file), plain))) return plain;
  const hash = createHash("sha256");
  for (const c of chunks) hash.update(c);
  return `${basename(file)}.${hash.digest("hex").slice(0, 16)}.data`;
}

/**
 * After a new model is in place: removes the earlier data files of this model (named as
 * writeModel names them, other than `keep`), and temporaries of them left by killed writers.
 * Best effort: a file that cannot be removed stays, unreferenced.
 */
function removeOldExternalData(file: string, keep: string): void {
  const dir = dirname(file);
  const pattern = externalDataPattern(file);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name !== keep && pattern.test(name)) {
      try { unlinkSync(join(dir, name)); } catch { /* gone already, or not ours to remove */ }
    }
    // A temporary `.<data name>.tmp-<pid>-<n>` of a writer that died before renaming it.
    const tmp = /^\.(.+)\.tmp-\d+-\d+$/.exec(name);
    if (tmp && pattern.test(tmp[1]!)) removeStaleTemps(join(dir, tmp[1]!));
  }
}

/** Makes the renames in `dir` durable (fsync of the directory); best effort, as not every platform can open a directory. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    /* e.g. Windows: directories cannot be opened; renames there are as durable as the platform makes them */
  } finally {
    if (fd !== undefined) try { closeSync(fd); } catch { /* nothing to do */ }
  }
}

export { DataType };
