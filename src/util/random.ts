/**
 * A small seeded PRNG for reproducible initialisation and sampling: xoshiro128** (Blackman &
 * Vigna), seeded through splitmix32, with Box-Muller normals. Pure 32-bit integer arithmetic, so
 * the same seed gives the same numbers on every platform and Node version.
 *
 * `streamFor(seed, key)` derives an independent stream from a seed and a name (e.g. a tensor
 * name): a tensor's values then depend only on the seed and its own name, not on what else was
 * generated before it, so adding a candidate to a space does not change the others' weights.
 */

/** FNV-1a over the UTF-16 code units of `s`, mixed with `seed`. */
export function hashString(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** A spare normal from the last Box-Muller pair. */
  private spare: number | undefined;

  constructor(seed: number) {
    // splitmix32 expands one 32-bit seed into xoshiro's four words (never all zero).
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller; pairs are used in order). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    // 1 - u keeps the logarithm's argument in (0, 1].
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Fills `out` with Normal(0, std): the same values as `normal() * std` in a loop, with the
   * generator inlined (exporting bnnas-mbv2 draws ~28M normals; method calls dominated).
   */
  fillNormal(out: Float32Array, std: number): Float32Array {
    let i = 0;
    const n = out.length;
    if (n > 0 && this.spare !== undefined) {
      out[i++] = this.normal() * std;
    }
    let a = this.a, b = this.b, c = this.c, d = this.d;
    const TWO_PI = 2 * Math.PI;
    for (; i < n; i += 2) {
      const r1 = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      let t = b << 9;
      c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
      const r2 = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      t = b << 9;
      c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
      const r = Math.sqrt(-2 * Math.log(1 - r1 / 4294967296));
      const theta = TWO_PI * (r2 / 4294967296);
      out[i] = r * Math.cos(theta) * std;
      if (i + 1 < n) out[i + 1] = r * Math.sin(theta) * std;
      else this.spare = r * Math.sin(theta);
    }
    this.a = a; this.b = b; this.c = c; this.d = d;
    return out;
  }

  /** Fills `out` with Uniform(-bound, bound). */
  fillUniform(out: Float32Array, bound: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = (this.uniform() * 2 - 1) * bound;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** An independent stream for `key` (e.g. a tensor name) under `seed`. */
export function streamFor(seed: number, key: string): Random {
  return new Random(hashString(key, seed >>> 0) ^ Math.imul(seed >>> 0, 0x9e3779b1));
}
