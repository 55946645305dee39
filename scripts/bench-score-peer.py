"""Peer for scripts/bench-score.ts: scoring architectures from a per-layer indicator table in
Python, the way the BN-NAS code does (sum over layers of table[l][arch[l]]), and with NumPy.
Prints one JSON line: {"python": archs/s, "numpy": archs/s}.
    /usr/bin/python3 scripts/bench-score-peer.py --layers 21 --archs 1000000"""
import argparse, json, random, time
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--layers", type=int, default=21)
p.add_argument("--archs", type=int, default=1_000_000)
a = p.parse_args()
L, N, K = a.layers, a.archs, 7
rng = random.Random(5)
table = [[rng.uniform(0.2, 1.6) for _ in range(K)] for _ in range(L)]
archs = [[rng.randrange(K) for _ in range(L)] for _ in range(N)]

t = time.perf_counter()
scores = [sum(table[l][arch[l]] for l in range(L)) for arch in archs]
python_rate = N / (time.perf_counter() - t)

tab = np.array(table)
arr = np.array(archs, dtype=np.int64)
rows = np.arange(L)
best = float("inf")
for _ in range(5):
    t = time.perf_counter()
    s = tab[rows, arr].sum(axis=1)
    best = min(best, time.perf_counter() - t)
print(json.dumps({"python": python_rate, "numpy": N / best}))
