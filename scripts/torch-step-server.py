"""One PyTorch BN-only training step per request, for interleaved timing against bnnas.

    /usr/bin/python3 scripts/torch-step-server.py [--bench-dir scripts/peer] [--batch 128] [--threads 2]

Reads lines "bn_last" or "bn_all", optionally followed by an architecture ("bn_last 1,3,5,2,6,4":
per layer the op index in fmnist_space.OPS, which is also bnnas's mask position), on stdin; for
each, runs one step (on that path, or a uniformly sampled one) exactly as
scripts/peer/torch_reference.py's bench_train does (PathNet over fmnist_space.Supernet,
uniformly sampled path, SGD momentum 0.9, BN in train mode, zero_grad + forward + backward +
step) and prints the step's milliseconds. Running both engines step by step, alternately, makes
their ratio robust to load changes on a shared machine.
"""
import argparse, os, random, sys, time
ap = argparse.ArgumentParser(); ap.add_argument("--bench-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer"))
ap.add_argument("--batch", type=int, default=128); ap.add_argument("--threads", type=int, default=2); ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
sys.path.insert(0, a.bench_dir)
import torch, torch.nn as nn, torch.nn.functional as F
from fmnist_space import Supernet, LAYERS, OPS, allowed
from peer_bn import trainable_bn_params

torch.set_num_threads(a.threads); torch.manual_seed(a.seed); random.seed(a.seed)
ALLOWED = [[o for o in range(len(OPS)) if allowed(l, o)] for l in range(len(LAYERS))]

class PathNet(nn.Module):
    def __init__(s, sn): super().__init__(); s.sn = sn
    def forward(s, x, arch):
        h = s.sn.stem(x)
        for l, o in enumerate(arch): h = s.sn.choices[l][ALLOWED[l].index(o)](h)
        return s.sn.fc(h.mean((2, 3)))

def setup(mode):
    sn = Supernet(); net = PathNet(sn).train()
    for p in sn.parameters(): p.requires_grad_(False)
    params = trainable_bn_params(sn, "last" if mode == "bn_last" else "all")
    for p in params: p.requires_grad_(True)
    return net, torch.optim.SGD(params, lr=0.1, momentum=0.9)

nets = {m: setup(m) for m in ("bn_last", "bn_all")}
x = torch.randn(a.batch, 1, 28, 28); y = torch.randint(0, 10, (a.batch,))
print("ready", flush=True)
for line in sys.stdin:
    words = line.split()
    if not words: continue
    mode = words[0]
    net, opt = nets[mode]
    arch = [int(o) for o in words[1].split(",")] if len(words) > 1 else [random.choice(ALLOWED[l]) for l in range(len(LAYERS))]
    t = time.perf_counter()
    opt.zero_grad(set_to_none=True); loss = F.cross_entropy(net(x, arch), y); loss.backward(); opt.step()
    print(f"{(time.perf_counter() - t) * 1000:.3f}", flush=True)
