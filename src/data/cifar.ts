/**
 * CIFAR-10 and CIFAR-100 in their binary form (the "binary version" on the CIFAR page):
 * CIFAR-10: `data_batch_1.bin` .. `data_batch_5.bin` and `test_batch.bin`, records of 1 label
 * byte + 3072 pixel bytes; CIFAR-100: `train.bin` and `test.bin`, records of a coarse and a fine
 * label byte + 3072 pixel bytes (bnnas uses the fine label, as torchvision's CIFAR100 does). The
 * pixels are 1024 red, 1024 green, 1024 blue bytes of a 32 x 32 image: already C x H x W.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputFileError } from "../errors.js";
import { CIFAR10_CLASSES, CIFAR100_CLASSES, classNamesFor, readNameFile } from "./classes.js";
import { labelArray, sharedBytes, type Dataset, type Split } from "./dataset.js";

export type CifarVariant = "cifar10" | "cifar100";

const PIXELS = 3 * 32 * 32;

/** The bytes of one record: label byte(s) then the pixels. */
export function cifarRecordBytes(variant: CifarVariant): number {
  return (variant === "cifar10" ? 1 : 2) + PIXELS;
}

/** The files of one split, in the order torchvision reads them; [] when there are none. */
export function cifarFiles(dir: string, variant: CifarVariant, split: Split): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  if (variant === "cifar100") return names.includes(`${split}.bin`) ? [join(dir, `${split}.bin`)] : [];
  if (split === "test") return names.includes("test_batch.bin") ? [join(dir, "test_batch.bin")] : [];
  return names
    .map((n) => /^data_batch_(\d+)\.bin$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => join(dir, m[0]));
}

/** Which CIFAR a folder holds, by its file names; undefined when it holds neither. */
export function detectCifar(dir: string): CifarVariant | undefined {
  if (cifarFiles(dir, "cifar10", "train").length > 0 || cifarFiles(dir, "cifar10", "test").length > 0) return "cifar10";
  if (cifarFiles(dir, "cifar100", "train").length > 0 || cifarFiles(dir, "cifar100", "test").length > 0) return "cifar100";
  return undefined;
}

/** Loads one split: every file's records, in file order, as a 3 x 32 x 32 dataset. */
export function loadCifar(dir: string, variant: CifarVariant, split: Split): Dataset {
  const files = cifarFiles(dir, variant, split);
  const record = cifarRecordBytes(variant);
  if (files.length === 0) {
    const want = variant === "cifar10" ? (split === "train" ? "data_batch_1.bin .. data_batch_5.bin" : "test_batch.bin") : `${split}.bin`;
    throw new InputFileError(dir, `has no ${variant === "cifar10" ? "CIFAR-10" : "CIFAR-100"} ${split} file (expected ${want}, as the CIFAR binary version ships them)`);
  }
  const chunks = files.map((file) => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new InputFileError(file, `cannot be read (${(e as Error).message})`);
    }
    if (bytes.length === 0 || bytes.length % record !== 0) {
      throw new InputFileError(file, `is ${bytes.length} bytes, not a whole number of ${variant === "cifar10" ? "CIFAR-10" : "CIFAR-100"} records of ${record} bytes (${variant === "cifar10" ? "1 label byte" : "2 label bytes"} + 3072 pixels; a full file is 10000 records = ${record * 10000} bytes${variant === "cifar100" ? `, train.bin 50000 = ${record * 50000}` : ""}); re-download it`);
    }
    return { file, bytes };
  });
  const count = chunks.reduce((s, c) => s + c.bytes.length / record, 0);
  const names = variant === "cifar10" ? readNameFile(join(dir, "batches.meta.txt")) : readNameFile(join(dir, "fine_label_names.txt"));
  const known = names ?? (variant === "cifar10" ? CIFAR10_CLASSES : CIFAR100_CLASSES);
  const labelOffset = variant === "cifar10" ? 0 : 1;
  const images = sharedBytes(count * PIXELS);
  const labels = labelArray(count, 256);
  let i = 0;
  let maxLabel = 0;
  for (const { file, bytes } of chunks) {
    for (let at = 0; at < bytes.length; at += record, i++) {
      const label = bytes[at + labelOffset]!;
      if (label >= known.length) throw new InputFileError(file, `record ${at / record} has label ${label}; ${variant === "cifar10" ? "CIFAR-10 has 10" : "CIFAR-100 has 100"} classes (is this the other CIFAR? pass the data format explicitly)`);
      labels[i] = label;
      if (label > maxLabel) maxLabel = label;
      images.set(bytes.subarray(at + record - PIXELS, at + record), i * PIXELS);
    }
  }
  // Every class is named even when a small file holds only some of them: train and test agree.
  const classes = Math.max(maxLabel + 1, known.length);
  return {
    images, labels, count, channels: 3, height: 32, width: 32, classes,
    classNames: classNamesFor(dir, classes, known),
    source: files.length === 1 ? files[0]! : `${join(dir, variant === "cifar10" ? "data_batch_*.bin" : `${split}.bin`)} (${files.length} files)`,
  };
}
