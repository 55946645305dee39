import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadData, detectFormat } from "../../src/data/load.js";
import { loadCifar } from "../../src/data/cifar.js";
import { toPlanar } from "../../src/data/image-decode.js";
import { CIFAR10_CLASSES } from "../../src/data/classes.js";
import { defaultCacheDir } from "../../src/data/cache.js";
import { InputFileError } from "../../src/errors.js";
import { cifarBytes, writeImage } from "./make-data.js";

const tmp = (p = "bnnas-formats-") => mkdtempSync(join(tmpdir(), p));

/** Every file under `dir` with its size and mtime: the data folder must never change. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.push(`${p} ${st.size} ${st.mtimeMs}`);
    }
  };
  walk(dir);
  return out;
}

/** A 2-class tree: `a` holds PNGs, `b` JPEGs; 8 x 6 colour images whose pixels say their class. */
async function colourTree(): Promise<string> {
  const root = tmp("bnnas-tree-");
  for (const split of ["train", "val"]) {
    for (const [cls, fmt] of [["b", "jpeg"], ["a", "png"]] as const) {
      mkdirSync(join(root, split, cls), { recursive: true });
      for (let i = 0; i < 3; i++) {
        const px = new Uint8Array(3 * 6 * 8).map((_, k) => (cls === "a" ? (k < 48 ? 200 : 20) : k < 48 ? 20 : 200));
        await writeImage(join(root, split, cls, `${i}.${fmt === "png" ? "png" : "jpg"}`), px, 3, 6, 8, fmt);
      }
    }
    writeFileSync(join(root, split, "a", "notes.txt"), "not an image");
    writeFileSync(join(root, split, ".DS_Store"), "x");
  }
  return root;
}

describe("CIFAR binary files", () => {
  it("reads CIFAR-10 batches in order, with the label byte and planar pixels as written", async () => {
    const dir = tmp();
    const a = cifarBytes(5, "cifar10", 10, 1);
    const b = cifarBytes(3, "cifar10", 10, 2);
    writeFileSync(join(dir, "data_batch_2.bin"), b.bytes);
    writeFileSync(join(dir, "data_batch_1.bin"), a.bytes);
    writeFileSync(join(dir, "test_batch.bin"), b.bytes);
    expect(detectFormat(dir)).toBe("cifar10");
    const ds = await loadData(dir, "train");
    expect([ds.count, ds.channels, ds.height, ds.width, ds.classes]).toEqual([8, 3, 32, 32, 10]);
    expect(Array.from(ds.labels)).toEqual([...a.labels, ...b.labels]);
    expect(Array.from(ds.images.subarray(5 * 3072, 6 * 3072))).toEqual(Array.from(b.pixels[0]!));
    expect(ds.classNames).toEqual(CIFAR10_CLASSES);
    expect((await loadData(dir, "test")).count).toBe(3);
  });

  it("reads CIFAR-100's fine label, and finds the archive's subfolder", async () => {
    const dir = tmp();
    const sub = join(dir, "cifar-100-binary");
    mkdirSync(sub);
    const f = cifarBytes(4, "cifar100", 100, 3);
    writeFileSync(join(sub, "train.bin"), f.bytes);
    expect(detectFormat(dir)).toBe("cifar100");
    const ds = await loadData(dir, "train");
    expect(Array.from(ds.labels)).toEqual(f.labels);
    expect(ds.classNames[ds.labels[0]!]).toBe("bear"); // fine label 3
    expect(ds.classNames).toHaveLength(100);
    expect(ds.classNames[0]).toBe("apple");
  });

  it("names the file and the expected size for a file of the wrong length", () => {
    const dir = tmp();
    const f = cifarBytes(2, "cifar10");
    writeFileSync(join(dir, "test_batch.bin"), f.bytes.subarray(0, f.bytes.length - 10));
    expect(() => loadCifar(dir, "cifar10", "test")).toThrow(InputFileError);
    expect(() => loadCifar(dir, "cifar10", "test")).toThrow(/test_batch\.bin: is 6136 bytes, not a whole number of CIFAR-10 records of 3073 bytes .*10000 records = 30730000 bytes/);
    expect(() => loadCifar(dir, "cifar10", "train")).toThrow(/has no CIFAR-10 train file \(expected data_batch_1\.bin/);
  });

  it("resizes to the model's shape through the cache, without writing into the data folder", async () => {
    const dir = tmp();
    const cache = tmp("bnnas-cache-");
    writeFileSync(join(dir, "test_batch.bin"), cifarBytes(3, "cifar10").bytes);
    const before = snapshot(dir);
    const big = await loadData(dir, "test", { want: { channels: 3, height: 64, width: 64 }, cacheDir: cache });
    expect([big.channels, big.height, big.width, big.count]).toEqual([3, 64, 64, 3]);
    expect(readdirSync(cache).filter((n) => n.endsWith(".u8"))).toHaveLength(1);
    const again = await loadData(dir, "test", { want: { channels: 3, height: 64, width: 64 }, cacheDir: cache });
    expect(Buffer.from(again.images).equals(Buffer.from(big.images))).toBe(true);
    expect(again.classNames).toEqual(big.classNames);
    // Gray at the same size: PIL's luma of the planar pixels, exactly.
    const gray = await loadData(dir, "test", { want: { channels: 1 }, cacheDir: cache });
    const raw = await loadData(dir, "test");
    const px = raw.images.subarray(0, 3072);
    const hwc = new Uint8Array(3072);
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) hwc[p * 3 + c] = px[c * 1024 + p]!;
    expect(Array.from(gray.images.subarray(0, 1024))).toEqual(Array.from(toPlanar(hwc, 3, 32, 32, 1)));
    expect(snapshot(dir)).toEqual(before);
  });
});

