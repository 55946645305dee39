import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { encodeIdx, readIdx } from "../../src/data/idx.js";
import { loadDataset, splitValidation, defaultDataDir, SHIPPED_SUBSET, SYSTEM_FASHION_MNIST } from "../../src/data/dataset.js";
import { makeBatch, epochOrder, batchesPerEpoch, sequentialBatches, FASHION_MNIST_NORMALIZATION } from "../../src/data/batches.js";
import { InputFileError, UsageError } from "../../src/errors.js";

const tmp = () => mkdtempSync(join(tmpdir(), "bnnas-data-"));

/** Writes a small IDX dataset (count images of h x w, labels i % classes) into a new folder. */
function writeDataset(count: number, h: number, w: number, opts: { gzip?: boolean; prefix?: string; labels?: number } = {}) {
  const dir = tmp();
  const images = new Uint8Array(count * h * w).map((_, i) => (i * 7) % 256);
  const labels = new Uint8Array(opts.labels ?? count).map((_, i) => i % 3);
  const z = (b: Uint8Array) => (opts.gzip ? gzipSync(b) : b);
  const ext = opts.gzip ? ".gz" : "";
  const p = opts.prefix ?? "train";
  writeFileSync(join(dir, `${p}-images-idx3-ubyte${ext}`), z(encodeIdx([count, h, w], images)));
  writeFileSync(join(dir, `${p}-labels-idx1-ubyte${ext}`), z(encodeIdx([opts.labels ?? count], labels)));
  return { dir, images, labels };
}

