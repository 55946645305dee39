/**
 * Test data written by the tests themselves: image-folder trees of PNG and JPEG files (with
 * sharp), CIFAR-format binary files, and IDX files holding exactly the pixels of a PNG tree.
 */
import sharp from "sharp";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeIdx } from "../../src/data/idx.js";
import type { Dataset } from "../../src/data/dataset.js";

/** Planar C x H x W bytes to the interleaved H x W x C sharp's raw input wants. */
function interleave(chw: Uint8Array, c: number, h: number, w: number): Buffer {
  const out = Buffer.alloc(c * h * w);
  for (let k = 0; k < c; k++) for (let p = 0; p < h * w; p++) out[p * c + k] = chw[k * h * w + p]!;
  return out;
}

/** Writes one image (planar bytes) as PNG or JPEG. */
export async function writeImage(file: string, chw: Uint8Array, c: number, h: number, w: number, format: "png" | "jpeg" = "png"): Promise<void> {
  // A one-channel image is written as a grayscale file (sharp would write sRGB otherwise).
  const img = sharp(interleave(chw, c, h, w), { raw: { width: w, height: h, channels: c as 1 | 3 } }).toColourspace(c === 1 ? "b-w" : "srgb");
  await (format === "png" ? img.png() : img.jpeg({ quality: 95 })).toFile(file);
}

/**
 * Writes `indices` of `ds` as `root/split/<class name>/<index>.png`, and returns the indices in
 * the order an ImageFolder reads them (by class folder name, then file name).
 */
export async function writeFolderSplit(root: string, split: string, ds: Dataset, indices: readonly number[], names: readonly string[], format: "png" | "jpeg" = "png"): Promise<number[]> {
  const size = ds.channels * ds.height * ds.width;
  for (const i of indices) {
    const dir = join(root, split, names[ds.labels[i]!]!);
    mkdirSync(dir, { recursive: true });
    await writeImage(join(dir, `${String(i).padStart(6, "0")}.${format === "png" ? "png" : "jpg"}`), ds.images.subarray(i * size, (i + 1) * size), ds.channels, ds.height, ds.width, format);
  }
  const order = names.map((n, label) => ({ n, label })).sort((a, b) => (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  return order.flatMap(({ label }) => [...indices].filter((i) => ds.labels[i] === label).sort((a, b) => a - b));
}

/** Writes the images at `order` of `ds` as an IDX pair `<prefix>-images-idx3-ubyte` / labels. */
export function writeIdxSplit(dir: string, prefix: string, ds: Dataset, order: readonly number[]): void {
  const size = ds.height * ds.width;
  const images = new Uint8Array(order.length * size);
  const labels = new Uint8Array(order.length);
  order.forEach((i, k) => {
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i]!;
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), encodeIdx([order.length, ds.height, ds.width], images));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), encodeIdx([order.length], labels));
}

/**
 * A CIFAR-format file of `count` records: pixels a smooth pattern per image plus the label's
 * colour, labels i % classes (CIFAR-100: coarse label = fine / 5).
 */
export function cifarBytes(count: number, variant: "cifar10" | "cifar100", classes = variant === "cifar10" ? 10 : 100, seed = 1): { bytes: Uint8Array; labels: number[]; pixels: Uint8Array[] } {
  const head = variant === "cifar10" ? 1 : 2;
  const record = head + 3072;
  const bytes = new Uint8Array(count * record);
  const labels: number[] = [];
  const pixels: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const label = (i * 7 + seed) % classes;
    labels.push(label);
    const at = i * record;
    if (variant === "cifar100") {
      bytes[at] = Math.floor(label / 5);
      bytes[at + 1] = label;
    } else bytes[at] = label;
    const px = new Uint8Array(3072);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
      px[c * 1024 + y * 32 + x] = (label * 23 + c * 80 + (c === label % 3 ? 4 * y : 4 * x) + i * seed) & 255;
    }
    bytes.set(px, at + head);
    pixels.push(px);
  }
  return { bytes, labels, pixels };
}