describe("image folders", () => {
  it("reads PNG and JPEG class folders, ignores other files, names classes by sorted folder", async () => {
    const root = await colourTree();
    const cache = tmp("bnnas-cache-");
    const before = snapshot(root);
    const notes: string[] = [];
    expect(detectFormat(root)).toBe("folder");
    const ds = await loadData(root, "train", { cacheDir: cache, onNote: (t) => notes.push(t) });
    expect(ds.classNames).toEqual(["a", "b"]);
    expect([ds.count, ds.channels, ds.height, ds.width]).toEqual([6, 3, 6, 8]);
    expect(Array.from(ds.labels)).toEqual([0, 0, 0, 1, 1, 1]);
    // PNG is lossless: class a's red plane top half is exactly 200.
    expect(ds.images[0]).toBe(200);
    expect(notes.join("\n")).toMatch(/ignored 1 file that is not an image/);
    const test = await loadData(root, "test", { cacheDir: cache });
    expect(test.count).toBe(6);
    // Cache entries: one per split; the data folder is untouched.
    expect(readdirSync(cache).filter((n) => n.endsWith(".u8"))).toHaveLength(2);
    expect(snapshot(root)).toEqual(before);
  });

  it("resizes (cover + centre crop) and converts to grayscale for a 1 x 4 x 4 model", async () => {
    const root = await colourTree();
    const ds = await loadData(root, "train", { cacheDir: tmp("bnnas-cache-"), want: { channels: 1, height: 4, width: 4 } });
    expect([ds.channels, ds.height, ds.width]).toEqual([1, 4, 4]);
    // Class a (PNG) is red 200 / green 20 / blue 20 on every pixel: one luma value.
    const luma = (200 * 19595 + 20 * 38470 + 20 * 7471 + 0x8000) >>> 16;
    expect(Array.from(ds.images.subarray(0, 16))).toEqual(new Array(16).fill(luma));
  });

  it("invalidates the cache when a file changes, keeping one entry", async () => {
    const root = await colourTree();
    const cache = tmp("bnnas-cache-");
    await loadData(root, "train", { cacheDir: cache });
    const first = readdirSync(cache);
    const file = join(root, "train", "a", "0.png");
    await writeImage(file, new Uint8Array(3 * 48).fill(7), 3, 6, 8);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const ds = await loadData(root, "train", { cacheDir: cache });
    expect(ds.images[0]).toBe(7);
    const second = readdirSync(cache);
    expect(second).toHaveLength(1);
    expect(second).not.toEqual(first);
  });

  it("skips an unreadable image with a count, or stops on it with strict", async () => {
    const root = await colourTree();
    const bad = join(root, "train", "b", "1.jpg");
    const bytes = readFileSync(bad);
    writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const notes: string[] = [];
    const ds = await loadData(root, "train", { cacheDir: tmp("bnnas-cache-"), onNote: (t) => notes.push(t) });
    expect(ds.count).toBe(5);
    expect(Array.from(ds.labels)).toEqual([0, 0, 0, 1, 1]);
    expect(notes.join("\n")).toMatch(/skipped 1 unreadable image of 6 in .*train \(first: .*1\.jpg/);
    // The note comes back from the cache too.
    const cache = tmp("bnnas-cache-");
    await loadData(root, "train", { cacheDir: cache });
    const again: string[] = [];
    await loadData(root, "train", { cacheDir: cache, onNote: (t) => again.push(t) });
    expect(again.join("\n")).toMatch(/skipped 1 unreadable/);
    await expect(loadData(root, "train", { cacheDir: tmp("bnnas-cache-"), strict: true })).rejects.toThrow(/1\.jpg: cannot be decoded .*drop strict to skip/);
  });

  it("says what is wrong with an empty class folder, a class missing from test, and mixed channels", async () => {
    const root = await colourTree();
    mkdirSync(join(root, "train", "c"));
    writeFileSync(join(root, "train", "c", "readme.md"), "no images here");
    await expect(loadData(root, "train", { cacheDir: tmp("bnnas-cache-") })).rejects.toThrow(/train\/c: is an empty class folder/);
    await writeImage(join(root, "train", "c", "0.png"), new Uint8Array(48).fill(9), 1, 6, 8);
    await expect(loadData(root, "train", { cacheDir: tmp("bnnas-cache-") })).rejects.toThrow(/val: has no folder for class 'c' of .*train; every training class needs a test folder/);
    mkdirSync(join(root, "val", "c"));
    await writeImage(join(root, "val", "c", "0.png"), new Uint8Array(48).fill(9), 1, 6, 8);
    const notes: string[] = [];
    const ds = await loadData(root, "train", { cacheDir: tmp("bnnas-cache-"), onNote: (t) => notes.push(t) });
    expect(ds.channels).toBe(3);
    expect(notes.join("\n")).toMatch(/mixes grayscale and colour images \(1 grayscale, e\.g\. .*0\.png; 6 colour.*converted to RGB/);
    await expect(loadData(root, "train", { cacheDir: tmp("bnnas-cache-"), strict: true })).rejects.toThrow(/mixes grayscale and colour images.*drop strict/);
  });

  it("refuses a folder with nothing bnnas reads, naming what it wants", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "x.csv"), "1,2");
    await expect(loadData(dir, "train")).rejects.toThrow(/holds no data bnnas reads: MNIST-style IDX files .*dataFormat/);
  });

  it("defaults the cache to a per-user folder", () => {
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = "/x/cache";
    expect(defaultCacheDir()).toBe("/x/cache/bnnas");
    delete process.env.XDG_CACHE_HOME;
    expect(defaultCacheDir()).toMatch(/\.cache\/bnnas$/);
    if (saved !== undefined) process.env.XDG_CACHE_HOME = saved;
  });
});
