/**
 * Makes the Fashion-MNIST subset shipped in data/fashion-mnist-subset/ from the full dataset
 * (Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist): a class-balanced,
 * seeded choice of images (default 600 per class for training, 100 per class for testing),
 * kept in their original order, written as gzip IDX files.
 *
 *   npm run build && node dist/scripts/make-data-subset.js [--from DIR] [--to DIR] [--train-per-class N] [--test-per-class N] [--seed N]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { loadDataset, SYSTEM_FASHION_MNIST, type Dataset, type Split } from "../src/data/dataset.js";
import { encodeIdx } from "../src/data/idx.js";
import { streamFor } from "../src/util/random.js";
import { shuffleInPlace } from "../src/data/shuffle.js";
import { writeFileAtomic } from "../src/util/atomic.js";
import { arg } from "./args.js";


const from = arg("from", SYSTEM_FASHION_MNIST);
const to = arg("to", "data/fashion-mnist-subset");
const seed = Number(arg("seed", "0"));
const perClass: Record<Split, number> = { train: Number(arg("train-per-class", "600")), test: Number(arg("test-per-class", "100")) };

/** Per class, the first `n` images of a seeded shuffle; returned in original order. */
function balancedIndices(ds: Dataset, n: number, stream: string): number[] {
  const order = shuffleInPlace(Array.from({ length: ds.count }, (_, i) => i), streamFor(seed, `subset/${stream}`));
  const taken = new Array<number>(ds.classes).fill(0);
  const chosen: number[] = [];
  for (const i of order) {
    const c = ds.labels[i]!;
    if (taken[c]! < n) { taken[c]! += 1; chosen.push(i); }
  }
  for (let c = 0; c < ds.classes; c++) if (taken[c] !== n) throw new Error(`class ${c} has only ${taken[c]} images, fewer than ${n}`);
  return chosen.sort((a, b) => a - b);
}

mkdirSync(to, { recursive: true });
const files: Record<Split, string> = { train: "train", test: "t10k" };
for (const split of ["train", "test"] as const) {
  const ds = loadDataset(from, split);
  const idx = balancedIndices(ds, perClass[split], split);
  const size = ds.height * ds.width;
  const images = new Uint8Array(idx.length * size);
  const labels = new Uint8Array(idx.length);
  idx.forEach((j, i) => { images.set(ds.images.subarray(j * size, (j + 1) * size), i * size); labels[i] = ds.labels[j]!; });
  // mtime 0 in the gzip header (zlib's default) keeps the output byte-identical across runs.
  writeFileAtomic(join(to, `${files[split]}-images-idx3-ubyte.gz`), gzipSync(encodeIdx([idx.length, ds.height, ds.width], images), { level: 9 }));
  writeFileAtomic(join(to, `${files[split]}-labels-idx1-ubyte.gz`), gzipSync(encodeIdx([idx.length], labels), { level: 9 }));
  process.stdout.write(`${split}: ${idx.length} images (${perClass[split]} per class) from ${ds.source}\n`);
}
writeFileSync(join(to, "SOURCE.md"),
  `# Fashion-MNIST subset\n\nA class-balanced subset of Fashion-MNIST (Xiao, Rasul, Vollgraf 2017, MIT licence,\n` +
  `https://github.com/zalandoresearch/fashion-mnist), for demos and tests when the full dataset is not\n` +
  `installed: ${perClass.train * 10} training images (${perClass.train} per class) and ${perClass.test * 10} test images\n` +
  `(${perClass.test} per class), chosen with seed ${seed} and kept in their original order.\n\n` +
  `Made by scripts/make-data-subset.ts from ${from}.\n`);