describe("IDX reader", () => {
  it("reads raw and gzip files identically", () => {
    const raw = writeDataset(5, 2, 3);
    const gz = writeDataset(5, 2, 3, { gzip: true });
    const a = loadDataset(raw.dir, "train");
    const b = loadDataset(gz.dir, "train");
    expect(a.count).toBe(5);
    expect([a.channels, a.height, a.width]).toEqual([1, 2, 3]);
    expect(Array.from(a.images)).toEqual(Array.from(raw.images));
    expect(Array.from(b.images)).toEqual(Array.from(raw.images));
    expect(Array.from(b.labels)).toEqual([0, 1, 2, 0, 1]);
    expect(a.classes).toBe(3);
  });

  it("names the file and the problem for wrong magic, truncation and wrong counts", () => {
    const dir = tmp();
    const f = join(dir, "x");
    writeFileSync(f, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect(() => readIdx(f)).toThrow(/x: is not an IDX file \(magic 0x01020304/);
    const good = encodeIdx([4, 2, 2], new Uint8Array(16));
    writeFileSync(f, good.subarray(0, good.length - 3));
    expect(() => readIdx(f, 3)).toThrow(/is truncated: header says \[4 x 2 x 2\] = 16 bytes of data, the file has 13/);
    writeFileSync(f, good.subarray(0, 9));
    expect(() => readIdx(f, 3)).toThrow(/truncated inside its header/);
    writeFileSync(f, Uint8Array.of(...good, 0, 0));
    expect(() => readIdx(f, 3)).toThrow(/2 bytes after/);
    writeFileSync(f, good);
    expect(() => readIdx(f, 1)).toThrow(/has 3 dimensions, expected 1 \(a label file\)/);
    writeFileSync(f, gzipSync(good).subarray(0, 20));
    expect(() => readIdx(f, 3)).toThrow(/truncated or corrupt gzip/);
    const huge = encodeIdx([0xffffffff, 0xffff, 0xffff], new Uint8Array(0));
    writeFileSync(f, huge);
    expect(() => readIdx(f, 3)).toThrow(/more than bnnas reads/);
    writeFileSync(f, Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 0));
    expect(() => readIdx(f)).toThrow(/data type 0xd; only unsigned bytes/);
    for (const e of [() => readIdx(join(dir, "missing")), () => readIdx(dir)]) {
      expect(e).toThrow(InputFileError);
    }
  });

  it("refuses image/label count mismatches, directories without IDX files, and missing directories", () => {
    const { dir } = writeDataset(5, 2, 2, { labels: 4 });
    expect(() => loadDataset(dir, "train")).toThrow(/has 4 labels but .*has 5 images/);
    const empty = tmp();
    writeFileSync(join(empty, "readme.txt"), "hi");
    expect(() => loadDataset(empty, "train")).toThrow(/has no train IDX files \(expected train-images-idx3-ubyte\[\.gz\]/);
    expect(() => loadDataset(join(empty, "nope"), "train")).toThrow(/no such directory/);
    expect(() => loadDataset(join(empty, "readme.txt"), "train")).toThrow(/is not a directory/);
    // The test split is t10k-* (or test-*); a train-only folder has none.
    expect(() => loadDataset(dir, "test")).toThrow(/has no test IDX files/);
  });

  it("finds MNIST's dotted names and the test split", () => {
    const dir = tmp();
    writeFileSync(join(dir, "t10k-images.idx3-ubyte"), encodeIdx([2, 1, 1], Uint8Array.of(0, 255)));
    writeFileSync(join(dir, "t10k-labels.idx1-ubyte"), encodeIdx([2], Uint8Array.of(9, 1)));
    const ds = loadDataset(dir, "test");
    expect(ds.count).toBe(2);
    expect(ds.classes).toBe(10);
  });
});

describe("default dataset", () => {
  it("is Debian's full Fashion-MNIST when installed, else the shipped subset", () => {
    const ds = loadDataset(undefined, "test");
    if (existsSync(join(SYSTEM_FASHION_MNIST, "t10k-images-idx3-ubyte.gz"))) {
      expect(defaultDataDir()).toBe(SYSTEM_FASHION_MNIST);
      expect(ds.count).toBe(10000);
    } else {
      expect(defaultDataDir()).toMatch(/data\/fashion-mnist-subset$/);
      expect(ds.count).toBe(1000);
    }
    expect([ds.height, ds.width, ds.classes]).toEqual([28, 28, 10]);
  });
});

describe("shipped Fashion-MNIST subset", () => {
  it("is class balanced and matches the full dataset's images", () => {
    const train = loadDataset(SHIPPED_SUBSET, "train");
    const test = loadDataset(SHIPPED_SUBSET, "test");
    expect([train.count, test.count]).toEqual([6000, 1000]);
    expect([train.height, train.width, train.classes]).toEqual([28, 28, 10]);
    const perClass = new Array(10).fill(0);
    for (const l of train.labels) perClass[l]++;
    expect(perClass).toEqual(new Array(10).fill(600));
    // Pixel statistics close to the full set's (mean 0.286, std 0.353): it is real data.
    let s = 0, s2 = 0;
    for (const p of train.images) { s += p / 255; s2 += (p / 255) ** 2; }
    const mean = s / train.images.length;
    expect(mean).toBeGreaterThan(0.27);
    expect(mean).toBeLessThan(0.30);
    expect(Math.sqrt(s2 / train.images.length - mean * mean)).toBeCloseTo(0.353, 1);
    expect(readFileSync(join(SHIPPED_SUBSET, "SOURCE.md"), "utf8")).toMatch(/MIT/);
  });
});

describe("batching", () => {
  it("normalises bytes to NCHW floats with the manifest's mean and std", () => {
    const ds = { images: Uint8Array.of(0, 255, 51, 102, 10, 20, 30, 40), labels: Uint8Array.of(3, 7), count: 2, channels: 1, height: 2, width: 2, classes: 8, source: "mem" };
    const { x, labels } = makeBatch(ds, [1, 0], FASHION_MNIST_NORMALIZATION);
    expect(x.dims).toEqual([2, 1, 2, 2]);
    expect(Array.from(labels)).toEqual([7, 3]);
    const expected = [10, 20, 30, 40, 0, 255, 51, 102].map((p) => Math.fround((p / 255 - 0.286) / 0.353));
    expect(Array.from(x.data)).toEqual(expected);
    const rgb = { ...ds, channels: 2, height: 2, width: 1, count: 2 };
    const y = makeBatch(rgb, [0], { mean: [0, 0.5], std: [1, 0.5] }).x;
    expect(Array.from(y.data)).toEqual([0, 1, 51 / 255 * 2 - 1, 102 / 255 * 2 - 1].map(Math.fround));
    expect(() => makeBatch(ds, [0], { mean: [0], std: [0] })).toThrow(UsageError);
  });

  it("orders epochs by seed: a permutation, reproducible, different per epoch and seed", () => {
    const a = epochOrder(1000, 7, 0);
    expect(Array.from(a).sort((p, q) => p - q)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(epochOrder(1000, 7, 0))).toEqual(Array.from(a));
    expect(Array.from(epochOrder(1000, 7, 1))).not.toEqual(Array.from(a));
    expect(Array.from(epochOrder(1000, 8, 0))).not.toEqual(Array.from(a));
    expect(batchesPerEpoch(1000, 128)).toBe(7);
    expect([...sequentialBatches(5, 2)].map((b) => Array.from(b))).toEqual([[0, 1], [2, 3], [4]]);
  });

  it("carves a seeded validation split disjoint from the training part", () => {
    const { dir } = writeDataset(100, 2, 2);
    const ds = loadDataset(dir, "train");
    const s = splitValidation(ds, 0.2, 3);
    expect([s.train.count, s.val.count]).toEqual([80, 20]);
    const all = [...s.trainIndices, ...s.valIndices].sort((p, q) => p - q);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(splitValidation(ds, 20, 3).valIndices)).toEqual(Array.from(s.valIndices));
    expect(Array.from(splitValidation(ds, 20, 4).valIndices)).not.toEqual(Array.from(s.valIndices));
    const j = s.valIndices[0]!;
    expect(Array.from(s.val.images.subarray(0, 4))).toEqual(Array.from(ds.images.subarray(j * 4, j * 4 + 4)));
    expect(s.val.labels[0]).toBe(ds.labels[j]);
    expect(() => splitValidation(ds, 100, 0)).toThrow(UsageError);
  });
});
