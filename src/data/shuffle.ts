/** Seeded Fisher-Yates shuffling on top of the project PRNG (src/util/random.ts). */
import type { Random } from "../util/random.js";

/** Shuffles `a` in place with `rng`; the same generator state gives the same order. */
export function shuffleInPlace<A extends { length: number; [i: number]: number }>(a: A, rng: Random): A {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/** 0..n-1 as a Uint32Array. */
export function iota(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
