"""The PyTorch side of scripts/compare-curve.ts: BN-only supernet training of fmnist-small with the
PyTorch peer (scripts/peer/fmnist_space.py), replaying bnnas's plan step for step.

    /usr/bin/python3 scripts/compare-curve-peer.py PLAN.json STATE.pt [--bench-dir scripts/peer] [--threads 2] [--perturb 1e-6 --perturb-seed 1]

PLAN.json (written by compare-curve.ts) holds the recipe (lr, momentum, label smoothing, BN mode),
the Fashion-MNIST directory and normalisation, and per step the image indices of the batch and the
path (per layer, the mask position = the index among that layer's allowed ops). STATE.pt is the
Supernet state_dict whose weights are in the ONNX file bnnas trains (export-fmnist-torch.py
--state-dict), so both sides start from the same weights and see the same batches and paths.
Prints one JSON line: {"losses": [...], "ms_per_step": median}.
"""
import argparse, gzip, json, os, statistics, sys, time
ap = argparse.ArgumentParser(); ap.add_argument("plan"); ap.add_argument("state")
ap.add_argument("--bench-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer")); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--perturb", type=float, default=0.0, help="add N(0, this^2) noise to every trained BN parameter before step 1 (a control: how far PyTorch's own curve moves under float-rounding-sized changes)")
ap.add_argument("--perturb-seed", type=int, default=1)
a = ap.parse_args()
sys.path.insert(0, a.bench_dir)
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from fmnist_space import Supernet
from peer_bn import trainable_bn_params

def read_idx(path):
    """IDX file (gzipped or raw): magic 0x0000 dtype ndim, big-endian int32 dims, uint8 data."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f: raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

def find(d, stem):
    for name in (stem + ".gz", stem):
        if os.path.exists(os.path.join(d, name)): return os.path.join(d, name)
    sys.exit(f"compare-curve-peer: no {stem}[.gz] in {d}")

plan = json.load(open(a.plan))
torch.set_num_threads(a.threads)
images = read_idx(find(plan["data_dir"], "train-images-idx3-ubyte"))
labels = read_idx(find(plan["data_dir"], "train-labels-idx1-ubyte")).astype(np.int64)
mean, std = plan["normalize"]["mean"][0], plan["normalize"]["std"][0]

sn = Supernet(); sn.load_state_dict(torch.load(a.state)); sn.train()
for p in sn.parameters(): p.requires_grad_(False)
params = trainable_bn_params(sn, plan["bn"])
for p in params: p.requires_grad_(True)
if a.perturb:
    g = torch.Generator().manual_seed(a.perturb_seed)
    with torch.no_grad():
        for p in params: p.add_(torch.randn(p.shape, generator=g) * a.perturb)
opt = torch.optim.SGD(params, lr=plan["lr"], momentum=plan["momentum"])

losses, times = [], []
for idx, arch in zip(plan["indices"], plan["paths"]):
    x = torch.from_numpy(((images[idx].astype(np.float32) / 255 - mean) / std)[:, None])
    y = torch.from_numpy(labels[idx])
    t = time.perf_counter()
    h = sn.stem(x)
    for l, p in enumerate(arch): h = sn.choices[l][p](h)
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(sn.fc(h.mean((2, 3))), y, label_smoothing=plan["label_smoothing"])
    loss.backward(); opt.step()
    times.append((time.perf_counter() - t) * 1000)
    losses.append(float(loss))
print(json.dumps({"losses": losses, "ms_per_step": statistics.median(times)}))
