#!/usr/bin/env python3
"""Known-answer vectors for src/util/random.ts, recomputed from the published algorithms alone
(no code shared with the TypeScript): FNV-1a 32-bit over UTF-16 code units, splitmix32 (golden
ratio increment + MurmurHash3's fmix32) to seed the state, xoshiro128** as in Blackman & Vigna's
reference xoshiro128starstar.c, Box-Muller normals (cos first, then sin) and float32 rounding.

    python3 test/util/random-vectors.py

prints the VECTORS table that test/util/random.test.ts pins; the two must agree exactly."""
import json, math, struct

M = 0xFFFFFFFF


def fnv1a(s, seed=0):
    h = (0x811C9DC5 ^ seed) & M
    b = s.encode("utf-16-le")
    for i in range(0, len(b), 2):
        h ^= int.from_bytes(b[i : i + 2], "little")
        h = (h * 0x01000193) & M
    return h


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M


class Xoshiro128ss:
    def __init__(self, seed):
        s, self.s = seed & M, []
        for _ in range(4):  # splitmix32
            s = (s + 0x9E3779B9) & M
            z = ((s ^ (s >> 16)) * 0x85EBCA6B) & M
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M
            self.s.append(z ^ (z >> 16))

    def next(self):
        s = self.s
        r = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 9) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11)
        return r


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def stream(seed, key):
    return Xoshiro128ss(fnv1a(key, seed) ^ ((seed * 0x9E3779B1) & M))


CASES = [(0, "stem.conv.weight"), (1, "a.weight"), (42, "layer3.cand2.bn.scale"), (4294967295, ""), (7, "conv.\u00e9\U0001F600")]
out = []
for seed, key in CASES:
    r = stream(seed, key)
    u32 = [r.next() for _ in range(4)]
    r, normal = stream(seed, key), []
    while len(normal) < 5:
        u1, u2 = 1 - r.next() / 2**32, r.next() / 2**32
        rad = math.sqrt(-2 * math.log(u1))
        normal += [f32(rad * math.cos(2 * math.pi * u2)), f32(rad * math.sin(2 * math.pi * u2))]
    r = stream(seed, key)
    uniform = [f32((r.next() / 2**32) * 2 - 1) for _ in range(3)]
    out.append({"seed": seed, "key": key, "hash": fnv1a(key, seed), "u32": u32, "normal": normal[:5], "uniform": uniform})
r0 = Xoshiro128ss(0)
print(json.dumps({"random0": [r0.next() for _ in range(4)], "streams": out}, ensure_ascii=True))
