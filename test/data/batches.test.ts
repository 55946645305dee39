import { describe, expect, it } from "vitest";
import { makeBatch } from "../../src/data/batches.js";
import type { Dataset } from "../../src/data/dataset.js";
import { Random, streamFor } from "../../src/util/random.js";

/** Two 3x4 single-channel images with distinct pixels 1..12 and 101..112. */
const ds: Dataset = {
  images: Uint8Array.from([...Array.from({ length: 12 }, (_, i) => i + 1), ...Array.from({ length: 12 }, (_, i) => i + 101)]),
  labels: Uint8Array.of(3, 7),
  count: 2, channels: 1, height: 3, width: 4, classes: 10, source: "memory",
};
const identity = { mean: [0], std: [1 / 255] }; // x = p: pixels come out as they are

/** A generator whose draws are given: int(n) and uniform() return the next queued value. */
function scripted(values: number[]): Random {
  const r = new Random(0);
  let i = 0;
  r.int = () => values[i++]!;
  r.uniform = () => values[i++]!;
  return r;
}

describe("training batches with augmentation", () => {
  it("without augmentation, pixels are normalised in place", () => {
    const b = makeBatch(ds, [1, 0], identity);
    expect(Array.from(b.x.data.slice(0, 4))).toEqual([101, 102, 103, 104].map((v) => Math.fround(v)));
    expect(Array.from(b.labels)).toEqual([7, 3]);
  });
  it("shifts by (dy, dx) in [-pad, pad] with zero pixels coming in, then mirrors when drawn", () => {
    // int() draws dy + pad, then dx + pad; uniform() < 0.5 mirrors.
    const shifted = makeBatch(ds, [0], identity, { random: scripted([3, 1, 0.9]), pad: 2 }); // dy = +1, dx = -1, no flip
    expect(Array.from(shifted.x.data)).toEqual([0, 5, 6, 7, 0, 9, 10, 11, 0, 0, 0, 0]);
    const flipped = makeBatch(ds, [0], identity, { random: scripted([2, 2, 0.1]), pad: 2 }); // no shift, mirrored
    expect(Array.from(flipped.x.data)).toEqual([4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9]);
    const both = makeBatch(ds, [0], identity, { random: scripted([2, 3, 0.1]), pad: 2 }); // mirrored, then read one to the right
    expect(Array.from(both.x.data)).toEqual([0, 4, 3, 2, 0, 8, 7, 6, 0, 12, 11, 10]);
  });
  it("the pad pixel is the normalised value of byte 0, and a seeded stream gives the same batch again", () => {
    const norm = { mean: [0.5], std: [0.25] };
    const a = makeBatch(ds, [0, 1], norm, { random: streamFor(7, "aug") });
    const b = makeBatch(ds, [0, 1], norm, { random: streamFor(7, "aug") });
    expect(Array.from(a.x.data)).toEqual(Array.from(b.x.data));
    const zero = makeBatch(ds, [0], norm, { random: scripted([4, 4, 0.9]), pad: 2 }); // dy = dx = +2: the bottom-right corner only
    expect(zero.x.data[0]).toBeCloseTo((11 / 255 - 0.5) / 0.25, 6);
    expect(zero.x.data[11]).toBeCloseTo(-2, 6);
  });
});
